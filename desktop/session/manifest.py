"""A batch manifest: one job per row, in CSV or JSON Lines, read into job specs.

Each row names what it is with ``kind`` (music, sfx, speech, convert, master) or ``engine``
(any registered engine, a plug-in's too) and gives that engine's settings by the names its
request dataclass uses, the same names ``timbre run ENGINE --help`` lists and the studio's
forms show (``engines.fields``). Speech rows go through the same voice resolution as
``timbre speak`` (library voices need their consent). A few columns are not request
fields: ``model`` (and ``speed`` for music) choose how the engine is built, ``output`` names
the file a row writes in an output folder.

Every row gets a key: a hash of what it asks for (engine, options, settings, and the size
and time of any file it reads), not of where it stands, so a manifest that is reordered
or grown still knows which rows are already rendered. Identical rows are numbered
(``#2``): asking twice for the same unseeded take means two takes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.session.jobs import JobSpec
from engines.errors import BadInput

KINDS = ("music", "sfx", "speech", "convert", "master")
FAMILY = {"music": "musicgen", "sfx": "audiogen"}
OPTION_COLUMNS = ("model", "speed")  # how the engine is built, not what it makes
META_COLUMNS = ("kind", "type", "engine", "output", "label")
SPEECH_COLUMNS = ("text", "voice", "language", "emotion", "stability", "rate", "pitch", "seed",
                  "world_toward")
CONVERT_COLUMNS = ("input", "voice", "seed")
MASTER_COLUMNS = ("inputs", "music", "intro", "outro", "lufs", "duck", "max_pause", "denoise",
                  "title", "chapters")
FILE_COLUMNS = ("melody", "continuation", "input", "inputs", "music", "intro", "outro")
MAX_ROWS = 100_000


@dataclass
class BatchRow:
    """One manifest row made ready to run: a job spec (or a master's settings), its key."""

    number: int  # the row's place in the manifest, 1-based, for messages only
    kind: str
    engine: str
    key: str
    label: str
    spec: JobSpec | None = None
    master: dict[str, Any] = field(default_factory=dict)  # kind == "master"
    output: str = ""  # file name (in the output folder) the row asked for
    resources: dict[str, float] = field(default_factory=lambda: {"cpus": 1.0, "gpus": 0.0})


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a ``.csv`` or ``.jsonl`` file as dicts (empty CSV cells left out)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path} does not exist. Check the path and try again.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name} is not UTF-8 text; save it as UTF-8 and try again.") from exc
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise BadInput(f"{path.name}, line {n}: not a JSON object ({exc}).") from exc
            if not isinstance(row, dict):
                raise BadInput(f"{path.name}, line {n}: each line must be a JSON object.")
            rows.append(row)
    elif path.suffix.lower() in (".csv", ".tsv"):
        dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
        for row in csv.DictReader(text.splitlines(), dialect=dialect):
            rows.append({k.strip(): v for k, v in row.items() if k and v not in (None, "")})
    else:
        raise BadInput(f"{path.name} is not a manifest: use a .csv or .jsonl file, one job a row.")
    if len(rows) > MAX_ROWS:
        raise BadInput(f"{path.name} has {len(rows):,} rows; split it (at most {MAX_ROWS:,}).")
    if not rows:
        raise BadInput(f"{path.name} has no rows: nothing to render.")
    return rows


def load_rows(path: str | Path, base: str | Path | None = None) -> list[BatchRow]:
    """Every row of a manifest as a :class:`BatchRow`; the first bad row is refused with
    its number. Relative file paths in rows are read from ``base`` (the manifest's folder)."""
    path = Path(path)
    return build_rows(read_manifest(path), Path(base) if base else path.parent, path.name)


def build_rows(raw: list[dict[str, Any]], base: Path, name: str = "the manifest") -> list[BatchRow]:
    rows: list[BatchRow] = []
    seen: dict[str, int] = {}
    for number, values in enumerate(raw, start=1):
        try:
            row = build_row(number, _resolve_files(values, base))
        except BadInput as exc:
            raise BadInput(f"{name}, row {number}: {exc}") from None
        seen[row.key] = seen.get(row.key, 0) + 1
        if seen[row.key] > 1:
            row.key = f"{row.key}#{seen[row.key]}"
        rows.append(row)
    return rows


