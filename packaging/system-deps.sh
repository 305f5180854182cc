#!/usr/bin/env bash
# Installs the Debian packages Timbre Studio needs, only when some are missing.
# Uses sudo when not root; when neither works, prints the exact apt line and fails.
set -euo pipefail

PACKAGES=(
  python3 python3-venv python3-dev
  # Qt offscreen + a real X11 window (see shared STACK facts)
  libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 fonts-dejavu-core
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-render-util0 libxcb-image0 libxcb-util1 libxcb-render0 libxcb-xkb1 xvfb xauth
  # audio devices, speech, files
  libportaudio2 espeak-ng libsndfile1
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "Timbre Studio needs these system packages. Run this as root, then run make again:" >&2
  echo "  sudo sh -c '$line'" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
