"""``timbre edit PROJECT delete|silence|cut|trim START-END`` and ``timbre marker ...``.

The same Qt-free :class:`desktop.project.timeline.Timeline` edits as the studio's Edit
menu, so a script and the GUI cut the same way (each is saved at once). Times are seconds
(``12.5``) or minutes:seconds (``1:02.5``, also ``h:mm:ss``).
"""

from __future__ import annotations

import argparse

from engines.errors import BadInput


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``1:02.5`` or ``1:00:02.5``; a clear error otherwise."""
    try:
        parts = [float(x) for x in text.strip().split(":")]
    except ValueError:
        parts = []
    if not 1 <= len(parts) <= 3 or any(x < 0 for x in parts):
        raise BadInput(f"{text!r} is not a time: give seconds (12.5) or minutes:seconds (1:02.5).")
    seconds = 0.0
    for x in parts:
        seconds = seconds * 60 + x
    return seconds


def parse_range(text: str) -> tuple[float, float]:
    """``START-END`` in seconds; END must come after START."""
    start, sep, end = text.partition("-")
    if not sep:
        raise BadInput(f"{text!r} is not a range: give START-END, e.g. 1:00-1:30 or 2.5-4.")
    a, b = parse_time(start), parse_time(end)
    if b <= a:
        raise BadInput(f"The range {text!r} ends before it starts.")
    return a, b


def format_time(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:06.3f}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("edit", help="delete, silence, cut or trim a time range of the timeline")
    e.add_argument("project")
    e.add_argument("action", choices=["delete", "silence", "cut", "trim"],
                   help="delete/cut: remove and close the gap; silence: leave a gap; "
                        "trim: keep only the range")
    e.add_argument("range", metavar="START-END", help="seconds or mm:ss.s, e.g. 1:00-1:30.5")
    e.add_argument("--track", type=int, action="append", metavar="N",
                   help="only this track id (repeatable; default: all tracks)")
    e.set_defaults(func=cmd_edit)

    m = sub.add_parser("marker", help="add, list or remove timeline markers (chapters too)")
    m.add_argument("project")
    msub = m.add_subparsers(dest="marker_command", metavar="ACTION", required=True)
    add = msub.add_parser("add", help="add a marker at TIME named NAME")
    add.add_argument("time")
    add.add_argument("name")
    add.add_argument("--chapter", action="store_true", help="a chapter (podcast mastering uses these)")
    add.set_defaults(func=cmd_marker_add)
    msub.add_parser("list", help="every marker, in time order").set_defaults(func=cmd_marker_list)
    rm = msub.add_parser("remove", help="remove the marker named NAME")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_marker_remove)


def cmd_edit(args: argparse.Namespace) -> int:
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline

    a, b = parse_range(args.range)
    with Project.open(args.project) as p:
        tl = Timeline(p)
        start, end = round(a * p.sample_rate), round(b * p.sample_rate)
        tracks = tl.range_tracks(args.track)
        before = len(p.clips())
        {"delete": tl.delete_range, "cut": tl.delete_range, "silence": tl.silence_range,
         "trim": tl.trim_range}[args.action](start, end, args.track)
        where = "all tracks" if args.track is None else "track(s) " + ", ".join(map(str, tracks))
        print(f"{args.action} {format_time(a)}–{format_time(b)} on {where}: "
              f"{before} clip(s) before, {len(p.clips())} after")
    return 0


def cmd_marker_add(args: argparse.Namespace) -> int:
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline

    seconds = parse_time(args.time)
    with Project.open(args.project) as p:
        kind = "chapter" if args.chapter else "marker"
        Timeline(p).add_marker(round(seconds * p.sample_rate), args.name, kind)
        print(f"added {kind} {args.name!r} at {format_time(seconds)}")
    return 0


def cmd_marker_list(args: argparse.Namespace) -> int:
    from desktop.project.store import Project

    with Project.open(args.project) as p:
        for m in p.markers():
            print(f"{format_time(m.frame / p.sample_rate)}  {m.kind:7s}  {m.label}")
    return 0


def cmd_marker_remove(args: argparse.Namespace) -> int:
    from desktop.project.store import Project
    from desktop.project.timeline import Timeline

    with Project.open(args.project) as p:
        tl = Timeline(p)
        tl.remove_marker(tl.find_marker(args.name))
        print(f"removed marker {args.name!r}")
    return 0