def _resolve_files(values: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(values)
    for key in FILE_COLUMNS:
        if key in out and out[key] not in (None, ""):
            items = out[key] if isinstance(out[key], list) else str(out[key]).split(";")
            paths = [str(p if p.is_absolute() else base / p)
                     for p in (Path(str(i).strip()) for i in items if str(i).strip())]
            out[key] = paths if key == "inputs" else paths[0]
    return out


def _file_stamp(value: Any) -> Any:
    """A file's path, size and modification time, so an edited input renders again."""
    items = value if isinstance(value, list) else [value]
    stamps = []
    for item in items:
        p = Path(str(item))
        try:
            st = p.stat()
            stamps.append([str(p), st.st_size, st.st_mtime_ns])
        except OSError:
            raise BadInput(f"{p} does not exist. Check the path and try again.") from None
    return stamps


def row_key(kind: str, engine: str, options: dict[str, Any], settings: dict[str, Any]) -> str:
    """The hash a row is known by: what it asks for, in a canonical form."""
    stamped = {k: (_file_stamp(v) if k in FILE_COLUMNS else v) for k, v in settings.items()}
    text = json.dumps({"kind": kind, "engine": engine, "options": options, "settings": stamped},
                      sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def build_row(number: int, values: dict[str, Any]) -> BatchRow:
    values = {str(k).strip().lower().replace("-", "_"): v for k, v in values.items()}
    kind = str(values.get("kind") or values.get("type") or "").strip().lower()
    engine = str(values.get("engine") or "").strip()
    output = str(values.get("output") or "").strip()
    if output and (Path(output).name != output or output.startswith(".")):
        raise BadInput(f"output '{output}' must be a plain file name (it goes in the output folder).")
    if not kind and not engine:
        raise BadInput(f"say what the row is with a kind column ({', '.join(KINDS)}) or an "
                       "engine column.")
    if kind == "master":
        return _master_row(number, values, output)
    if kind == "speech" or (not kind and _engine_kind(engine) == "speech"):
        return _speech_row(number, values, engine or None, output)
    if kind == "convert":
        return _convert_row(number, values, output)
    if kind and kind not in KINDS:
        raise BadInput(f"'{kind}' is not a kind of job; use {', '.join(KINDS)} (or an engine column).")
    engine = engine or FAMILY[kind]
    return _engine_row(number, values, kind or _engine_kind(engine), engine, output)


def _engine_kind(engine: str) -> str:
    from engines.registry import spec

    return spec(engine).kind


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items()
            if k not in META_COLUMNS and k not in OPTION_COLUMNS and v not in (None, "")}


def _label(values: dict[str, Any], text: str) -> str:
    return str(values.get("label") or text or "").strip()[:40] or "batch"


def _engine_row(number: int, values: dict[str, Any], kind: str, engine: str, output: str) -> BatchRow:
    from engines.fields import request_from_values
    from engines.registry import request_type

    options = {k: values[k] for k in OPTION_COLUMNS if values.get(k) not in (None, "")}
    settings = _settings(values)
    request = request_from_values(engine, request_type(engine), settings)
    if hasattr(request, "validate"):
        request.validate()
    label = _label(values, str(settings.get("prompt") or settings.get("text") or engine))
    spec = JobSpec(engine, kind, request, label, options)
    return BatchRow(number, kind, engine, row_key(kind, engine, options, settings), label, spec,
                    output=output, resources=resources_for(engine))


def _speech_row(number: int, values: dict[str, Any], engine: str | None, output: str) -> BatchRow:
    from engines.fields import coerce_text_number
    from engines.speech.service import speech_request
    from engines.speech.voices import resolve

    settings = _settings(values)
    unknown = sorted(set(settings) - set(SPEECH_COLUMNS))
    if unknown:
        raise BadInput(f"speech rows have no setting called {', '.join(unknown)}; they take "
                       f"{', '.join(SPEECH_COLUMNS)}.")
    text = str(settings.get("text") or "").strip()
    if not text:
        raise BadInput("a speech row needs its text.")
    resolved = resolve(settings.get("voice"), engine)
    numbers = {k: coerce_text_number(k, settings[k], float)
               for k in ("stability", "rate", "pitch") if k in settings}
    if "seed" in settings:
        numbers["seed"] = int(coerce_text_number("seed", settings["seed"], int))
    request = speech_request(text, resolved, language=settings.get("language"),
                             emotion=str(settings.get("emotion") or "neutral"),
                             world_toward=settings.get("world_toward"), **numbers)
    model = values.get("model") or None
    options = {"model": model} if model else {}
    label = _label(values, text)
    spec = JobSpec(resolved.engine, "speech", request, label, options)
    key_settings = {**settings, "engine": resolved.engine}
    return BatchRow(number, "speech", resolved.engine,
                    row_key("speech", resolved.engine, options, key_settings), label, spec,
                    output=output, resources=resources_for(resolved.engine))


def _convert_row(number: int, values: dict[str, Any], output: str) -> BatchRow:
    from engines.fields import coerce_text_number
    from engines.speech.chatterbox_vc import ENGINE_NAME, convert_request

    settings = _settings(values)
    if not settings.get("input") or not settings.get("voice"):
        raise BadInput("a convert row needs an input recording and a voice.")
    seed = settings.get("seed")
    seed = int(coerce_text_number("seed", seed, int)) if seed is not None else None
    request = convert_request(Path(settings["input"]), str(settings["voice"]), seed)
    model = values.get("model") or None
    options = {"model": model} if model else {}
    label = _label(values, f"{request.source_name} as {settings['voice']}")
    spec = JobSpec(ENGINE_NAME, "speech", request, label, options)
    return BatchRow(number, "convert", ENGINE_NAME, row_key("convert", ENGINE_NAME, options,
                    settings), label, spec, output=output, resources=resources_for(ENGINE_NAME))


def _master_row(number: int, values: dict[str, Any], output: str) -> BatchRow:
    settings = _settings(values)
    unknown = sorted(set(settings) - set(MASTER_COLUMNS))
    if unknown:
        raise BadInput(f"master rows have no setting called {', '.join(unknown)}; they take "
                       f"{', '.join(MASTER_COLUMNS)}.")
    if not settings.get("inputs"):
        raise BadInput("a master row needs inputs: its voice track files, separated by ';'.")
    if not output:
        raise BadInput("a master row needs an output file name (output column).")
    from engines.audio_io import format_for

    format_for(Path(output))
    label = _label(values, str(settings.get("title") or output))
    return BatchRow(number, "master", "podcast-master",
                    row_key("master", "podcast-master", {}, settings), label,
                    master=settings, output=output)


# Engines that run on a GPU where the cluster has one (PyTorch models); the others are
# ONNX or C and use CPU threads.
GPU_ENGINES = ("musicgen", "audiogen", "chatterbox", "chatterbox-vc", "chatterbox-multilingual",
               "chatterbox-turbo")


def resources_for(engine: str) -> dict[str, float]:
    return {"cpus": 1.0, "gpus": 1.0 if engine in GPU_ENGINES else 0.0}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "take"
