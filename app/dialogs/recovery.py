"""Crash recovery, the user's side: "Recover unsaved work from <time> for <file>?" (Recover / Discard).

At start-up the window calls `offer_recovery`: each orphaned session folder (its owner died; see
app.services.autosave_store) is offered, newest first, until one is recovered or the question is
dismissed. Recover reads the folder back (`load_recovery`) and hands it to the window's `open_recovery`
callable, which reopens the source photo when it is still there unchanged and applies the saved result
and mask on top (otherwise it opens the saved result alone, marked unsaved); the folder is then
adopted by the window's Autosaver. `ask_recover` is a module function so tests can replace it.
"""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from app.dialogs import prompts
from app.services.autosave import Autosaver
from app.services.autosave_store import Orphan, Recovery, find_orphans, load_recovery

log = logging.getLogger(__name__)

# Opens a recovery in the window (notes it adds go into `Recovery.notes`); False when the user
# kept the photo that was open instead.
OpenRecovery = Callable[[Recovery], bool]


def ask_recover(parent: QWidget | None, when: str, name: str, details: str = "") -> str:
    """'recover', 'discard' or 'later' (the box was closed without choosing). Tests replace this."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Recover unsaved work",
        f"Recover unsaved work from {when} for {name}?",
        parent=parent,
    )
    if details:
        box.setInformativeText(details)
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(recover)
    box.exec()
    clicked = box.clickedButton()
    if clicked == recover:
        return "recover"
    return "discard" if clicked == discard else "later"


def offer_recovery(parent: QWidget | None, autosaver: Autosaver, open_recovery: OpenRecovery) -> bool:
    """Offer each orphaned session, newest first, until one is recovered or the question is
    dismissed. True when work was recovered."""
    try:
        orphans = find_orphans(autosaver.root)
    except OSError as exc:
        log.warning("autosave: cannot look for earlier sessions: %s", exc)
        return False
    recovered = False
    for i, orphan in enumerate(orphans):
        if recovered:
            orphan.release()
            continue
        answer = ask_recover(parent, orphan.when, orphan.name, orphan.summary())
        if answer == "recover":
            recovered = recover(parent, autosaver, orphan, open_recovery)
            if not recovered:
                orphan.release()
        elif answer == "discard":
            orphan.discard()
        else:
            for rest in orphans[i:]:
                rest.release()
            break
    return recovered


def recover(parent: QWidget | None, autosaver: Autosaver, orphan: Orphan, open_recovery: OpenRecovery) -> bool:
    """Open what `orphan` holds; its folder becomes the autosaver's session folder."""
    recovery = load_recovery(orphan)
    if not recovery.readable:
        prompts.show_error(
            parent,
            "Cannot recover unsaved work",
            f"{orphan.name}: {'; '.join(recovery.notes) or 'nothing could be read'}. "
            f"The autosaved files are in {orphan.folder}.",
        )
        return False
    if not open_recovery(recovery):
        return False
    autosaver.adopt(orphan.folder, orphan.lock, recovery.result, recovery.result_file, dirty=bool(recovery.notes))
    return True
