#!/usr/bin/env bash
# make package-test: run the frozen app the way a user does, outside the source tree, with a
# clean environment (no .venv, no PYTHONPATH), first from dist/, then installed from the .deb;
# then remove the package and check nothing is left behind. Needs root for dpkg (or sudo).
# Usage: packaging/package_test.sh [--no-deb]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="$ROOT/dist/timbre-studio/timbre"
DEB="$(ls -t "$ROOT"/dist/timbre-studio_*.deb 2>/dev/null | head -1)"
WORK="$(mktemp -d /tmp/timbre-package-test-XXXXXX)"
FAILED=0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

clean_env() {  # a user's login environment: nothing of the build
  env -i HOME="$WORK/home" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$WORK/run" "$@"
}

check() {  # check NAME COMMAND...: run in $WORK, report PASS/FAIL with the time it took
  local name="$1"; shift
  local t0=$SECONDS
  if (cd "$WORK" && clean_env "$@") >"$WORK/$name.log" 2>&1; then
    echo "PASS  $name  ($((SECONDS - t0)) s)"
  else
    echo "FAIL  $name  ($((SECONDS - t0)) s): see $WORK/$name.log"; tail -5 "$WORK/$name.log"
    FAILED=1
  fi
}

suite() {  # suite LABEL TIMBRE
  local label="$1" timbre="$2"
  rm -rf "$WORK/home" "$WORK/run" "$WORK"/*.wav "$WORK"/*.png "$WORK"/music-*
  mkdir -p "$WORK/home" "$WORK/run" && chmod 700 "$WORK/run"
  echo "== $label: $timbre"
  check "$label-version" "$timbre" --version
  check "$label-licenses" bash -c "'$timbre' --licenses | grep -q 'CC-BY-NC 4.0 — not for commercial use'"
  check "$label-engines" "$timbre" engines
  check "$label-speak-piper" "$timbre" speak --engine piper "Packaged and frozen." -o speech.wav
  check "$label-speak-wav" test -s "$WORK/speech.wav"
  check "$label-speak-kokoro" "$timbre" speak --engine kokoro "Kokoro, frozen." -o kokoro.wav
  check "$label-speak-espeak" "$timbre" speak --engine espeak "Espeak, frozen." -o espeak.wav
  check "$label-music-debug" "$timbre" music --model debug --duration 2 --seed 1 -o music-out "a short test"
  check "$label-detect" bash -c "'$timbre' detect music-out/*.wav"
  check "$label-screenshot" "$timbre" --screenshot shot.png
  check "$label-screenshot-png" test -s "$WORK/shot.png"
}

[ -x "$BUNDLE" ] || { echo "no bundle at $BUNDLE: run make package first" >&2; exit 2; }
suite frozen "$BUNDLE"

if [ "${1:-}" != "--no-deb" ]; then
  [ -n "$DEB" ] || { echo "no .deb in dist/: run make package first" >&2; exit 2; }
  echo "== installing $(basename "$DEB")"
  if $SUDO dpkg -i "$DEB" >"$WORK/dpkg-i.log" 2>&1; then echo "PASS  dpkg-i"; else
    echo "FAIL  dpkg-i"; tail -5 "$WORK/dpkg-i.log"; FAILED=1; fi
  check deb-desktop-entry test -f /usr/share/applications/timbre-studio.desktop
  check deb-icon test -f /usr/share/icons/hicolor/scalable/apps/timbre-studio.svg
  check deb-mime test -f /usr/share/mime/packages/timbre-studio.xml
  check deb-metainfo test -f /usr/share/metainfo/io.github.timbre_studio.TimbreStudio.metainfo.xml
  check deb-third-party-licences test -s /opt/timbre-studio/THIRD-PARTY-LICENSES/README.txt
  suite installed /usr/bin/timbre
  echo "== removing timbre-studio"
  if $SUDO dpkg -r timbre-studio >"$WORK/dpkg-r.log" 2>&1; then echo "PASS  dpkg-r"; else
    echo "FAIL  dpkg-r"; tail -5 "$WORK/dpkg-r.log"; FAILED=1; fi
  check removed-cleanly bash -c '! test -e /usr/bin/timbre && ! test -e /opt/timbre-studio \
    && ! test -e /usr/share/applications/timbre-studio.desktop \
    && ! dpkg-query -W timbre-studio 2>/dev/null | grep -q .'
fi

if [ "$FAILED" -eq 0 ]; then echo "package-test: all passed"; rm -rf "$WORK"; else
  echo "package-test: FAILED (logs in $WORK)"; fi
exit "$FAILED"
