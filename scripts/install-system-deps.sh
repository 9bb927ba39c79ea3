#!/usr/bin/env bash
# Shared libraries Qt needs on a bare Debian/Ubuntu machine (skipped when present or not root).
set -u
need=()
for pkg in libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }) \
    || echo "warning: could not install ${need[*]}; Qt may fail to start" >&2
fi
exit 0
