"""Audio files whose header announces hours: the input that must be refused before decoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def long_flac(path: Path, hours: float, rate: int = 8000) -> Path:
    """A one-second FLAC whose header announces ``hours`` of audio, as a long silent
    recording's does. Written in a blink; only a reader that decodes before it looks at the
    header would miss the length (and then find one second, not fill memory)."""
    import soundfile as sf

    sf.write(path, np.zeros(rate, np.float32), rate, format="FLAC")
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO comes first
    at = 8 + 10  # then sample rate (20 bits), channels (3), bits (5), total samples (36)
    packed = int.from_bytes(data[at : at + 8], "big")
    packed = (packed & ~((1 << 36) - 1)) | int(hours * 3600 * rate)
    data[at : at + 8] = packed.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    assert abs(sf.info(str(path)).duration - hours * 3600) < 1
    return path
