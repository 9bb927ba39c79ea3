#!/usr/bin/env python3
"""Assemble a reproducible training set of natural photographs from Debian packages.

    python scripts/make_training_set.py [--out data/train] [--work data/debs] [--seed 0]

Steps (each one is skipped when its result is already there, so re-running is cheap):

1. ``apt-get download`` every package in ``PACKAGES`` into ``--work`` (apt sources, no root).
2. ``dpkg -x`` each .deb into ``<work>/root/<package>/``.
3. Keep a file only if it is on the curated allow list ``KEEP`` (chosen by looking at every
   candidate, see ``--review``) *and* passes simple photo statistics (``photo_stats`` /
   ``is_photographic``: enough distinct colours, few exactly-flat neighbouring pixels, no
   transparency, long side >= 256).
4. Write every kept photo at ``SCALES_PER_PHOTO`` scales (``draw_factors``: one downscale factor
   per stratum of [1, min(4, long_side / 256)], from an RNG seeded with ``--seed`` and the photo's
   name, so adding or removing a photo never changes the others), Pillow LANCZOS with
   ``reducing_gap``, as 8-bit RGB PNG ``<out>/<source>_<stem>_s<factor>.png`` (grey photos are
   stored as RGB with R == G == B). ``<out>/MANIFEST.tsv`` records where every output came from.

``--review DIR`` writes labelled contact sheets of *all* candidate files (kept and dropped, with
their statistics) so the allow list can be re-audited by eye.

Packages looked at and NOT used (their images are illustrations, logos, gradients, 3-D renders,
screenshots or diagrams, not photographs): ukui-wallpapers (20.04.3, all 12 are renders),
gnome-backgrounds (43.1, all 16 are renders/patterns), sway-backgrounds (1.7, logo render),
desktop-base, xfdesktop4-data, fluxbox, variety, wmaker-data, terminology-data, jigzo-data,
inkscape-tutorials, imagemagick-6-doc, gimp-data, libreoffice-common, hugin-data, slim, eterm,
fvwm-crystal, fotoxx-common (screenshots and before/after collages), wordpress,
wordpress-theme-twentytwentyone (scans of Berthe Morisot paintings),
wordpress-theme-twentytwentytwo (bird illustrations), wordpress-theme-twentytwentythree,
libvips-doc (owl.jpg: JPEG quality 60, visible blocking), libleptonica-dev (pencil drawing),
wx3.2-examples (horse.png is 200 px), pyqt5-examples (copies of Qt's example images), python3-kivy,
blender-data (matcaps, equirectangular HDRs), extremetuxracer-data (Terragen skyboxes, 256-px
tileable textures), colobot-common-textures, mypaint-data-extras (paper textures),
gimp-data-extras, ulcc (clip art), gbrainy, gnuplot-doc, ogre-1.12-doc (screenshots),
tuxpaint-stamps-default (every stamp has transparency).
python3-imageio is *forbidden*: it ships scikit-image's ``astronaut`` and ``chelsea`` (our
evaluation photos); so is python3-pywt: ``pywt/data/camera.npz`` is scikit-image's ``camera``.
Never used (reserved for independent evaluation): KDE's and Lomiri's packages (plasma-*,
palapeli-*, lomiri-*, kde*, and KDE applications such as digikam, gcompris, marble) and
scikit-image's sample photos; ``FORBIDDEN`` enforces it.
"""

from __future__ import annotations

import argparse
import bz2
import glob
import os
import re
import shutil
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

# Package -> short source name used in output file names.
PACKAGES: dict[str, str] = {
    "mate-backgrounds": "mate",
    "lxqt-themes": "lxqt",
    "tuxpaint-data": "tuxpaint",
    "opencv-doc": "opencv",
    "scribus-template": "scribus",
    "python3-sklearn": "sklearn",
    "python-matplotlib-data": "matplotlib",
    "python3-scipy": "scipy",
    "scratch": "scratch",
    "gimp-help-en": "gimphelp",
    "qtbase5-examples": "qtbase",
    "qtdeclarative5-examples": "qtquick",
    "golang-golang-x-image-dev": "goimage",
    "afterstep-data": "afterstep",
    "libirrlicht-doc": "irrlicht",
}

