"""``timbre stems PROJECT|FILE``: separate stems with demucs (htdemucs); ``timbre denoise
PROJECT``: lower the noise of a clip or track in place (the studio's Edit › Denoise…).

On a project, each stem becomes a new track under the source's (one undoable edit, saved at
once); on a file, each stem is written beside it (or into ``-o DIR``) as NAME.STEM.EXT.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stems", help="separate drums/bass/other/vocals, or isolate dialogue (--two-stems vocals)",
        description="Stem separation with demucs' htdemucs (weights: timbre models download "
        "htdemucs, or timbre models import 955717e8-8726e21a.th). On a project the stems become "
        "new tracks; on an audio file they are written as files.",
    )
    p.add_argument("source", metavar="PROJECT|FILE")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--track", type=int, metavar="N", help="separate this track alone (default: the mix)")
    which.add_argument("--clip", type=int, metavar="N", help="separate this clip alone")
    p.add_argument("--model", default="htdemucs",
                   help="htdemucs (default), or debug: a tiny random model that makes noise, for testing")
    p.add_argument("--two-stems", choices=["vocals", "drums", "bass", "other"], metavar="STEM",
                   help="that stem and everything else (vocals: dialogue isolation for a noisy take)")
    p.add_argument("-o", "--output-dir", metavar="DIR", help="for a FILE: where the stems go (default: beside it)")
    p.add_argument("--format", choices=["wav", "flac", "ogg", "mp3", "opus", "m4a"], default="wav",
                   help="for a FILE: the stems' format (default wav)")
    p.set_defaults(func=cmd_stems)

    d = sub.add_parser("denoise", help="lower the noise of a project's clip or track, in place")
    d.add_argument("project")
    where = d.add_mutually_exclusive_group(required=True)
    where.add_argument("--track", type=int, metavar="N", help="every clip on this track")
    where.add_argument("--clip", type=int, metavar="N", help="this clip")
    d.add_argument("--method", choices=["rnnoise", "spectral"], default="rnnoise",
                   help="rnnoise: neural, follows changing noise (default); spectral: noisereduce, "
                   "a steady room noise profiled from the pauses")
    d.set_defaults(func=cmd_denoise)


def _is_project(path: Path) -> bool:
    from desktop.project.store import DB_NAME, project_path

    return path.suffix == ".timbre" or (project_path(path) / DB_NAME).is_file()


def cmd_stems(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from engines.errors import BadInput

    source = Path(args.source)
    if args.model == "debug":
        print("note: the debug model is a tiny random model — its stems are noise, for testing only")
    bar = ProgressBar("stems")
    try:
        if _is_project(source):
            lines = _project(args, bar)
        else:
            if args.track is not None or args.clip is not None:
                raise BadInput("--track and --clip apply to a project; a file is separated whole.")
            lines = _file(args, source, bar)
    finally:
        bar.close()
    for line in lines:
        print(line)
    return 0


def _project(args: argparse.Namespace, bar) -> list[str]:
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from desktop.session.stems import (
        clip_source,
        mix_source,
        place_stems,
        separate_to_takes,
        track_source,
    )

    with Project.open(args.source) as project:
        if args.clip is not None:
            src = clip_source(project, args.clip)
        elif args.track is not None:
            src = track_source(project, args.track)
        else:
            src = mix_source(project)
        result = separate_to_takes(project, src, args.model, args.two_stems, progress=bar)
        tracks = place_stems(Timeline(project), result)
        return [f"{stem:10s} → track {tid} '{project.track(tid).name}' ({take.duration:.2f} s)"
                for stem, tid, take in zip(result.stems, tracks, result.takes, strict=True)]


def _file(args: argparse.Namespace, source: Path, bar) -> list[str]:
    from desktop.session import create_engine
    from engines.audio_io import read_audio
    from engines.files import ensure_folder
    from engines.stems.engine import StemRequest
    from engines.tags import provenance_document, write_tagged

    clip = read_audio(source)
    out_dir = Path(args.output_dir) if args.output_dir else source.parent
    ensure_folder(out_dir)
    engine = create_engine("demucs", {"model": args.model})
    takes = engine.generate(StemRequest(clip, args.two_stems, source.stem), bar)
    lines = []
    for take in takes:
        stem = take.provenance.params["stem"]
        path = out_dir / f"{source.stem}.{stem}.{args.format}"
        prov = {**take.provenance.to_dict(), "engine": ""}  # taken apart, not generated
        write_tagged(path, take.clip, provenance_document([prov]), args.format,
                     title=f"{source.stem} ({stem})")
        lines.append(f"wrote {path} ({take.clip.duration:.2f} s)")
    return lines


def cmd_denoise(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline
    from desktop.session.stems import clips_of, denoise_to_takes
    from engines.errors import BadInput

    with Project.open(args.project) as project:
        clips = clips_of(project, args.track, args.clip)
        if args.track is not None:
            project.track(args.track)  # one line when there is no such track
        if not clips:
            raise BadInput(f"Track {args.track} has no clips to denoise.")
        for clip_id in clips:
            project.clip(clip_id)
        bar = ProgressBar("denoise")
        try:
            replaced = denoise_to_takes(project, clips, args.method, progress=bar)
        finally:
            bar.close()
        what = f"track {args.track}" if args.track is not None else f"clip {args.clip}"
        Timeline(project).replace_clip_audio(replaced, f"Denoise {what}")
        for clip_id, take_id in replaced.items():
            print(f"clip {clip_id} now plays take {take_id} ({project.take(take_id).name})")
    return 0
