#!/usr/bin/env bash
# Debian packages the tests use as independent peers/meters: ffmpeg's ebur128, headless
# Chromium for the report pages, liblo's oscsend/oscdump for the OSC server, Ardour 7.
# Skips quietly what is already there; needs root (or sudo) for apt-get.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || need+=(chromium)       # report pages checked headless
command -v oscsend >/dev/null 2>&1 || need+=(liblo-tools)     # a real OSC peer for ainur serve
command -v lua5.4 >/dev/null 2>&1 || need+=(lua5.4)          # runs the shipped REAPER Lua importer
command -v ardour7-lua >/dev/null 2>&1 || need+=(ardour)      # a real DAW: headless Ardour (ardour7-lua, dummy backend, OSC)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