# Versions this list was curated against (Debian 12 "bookworm"); a different version only warns.
CURATED_VERSIONS: dict[str, str] = {
    "mate-backgrounds": "1.26.0-1",
    "lxqt-themes": "1.2.0-1",
    "tuxpaint-data": "1:0.9.28-sdl2-1",
    "opencv-doc": "4.6.0+dfsg-12",
    "scribus-template": "1.2.4.1-6",
    "python3-sklearn": "1.2.1+dfsg-1",
    "python-matplotlib-data": "3.6.3-1",
    "python3-scipy": "1.10.1-2",
    "scratch": "1.4.0.6~dfsg1-6.1",
    "gimp-help-en": "2.10.34-2",
    "qtbase5-examples": "5.15.8+dfsg-11+deb12u3",
    "qtdeclarative5-examples": "5.15.8+dfsg-3",
    "golang-golang-x-image-dev": "0.5.0-1",
    "afterstep-data": "2.2.12-15",
    "libirrlicht-doc": "1.8.5+ds2-1",
}

# KDE's and Lomiri's packages (and KDE applications) are reserved for independent evaluation;
# scikit-image's sample photos are the public evaluation set (python3-imageio bundles astronaut and
# chelsea, python3-pywt bundles camera).
FORBIDDEN = re.compile(
    r"^(plasma-|palapeli|lomiri-|kde|digikam|gcompris|marble"
    r"|python3?-skimage|python-skimage|python3?-imageio|python3?-pywt)"
)

_QT = "usr/lib/*/qt5/examples"  # * = the multiarch triplet (x86_64-linux-gnu on amd64)
_GH = "usr/share/gimp/2.0/help/en/images"
_GO = "usr/share/gocode/src/golang.org/x/image/testdata"
_SB = "usr/share/scratch/Media/Backgrounds"

# Candidate files per package (everything matching was looked at; see --review).
CANDIDATES: dict[str, tuple[str, ...]] = {
    "mate-backgrounds": (
        "usr/share/backgrounds/mate/*/*.jpg",
        "usr/share/backgrounds/mate/*/*.png",
    ),
    "lxqt-themes": ("usr/share/lxqt/wallpapers/*.jpg", "usr/share/lxqt/wallpapers/*.png"),
    "tuxpaint-data": ("usr/share/tuxpaint/templates/*.jpg", "usr/share/tuxpaint/starters/*.png"),
    "opencv-doc": tuple(
        f"usr/share/doc/opencv-doc/examples/{d}/*.{e}"
        for d in (
            "data",
            "alphamat/input_images",
            "dnn_superres",
            "fuzzy",
            "hfs/data",
            "reg",
            "text",
        )
        for e in ("jpg", "png")
    ),
    "scribus-template": (
        "usr/share/scribus/templates/*/*.jpg",
        "usr/share/scribus/templates/*/*.png",
    ),
    "python3-sklearn": ("usr/lib/python3/dist-packages/sklearn/datasets/images/*.jpg",),
    "python-matplotlib-data": (
        "usr/share/matplotlib/mpl-data/sample_data/*.jpg",
        "usr/share/matplotlib/mpl-data/sample_data/*.png",
    ),
    "python3-scipy": ("usr/lib/python3/dist-packages/scipy/misc/face.dat",),
    "scratch": (f"{_SB}/*/*.jpg", f"{_SB}/*/*.gif", f"{_SB}/*/*.png", f"{_SB}/*.gif"),
    # Only the unprocessed originals of the manual's examples (the rest are filtered variants of
    # them, screenshots or diagrams).
    "gimp-help-en": (
        f"{_GH}/filters/examples/*orig*",
        f"{_GH}/filters/examples/*/*orig*",
        f"{_GH}/filters/examples/enhance/high-pass-*.png",
        f"{_GH}/menus/select/remove-holes-*.png",
        f"{_GH}/using/*_orig.png",
        f"{_GH}/tutorials/quickie-*.jpg",
        f"{_GH}/tutorials/tone-mapping/*.jpg",
    ),
    "qtbase5-examples": (
        f"{_QT}/widgets/*/*/*.jpg",
        f"{_QT}/widgets/*/*/images/*.jpg",
        f"{_QT}/widgets/*/*/images/*.png",
        f"{_QT}/sql/*/images/*.png",
    ),
    "qtdeclarative5-examples": (
        f"{_QT}/quick/*/*/*.jpg",
        f"{_QT}/quick/*/*/*/*.jpg",
        f"{_QT}/quick/*/*/*/*/*.jpg",
    ),
    "golang-golang-x-image-dev": (f"{_GO}/*.png", f"{_GO}/*.jpeg"),
    "afterstep-data": (
        "usr/share/afterstep/desktop/tiles/*",
        "usr/share/afterstep/backgrounds/.[A-Za-z]*",  # the JPEGs are hidden files
    ),
    "libirrlicht-doc": ("usr/share/doc/libirrlicht-dev/media/*.jpg",),
}


