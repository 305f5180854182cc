"""Neural speech denoising with RNNoise (Xiph's recurrent network), beside noisereduce.

Why RNNoise: noisereduce subtracts a *steady* noise profile taken from the pauses, so it
cannot touch noise that changes (traffic, a fan speeding up, keyboard, babble); RNNoise
estimates speech and noise gains per band in every 10 ms frame with a small recurrent
network trained on speech, so it follows changing noise and needs no profile. Its weights
are compiled into the library that the ``pyrnnoise`` package ships (``librnnoise.so``), so
nothing is downloaded.

Why not ``pyrnnoise``'s Python classes: they resample and frame through ``audiolab`` (a
second ffmpeg binding with its own dependencies) and quantise to 16-bit on the way. Only
the shipped library is used here, through ctypes (the package's own bindings do the
same), with our streaming resampler (soxr) and float samples in RNNoise's 16-bit scale.

RNNoise runs at 48 kHz in frames of 480 samples, one state per channel; its overlap-add
and look-ahead make the output lag the input by exactly two frames (20 ms, measured by
cross-correlation on speech), which is taken off here so the denoised audio lines up with
the original (a clip edited in place must not move).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from engines.errors import ModelMissing
from engines.stream import AudioStream, Block

RATE = 48_000
FRAME = 480  # rnnoise_get_frame_size(): 10 ms at 48 kHz
LAG = 2 * FRAME  # how far RNNoise's output trails its input (see above)
SCALE = 32768.0  # RNNoise works on 16-bit sample values held in floats
LIBRARY_NAMES = ("librnnoise.so", "librnnoise.dylib", "rnnoise.dll")
PACKAGE = "pyrnnoise"


def _library_path() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for name in LIBRARY_NAMES:
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    return None


def unavailable_reason() -> str | None:
    """Why RNNoise cannot run here (one sentence), or None."""
    if _library_path() is None:
        return "the pyrnnoise package (RNNoise's library and model) is not installed; run make setup"
    return None


@functools.cache
def _lib() -> ctypes.CDLL:
    path = _library_path()
    if path is None:
        raise ModelMissing(f"RNNoise denoising: {unavailable_reason()}.")
    lib = ctypes.CDLL(str(path))
    lib.rnnoise_create.argtypes = [ctypes.c_void_p]
    lib.rnnoise_create.restype = ctypes.c_void_p
    lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
    lib.rnnoise_get_frame_size.restype = ctypes.c_int
    lib.rnnoise_process_frame.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.rnnoise_process_frame.restype = ctypes.c_float
    if lib.rnnoise_get_frame_size() != FRAME:
        raise ModelMissing(f"The installed RNNoise library ({path}) uses another frame size; "
                           "reinstall the pinned pyrnnoise (make setup).")
    return lib


class Denoiser:
    """RNNoise over 48 kHz float blocks of any size, one network state per channel.

    ``process`` returns as many samples as it was given, delayed by what RNNoise has not
    finished yet; :func:`denoised` removes that lag. ``amount`` below 1 mixes the original
    back in (the two are aligned, so the mix does not comb)."""

    def __init__(self, channels: int) -> None:
        self.lib = _lib()
        self.states = [self.lib.rnnoise_create(None) for _ in range(channels)]
        self.pending = np.zeros((channels, 0), np.float32)
        self.speech: list[float] = []  # RNNoise's voice probability per frame (channel 0)

    def process(self, block: Block) -> Block:
        data = np.concatenate([self.pending, block], axis=1)
        whole = data.shape[1] // FRAME * FRAME
        self.pending = data[:, whole:]
        out = np.empty((data.shape[0], whole), np.float32)
        frame = np.empty(FRAME, np.float32)
        ptr = frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        for c, state in enumerate(self.states):
            for a in range(0, whole, FRAME):
                frame[:] = data[c, a : a + FRAME] * SCALE
                p = self.lib.rnnoise_process_frame(state, ptr, ptr)
                out[c, a : a + FRAME] = frame / SCALE
                if c == 0:
                    self.speech.append(float(p))
        return out

    def close(self) -> None:
        for state in self.states:
            self.lib.rnnoise_destroy(state)
        self.states = []

    def __del__(self) -> None:  # a cancelled pass must not leak the C states
        if getattr(self, "states", None):
            self.close()


def denoised(
    stream: AudioStream, amount: float = 1.0, after_block: Callable[[], None] | None = None,
    block_frames: int | None = None,
) -> AudioStream:
    """``stream`` through RNNoise, at its own rate and length, sample-aligned with it.

    Resampled to 48 kHz and back in streaming mode (soxr), so any length runs in a few
    blocks of memory; ``after_block`` runs after each input block of ``block_frames``
    (progress and cancel)."""
    from engines.podcast.streams import regrouped

    rate, channels, frames = stream.sample_rate, stream.channels, stream.frames
    step = block_frames or rate * 30

    def counted() -> Iterator[Block]:
        for _, block in regrouped(stream, step):
            yield block
            if after_block is not None:
                after_block()

    source = AudioStream(counted, rate, channels, frames)
    at48 = source.resampled(RATE)

    def blocks48() -> Iterator[Block]:
        net = Denoiser(channels)
        # The input delayed as RNNoise delays it, for mixing some of it back.
        dry = np.zeros((channels, LAG), np.float32)
        skip = LAG  # the first LAG samples out are RNNoise's lag: dropped
        try:
            tail = [np.zeros((channels, LAG + FRAME), np.float32)]  # pushes the last frames out
            for block in _chained(at48.blocks(), tail):
                wet = net.process(block)
                if amount < 1.0:
                    dry = np.concatenate([dry, block], axis=1)
                    wet = amount * wet + (1.0 - amount) * dry[:, : wet.shape[1]]
                    dry = dry[:, wet.shape[1] :]
                cut = min(skip, wet.shape[1])
                skip -= cut
                if wet.shape[1] > cut:
                    yield np.ascontiguousarray(wet[:, cut:], np.float32)
        finally:
            net.close()

    back = AudioStream(blocks48, RATE, channels, at48.frames).resampled(rate)
    return _exactly(back, frames)


def _chained(first: Iterator[Block], then: list[Block]) -> Iterator[Block]:
    yield from first
    yield from then


def _exactly(stream: AudioStream, frames: int) -> AudioStream:
    """``stream`` cut or padded with silence to exactly ``frames`` (resampling both ways
    can leave a sample more or less than the original had)."""

    def blocks() -> Iterator[Block]:
        left = frames
        for block in stream.blocks():
            if left <= 0:
                break
            part = block[:, :left]
            left -= part.shape[1]
            yield part
        if left > 0:
            yield np.zeros((stream.channels, left), np.float32)

    return AudioStream(blocks, stream.sample_rate, stream.channels, frames)
