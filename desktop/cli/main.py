"""``timbre``: the studio with no arguments, the headless face of the same app otherwise.

Each command group lives in its own module under ``desktop.cli`` and exposes
``add_parser(subparsers)``; the modules are listed in ``COMMAND_MODULES``. Errors the user
can act on (``engines.errors.TimbreError``) are printed as one line with exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "desktop.cli.basics",  # devices, engines
    "desktop.cli.project_cmds",  # project new/info, import, export
    "desktop.cli.edit_cmds",  # edit delete/silence/cut/trim, marker add/list/remove
    "desktop.cli.podcast_cmds",  # podcast master
    "desktop.cli.bank_cmds",  # bank new/prompts/add-take/status/export, messages, voice import
    "desktop.cli.provenance_cmds",  # detect, regenerate, watermark
    "desktop.cli.voice_cmds",  # prepare, voice add/list/show/compare/consent/export/import
    "desktop.cli.speech_cmds",  # speak, speak-voices, speak-import, voice clone
    "desktop.cli.convert_cmds",  # convert: a recording re-spoken in a library voice
    "desktop.cli.music_cmds",  # music, sfx, models list/import/download/remove
    "desktop.cli.run_cmds",  # run ENGINE: any engine, flags from its request dataclass
    "desktop.cli.transcribe_cmds",  # transcribe FILE|PROJECT: subtitles, delete words, fillers
    "desktop.cli.stems_cmds",  # stems PROJECT|FILE (demucs), denoise PROJECT (RNNoise/spectral)
    "desktop.cli.batch_cmds",  # batch MANIFEST: many jobs, a local pool or a Ray cluster
    "desktop.cli.audiobook_cmds",  # audiobook BOOK: chapters narrated as batch rows, ACX, M4B
    "desktop.cli.serve_cmds",  # serve: OpenAI-compatible local speech API
]


def build_parser() -> argparse.ArgumentParser:
    from engines.provenance import app_version

    parser = argparse.ArgumentParser(
        prog="timbre",
        description="Timbre Studio: offline generative audio. With no command, opens the studio.",
    )
    parser.add_argument("--version", action="version", version=f"timbre {app_version()}")
    parser.add_argument(
        "--licenses", "--licences", dest="licenses", action="store_true",
        help="show the app's licence, each installed package's and each model's, and exit",
    )
    parser.add_argument(
        "--screenshot", metavar="FILE", help="render the main window offscreen to a PNG and exit"
    )
    parser.add_argument("--project", metavar="P", help="project to open in the studio")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from engines.openmp import settle

    settle()  # before anything imports torch: OpenMP reads its wait policy once, at start
    from desktop.cli.common import run_guarded

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.licenses:
        from engines.licences import report

        print(report())
        return 0
    if args.command is None:
        from desktop.launch import launch_studio

        return launch_studio(project=args.project, screenshot=args.screenshot)
    from desktop.cli.common import start_log

    start_log(sys.argv[1:] if argv is None else argv)
    return run_guarded(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