@dataclass(frozen=True)
class Keep:
    path: str  # relative to the package root
    stem: str | None = None  # output stem; default: the file's stem
    trim: bool = False  # crop uniform (letterbox) borders
    border: int = 0  # crop this many pixels on every side first


def _k(prefix: str, *names: str) -> list[Keep]:
    return [Keep(f"{prefix}/{n}") for n in names]


def resolve(root: Path, rel: str) -> Path | None:
    """The file a ``Keep.path`` names under ``root``, or None if it is missing.

    ``rel`` may contain glob wildcards for a directory that differs between architectures (``_QT``:
    ``usr/lib/<multiarch>/qt5/...``); it must then match exactly one file.
    """
    if not any(c in rel for c in "*?["):
        return root / rel if (root / rel).exists() else None
    hits = sorted(glob.glob(str(root / rel)))
    if len(hits) > 1:
        die(f"{rel!r} matches {len(hits)} files under {root}, expected one")
    return Path(hits[0]) if hits else None


_CV = "usr/share/doc/opencv-doc/examples"
_SCR = "usr/share/scribus/templates"

# The curated allow list: every file here was looked at and is a real photograph.
# Dropped on purpose (same folders): mate abstract/* (incl. Elephants: a painting) and desktop/*
# (logos, stripes, renders); lxqt origami*, triangles*, waves*, plasma*, kde-plasma, simple_blue*
# (renders/logos); tuxpaint starters/* (line art); opencv chessboards/left*/right*, logos, synthetic
# shapes (pic*, blox, ellipses, detect_blob, gradient, ...), text scans, Blender renders,
# starry_night (painting), HappyFish/fuzzy input (drawings), stanford (map screenshot),
# licenseplate_motion (synthetic blur), basketball*/left.jpg (noisy video/phone frames),
# smarties and pca_test1 (flattened backgrounds), reg/home (border artefact), second views of
# stereo/pairs (aloeR, leuvenB, rubberwhale2, graf3, ela_modified); scribus br2/moon (mostly black),
# kites-bw (posterised), tiny portraits/screenshots (mantis, petr_vanek, *_pl duplicates);
# opencv text/scenetext_*word* (crops of the kept scenetext photos).
# scratch Backgrounds: all *.gif and basketball-court2.png (drawings; flowers.gif is a 256-colour
# photo), bedroom*/room*/party-room/spotlight-stage/desert/woods*/underwater/school*/night-city*/
# train-tracks3/brick-wall1/xy-grid (drawings, renders), boardwalk (pasted composite), graffiti
# (blurred), basketball-court1-a/-b (artificial background blur), city-with-water (noisy night
# shot), hay_field (over-processed), berkeley-mural/mural-faro (mostly a painted mural);
# gimp-help-en: every filtered variant (taj-*, spherize-ex-*, vignette-ex-*, little_planet-*,
# quickie-jpeg-0*0, tone-mapping results, ...), mean_curvature-ex-1/-2 (both already smoothed),
# pan-project-origin (equirectangular), keyfob_orig (blurry), taj_orig.jpg (other crop of the kept
# taj_orig.png), power-lines (processed version of before-auto-stretch-contrast),
# tree-exposed-for-sky-... (side by side), *-orig drawings/diagrams; qtbase: blurpicker/background
# (washed out), fademessage/background (macro of a monitor), composition/flower (dahlia cut out
# onto black, jagged mask edges), puzzle/example (advert), boxes/cubemap_* (renders),
# painting/*/images (tiles, cut-outs with alpha); qtquick: backgroundLeaves (upscaled, blurry),
# fruit-salad (soft scan), samegame/background (bokeh render), qt-logo, listview/pics/* (< 256 px);
# goimage: yellow_rose* (alpha), blue-purple-pink.png and go-turns-two-down-* (downscaled copies),
# video-001 (150 px), tux*, *.webp* (test decodes); afterstep: backgrounds/.Cell/.Japanese/... and
# the tiles (renders), .StormySkies (JPEG q72 banding), .colorclouds (over-saturated); irrlicht:
# skyboxes (Terragen), screenshots, skins, wall/terrain/detail maps (drawn or processed).
KEEP: dict[str, list[Keep]] = {
    "mate-backgrounds": _k(
        "usr/share/backgrounds/mate/nature",
        "Aqua.jpg",
        "Blinds.jpg",
        "Dune.jpg",
        "FreshFlower.jpg",
        "Garden.jpg",
        "GreenMeadow.jpg",
        "LadyBird.jpg",
        "RainDrops.jpg",
        "Storm.jpg",
        "TwoWings.jpg",
        "Wood.jpg",
        "YellowFlower.jpg",
    ),
    "lxqt-themes": _k(
        "usr/share/lxqt/wallpapers",
        "Butterfly-Kenneth-Wimer.jpg",
        "Valendas.png",
        "after-the-rain.jpg",
        "appleflower.png",
        "beam.png",
        "butterfly.png",
        "cloud.png",
        "drop.png",
        "flowers.png",
        "fog.jpg",
        "this-is-not-windows.jpg",
    ),
    "tuxpaint-data": _k(
        "usr/share/tuxpaint/templates",
        "burnt_bark.jpg",
        "cliff.jpg",
        "corn_maze.jpg",
        "jellyfish.jpg",
        "lighthouse.jpg",
        "mossy_log.jpg",
        "mudstone.jpg",
        "ocean_splash.jpg",
        "ocean_waves.jpg",
        "redwoods_above.jpg",
        "rocks.jpg",
        "sheep.jpg",
        "spiders_web.jpg",
        "sun_behind_clouds.jpg",
        "sun_behind_leaves.jpg",
        "trees_above.jpg",
        "trees_at_dusk.jpg",
        "wool_mill_machine.jpg",
    )
    + [Keep("usr/share/tuxpaint/templates/mossy_bark.jpg", trim=True)],  # black letterbox bars
    "opencv-doc": _k(
        f"{_CV}/data",
        "aero1.jpg",
        "aero3.jpg",
        "aloeL.jpg",
        "apple.jpg",
        "baboon.jpg",
        "board.jpg",
        "box_in_scene.png",
        "building.jpg",
        "butterfly.jpg",
        "ela_original.jpg",
        "fruits.jpg",
        "graf1.png",
        "home.jpg",
        "leuvenA.jpg",
        "messi5.jpg",
        "orange.jpg",
        "rubberwhale1.png",
        "squirrel_cls.jpg",
        "stuff.jpg",
    )
    + _k(
        f"{_CV}/text",
        "scenetext01.jpg",
        "scenetext02.jpg",
        "scenetext03.jpg",
        "scenetext04.jpg",
        "scenetext05.jpg",
        "scenetext06.jpg",
    )
    + [
        Keep(f"{_CV}/data/chicky_512.png", border=1),  # 1-px semi-transparent frame
        Keep(f"{_CV}/alphamat/input_images/plant.jpg"),
        Keep(f"{_CV}/dnn_superres/butterfly.png", stem="monarch"),  # data/butterfly is another one
        Keep(f"{_CV}/hfs/data/000.jpg", stem="hfs_robin"),
        Keep(f"{_CV}/hfs/data/001.jpg", stem="hfs_lake"),
        Keep(f"{_CV}/hfs/data/002.jpg", stem="hfs_tree"),
    ],
    "scribus-template": [
        Keep(f"{_SCR}/br2/brightness.jpg", stem="eclipse"),
        Keep(f"{_SCR}/br2/halfmoon.jpg"),
        Keep(f"{_SCR}/br2/nature.jpg"),
        Keep(f"{_SCR}/br2/sunset.jpg"),
        Keep(f"{_SCR}/cal2/moon.jpg"),
        Keep(f"{_SCR}/menu2/pizza.jpg"),
        Keep(f"{_SCR}/menu1/teriyaki.png"),
        Keep(f"{_SCR}/scribus_project_de/craigbradney.jpg"),
    ],
    "python3-sklearn": _k("usr/lib/python3/dist-packages/sklearn/datasets/images", "china.jpg", "flower.jpg"),
    "python-matplotlib-data": _k("usr/share/matplotlib/mpl-data/sample_data", "grace_hopper.jpg"),
    # scipy.misc.face(): a raccoon, stored as bz2-compressed raw 768x1024x3 uint8.
    "python3-scipy": _k("usr/lib/python3/dist-packages/scipy/misc", "face.dat"),
    # Scratch 1.4's stage backgrounds: 480x360 photos (JPEG quality 86-99).
    "scratch": _k(
        f"{_SB}/Indoors",
        "chalkboard.jpg",
        "clothing-store.jpg",
        "hall.jpg",
        "kitchen.jpg",
        "the-movies-inside.jpg",
    )
    + _k(
        f"{_SB}/Nature",
        "beach-malibu.jpg",
        "canyon.jpg",
        "flower-bed.jpg",
        "forest.jpg",
        "garden-rock.jpg",
        "grand-canyon.jpg",
        "gravel-desert.jpg",
        "hill.jpg",
        "lake.jpg",
        "moon.jpg",
        "pathway.jpg",
        "tree.jpg",
        "water-and-rocks.jpg",
        "wave.jpg",
    )
    + _k(
        f"{_SB}/Outdoors",
        "all-sports-mural.jpg",
        "atom-playground.jpg",
        "bench-with-view.jpg",
        "brick-wall-and-stairs.jpg",
        "brick-wall2.jpg",
        "building-at-mit.jpg",
        "building-fireproof.jpg",
        "castle.jpg",
        "city-with-water2.jpg",
        "driveway.jpg",
        "hallway_outdoors.jpg",
        "houses.jpg",
        "mansion.jpg",
        "parking-ramp.jpg",
        "pool.jpg",
        "route66.jpg",
        "silos.jpg",
        "the-movies.jpg",
        "train-tracks1.jpg",
        "train-tracks2.jpg",
        "village.jpg",
        "wooden-house.jpg",
    )
    + _k(
        f"{_SB}/Sports",
        "baseball-field.jpg",
        "football-field.jpg",
        "playing-field.jpg",
        "tennis-backboard.jpg",
    ),
    # The GIMP manual's unprocessed example photos (300-768 px).
    "gimp-help-en": [
        Keep(f"{_GH}/filters/examples/distort/spherize-ex-orig.jpg", stem="daisies"),
        Keep(f"{_GH}/filters/examples/enhance/high-pass-origin.png", stem="chimpanzee"),
        Keep(f"{_GH}/filters/examples/light-and-shadow/vignette-ex-orig.jpg", stem="squirrel"),
        Keep(f"{_GH}/filters/examples/map/little_planet-origin.jpg", stem="meadow"),
        Keep(f"{_GH}/filters/examples/taj_orig.png", stem="taj-mahal"),
        Keep(f"{_GH}/menus/select/remove-holes-ex3.png", stem="sunflower"),
        Keep(f"{_GH}/using/duck_orig.png", stem="ducklings"),
        Keep(f"{_GH}/tutorials/quickie-crop-example-source.jpg", stem="duck"),
        Keep(f"{_GH}/tutorials/quickie-flip-example-source.jpg", stem="soldiers"),
        Keep(f"{_GH}/tutorials/quickie-jpeg-100.jpg", stem="red-car"),
        Keep(f"{_GH}/tutorials/quickie-remove-background-source.jpg", stem="yellow-flower"),
        Keep(f"{_GH}/tutorials/quickie-scale-example.jpg", stem="castle"),
        Keep(f"{_GH}/tutorials/tone-mapping/apple-orchard-truck-from-camera.jpg", stem="truck"),
        Keep(f"{_GH}/tutorials/tone-mapping/before-auto-stretch-contrast.jpg", stem="pylons"),
    ],
    "qtbase5-examples": [
        Keep(f"{_QT}/widgets/painting/affine/bg1.jpg", stem="sea-stack"),
        # white frame around the photo
        Keep(f"{_QT}/widgets/graphicsview/weatheranchorlayout/images/place.jpg", "lake", trim=True),
    ],
    "qtdeclarative5-examples": [
        Keep(f"{_QT}/quick/touchinteraction/flickable/content/cork.jpg"),
        Keep(f"{_QT}/quick/customitems/scrollbar/pics/niagara_falls.jpg"),
    ],
    "golang-golang-x-image-dev": [
        Keep(f"{_GO}/blue-purple-pink-large.png", stem="gophers"),
        Keep(f"{_GO}/go-turns-two-280x360.jpeg", stem="gopher"),
    ],
    "afterstep-data": _k("usr/share/afterstep/desktop/tiles", "rose512.jpg"),
    "libirrlicht-doc": _k("usr/share/doc/libirrlicht-dev/media", "rockwall.jpg"),
}

