"""``timbre prepare`` and ``timbre voice …``: the voice library from the terminal.

Other command modules add actions to the ``voice`` group (``timbre voice clone``) through
:func:`voice_subcommands`, so the group has one owner and no module order matters.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def voice_subcommands(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The subparsers of ``timbre voice``, created on first call."""
    parser = sub.choices.get("voice")
    if parser is None:
        parser = sub.add_parser("voice", help="the voice library: add, compare, consent, export")
        parser.voice_actions = parser.add_subparsers(
            dest="voice_command", metavar="ACTION", required=True
        )
    return parser.voice_actions


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="clean a voice recording and print its report")
    p.add_argument("input", metavar="IN", help="recording (WAV, FLAC, OGG or MP3)")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="clean speech file")
    p.add_argument("--lufs", type=float, default=-23.0, help="loudness target (default −23)")
    p.set_defaults(func=cmd_prepare)

    actions = voice_subcommands(sub)
    p = actions.add_parser("add", help="add a voice from reference recordings")
    p.add_argument("name", metavar="NAME")
    p.add_argument("refs", metavar="REF", nargs="+", help="reference recordings of one speaker")
    p.add_argument("--consent", metavar="CONSENT_WAV", help="the speaker reading the statement")
    p.add_argument("--language", default="", help="language code, e.g. en")
    p.add_argument("--notes", default="")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p.set_defaults(func=cmd_add)

    p = actions.add_parser("list", help="list the voices in the library")
    p.set_defaults(func=cmd_list)

    p = actions.add_parser("show", help="a voice's reports, consent status and nearest voices")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_show)

    p = actions.add_parser("compare", help="speaker similarity of two voices or files")
    p.add_argument("a", metavar="A", help="voice name or audio file")
    p.add_argument("b", metavar="B", help="voice name or audio file")
    p.set_defaults(func=cmd_compare)

    p = actions.add_parser("closest", help="the library voices most like a voice or file")
    p.add_argument("target", metavar="NAME_OR_FILE")
    p.add_argument("-n", type=int, default=5, help="how many (default 5)")
    p.set_defaults(func=cmd_closest)

    p = actions.add_parser("rename", help="rename a voice")
    p.add_argument("name", metavar="NAME")
    p.add_argument("new_name", metavar="NEW")
    p.set_defaults(func=cmd_rename)

    p = actions.add_parser("remove", help="delete a voice (shared recordings are kept)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_remove)

    p = actions.add_parser("export", help="write a voice to one file")
    p.add_argument("name", metavar="NAME")
    p.add_argument("-o", "--output", metavar="FILE", required=True)
    p.set_defaults(func=cmd_export)

    p = actions.add_parser("import", help="add a voice from an exported file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", help="import under this name instead")
    p.set_defaults(func=cmd_import)

    p = actions.add_parser("consent", help="check and store a consent recording")
    p.add_argument("name", metavar="NAME")
    p.add_argument("recording", metavar="CONSENT_WAV")
    p.set_defaults(func=cmd_consent)

    p = actions.add_parser("statement", help="print the consent statement to read aloud")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--new", action="store_true", help="make a new statement (new phrase)")
    p.set_defaults(func=cmd_statement)


def _library():
    from engines.voices.library import open_library

    return open_library()


def cmd_prepare(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from engines.audio_io import format_for, write_audio
    from engines.voices.prepare import prepare_reference

    out = Path(args.output)
    format_for(out)  # refuse an unknown output format before the work
    bar = ProgressBar("preparing")
    try:
        prepared = prepare_reference(args.input, target_lufs=args.lufs, progress=bar)
    finally:
        bar.close()
    write_audio(out, prepared.clip)
    print("\n".join(prepared.report.lines()))
    print(f"written:           {out}")
    return 0


def _consent_line(voice) -> str:
    if voice.consent is None:
        return "consent: none — the voice can be analysed and compared, not cloned"
    c = voice.consent
    phrase = (
        "phrase not checked (no recogniser)"
        if c.transcript is None
        else f"phrase heard: “{c.transcript}”"
    )
    return (
        f"consent: recorded {c.recorded}, similarity {c.similarity:.2f} "
        f"(threshold {c.threshold:.2f}); {phrase}"
    )


def cmd_add(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar, fail
    from engines.errors import EngineError

    lib = _library()
    bar = ProgressBar("adding")
    try:
        voice = lib.add(
            args.name,
            args.refs,
            language=args.language,
            notes=args.notes,
            tags=args.tag,
            progress=bar,
        )
    finally:
        bar.close()
    print(
        f"added voice '{voice.name}': {len(voice.clips)} clip(s), {voice.speech_duration:.1f} s of speech"
    )
    for clip in voice.clips:
        for warning in clip.report.warnings:
            print(f"warning ({clip.source_name}): {warning}")
    if args.consent:
        try:
            lib.record_consent(voice.name, args.consent)
        except EngineError as exc:
            return fail(f"the voice was added without consent: {exc}")
        print(_consent_line(lib.get(voice.name)))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    voices = _library().voices()
    if not voices:
        print("the voice library is empty (timbre voice add NAME REF...)")
        return 0
    print(f"{'name':20s} {'clips':>5s} {'speech':>8s}  consent  language  tags")
    for v in voices:
        consent = "yes" if v.has_consent else "no"
        print(
            f"{v.name:20s} {len(v.clips):5d} {v.speech_duration:7.1f}s  {consent:7s}  "
            f"{v.language or '-':8s}  {', '.join(v.tags) or '-'}"
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    lib = _library()
    v = lib.get(args.name)
    print(f"voice:    {v.name}")
    print(f"language: {v.language or '-'}")
    print(f"tags:     {', '.join(v.tags) or '-'}")
    print(f"notes:    {v.notes or '-'}")
    print(f"created:  {v.created}")
    print(f"speech:   {v.speech_duration:.1f} s in {len(v.clips)} clip(s)")
    for clip in v.clips:
        print(f"\n[{clip.source_name}]")
        print("\n".join("  " + line for line in clip.report.lines()))
    print()
    print(_consent_line(v))
    if v.clone_kinds:
        print(f"clones:   {', '.join(v.clone_kinds)}")
    near = lib.closest(v.embedding, k=3, exclude=v.name)
    if near:
        print("closest:  " + ", ".join(f"{n} ({s:.2f})" for n, s in near))
    return 0


def _embedding_of(lib, target: str) -> tuple[str, np.ndarray]:
    from engines.errors import BadInput
    from engines.voices.prepare import prepare_reference

    if lib.exists(target):
        return f"voice '{target}'", lib.embedding(target)
    if Path(target).is_file():
        return target, prepare_reference(target).embedding
    raise BadInput(f"'{target}' is neither a voice in the library nor an audio file.")


def cmd_compare(args: argparse.Namespace) -> int:
    from engines.voices.consent import THRESHOLD
    from engines.voices.embedding import cosine

    lib = _library()
    label_a, a = _embedding_of(lib, args.a)
    label_b, b = _embedding_of(lib, args.b)
    score = cosine(a, b)
    verdict = "same speaker" if score >= THRESHOLD else "different speakers"
    print(f"{score:.4f}  ({label_a} vs {label_b}: {verdict} at threshold {THRESHOLD:.2f})")
    return 0


def cmd_closest(args: argparse.Namespace) -> int:
    lib = _library()
    label, emb = _embedding_of(lib, args.target)
    exclude = args.target if lib.exists(args.target) else None
    found = lib.closest(emb, k=args.n, exclude=exclude)
    if not found:
        print("no other voices in the library")
    for name, score in found:
        print(f"{score:.4f}  {name}")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    voice = _library().rename(args.name, args.new_name)
    print(f"renamed to '{voice.name}'")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    _library().remove(args.name)
    print(f"removed voice '{args.name}'")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engines.voices.exchange import export_voice
    path = export_voice(_library(), args.name, args.output)
    print(f"exported '{args.name}' to {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    import sys

    def notice(message: str) -> None:
        print(f"timbre: {message}", file=sys.stderr)

    from engines.voices.exchange import import_voice
    voice = import_voice(_library(), args.file, name=args.name, notice=notice)
    print(
        f"imported voice '{voice.name}': {len(voice.clips)} clip(s), "
        f"consent {'yes' if voice.has_consent else 'no'}"
    )
    return 0


def cmd_consent(args: argparse.Namespace) -> int:
    lib = _library()
    lib.record_consent(args.name, args.recording)
    print(_consent_line(lib.get(args.name)))
    return 0


def cmd_statement(args: argparse.Namespace) -> int:
    statement = _library().statement(args.name, renew=args.new)
    print(statement.text)
    return 0
