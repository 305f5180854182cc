"""``timbre detect``, ``timbre regenerate`` and ``timbre watermark``.

``detect`` exits 0 when every file carries the watermark, 1 when any does not (or its
watermark cannot be confirmed) and 2 when any file cannot be read or carries a provenance tag
this app refuses (crafted: too large, too deep, fields of the wrong type), so scripts can
gate on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_MARKED, EXIT_UNMARKED, EXIT_UNREADABLE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    det = sub.add_parser(
        "detect",
        help="check audio files for the Timbre watermark and show their provenance",
        description="Exit status: 0 every file is watermarked, 1 some file is not, "
        "2 some file could not be read or carries a crafted provenance tag.",
    )
    det.add_argument("files", nargs="+", metavar="FILE")
    det.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    det.set_defaults(func=cmd_detect)

    reg = sub.add_parser("regenerate", help="make a take again from its stored provenance")
    reg.add_argument("project")
    reg.add_argument("take_id", type=int, metavar="TAKE_ID")
    reg.set_defaults(func=cmd_regenerate)

    wm = sub.add_parser("watermark", help="show or set a project's watermark setting")
    wm.add_argument("project")
    wm.add_argument(
        "state", nargs="?", choices=["on", "off", "default"],
        help="on, off, or default (follow the user setting)",
    )
    wm.set_defaults(func=cmd_watermark)


# ---- detect -------------------------------------------------------------------------
def _describe_take(t: dict[str, Any]) -> str:
    if not t.get("engine"):
        return f"{t.get('kind') or 'import'} {json.dumps(t.get('name', ''), ensure_ascii=False)}"
    parts = [t["engine"]]
    if t.get("model_id"):
        parts.append(t["model_id"] + (f"@{t['model_version']}" if t.get("model_version") else ""))
    if t.get("prompt"):
        parts.append(json.dumps(t["prompt"], ensure_ascii=False))
    if t.get("voice"):
        parts.append(f"voice {t['voice']}")
    if t.get("consent"):
        parts.append("consent on record")
    if t.get("seed") is not None:
        parts.append(f"seed {t['seed']}")
    parts.append(f"{t.get('device', '?')}/{t.get('dtype', '?')}")
    if t.get("created"):
        parts.append(t["created"])
    parts.append("watermarked" if t.get("watermarked") else "not watermarked")
    return "  ".join(parts)


def _print_result(r: dict[str, Any]) -> None:
    verdict = {"present": "watermark present", "absent": "no watermark"}.get(
        r["verdict"], "watermark inconclusive"
    )
    note = f", {r['note']}" if r["note"] else ""
    if r["watermark"] and r["marked_fraction"] < 1:
        note += f", in {r['marked_fraction']:.0%} of the audio"
    print(f"{r['file']}: {verdict} (score {r['score']:.2f}{note})")
    doc = r["provenance"]
    if doc is None:
        print("  provenance: none in the file's tags")
        for key, value in r["tags"].items():
            print(f"  {key}: {value}")
        return
    takes = doc.get("takes") or []
    made_by = doc.get("app_version", "?")
    what = f"{doc['kind']} of " if doc.get("kind") else ""
    print(f"  provenance: Timbre Studio {made_by}, {what}{len(takes)} take(s)")
    for i, t in enumerate(takes, 1):
        print(f"    {i}. {_describe_take(t)}")


def cmd_detect(args: argparse.Namespace) -> int:
    from desktop.cli.common import fail
    from engines.errors import BadInput
    from engines.file_check import check_file

    worst = EXIT_MARKED
    for name in args.files:
        try:
            result = check_file(name).to_dict()
        except BadInput as exc:
            fail(str(exc))
            worst = EXIT_UNREADABLE
            continue
        if args.json:
            print(json.dumps(result, ensure_ascii=False, default=str))
        elif result["tags_error"]:  # one line: the refusal, and the verdict that still holds
            mark = "present" if result["watermark"] else "not confirmed"
            fail(f"{result['tags_error']} Its watermark: {mark} (score {result['score']:.2f}).")
        else:
            _print_result(result)
        if result["tags_error"]:
            worst = EXIT_UNREADABLE
            continue
        if not result["watermark"] and worst == EXIT_MARKED:
            worst = EXIT_UNMARKED
    sys.stdout.flush()
    return worst


# ---- regenerate ---------------------------------------------------------------------
def cmd_regenerate(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from desktop.project.errors import ProjectError
    from desktop.project.store import Project
    from engines.provenance import Provenance
    from engines.reproduce import regenerate

    with Project.open(args.project) as p:
        take = p.take(args.take_id)
        if not take.engine:
            raise ProjectError(
                f"Take {take.id} ({take.name}) was imported, not generated, so it has no "
                "provenance to regenerate from."
            )
        original = p.load_audio(take.audio_sha256)
        bar = ProgressBar(f"regenerating take {take.id}")
        new, identical = regenerate(
            Provenance.from_dict(take.provenance), progress=bar, original=original
        )
        bar.close()
        added = p.add_take(new.clip, f"{take.name} (regenerated)", take.kind, new.provenance)
    same = "identical to" if identical else "differs from"
    print(
        f"regenerated take {take.id} as take {added.id} ({added.duration:.2f} s, "
        f"{new.provenance.engine}, {new.provenance.device}/{new.provenance.dtype}): "
        f"audio {same} the original"
    )
    if not identical and (take.device, take.dtype) != (new.provenance.device, new.provenance.dtype):
        print(
            f"  the original was made on {take.device}/{take.dtype}; "
            "results are only identical on the same device and dtype"
        )
    return 0


# ---- watermark setting --------------------------------------------------------------
def cmd_watermark(args: argparse.Namespace) -> int:
    from desktop.project.provenance import (
        project_watermark,
        set_project_watermark,
        watermark_enabled,
    )
    from desktop.project.store import Project

    with Project.open(args.project) as p:
        if args.state is not None:
            set_project_watermark(p, {"on": True, "off": False, "default": None}[args.state])
        own = project_watermark(p)
        source = "project setting" if own is not None else "user setting"
        state = "on" if watermark_enabled(p) else "off"
        print(f"watermarking in {p.name}: {state} ({source})")
    return 0