SCALES_PER_PHOTO = 3
MAX_FACTOR = 4.0
MIN_LONG_SIDE = 256

# Photo statistics thresholds (computed on a LANCZOS thumbnail with long side 512).
MIN_UNIQUE_RATIO = 0.05  # distinct RGB colours / pixels, colour images
MIN_GREY_LEVELS = 64  # distinct levels, grey images
MAX_FLAT_FRACTION = 0.5  # horizontally adjacent pixel pairs that are exactly equal


def die(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)
    raise SystemExit(1)


# --------------------------------------------------------------------------- download / extract


def find_deb(work: Path, pkg: str) -> Path | None:
    debs = sorted(work.glob(f"{pkg}_*.deb"))
    return debs[-1] if debs else None


def download(work: Path, pkg: str) -> Path:
    if FORBIDDEN.match(pkg):
        die(f"package {pkg!r} is reserved for evaluation and must not be used for training")
    deb = find_deb(work, pkg)
    if deb is not None:
        return deb
    if shutil.which("apt-get") is None:
        die("apt-get not found: this script needs a Debian/Ubuntu system with apt")
    print(f"apt-get download {pkg}", flush=True)
    r = subprocess.run(["apt-get", "download", pkg], cwd=work, capture_output=True, text=True)
    deb = find_deb(work, pkg)
    if r.returncode != 0 or deb is None:
        die(
            f"`apt-get download {pkg}` failed (exit {r.returncode}):\n{r.stderr.strip()}\n"
            "Check the network / apt sources (Debian 12 bookworm, main) and run `apt-get update`."
        )
    return deb


