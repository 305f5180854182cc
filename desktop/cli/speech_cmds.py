"""``timbre speak``, ``timbre speak-voices``, ``timbre speak-import`` and ``timbre voice clone``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def speech_engines() -> list[str]:
    """``--engine`` choices: every speech engine in the registry (plug-ins included); names
    only, so building the parser imports no engine."""
    from engines.registry import specs

    return [s.name for s in specs() if s.kind == "speech"]


# A take is synthesised, watermarked and stored whole, in memory, so its length is capped
# up front: 50,000 characters is ~8,000 words, a long book chapter, about 55 minutes of
# speech at 150 words a minute, which stays well inside memory at 24 kHz (~320 MB per
# hour) even when stored as 48 kHz stereo in a project. Longer texts: one file per chapter.
MAX_TEXT_CHARS = 50_000
ENGINE_LABELS = {"kokoro": "Kokoro", "piper": "Piper", "espeak": "espeak-ng"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speak", help="text to speech with a built-in, imported or cloned voice")
    p.add_argument("text", nargs="?", metavar="TEXT", help="what to say (or --file)")
    p.add_argument("--file", metavar="F", help="read the text from a UTF-8 file")
    p.add_argument("--voice", metavar="NAME", help="library voice, imported Piper voice, or engine voice")
    p.add_argument("--engine", choices=speech_engines(),
                   help="default: piper, or the engine a cloned voice speaks through")
    p.add_argument("--model", metavar="M",
                   help="with --engine chatterbox[-multilingual]: 'debug' (a tiny random model "
                   "that makes noise, for testing) or a checkpoint folder; default: the "
                   "installed weights")
    p.add_argument("--language", metavar="L",
                   help="language code, e.g. en-us, de, fr-fr (chatterbox-multilingual: one "
                   "of its 23, e.g. fr, ja, zh)")
    p.add_argument("--emotion", default="neutral", metavar="E",
                   help="neutral, happy, sad, excited or calm")
    p.add_argument("--stability", type=float, default=0.5, metavar="S", help="0 lively … 1 steady")
    p.add_argument("--rate", type=float, default=1.0, metavar="R", help="0.5 … 2.0")
    p.add_argument("--pitch", type=float, default=0.0, metavar="ST", help="semitones, −12 … +12")
    p.add_argument("--seed", type=int, help="repeat the same delivery variation")
    p.add_argument("--world-toward", metavar="NAME",
                   help="post-process: move f0 and formants toward this library voice (WORLD)")
    p.add_argument("--project", metavar="P", help="add the speech as a take on a new track")
    p.add_argument("-o", "--output", metavar="FILE", help="write WAV/FLAC/OGG/MP3")
    p.set_defaults(func=cmd_speak)

    p = sub.add_parser("speak-voices", help="the voices each speech engine offers")
    p.add_argument("--engine", choices=speech_engines())
    p.set_defaults(func=cmd_voices)

    p = sub.add_parser("speak-import", help="import a Piper voice (.onnx with its .onnx.json)")
    p.add_argument("onnx", metavar="FILE.onnx")
    p.add_argument("--name", help="name to use with --voice (default: the file name)")
    p.set_defaults(func=cmd_import)

    from desktop.cli.voice_cmds import voice_subcommands

    clone = voice_subcommands(sub).add_parser(
        "clone", help="clone a library voice (needs consent): zero-shot Chatterbox when its "
        "weights are installed, else the nearest of Piper's and espeak-ng's voices and a "
        "search of Kokoro's styles, post-processed toward it"
    )
    clone.add_argument("name", metavar="NAME")
    clone.add_argument("--budget", type=float, default=300.0, metavar="SECONDS",
                       help="search time (default 300 s; ~10 min gets closest)")
    clone.add_argument("--seed", type=int, default=0)
    clone.add_argument("--kokoro-only", action="store_true",
                       help="search Kokoro's styles only (do not try Piper's and espeak-ng's voices)")
    clone.set_defaults(func=cmd_clone)


def _text(args: argparse.Namespace) -> str:
    from engines.errors import BadInput

    if args.file and args.text:
        raise BadInput("Give the text or --file, not both.")
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise BadInput(f"{path} does not exist. Check the path and try again.")
        if path.stat().st_size > 4 * MAX_TEXT_CHARS:  # UTF-8 is at most 4 bytes a character
            raise _too_long(path.name)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path.name} is not UTF-8 text; save it as UTF-8 and try again.") from exc
    elif args.text is None:
        raise BadInput("Nothing to say: give TEXT or --file F.")
    else:
        text = args.text
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(path.name if args.file else "The text")
    return text


def _too_long(name: str) -> Exception:
    from engines.errors import BadInput

    return BadInput(
        f"{name} is longer than {MAX_TEXT_CHARS:,} characters (about 55 minutes of speech), "
        "the most one take holds; split it, e.g. one file per chapter."
    )


def cmd_speak(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from desktop.project.store import Project
    from desktop.session import JobSpec, run_job
    from engines.errors import BadInput
    from engines.speech.service import engine, speech_request
    from engines.speech.voices import resolve

    text = _text(args)
    if not args.output and not args.project:
        raise BadInput("Say where the speech goes: -o FILE and/or --project P.")
    if args.output:
        from engines.audio_io import format_for
        from engines.files import check_output

        format_for(Path(args.output))
        check_output(Path(args.output))  # refused before the speech is made, not after
    if args.model is not None and not (args.engine or "").startswith("chatterbox"):
        raise BadInput("--model chooses a Chatterbox model: add --engine chatterbox "
                       "(or chatterbox-multilingual).")
    resolved = resolve(args.voice, args.engine)
    if args.model == "debug":
        print("note: the debug model is a tiny random model — it makes noise, for testing only",
              file=sys.stderr)
    request = speech_request(
        text, resolved, language=args.language, emotion=args.emotion,
        stability=args.stability, rate=args.rate, pitch=args.pitch, seed=args.seed,
        world_toward=args.world_toward,
    )
    spec = JobSpec(resolved.engine, "speech", request, text[:40].strip())
    bar = ProgressBar(f"speaking ({resolved.engine})")
    project = Project.open(args.project) if args.project else None
    project_name = project.name if project is not None else ""
    try:
        outcome = run_job(spec, project, engine=engine(resolved.engine, args.model), progress=bar,
                          place="new-track", track_name=f"Speech ({resolved.engine})")
    finally:
        bar.close()
        if project is not None:
            project.close()
    take = outcome.takes[0]
    params = take.provenance.params
    if args.output:
        from engines.tags import provenance_document, write_tagged

        write_tagged(args.output, take.clip, provenance_document([take.provenance.to_dict()]))
        print(f"wrote {args.output}")
    if project is not None:
        added = outcome.stored[0]
        print(f"added take {added.id} to {project_name}, track {outcome.track_id}")
    print(
        f"{resolved.engine}: {take.clip.duration:.2f} s of speech in {params['synthesis_s']:.2f} s "
        f"(first chunk after {params['first_chunk_s']:.2f} s, {params['chunks']} chunks)",
        file=sys.stderr,
    )
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from engines.registry import create, engine_infos
    from engines.speech.voices import imported_piper_voices

    for info in engine_infos("speech"):
        if args.engine and info.name != args.engine:
            continue
        if not info.available:
            print(f"{info.name}: unavailable — {info.reason}")
            continue
        voices = create(info.name).voices()
        if info.name == "piper":
            voices = voices + sorted(imported_piper_voices())
        shown = ", ".join(voices[:40]) + (f" … ({len(voices)} in all)" if len(voices) > 40 else "")
        print(f"{info.name}: {shown}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from engines.speech.voices import import_piper_voice

    name = import_piper_voice(args.onnx, args.name)
    print(f"imported Piper voice '{name}'; use it with timbre speak --voice {name}")
    return 0


def cmd_clone(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from engines.speech.chatterbox_clone import choose_method, clone_zero_shot
    from engines.speech.clone import CloneSettings, clone_voice

    method, why = choose_method()
    print(f"cloning '{args.name}' with {why}")
    if method == "chatterbox":
        bar = ProgressBar(f"cloning {args.name}")
        try:
            made = clone_zero_shot(args.name, progress=bar)
        finally:
            bar.close()
        print(
            f"cloned '{args.name}' zero-shot from its {made.reference_s:.1f} s reference in "
            f"{made.seconds:.1f} s ({made.model_id}); speak with timbre speak --voice {args.name!r}"
        )
        return 0
    bar = ProgressBar(f"cloning {args.name}")
    settings = CloneSettings(budget_s=args.budget, seed=args.seed,
                             other_engines=not args.kokoro_only)
    try:
        result = clone_voice(args.name, settings, progress=bar)
    finally:
        bar.close()
    through = (f"Kokoro (a style searched from {result.base})" if result.engine == "kokoro"
               else f"{ENGINE_LABELS.get(result.engine, result.engine)} voice '{result.voice}'")
    wer = "" if result.wer is None else f", Whisper WER {result.wer:.0%}"
    print(
        f"cloned '{args.name}': it speaks through {through}; similarity on "
        f"held-out sentences {result.similarity:.3f}{wer}, in {result.seconds:.0f} s; "
        f"speak with timbre speak --voice {args.name!r}"
    )
    for line in result.tried:
        if line["engine"] != result.engine or line["voice"] not in (result.voice, result.base):
            heard = line.get("skipped") or f"held-out similarity {line['similarity']:.3f}"
            print(f"  also tried {line['engine']} {line['voice']}: {heard}")
    return 0
