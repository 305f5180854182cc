"""``timbre transcribe FILE|PROJECT``: words with times, subtitles, and editing by words.

A file is transcribed and written as SRT, WebVTT or plain text. A project's transcript is
stored in it (made on first use, or again with ``--again``), and the words can then cut the
audio: ``--list`` numbers them, ``--delete-words 12-13`` removes those words' audio from
every track (ripple, as the studio's Delete does), ``--remove-fillers`` removes every
"um"/"uh" (``--dry-run`` only lists them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engines.errors import BadInput


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("transcribe", help="transcribe a file or a project (word times, SRT/VTT/"
                                          "text), delete words or remove fillers in a project")
    t.add_argument("source", metavar="FILE|PROJECT")
    t.add_argument("--track", type=int, metavar="N", help="a project's track id (default: the mix)")
    t.add_argument("--format", choices=["srt", "vtt", "txt"],
                   help="output format (default: from -o's extension, else plain text)")
    t.add_argument("-o", "--output", metavar="OUT", help="write the transcript here (default: stdout)")
    t.add_argument("--language", help="language code such as en or de (default: detected)")
    t.add_argument("--model", default="base",
                   help="Whisper model: base (ships), tiny/small/medium/large-v3 from the model "
                        "store, or a faster-whisper model folder (default: base)")
    t.add_argument("--again", action="store_true", help="transcribe a project again even if it has a transcript")
    t.add_argument("--list", action="store_true", help="number a project's words with their times")
    t.add_argument("--delete-words", action="append", metavar="N[-M]",
                   help="remove words N to M (numbers from --list) from every track; repeatable")
    t.add_argument("--remove-fillers", action="store_true", help="remove every filler word (um, uh, er …)")
    t.add_argument("--dry-run", action="store_true", help="with --remove-fillers: only list them")
    t.set_defaults(func=cmd_transcribe)


def is_project(source: str) -> bool:
    from desktop.project.store import DB_NAME, project_path

    return (project_path(source) / DB_NAME).is_file() or (Path(source) / DB_NAME).is_file()


def parse_numbers(specs: list[str], count: int) -> list[int]:
    """``["3", "7-9"]`` as 0-based indexes, each checked against the word count."""
    out: list[int] = []
    for spec in specs:
        first, sep, last = spec.partition("-")
        try:
            a = int(first)
            b = int(last) if sep else a
        except ValueError:
            raise BadInput(f"{spec!r} is not a word number or range like 12 or 12-14 "
                           "(see --list).") from None
        if not 1 <= a <= b <= count:
            raise BadInput(f"Words {spec} are not in the transcript, which has {count} words "
                           "(see --list).")
        out += range(a - 1, b)
    return out


def _stamp(seconds: float) -> str:
    from desktop.cli.edit_cmds import format_time

    return format_time(seconds)


def _write(text: str, output: str | None) -> None:
    if output:
        from engines.files import write_text

        write_text(Path(output), text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from engines.transcripts.subtitles import format_for

    fmt = format_for(args.output or "", args.format)
    if is_project(args.source):
        return _project(args, fmt)
    if args.list or args.delete_words or args.remove_fillers or args.track is not None:
        raise BadInput(f"{args.source} is not a project: --track, --list, --delete-words and "
                       "--remove-fillers work on a project (timbre project new, then import).")
    return _file(args, fmt)


def _file(args: argparse.Namespace, fmt: str) -> int:
    from desktop.cli.common import ProgressBar
    from engines.audio_io import read_audio
    from engines.transcripts.subtitles import render
    from engines.transcripts.words import RATE, transcribe_words

    clip = read_audio(args.source)
    bar = ProgressBar("Transcribing")
    try:
        result = transcribe_words(clip.mono().resampled(RATE).samples[0], args.language,
                                  args.model, progress=bar)
    finally:
        bar.close()
    _write(render(result.words, fmt), args.output)
    return 0


def _project(args: argparse.Namespace, fmt: str) -> int:
    from desktop.cli.common import ProgressBar
    from desktop.project import transcripts as tr
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from engines.transcripts.subtitles import render

    with Project.open(args.source) as project:
        info = None if args.again else tr.of_scope(project, args.track)
        if info is None:
            bar = ProgressBar("Transcribing")
            try:
                tr.transcribe_project(project, args.track, args.language, args.model, progress=bar)
            finally:
                bar.close()
            info = tr.of_scope(project, args.track)
            assert info is not None
            print(f"transcribed {'track ' + str(args.track) if args.track else 'the mix'} "
                  f"({info.language}, Whisper {info.model})", file=sys.stderr)
        timeline = Timeline(project)
        words = tr.placed_words(project, info.id)
        rate = project.sample_rate
        edited = False
        if args.delete_words:
            chosen = parse_numbers(args.delete_words, len(words))
            tr.delete_words(timeline, words, chosen)
            print(f"deleted {tr.quoted(words, chosen)}", file=sys.stderr)
            edited = True
            words = tr.placed_words(project, info.id)
        if args.remove_fillers:
            found = tr.filler_indexes(words, info.language)
            total = sum(words[i].end - words[i].start for i in found) / rate
            for i in found:
                print(f"  filler {i + 1:5d}  {_stamp(words[i].start / rate)}  {words[i].text}")
            verb = "would remove" if args.dry_run else "removed"
            print(f"{verb} {len(found)} filler word(s), {total:.2f} s", file=sys.stderr)
            if not args.dry_run and found:
                tr.remove_fillers(timeline, words, info.language)
                edited = True
                words = tr.placed_words(project, info.id)
        if args.list:
            for i, w in enumerate(words, start=1):
                print(f"  {i:5d}  {_stamp(w.start / rate)}–{_stamp(w.end / rate)}  {w.text}")
        if args.output or args.format or not (edited or args.list or args.remove_fillers):
            _write(render([w.as_word(rate) for w in words], fmt), args.output)
    return 0