def deb_version(deb: Path) -> str:
    r = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "?"


def extract(work: Path, pkg: str, deb: Path) -> Path:
    root = work / "root" / pkg
    marker = root / ".extracted"
    if marker.exists() and marker.read_text() == deb.name:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    r = subprocess.run(["dpkg", "-x", str(deb), str(root)], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"`dpkg -x {deb}` failed: {r.stderr.strip()}")
    marker.write_text(deb.name)
    return root


# --------------------------------------------------------------------------- images


def load_image(path: Path) -> Image.Image:
    """Load a candidate file as a Pillow image (RGB/RGBA/L), applying EXIF orientation."""
    if path.name == "face.dat":  # scipy.misc.face
        raw = np.frombuffer(bz2.decompress(path.read_bytes()), dtype=np.uint8)
        return Image.fromarray(raw.reshape(768, 1024, 3), "RGB")
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        im.load()
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return im.convert("RGBA")
    if im.mode in ("L", "I;16", "I", "F"):
        if im.mode != "L":
            a = np.asarray(im, dtype=np.float64)
            hi = 65535.0 if a.max() > 255 else 255.0
            im = Image.fromarray(np.clip(np.round(a / hi * 255.0), 0, 255).astype(np.uint8), "L")
        return im
    return im.convert("RGB")


