"""``timbre devices`` and ``timbre engines``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list compute devices and the one that will be used")
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser("engines", help="list every engine, and why any is unavailable")
    p.add_argument("--kind", help="only engines of this kind (music, sfx, speech, ...)")
    p.set_defaults(func=cmd_engines)


def cmd_devices(args: argparse.Namespace) -> int:
    from engines.devices import available_devices, choose_device, requested_device

    for dev in available_devices():
        print(f"{dev.name:8s} {dev.label}")
    wish = requested_device()
    print(f"chosen: {choose_device()} (asked: {wish})")
    from engines.music.speed import describe  # the kernels measured for MusicGen/AudioGen

    for line in describe():
        print(line)
    return 0


def cmd_engines(args: argparse.Namespace) -> int:
    from engines.registry import engine_infos

    infos = engine_infos(args.kind)
    if not infos:
        print("no engines registered")
    for info in infos:
        state = "available" if info.available else f"unavailable: {info.reason}"
        print(f"{info.name:18s} {info.kind:8s} {info.label} — {state}")
    return 0
