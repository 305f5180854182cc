#!/usr/bin/env bash
# make package: freeze Timbre Studio with PyInstaller (dist/timbre-studio/), add the
# third-party licence texts, then wrap it as a Debian package with dpkg-deb, offline
# (dist/timbre-studio_VERSION_ARCH.deb). Usage: packaging/build.sh [--deb-only]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PY:-.venv/bin/python}"
VERSION="$("$PY" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')"
ARCH="$(dpkg --print-architecture)"
BUNDLE=dist/timbre-studio
t0=$SECONDS

if [ "${1:-}" != "--deb-only" ]; then
  nice "$PY" -m PyInstaller --noconfirm --log-level WARN \
    --workpath build/pyinstaller --distpath dist packaging/timbre.spec
  "$PY" packaging/third_party_licences.py "$BUNDLE"
  echo "bundle: $(du -sh "$BUNDLE" | cut -f1) in $BUNDLE (frozen in $((SECONDS - t0)) s)"
fi

# ---- Debian package -------------------------------------------------------------------
STAGE=build/deb/timbre-studio_${VERSION}_${ARCH}
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/mime/packages" "$STAGE/usr/share/metainfo" \
  "$STAGE/usr/share/doc/timbre-studio" "$STAGE/usr/share/icons/hicolor/scalable/apps"
cp -al "$BUNDLE" "$STAGE/opt/timbre-studio" 2>/dev/null || cp -a "$BUNDLE" "$STAGE/opt/timbre-studio"
ln -s /opt/timbre-studio/timbre "$STAGE/usr/bin/timbre"
install -m 644 packaging/linux/timbre-studio.desktop "$STAGE/usr/share/applications/"
install -m 644 packaging/linux/timbre-studio-mime.xml "$STAGE/usr/share/mime/packages/timbre-studio.xml"
install -m 644 packaging/linux/io.github.timbre_studio.TimbreStudio.metainfo.xml "$STAGE/usr/share/metainfo/"
install -m 644 resources/icons/timbre-studio.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/"
for png in resources/icons/timbre-studio-*.png; do
  size="${png##*-}"; size="${size%.png}"
  mkdir -p "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps"
  install -m 644 "$png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/timbre-studio.png"
done
cat > "$STAGE/usr/share/doc/timbre-studio/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Timbre Studio

Files: *
License: GPL-3.0-or-later
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3 and
 /opt/timbre-studio/_internal/COPYING. The bundled Python packages' licence texts are
 in /opt/timbre-studio/THIRD-PARTY-LICENSES/ (README.txt lists each with its licence,
 and the model weights' licences: MusicGen and AudioGen weights are CC-BY-NC 4.0, not
 for commercial use).
COPY
SIZE_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: timbre-studio
Version: $VERSION
Architecture: $ARCH
Maintainer: Timbre Studio developers <timbre-studio@users.noreply.github.com>
Installed-Size: $SIZE_KB
Depends: libportaudio2, espeak-ng, libc6 (>= 2.28), libglib2.0-0, libgl1, libegl1, libfontconfig1, libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-render-util0, libxcb-image0, libxcb-util1, libxcb-render0, libxcb-xkb1
Recommends: shared-mime-info, desktop-file-utils, fonts-dejavu-core
Section: sound
Priority: optional
Homepage: https://github.com/timbre-studio/timbre-studio
Description: offline studio for generative music, sound effects and speech
 Timbre Studio makes music and sound effects from text (MusicGen, AudioGen), speaks
 text in built-in voices (Piper, Kokoro, espeak-ng) and clones voices only with their
 speaker's recorded consent. Everything runs locally. The studio opens with "timbre";
 "timbre --help" lists the command-line tools. MusicGen and AudioGen weights are
 downloaded on first use and are CC-BY-NC 4.0 (not for commercial use).
CONTROL
# shared-mime-info, desktop-file-utils and hicolor-icon-theme refresh their caches through
# dpkg file triggers, so no maintainer scripts are needed.
find "$STAGE" -type d -exec chmod 755 {} +
DEB="dist/timbre-studio_${VERSION}_${ARCH}.deb"
t1=$SECONDS
nice dpkg-deb --root-owner-group -Zzstd -z3 --build "$STAGE" "$DEB"
rm -rf "$STAGE"
echo "deb: $(du -h "$DEB" | cut -f1) $DEB (dpkg-deb $((SECONDS - t1)) s); installed size $((SIZE_KB / 1024)) MiB"
