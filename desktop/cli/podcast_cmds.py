"""``timbre podcast master IN... -o OUT``: clean, duck, level and export an episode."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    from engines.podcast.presets import PRESETS

    p = sub.add_parser("podcast", help="master podcast episodes")
    psub = p.add_subparsers(dest="podcast_command", metavar="ACTION", required=True)
    m = psub.add_parser(
        "master",
        help="clean each voice track, duck a music bed, meet a loudness target, export",
        description="Voice tracks are aligned at 0 s (one file per microphone). Loudness presets: "
        + "; ".join(f"{p.name} = {p.label}" for p in PRESETS.values())
        + ". True peak is held at or below -1 dBTP.",
    )
    m.add_argument("inputs", nargs="+", metavar="IN", help="voice track files")
    m.add_argument("-o", "--output", required=True, help="WAV, FLAC, MP3, OGG, Opus or M4A file to write")
    m.add_argument("--lufs", default="podcast", help="preset name or LUFS number (default -16)")
    m.add_argument("--mono", action="store_true", help="export mono (the -19 LUFS preset does)")
    m.add_argument("--music", metavar="BED", help="music bed, looped under the speech")
    m.add_argument("--duck", type=float, default=12.0, metavar="DB", help="ducking depth (12)")
    m.add_argument("--intro", metavar="FILE")
    m.add_argument("--outro", metavar="FILE")
    m.add_argument(
        "--max-pause",
        type=float,
        default=1.0,
        metavar="S",
        help="shorten pauses to S seconds; 0 keeps them",
    )
    m.add_argument("--no-denoise", action="store_true", help="skip noise reduction (--denoise off)")
    m.add_argument(
        "--denoise", choices=["spectral", "rnnoise", "off"], default="spectral",
        help="noise reduction: spectral (noisereduce, a steady room noise; default), rnnoise "
        "(neural, follows changing noise), off",
    )
    m.add_argument(
        "--chapter", action="append", default=[], metavar="'MM:SS TITLE'", help="repeatable"
    )
    m.add_argument(
        "--project", metavar="PROJECT",
        help="also take chapters from this project's markers (chapter markers, else all "
        "markers; times on its timeline, which the voice tracks share when exported from it)",
    )
    m.add_argument("--title", default="")
    m.add_argument("--artist", default="")
    m.add_argument("--album", default="")
    m.set_defaults(func=cmd_master)


def open_track(path: str):
    """A file as a stream, after the checks ``read_audio`` makes (header, rate, channels,
    no frames); samples are checked as they are read. Nothing is decoded here, so an
    episode of any length costs a few blocks of memory."""
    from engines.audio_io import check_block, no_frames, open_audio
    from engines.stream import AudioStream

    name = Path(path).name
    with open_audio(path) as handle:
        if handle.frames == 0:
            raise no_frames(name)

    def checked(block):
        check_block(block, name)
        return block

    return AudioStream.from_file(path).map(lambda: checked)


def project_markers(path: str | None) -> list:
    """A project's markers as chapters, by the rule ``timbre export`` uses, so an episode
    mastered from a project's tracks keeps the chapters its timeline shows."""
    if not path:
        return []
    from desktop.project.export import project_chapters
    from desktop.project.store import Project

    with Project.open(path) as project:
        return project_chapters(project)


def cmd_master(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from desktop.cli.common import ProgressBar
    from engines.audio_io import format_for
    from engines.files import check_output
    from engines.podcast.chapters import parse_chapter
    from engines.podcast.cleanup import CleanupSettings
    from engines.podcast.master import MasterRequest, check_files, export_episode, master
    from engines.podcast.presets import resolve_preset

    format_for(Path(args.output))  # a bad extension fails before minutes of rendering
    check_output(Path(args.output))  # and so do a folder or a device as the output
    preset = resolve_preset(args.lufs, 1 if args.mono else None)
    check_files([*args.inputs, *(f for f in (args.music, args.intro, args.outro) if f)])
    request = MasterRequest(
        voices=[open_track(f) for f in args.inputs],
        music=open_track(args.music) if args.music else None,
        intro=open_track(args.intro) if args.intro else None,
        outro=open_track(args.outro) if args.outro else None,
        preset=preset,
        duck_db=args.duck,
        max_pause_s=args.max_pause if args.max_pause > 0 else None,
        cleanup=replace(
            CleanupSettings(),
            noise_reduction=not args.no_denoise and args.denoise != "off",
            denoiser="spectral" if args.denoise == "off" else args.denoise,
        ),
        chapters=[*project_markers(args.project), *(parse_chapter(c) for c in args.chapter)],
    )
    bar = ProgressBar("mastering")
    try:
        result = master(request, progress=bar)
    finally:
        bar.close()
    with result:  # its spooled files go when the episode is written
        tags = {k: v for k, v in (("artist", args.artist), ("album", args.album)) if v}
        bar = ProgressBar("writing")
        try:
            path = export_episode(result, args.output, title=args.title, tags=tags, progress=bar)
        finally:
            bar.close()
    print(f"wrote {path}")
    print(f"  preset     {preset.label}, {preset.channels} ch")
    print(f"  loudness   {result.lufs:.1f} LUFS (target {preset.lufs:g})")
    print(f"  true peak  {result.true_peak_db:.1f} dBTP")
    print(f"  length     {result.duration:.1f} s")
    for c in result.chapters:
        print(f"  chapter    {int(c.start // 60):02d}:{c.start % 60:04.1f}  {c.title}")
    return 0