def trim_uniform_borders(im: Image.Image, tol: float = 1.5) -> Image.Image:
    """Crop rows/columns at the edges that are uniform (std < tol), e.g. black letterbox bars."""
    g = np.asarray(im.convert("L"), dtype=np.float64)

    def count(a: np.ndarray) -> int:
        n = 0
        for row in a:
            if row.std() < tol and abs(row.mean() - a[0].mean()) < 3:
                n += 1
            else:
                break
        return n

    top, bottom, left, right = count(g), count(g[::-1]), count(g.T), count(g.T[::-1])
    w, h = im.size
    return im.crop((left, top, w - right, h - bottom))


def prepare(im: Image.Image, keep: Keep) -> Image.Image:
    """Apply a kept file's per-file fixes (fixed border crop, letterbox trim)."""
    if keep.border:
        b = keep.border
        im = im.crop((b, b, im.width - b, im.height - b))
    if keep.trim:
        im = trim_uniform_borders(im)
    return im


def photo_stats(im: Image.Image) -> dict[str, float]:
    """Simple statistics that separate photographs from flat illustrations/renders."""
    alpha = np.asarray(im.getchannel("A")) if im.mode == "RGBA" else None
    rgb = im.convert("RGB")
    s = 512 / max(rgb.size)
    if s < 1:
        rgb = rgb.resize((max(1, round(rgb.width * s)), max(1, round(rgb.height * s))), Image.LANCZOS)
    x = np.asarray(rgb).astype(np.int32)
    grey = bool(np.abs(x - x[..., :1]).max() <= 2)
    if grey:
        unique = len(np.unique(x[..., 0])) / 256.0
        levels = len(np.unique(x[..., 0]))
    else:
        unique = len(np.unique(x[..., 0] * 65536 + x[..., 1] * 256 + x[..., 2])) / x[..., 0].size
        levels = 256
    flat = float((np.abs(np.diff(x, axis=1)).sum(-1) == 0).mean())
    lum = x.mean(-1)
    grad = float(np.abs(np.diff(lum, axis=0)).mean() + np.abs(np.diff(lum, axis=1)).mean())
    return {
        "grey": float(grey),
        "unique": float(unique),
        "levels": float(levels),
        "flat": flat,
        "grad": grad,
        "transparent": float((alpha < 255).mean()) if alpha is not None else 0.0,
        "long_side": float(max(im.size)),
    }


