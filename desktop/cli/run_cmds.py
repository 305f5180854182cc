"""``timbre run ENGINE [--FIELD VALUE ...]``: any registered engine, flags made from its request.

Why: the dedicated commands (``music``, ``speak``) carry hand-written flags for the built-in
engines; an engine added later (a plug-in) must be usable from the command line without
touching this package. Its request dataclass's fields become flags here exactly as they
become controls in the studio's form (``engines.fields``), and the job runs through the same
``desktop.session.run_job`` as everything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run any engine; its settings become flags (timbre run ENGINE --help)",
        add_help=False,
    )
    p.add_argument("engine", nargs="?", help="an engine name from `timbre engines`")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_run)


def engine_parser(name: str) -> argparse.ArgumentParser:
    """The flags of one engine, generated from its request dataclass."""
    from engines.audio import AudioClip
    from engines.fields import editable_fields, help_for, range_for
    from engines.registry import request_type as request_type_of

    request_type = request_type_of(name)
    parser = argparse.ArgumentParser(prog=f"timbre run {name}",
                                     description=f"Run the {name} engine.")
    parser.add_argument("-o", "--output", help="write each take to this file (NAME-1.wav … "
                        "when there are several)")
    parser.add_argument("--project", help="store the takes in this project, on a new track")
    for f, hint, _optional in editable_fields(request_type):
        flag = "--" + f.name.replace("_", "-")
        extra: dict[str, Any] = {"dest": f.name, "help": help_for(f), "default": None}
        choices = f.metadata.get("choices")
        if hint is bool:
            extra["action"] = argparse.BooleanOptionalAction
        elif hint in (int, float):
            lo, hi, _ = range_for(f, hint)
            extra["type"] = hint
            extra["help"] += f" ({lo:g} to {hi:g})"
        elif hint is AudioClip:
            extra["type"] = Path
            extra["metavar"] = "AUDIO_FILE"
        if choices:
            extra["choices"] = [str(c) for c in choices]
        parser.add_argument(flag, **extra)
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from desktop.session import JobSpec, run_job
    from engines.errors import BadInput
    from engines.fields import editable_fields, request_from_values
    from engines.registry import engine_infos
    from engines.registry import request_type as request_type_of

    if not args.engine or args.engine in ("-h", "--help"):
        names = ", ".join(i.name for i in engine_infos() if i.kind != "analysis")
        print(f"usage: timbre run ENGINE [settings]   (engines: {names})")
        return 0
    parser = engine_parser(args.engine)
    options = parser.parse_args(args.rest)
    if not options.output and not options.project:
        raise BadInput("Say where the audio goes: -o FILE and/or --project P.")
    values = {f.name: getattr(options, f.name)
              for f, _hint, _optional in editable_fields(request_type_of(args.engine))}
    values = {k: v for k, v in values.items() if v is not None}
    request = request_from_values(args.engine, request_type_of(args.engine), values)
    label = str(next((v for k, v in values.items() if k in ("prompt", "text")), args.engine))
    spec = JobSpec(args.engine, _kind(args.engine), request, label[:40].strip())
    project = None
    if options.project:
        from desktop.project.store import Project

        project = Project.open(options.project)
    try:
        from desktop.cli.common import ProgressBar

        bar = ProgressBar(args.engine)
        outcome = run_job(spec, project, progress=bar, place="new-track")
        bar.close()
        stored = [(t.id, project.name) for t in outcome.stored] if project else []
    finally:
        if project is not None:
            project.close()
    _write(options.output, outcome.takes)
    for take_id, name in stored:
        print(f"added take {take_id} to {name}")
    print(f"{args.engine}: {len(outcome.takes)} take(s)", file=sys.stderr)
    return 0


def _kind(engine: str) -> str:
    from engines.registry import spec

    return spec(engine).kind


def _write(output: str | None, takes: list[Any]) -> None:
    if not output:
        return
    from engines.tags import provenance_document, write_tagged

    out = Path(output)
    for i, take in enumerate(takes):
        path = out if len(takes) == 1 else out.with_name(f"{out.stem}-{i + 1}{out.suffix}")
        write_tagged(path, take.clip, provenance_document([take.provenance.to_dict()]))
        print(f"wrote {path} ({take.clip.duration:.2f} s)")
