"""Recording scripts shipped in ``resources/banking/`` (see the README there for licences).

A script is a TSV file of ``id<TAB>text`` lines. ``arctic`` is the CMU ARCTIC prompt set:
1,132 phonetically balanced sentences from out-of-copyright books, the set Piper and most
open TTS recipes were built on. A person may also bring their own TSV (a path).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engines.errors import BadInput

SCRIPTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "banking"
DEFAULT_SCRIPT = "arctic"


@dataclass(frozen=True)
class ScriptLine:
    id: str
    text: str


def available_scripts() -> list[str]:
    return sorted(p.stem for p in SCRIPTS_DIR.glob("*.tsv"))


def script_path(name: str) -> Path:
    path = Path(name).expanduser()
    if path.suffix == ".tsv" and path.is_file():
        return path
    shipped = SCRIPTS_DIR / f"{name}.tsv"
    if shipped.is_file():
        return shipped
    known = ", ".join(available_scripts()) or "none"
    raise BadInput(
        f"There is no script called '{name}'. Shipped scripts: {known}; or give a .tsv file of id<TAB>text lines."
    )


def load_script(name: str = DEFAULT_SCRIPT) -> list[ScriptLine]:
    path = script_path(name)
    lines, seen = [], set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        pid, sep, text = raw.partition("\t")
        pid, text = pid.strip(), text.strip()
        if not sep or not pid or not text:
            raise BadInput(
                f"{path.name} line {number} is not 'id<TAB>text'; fix that line and try again."
            )
        if pid in seen:
            raise BadInput(f"{path.name} line {number}: the id '{pid}' is used twice.")
        seen.add(pid)
        lines.append(ScriptLine(pid, text))
    if not lines:
        raise BadInput(f"{path.name} holds no prompts.")
    return lines