def is_photographic(st: dict[str, float]) -> tuple[bool, str]:
    if st["transparent"] > 0:
        return False, "has transparency"
    if st["long_side"] < MIN_LONG_SIDE:
        return False, f"long side < {MIN_LONG_SIDE}"
    if st["flat"] > MAX_FLAT_FRACTION:
        return False, f"flat fraction {st['flat']:.2f} > {MAX_FLAT_FRACTION}"
    if st["grey"]:
        if st["levels"] < MIN_GREY_LEVELS:
            return False, f"only {st['levels']:.0f} grey levels"
    elif st["unique"] < MIN_UNIQUE_RATIO:
        return False, f"unique-colour ratio {st['unique']:.3f} < {MIN_UNIQUE_RATIO}"
    return True, "ok"


def draw_factors(key: str, long_side: int, seed: int) -> list[float]:
    """Downscale factors for one photo, reproducible from (seed, key).

    [1, hi] (hi = min(4, long_side / 256)) is cut into SCALES_PER_PHOTO equal strata and one
    factor is drawn uniformly in each, so a photo gets a mild, a medium and a strong downscale.
    Factors within 3 % of an earlier one (photos barely above 256 px) are dropped.
    """
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    hi = max(1.0, min(MAX_FACTOR, long_side / MIN_LONG_SIDE))
    edges = np.linspace(1.0, hi, SCALES_PER_PHOTO + 1)
    draws = rng.uniform(edges[:-1], edges[1:])
    out: list[float] = []
    for f in draws:
        f = round(float(f), 2)
        if all(abs(f / g - 1.0) >= 0.03 for g in out):
            out.append(f)
    return out


