"""``timbre devices`` and ``timbre engines``."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list compute devices and the one that will be used")
    p.add_argument("--sound", action="store_true",
                   help="list sound outputs and inputs instead, and the ones Preferences chose")
    p.set_defaults(func=cmd_devices)
    p = sub.add_parser("engines", help="list every engine, and why any is unavailable")
    p.add_argument("--kind", help="only engines of this kind (music, sfx, speech, ...)")
    p.set_defaults(func=cmd_engines)


def cmd_devices(args: argparse.Namespace) -> int:
    if getattr(args, "sound", False):
        return sound_devices()
    from engines.devices import available_devices, choose_device, requested_device

    for dev in available_devices():
        print(f"{dev.name:8s} {dev.label}")
    wish = requested_device()
    print(f"chosen: {choose_device()} (asked: {wish})")
    from engines.openmp import describe as openmp_policy

    print(openmp_policy())
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


def sound_devices() -> int:
    """The names Preferences lists (and stores), each kind's default first."""
    from engines.settings import get_setting
    from engines.sound_devices import list_devices, resolve

    devices = list_devices()
    if devices.reason:
        print(devices.reason)
        return 0
    for kind in ("output", "input"):
        print(f"{kind}s:")
        for d in devices.of(kind):  # type: ignore[arg-type]
            mark = " (system default)" if d.default else ""
            print(f"  {d.index:3d}  {d.label}{mark}")
        chosen = get_setting(f"audio/{kind}_device")
        index, note = resolve(kind, chosen, devices)  # type: ignore[arg-type]
        print(f"  chosen: {chosen or 'system default'} -> {index}" + (f" ({note})" if note else ""))
    return 0
