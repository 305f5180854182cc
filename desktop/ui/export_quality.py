"""The bit rate question of Export mix… for MP3, Opus and M4A (``timbre export --bitrate``).

A short list of what people pick (Audacity's MP3 presets; Opus' and AAC's usual rates) with
the default first: MP3 192 kbps VBR, which LAME encodes as ``-V 2``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QInputDialog, QWidget

from engines.audio_io import Encoding

CHOICES: dict[str, dict[str, Encoding]] = {
    "mp3": {
        "192 kbps, variable (recommended)": Encoding(192_000, True),
        "128 kbps, variable (smaller)": Encoding(128_000, True),
        "320 kbps, constant (largest, most compatible)": Encoding(320_000, False),
        "192 kbps, constant": Encoding(192_000, False),
        "128 kbps, constant": Encoding(128_000, False),
        "64 kbps, constant (speech only)": Encoding(64_000, False),
    },
    "opus": {
        "128 kbps, variable (recommended for music)": Encoding(128_000, True),
        "64 kbps, variable (recommended for speech)": Encoding(64_000, True),
        "192 kbps, variable": Encoding(192_000, True),
        "96 kbps, constant": Encoding(96_000, False),
    },
    "m4a": {
        "192 kbps (recommended)": Encoding(192_000),
        "128 kbps": Encoding(128_000),
        "256 kbps": Encoding(256_000),
        "96 kbps (speech)": Encoding(96_000),
    },
}


def first_choice(fmt: str, preferred_kbps: int | None) -> int:
    """Where the list starts: the first choice at the bit rate Preferences names (MP3's
    ``export/mp3_bitrate``), else the recommended one."""
    labels = list(CHOICES.get(fmt, {}))
    rates = [CHOICES[fmt][label].bitrate for label in labels]
    wanted = preferred_kbps * 1000 if preferred_kbps else None
    return rates.index(wanted) if wanted in rates else 0


def ask_encoding(parent: QWidget, fmt: str, preferred_kbps: int | None = None) -> Encoding | None | Any:
    """The encoding for ``fmt``: asked for the lossy formats, ``Encoding()`` for the rest;
    ``None`` when the user cancels (nothing is exported then)."""
    choices = CHOICES.get(fmt)
    if not choices:
        return Encoding()
    label, ok = QInputDialog.getItem(parent, "Export quality", f"{fmt.upper()} bit rate:",
                                     list(choices), first_choice(fmt, preferred_kbps), False)
    return choices[label] if ok else None
