"""Speaker embeddings with Resemblyzer (GE2E): 256 numbers, unit length, per clip.

Cosine similarity of two embeddings says how alike two voices sound (1.0 same recording,
around 0.9 same speaker, 0.5–0.75 different speakers of the same language). The encoder is
loaded once per process, on first use, because loading it imports torch and takes seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from engines.audio import AudioClip
from engines.errors import BadInput

RATE = 16_000  # Resemblyzer's sampling rate
DIM = 256
MIN_SECONDS = 0.5

_encoder = None
_lock = threading.Lock()


def _load_encoder():
    global _encoder
    with _lock:
        if _encoder is None:
            from resemblyzer import VoiceEncoder

            _encoder = VoiceEncoder(device="cpu", verbose=False)
    return _encoder


def _as_16k(clip: AudioClip) -> np.ndarray:
    wav = clip.mono().resampled(RATE).samples[0]
    if len(wav) < MIN_SECONDS * RATE:
        raise BadInput(
            f"The clip is {len(wav) / RATE:.2f} s long; a voice needs at least "
            f"{MIN_SECONDS} s of speech to be recognised. Use a longer recording."
        )
    return wav.astype(np.float32)


def _prepared(wav: np.ndarray) -> np.ndarray:
    """Resemblyzer's own level normalisation and long-silence trimming, as it was trained."""
    from resemblyzer import preprocess_wav

    out = preprocess_wav(wav)
    return out if len(out) >= MIN_SECONDS * RATE else wav


def embed(clip: AudioClip) -> np.ndarray:
    """The speaker embedding of a clip: float32 (256,), unit length."""
    return embed_with_segments(clip)[0]


def embed_with_segments(clip: AudioClip) -> tuple[np.ndarray, np.ndarray]:
    """The clip's embedding and the embeddings of its ~1.6 s segments (n, 256).

    The segments let a caller judge whether one speaker talks throughout: segments of one
    voice agree closely, a second speaker pulls some of them apart.
    """
    encoder = _load_encoder()
    wav = _prepared(_as_16k(clip))
    with _lock:
        embedding, partials, _slices = encoder.embed_utterance(wav, return_partials=True)
    return _unit(embedding), np.asarray(partials, np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def mean_embedding(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """A voice's embedding: the normalised mean of its clips' embeddings."""
    if not len(embeddings):
        raise BadInput("A voice needs at least one reference clip to have an embedding.")
    return _unit(np.mean(np.stack([_unit(e) for e in embeddings]), axis=0))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (−1…1; unit vectors make it a dot product)."""
    return float(np.dot(_unit(a), _unit(b)))