def downscale(im: Image.Image, factor: float) -> Image.Image:
    if factor == 1.0:
        return im.copy()
    w, h = im.size
    nw, nh = max(1, round(w / factor)), max(1, round(h / factor))
    if max(nw, nh) < MIN_LONG_SIDE:  # rounding guard
        s = MIN_LONG_SIDE / max(w, h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
    return im.resize((nw, nh), Image.LANCZOS, reducing_gap=3.0)


# --------------------------------------------------------------------------- review sheets


def write_review(review: Path, roots: dict[str, Path]) -> None:
    review.mkdir(parents=True, exist_ok=True)
    tile, cols = 240, 5
    for pkg, root in roots.items():
        kept: dict[str, Keep] = {}
        for k in KEEP[pkg]:
            p = resolve(root, k.path)
            if p is not None:
                kept[os.path.relpath(p, root)] = k
        files = sorted({p for pat in CANDIDATES[pkg] for p in glob.glob(str(root / pat))})
        rows = (len(files) + cols - 1) // cols
        sheet = Image.new("RGB", (cols * tile, max(1, rows) * (tile + 36)), "white")
        draw = ImageDraw.Draw(sheet)
        for i, f in enumerate(files):
            rel = os.path.relpath(f, root)
            try:
                im = load_image(Path(f))
                if rel in kept:
                    im = prepare(im, kept[rel])
            except Exception as e:  # noqa: BLE001 - review only
                print(f"  {pkg}: {rel}: unreadable ({e})")
                continue
            st = photo_stats(im)
            ok, why = is_photographic(st)
            mark = "KEEP" if rel in kept and ok else "drop"
            print(
                f"  {mark} {pkg}/{rel} {im.width}x{im.height} unique={st['unique']:.3f} "
                f"flat={st['flat']:.3f} grad={st['grad']:.1f} ({why})"
            )
            th = im.convert("RGB")
            th.thumbnail((tile, tile))
            r, c = divmod(i, cols)
            sheet.paste(th, (c * tile, r * (tile + 36)))
            y = r * (tile + 36) + tile + 2
            draw.text(
                (c * tile + 2, y),
                f"{mark} {Path(f).name[:32]}",
                fill="red" if mark == "KEEP" else "black",
            )
            draw.text(
                (c * tile + 2, y + 16),
                f"u={st['unique']:.2f} f={st['flat']:.2f} g={st['grad']:.0f}",
                fill="gray",
            )
        sheet.save(review / f"{PACKAGES[pkg]}.png")
    print(f"contact sheets written to {review}/")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("data/train"))
    ap.add_argument("--work", type=Path, default=Path("data/debs"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rewrite outputs that already exist")
    ap.add_argument("--review", type=Path, metavar="DIR", help="also write contact sheets of all candidates")
    args = ap.parse_args(argv)

    work: Path = args.work
    out: Path = args.out
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    roots: dict[str, Path] = {}
    versions: dict[str, str] = {}
    for pkg in PACKAGES:
        deb = download(work, pkg)
        versions[pkg] = deb_version(deb)
        if versions[pkg] != CURATED_VERSIONS[pkg]:
            print(
                f"warning: {pkg} is version {versions[pkg]}, the allow list was curated against "
                f"{CURATED_VERSIONS[pkg]}; check it with --review",
                file=sys.stderr,
            )
        roots[pkg] = extract(work, pkg, deb)

    if args.review:
        write_review(args.review, roots)

    expected: set[str] = set()
    manifest = ["output\tpackage\tversion\tsource_path\tfactor\twidth\theight"]
    n_photos: dict[str, int] = {}
    n_out = 0
    total_px = 0
    for pkg, keeps in KEEP.items():
        src = PACKAGES[pkg]
        n_photos[pkg] = 0
        for k in keeps:
            path = resolve(roots[pkg], k.path)
            if path is None:
                print(f"warning: {pkg}: {k.path} missing, skipped", file=sys.stderr)
                continue
            rel = os.path.relpath(path, roots[pkg])
            im = prepare(load_image(path), k)
            ok, why = is_photographic(photo_stats(im))
            if not ok:
                print(
                    f"warning: {pkg}: {k.path} dropped by the photo statistics: {why}",
                    file=sys.stderr,
                )
                continue
            im = im.convert("RGB")
            n_photos[pkg] += 1
            stem = k.stem or Path(k.path).stem
            for f in draw_factors(f"{src}/{stem}", max(im.size), args.seed):
                name = f"{src}_{stem}_s{f:.2f}.png"
                dst = out / name
                expected.add(name)
                if dst.exists() and not args.force:
                    with Image.open(dst) as done:
                        w, h = done.size
                else:
                    small = downscale(im, f)
                    tmp = dst.with_suffix(".tmp.png")
                    small.save(tmp, optimize=False, compress_level=6)
                    tmp.replace(dst)
                    w, h = small.size
                manifest.append(f"{name}\t{pkg}\t{versions[pkg]}\t{rel}\t{f:.2f}\t{w}\t{h}")
                n_out += 1
                total_px += w * h

    # Outputs from an older allow list / seed would silently pollute the set: remove them.
    pattern = re.compile(rf"^({'|'.join(map(re.escape, PACKAGES.values()))})_.+_s\d+\.\d\d\.png$")
    for p in out.iterdir():
        if pattern.match(p.name) and p.name not in expected:
            print(f"removing stale {p}")
            p.unlink()
    (out / "MANIFEST.tsv").write_text("\n".join(manifest) + "\n")

    print("\nsource photos per package:")
    for pkg, n in n_photos.items():
        print(f"  {pkg:24s} {versions[pkg]:18s} {n:3d}")
    print(f"source photos: {sum(n_photos.values())}")
    print(f"output images: {n_out} in {out}/")
    print(f"total megapixels: {total_px / 1e6:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
