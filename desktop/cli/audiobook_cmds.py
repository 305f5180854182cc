"""``timbre audiobook BOOK --voice V -o BOOK.m4b``: a narrated book with chapters.

Chapters come from an EPUB's table of contents or a text's headings and are narrated in
parallel as batch rows (here, or on Ray with ``--ray``); each chapter is checked against
ACX's requirements and fixed where level and room tone can fix it. Resumable: run the
same command again after a crash and only the missing parts are narrated.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    from desktop.cli.speech_cmds import speech_engines

    p = sub.add_parser("audiobook", help="narrate an EPUB, Markdown or text book into an M4B "
                       "(or MP3) with chapters, checked for ACX")
    p.add_argument("book", metavar="BOOK", help=".epub, .md or .txt")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help=".m4b, .m4a or .mp3")
    p.add_argument("--voice", metavar="NAME", help="library voice, imported Piper voice, or "
                   "engine voice (as in timbre speak)")
    p.add_argument("--engine", choices=speech_engines(), help="speech engine (default: piper)")
    p.add_argument("--model", metavar="M", help="with --engine chatterbox: 'debug' or a folder")
    p.add_argument("--cover", metavar="IMAGE", help="JPEG or PNG cover (default: the EPUB's)")
    p.add_argument("--ray", metavar="ADDRESS", nargs="?", const="setting",
                   help="narrate on Ray: 'local', an address, or the address in Settings")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (or Ray CPUs)")
    p.add_argument("--no-fix", action="store_true",
                   help="only check against ACX; do not fix levels or room tone")
    p.set_defaults(func=cmd_audiobook)


def cmd_audiobook(args: argparse.Namespace) -> int:
    from desktop.cli.batch_cmds import ProgressLines, ray_address
    from desktop.session.audiobook import make_audiobook
    from engines.errors import BadInput

    cover = None
    if args.cover:
        path = Path(args.cover)
        if not path.is_file():
            raise BadInput(f"{path} does not exist. Check the path and try again.")
        cover = path.read_bytes()
    result = make_audiobook(
        args.book, args.output, voice=args.voice, engine=args.engine, model=args.model,
        ray=ray_address(args.ray), workers=args.workers, fix=not args.no_fix, cover=cover,
        progress=ProgressLines(), say=lambda line: print(line, file=sys.stderr, flush=True),
    )
    failed = [r for r in result.reports if not r.passed]
    print(f"wrote {result.path}: {len(result.chapters)} chapters, "
          f"{sum(r.duration for r in result.reports) / 60:.1f} min")
    for c in result.chapters:
        print(f"  {int(c.start // 3600)}:{int(c.start % 3600 // 60):02d}:{c.start % 60:04.1f}  "
              f"{c.title}")
    print(f"ACX: {len(result.reports) - len(failed)} of {len(result.reports)} chapters pass "
          f"(report: {result.work_dir / 'acx-report.json'})")
    for r in failed:
        print(f"  {r.title}: {'; '.join(r.problems)}")
    return 0
