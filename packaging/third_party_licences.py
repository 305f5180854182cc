"""Write THIRD-PARTY-LICENSES/ into a built bundle: each bundled package's licence texts.

Reads the ``*.dist-info`` folders inside the bundle (the spec copies the metadata of every
distribution whose code it bundled), so the list is what is really shipped. For each
distribution it copies the licence files the wheel carries (``licenses/``, ``LICENSE*``,
``COPYING*``, ``NOTICE*``); where a wheel carries none it writes the metadata's licence field.
``README.txt`` lists every package with its licence as ``timbre --licenses`` names it, then
the model licences (MusicGen/AudioGen weights: CC-BY-NC 4.0, not for commercial use).

Usage: python packaging/third_party_licences.py dist/timbre-studio
"""

from __future__ import annotations

import shutil
import sys
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.licences import (  # noqa: E402
    APP_LICENCE,
    APP_NAME,
    GPL_COMPONENTS,
    MODEL_LICENCES,
    package_licence,
)

LICENCE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "COPYRIGHT")


def licence_files(info: Path) -> list[Path]:
    found = [p for p in info.rglob("*") if p.is_file() and (
        p.parent.name in ("licenses", "license_files")
        or p.name.upper().startswith(LICENCE_NAMES))]
    return sorted(found)


def main(bundle: Path) -> int:
    internal = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    out = bundle / "THIRD-PARTY-LICENSES"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    rows = []
    for info in sorted(internal.glob("*.dist-info"), key=lambda p: p.name.lower()):
        meta_file = info / "METADATA"
        if not meta_file.is_file():
            continue
        meta = Parser().parsestr(meta_file.read_text(encoding="utf-8", errors="replace"))
        name, version = meta.get("Name", info.stem), meta.get("Version", "")
        if name.lower() == "timbre-studio":
            continue
        licence = package_licence(meta)
        folder = out / f"{name}-{version}"
        folder.mkdir()
        files = licence_files(info)
        for f in files:
            target = folder / f.relative_to(info).as_posix().replace("/", "_")
            shutil.copyfile(f, target)
        if not files:
            text = (meta.get("License") or "").strip() or f"Licence: {licence} (no text shipped)"
            (folder / "LICENSE-from-metadata.txt").write_text(text + "\n", encoding="utf-8")
        rows.append((name, version, licence))
    width = max(len(n) for n, *_ in rows) + 2
    lines = [
        f"{APP_NAME} is {APP_LICENCE} (COPYING). GPL components linked into it:",
        *[f"  {what}: {why}" for what, _lic, why in GPL_COMPONENTS],
        "",
        f"Bundled Python packages ({len(rows)}); each folder here holds its licence texts:",
        *[f"  {n:<{width}}{v:<14}{lic}" for n, v, lic in rows],
        "",
        "Model weights (each take records its model's licence in its provenance):",
        *[f"  {m.sentence()}" for m in MODEL_LICENCES],
        "",
        "Qt (PySide6) is LGPL-3.0: its libraries are shared objects under _internal/PySide6/",
        "and can be replaced by the user. espeak-ng (system package) is GPL-3.0-or-later.",
    ]
    (out / "README.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"THIRD-PARTY-LICENSES: {len(rows)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
