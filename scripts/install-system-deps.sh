#!/usr/bin/env bash
# Shared libraries Qt needs on a bare Debian/Ubuntu machine, and jpegqs (JPEG Quant Smooth, a peer of
# `rednet eval`); skipped when present or not root.
set -u
apt_install() {  # PACKAGE... ; installs the missing ones, returns non-zero if that failed
  local need=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }
}
apt_install libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 \
  || echo "warning: could not install Qt's libraries (libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3); Qt may fail to start" >&2
# Separately: an older release without jpegqs must not cost Qt its libraries.
apt_install jpegqs \
  || echo "warning: could not install jpegqs; rednet eval lists that peer as not installed" >&2
exit 0
