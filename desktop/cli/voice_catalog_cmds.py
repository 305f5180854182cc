"""Voice catalogs in ``timbre models``: ``list --kind voice`` (Piper's catalog, Kokoro's
voice set) and ``download piper:KEY`` / ``download kokoro:NAME``.

Kept apart from the MusicGen commands in :mod:`desktop.cli.music_cmds`, which hand over to
these when asked for voices.
"""

from __future__ import annotations

import argparse


def _size(n: int) -> str:
    return f"{n / 1e6:5.1f} MB" if n else "   — MB"


def _catalog(module, refresh: bool) -> tuple[list, str]:
    """A catalog, fetched when ``refresh``; when the hub cannot give it, the local one with a
    note, so one unreachable catalog does not hide the other."""
    import sys

    from engines.errors import EngineError

    if refresh:
        try:
            return module.catalog(refresh=True)
        except EngineError as exc:
            print(f"note: {exc}", file=sys.stderr)
    return module.catalog()


def list_voices(args: argparse.Namespace) -> int:
    from engines.speech import piper_catalog as cat

    voices, source = _catalog(cat, args.refresh)
    shown = [v for v in voices if v.matches(args.language, args.search)]
    where = {"hub": "fetched from the hub", "cached": "cached copy; --refresh fetches it again",
             "built-in": "built-in list of popular voices; --refresh fetches the full catalog"}
    print(f"Piper voices ({len(shown)} of {len(voices)}, {where[source]}; "
          "timbre models download piper:KEY):")
    for v in shown:
        state = "installed" if cat.is_installed(v.key) else "not installed"
        speakers = f"{v.num_speakers} speakers" if v.num_speakers > 1 else "1 speaker"
        print(f"  {v.key:34s} {v.language_label:30s} {v.quality:7s} {speakers:13s} "
              f"{_size(v.size_bytes)}  {state:13s} licence: {cat.licence(v.key)}")
    if not shown:
        print("  (none match)")
    return _list_kokoro(args, where)


def _list_kokoro(args: argparse.Namespace, where: dict[str, str]) -> int:
    from engines.speech import kokoro_catalog as kc

    voices, source = _catalog(kc, args.refresh)
    shown = [v for v in voices if v.matches(args.language, args.search)]
    print(f"Kokoro-82M voices ({len(shown)} of {len(voices)}, {where[source]}; "
          "timbre models download kokoro:NAME; licence Apache-2.0, as the model):")
    for v in shown:
        state = "shipped" if v.shipped else "installed" if kc.is_installed(v.name) else "not installed"
        print(f"  {v.name:34s} {v.language_label:30s} {v.sex:7s} {_size(v.size)}  {state}")
    if not shown:
        print("  (none match)")
    return 0


def download_voice(name: str) -> int:
    from desktop.cli.common import ProgressBar
    from engines.speech import piper_catalog as cat

    if name.startswith("kokoro:"):
        return _download_kokoro(name)
    key = name.removeprefix("piper:")
    voices, voice = None, None
    if not cat.is_installed(key):
        voices = cat.refresh_catalog()  # current checksums, and the voice's model card
        voice = cat.find(voices, key)
        if voice is not None:  # the licence before any byte of the voice itself
            print(f"Piper voice {voice.key}: licence {cat.fetch_licence(voice)}")
    bar = ProgressBar("download")
    try:
        onnx = cat.download(key, print, progress=bar, voices=voices)
    finally:
        bar.close()
    sample = voice.sample_text if voice is not None and voice.sample_text else "TEXT"
    print(f"installed piper:{onnx.stem}; speak with: timbre speak {sample!r} --voice {onnx.stem}")
    return 0


def _download_kokoro(name: str) -> int:
    from desktop.cli.common import ProgressBar
    from engines.licences import model_licence
    from engines.speech import kokoro_catalog as kc

    entry = model_licence(kc.HUB_REPO)
    print(entry.sentence() if entry else f"{kc.HUB_REPO}: licence unknown — check its model card")
    bar = ProgressBar("download")
    try:
        kc.download(name, print, progress=bar)
    finally:
        bar.close()
    voice = name.removeprefix("kokoro:")
    print(f"installed kokoro:{voice}; speak with: timbre speak TEXT --voice {voice}")
    return 0
