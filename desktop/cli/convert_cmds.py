"""``timbre convert IN --voice NAME``: a recording re-spoken in a library voice (Chatterbox VC).

Runs as a job through :func:`desktop.session.run_job` like ``timbre speak``, so the take is
watermarked once by the session's watermark decision and can go into a project.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert", help="re-speak a recording in a library voice (Chatterbox; needs consent)"
    )
    p.add_argument("input", metavar="IN", help="the recording to convert (any audio file)")
    p.add_argument("--voice", required=True, metavar="NAME",
                   help="library voice to speak it in (it needs a consent recording)")
    p.add_argument("--model", metavar="M",
                   help="'debug' (a tiny random model that makes noise, for testing) or a "
                   "checkpoint folder; default: the installed ResembleAI/chatterbox weights")
    p.add_argument("--seed", type=int, help="repeat the same conversion exactly")
    p.add_argument("--project", metavar="P", help="add the result as a take on a new track")
    p.add_argument("-o", "--output", metavar="FILE", help="write WAV/FLAC/OGG/MP3")
    p.set_defaults(func=cmd_convert)


def cmd_convert(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from desktop.project.store import Project
    from desktop.session import JobSpec, run_job
    from engines.errors import BadInput
    from engines.speech.chatterbox_vc import ENGINE_NAME, ChatterboxConverter, convert_request

    if not args.output and not args.project:
        raise BadInput("Say where the converted audio goes: -o FILE and/or --project P.")
    if args.output:
        from engines.audio_io import format_for
        from engines.files import check_output

        format_for(Path(args.output))
        check_output(Path(args.output))  # refused before converting, not after
    request = convert_request(Path(args.input), args.voice, args.seed)  # input, then consent
    converter = ChatterboxConverter(args.model)
    if args.model == "debug":
        print("note: the debug model is a tiny random model — it makes noise, for testing only",
              file=sys.stderr)
    spec = JobSpec(ENGINE_NAME, "speech", request, f"{request.source_name} as {args.voice}")
    bar = ProgressBar(f"converting to {args.voice}")
    project = Project.open(args.project) if args.project else None
    project_name = project.name if project is not None else ""
    try:
        outcome = run_job(spec, project, engine=converter, progress=bar, place="new-track",
                          track_name=f"Converted ({args.voice})")
    finally:
        bar.close()
        if project is not None:
            project.close()
    take = outcome.takes[0]
    if args.output:
        from engines.tags import provenance_document, write_tagged

        write_tagged(args.output, take.clip, provenance_document([take.provenance.to_dict()]))
        print(f"wrote {args.output}")
    if project is not None:
        print(f"added take {outcome.stored[0].id} to {project_name}, track {outcome.track_id}")
    print(
        f"{ENGINE_NAME}: {take.clip.duration:.2f} s in {args.voice}'s voice in "
        f"{take.provenance.params['convert_s']:.2f} s",
        file=sys.stderr,
    )
    return 0
