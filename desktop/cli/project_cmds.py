"""``timbre project new|info``, ``timbre import`` and ``timbre export``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="create or describe a project")
    psub = p.add_subparsers(dest="project_command", metavar="ACTION", required=True)
    new = psub.add_parser("new", help="create a project folder NAME.timbre")
    new.add_argument("path")
    new.add_argument("--sample-rate", type=int, default=48_000)
    new.set_defaults(func=cmd_new)
    info = psub.add_parser("info", help="tracks, clips, takes and jobs of a project")
    info.add_argument("path")
    info.set_defaults(func=cmd_info)

    imp = sub.add_parser("import", help="import audio files, each as a take on a new track")
    imp.add_argument("project")
    imp.add_argument("files", nargs="+")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="mix the timeline down to a file")
    exp.add_argument("project")
    exp.add_argument("-o", "--output", required=True)
    exp.add_argument("--format", choices=["wav", "flac", "ogg", "mp3"])
    exp.add_argument("--lufs", type=float, help="normalise to this loudness (true peak ≤ −1 dBTP)")
    exp.set_defaults(func=cmd_export)


def cmd_new(args: argparse.Namespace) -> int:
    from desktop.project.store import Project

    with Project.create(args.path, sample_rate=args.sample_rate) as project:
        print(f"created {project.path}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from desktop.project.store import Project

    with Project.open(args.path) as p:
        rate = p.sample_rate
        print(f"project   {p.name}  ({p.path})")
        print(f"format    {rate} Hz, {p.channels} ch")
        tracks, clips, takes, jobs = p.tracks(), p.clips(), p.takes(), p.jobs()
        end = max((c.end_frame for c in clips), default=0)
        print(f"length    {end / rate:.2f} s")
        print(f"tracks    {len(tracks)}")
        for t in tracks:
            flags = "".join(f for f, on in (("M", t.mute), ("S", t.solo)) if on)
            n = sum(1 for c in clips if c.track_id == t.id)
            print(f"  {t.id:3d} {t.name}  {n} clip(s)  {t.gain_db:+.1f} dB {flags}")
        print(f"takes     {len(takes)}")
        for tk in takes:
            what = tk.prompt or tk.source_path
            print(f"  {tk.id:3d} {tk.kind:7s} {tk.duration:7.2f} s  {tk.name}  {what}")
        failed = [j for j in jobs if j.state == "failed"]
        print(f"jobs      {len(jobs)} ({len(failed)} failed)")
        print(f"integrity {p.integrity_check()}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from desktop.cli.common import fail
    from desktop.project.store import Project
    from engines.errors import BadInput

    failures = 0
    with Project.open(args.project) as p:
        for name in args.files:
            try:
                take, track, clip = p.import_file(name)
            except BadInput as exc:
                fail(str(exc))
                failures += 1
                continue
            print(f"imported {name} → take {take.id}, track '{track.name}' ({take.duration:.2f} s)")
    return 1 if failures else 0


def cmd_export(args: argparse.Namespace) -> int:
    from desktop.cli.common import ProgressBar
    from desktop.project.export import export_project
    from desktop.project.store import Project

    with Project.open(args.project) as p:
        bar = ProgressBar("mixing")
        result = export_project(p, args.output, args.format, args.lufs, progress=bar)
        bar.close()
    print(result.summary())
    return 0
