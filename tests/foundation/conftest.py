from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def music_like(seconds: float = 3.0, rate: int = 48_000, channels: int = 2, seed: int = 0) -> np.ndarray:
    """A chord with an envelope and a little noise: something loudness meters treat as music."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6, 440.0)) / 4
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 1.5 * t) ** 2
    mono = 0.3 * tone * env + 0.01 * rng.standard_normal(t.size)
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


@pytest.fixture
def make_wav(tmp_path: Path):
    def make(name: str = "tone.wav", seconds: float = 3.0, rate: int = 48_000, channels: int = 2,
             subtype: str = "PCM_16", data: np.ndarray | None = None) -> Path:
        path = tmp_path / name
        if data is None:
            data = music_like(seconds, rate, channels)
        sf.write(path, data, rate, subtype=subtype)
        return path

    return make


@pytest.fixture
def project(tmp_path: Path):
    from desktop.project.store import Project

    p = Project.create(tmp_path / "demo")
    yield p
    p.close()
