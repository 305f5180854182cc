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
    check = psub.add_parser(
        "check", help="check the database and that every take's audio is there and intact"
    )
    check.add_argument("path")
    check.set_defaults(func=cmd_check)
    repair = psub.add_parser(
        "repair", help="salvage a damaged project into a new database (the old one is kept)"
    )
    repair.add_argument("path")
    repair.set_defaults(func=cmd_repair)

    imp = sub.add_parser("import", help="import audio files, each as a take on a new track")
    imp.add_argument("project")
    imp.add_argument("files", nargs="+")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="mix the timeline down to a file")
    exp.add_argument("project")
    exp.add_argument("-o", "--output", required=True)
    exp.add_argument("--format", choices=["wav", "flac", "ogg", "mp3", "opus", "m4a"])
    exp.add_argument("--lufs", type=float, help="normalise to this loudness (true peak ≤ −1 dBTP)")
    add_encoding_args(exp)
    exp.set_defaults(func=cmd_export)


def add_encoding_args(p: argparse.ArgumentParser) -> None:
    """``--bitrate`` and ``--vbr``/``--cbr`` for MP3, Opus and M4A (engines.audio_io.Encoding)."""
    p.add_argument("--bitrate", metavar="RATE",
                   help="bit rate of mp3/opus/m4a, e.g. 192k (mp3 default: 192k VBR)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--vbr", dest="vbr", action="store_const", const=True,
                      help="variable bit rate (mp3: the LAME -V preset nearest --bitrate)")
    mode.add_argument("--cbr", dest="vbr", action="store_const", const=False,
                      help="constant bit rate (the default once --bitrate is given for mp3)")


def encoding_from(args: argparse.Namespace):
    """The Encoding the flags ask for (a bare MP3 bit rate is constant, as LAME's ``-b``;
    no flags: MP3 192k VBR, Opus VBR; see engines.audio_io.Encoding)."""
    from engines.audio_io import Encoding, parse_bitrate

    return Encoding(parse_bitrate(args.bitrate) if args.bitrate else None, args.vbr)


def cmd_new(args: argparse.Namespace) -> int:
    from desktop.project.store import Project

    with Project.create(args.path, sample_rate=args.sample_rate) as project:
        print(f"created {project.path}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from desktop.cli.common import fail
    from desktop.project.store import Project

    with Project.open(args.path) as p:
        if p.damaged:  # say so first; then show what can still be read
            fail(p.damaged)
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
        missing = sum(1 for tk in takes if not p.audio_path(tk.audio_sha256).is_file())
        state = p.integrity_check() if p.damaged is None else "damaged"
        if missing:
            state = f"{missing} take(s) missing their audio — run: timbre project check {p.path}"
        print(f"integrity {state}")
    return 1 if p.damaged or missing else 0


def cmd_check(args: argparse.Namespace) -> int:
    from desktop.cli.common import fail
    from desktop.project.repair import check_project

    report = check_project(args.path)
    for problem in report.problems:
        print(f"problem   {problem}")
    if report.unreferenced:
        print(f"note      {report.unreferenced} audio file(s) no take uses (removed when the "
              "project is next opened by one program alone)")
    if not report.ok:
        return fail(f"{report.path} has {len(report.problems)} problem(s). Run: timbre project "
                    f"repair {report.path} (the damaged database is kept).")
    print(f"ok        {report.path}: database intact, {report.takes} take(s) with intact audio")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from desktop.project.repair import repair_project

    report = repair_project(args.path)
    for table, n in report.rows.items():
        bad = report.unreadable.get(table, 0)
        print(f"{table:12s} {n} row(s) saved" + (f", {bad} unreadable" if bad else ""))
    if report.recovered:
        print(f"recovered    {report.recovered} take(s) whose rows were lost, as "
              "'Recovered audio …' takes")
    for line in report.dropped:
        print(f"dropped      {line}")
    print(f"repaired {report.path}; the damaged database is kept as {report.kept.name}")
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
        result = export_project(p, args.output, args.format, args.lufs, progress=bar,
                                encoding=encoding_from(args))
        bar.close()
    print(result.summary())
    return 0
