"""What every speech engine shares: text to chunks, chunk to voice, voice to delivery.

An engine only has to turn one short piece of text into samples at its natural rate
(:meth:`SpeechEngine._synth`); this base class does the rest the same way for all of them,
so emotion, stability, rate and pitch mean the same on every engine:

1. the text front-end (:mod:`engines.speech.text`) makes sentences, chunks and pauses;
2. each chunk is synthesised, its leading and trailing silence trimmed;
3. the delivery (:mod:`engines.speech.prosody`) is applied — emotion preset, then the
   user's rate and pitch, then per-chunk variation from stability — and the level set to
   a fixed speech loudness plus the emotion's energy;
4. the chunk is handed out at once (``stream``), so a long text plays while it is made;
   meanwhile the engine is already making the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.provenance import GeneratedTake, Provenance
from engines.speech import prosody
from engines.speech.request import SpeechRequest
from engines.speech.text import Pause, Say, segments

SPEECH_LUFS = -23.0  # studio speech level before the emotion's energy offset
TRIM_DB = -45.0  # below the chunk's peak counts as silence at the edges
TRIM_PAD_S = 0.04


@dataclass
class StreamStats:
    """How a synthesis went: the first chunk's latency matters for long texts."""

    first_chunk_s: float | None = None
    total_s: float = 0.0
    chunks: int = 0
    audio_s: float = 0.0


def trim_silence(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cut leading and trailing silence (relative to the peak), keeping a short pad."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak <= 0:
        return samples[:0]
    loud = np.flatnonzero(np.abs(samples) > peak * 10 ** (TRIM_DB / 20))
    pad = int(TRIM_PAD_S * sample_rate)
    return samples[max(0, loud[0] - pad) : min(len(samples), loud[-1] + pad + 1)]


def set_level(samples: np.ndarray, sample_rate: int, energy_db: float) -> np.ndarray:
    """Speech at ``SPEECH_LUFS + energy_db``, kept under full scale."""
    from engines.loudness import SILENCE_LUFS, mono_lufs

    loudness = mono_lufs(samples, sample_rate)
    if loudness <= SILENCE_LUFS:
        return samples
    out = samples * np.float32(10 ** ((SPEECH_LUFS + energy_db - loudness) / 20))
    peak = float(np.max(np.abs(out)))
    if peak > 0.98:
        out = out * np.float32(0.98 / peak)
    return out.astype(np.float32)


class SpeechEngine:
    """Base of the speech engines; subclasses implement ``_load``, ``_synth`` and ``voices``."""

    name = "speech"
    label = "Speech"
    model_id = ""
    sample_rate = 22_050
    default_voice = ""
    # A take whose pitch level or range is changed is resynthesised with one clear period per
    # frame (prosody.steady_analysis): for voices whose creak trackers cannot agree on.
    # Neutral takes are the engine's own audio.
    steady_phonation = False
    # ... and its neutral takes too (prosody.reshape's steady_neutral): robust, ~4× dearer.
    steady_neutral = False
    # The first chunk cut at a clause mark under this many characters (None: whole
    # sentences), for engines whose wait for the first audio grows with the chunk.
    first_chunk_chars: int | None = None

    def __init__(self) -> None:
        self._loaded = False

    # --- what subclasses provide -------------------------------------------------------
    def _load(self) -> None:
        raise NotImplementedError

    def _synth(self, text: str, request: SpeechRequest) -> np.ndarray:
        """One chunk of text at the engine's natural rate and pitch: mono float32."""
        raise NotImplementedError

    def voices(self) -> list[str]:
        raise NotImplementedError

    def _begin(self, request: SpeechRequest) -> None:
        """Called once per request before its first chunk (engines seed their randomness)."""

    def model_version(self) -> str:
        return ""

    # --- the engine protocol ------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> None:
        if self._loaded:
            return
        progress(Progress(0, 1, f"loading {self.label}"))
        self._load()
        self._loaded = True
        progress(Progress(1, 1, f"loaded {self.label}"))

    def unload(self) -> None:
        self._loaded = False

    def raw(self, text: str, request: SpeechRequest | None = None) -> np.ndarray:
        """The bare engine call on one chunk (benchmarks compare the pipeline against it)."""
        self.load()
        return self._synth(text, self.check_request(request or SpeechRequest(text)))

    def check_request(self, request: SpeechRequest) -> SpeechRequest:
        prosody.check_controls(request.rate, request.pitch, request.stability)
        prosody.emotion(request.emotion)
        if not request.text or not request.text.strip():
            raise BadInput("There is nothing to say: the text is empty. Type or load some text.")
        if request.voice is None:
            request.voice = self.default_voice
        if request.seed is None:  # recorded in the provenance, so the take can be made again
            request.seed = int(np.random.default_rng().integers(2**31))
        return request

    def stream(
        self,
        request: SpeechRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        stats: StreamStats | None = None,
    ) -> Iterator[AudioClip]:
        """Yield the speech chunk by chunk (each with its following gap or pause)."""
        request = self.check_request(request)
        self.load(progress, cancel)
        self._begin(request)
        stats = stats if stats is not None else StreamStats()
        started = time.perf_counter()
        plan = segments(request.text, request.language, first_limit=self.first_chunk_chars)
        total = sum(len(s.text) for s in plan if isinstance(s, Say))
        done = 0
        rng = np.random.default_rng(request.seed)
        base = prosody.emotion(request.emotion).then(
            prosody.Prosody(rate=request.rate, pitch=request.pitch + request.voice_pitch)
        )
        progress(Progress(0, total, "speaking"))
        # The engine makes the next sentence while this one is trimmed, shaped and levelled
        # (one synthesis at a time, in order, so seeded engines stay reproducible): the
        # pipeline's own work then costs next to nothing on top of the engine's. Only the
        # first chunk is finished before the next synthesis starts, so that the two do not
        # share the cores while the listener waits for the first audio.
        says = [i for i, seg in enumerate(plan) if isinstance(seg, Say)]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="timbre-speech") as pool:
            pending = {i: pool.submit(self._synth, plan[i].text, request) for i in says[:1]}
            for i, seg in enumerate(plan):
                if cancel is not None:
                    cancel.check()
                if isinstance(seg, Pause):
                    audio = np.zeros(int(round(seg.seconds * self.sample_rate)), np.float32)
                else:
                    raw = pending.pop(i).result()
                    nxt = next((j for j in says if j > i), None)
                    layer = prosody.stability_layer(request.stability, rng)
                    first = i == says[0]
                    if nxt is not None and not first:
                        pending[nxt] = pool.submit(self._synth, plan[nxt].text, request)
                    audio = self._chunk(seg, request, base.then(layer), raw)
                    if nxt is not None and first:
                        pending[nxt] = pool.submit(self._synth, plan[nxt].text, request)
                    done += len(seg.text)
                stats.chunks += 1
                stats.audio_s += len(audio) / self.sample_rate
                if stats.first_chunk_s is None:
                    stats.first_chunk_s = time.perf_counter() - started
                progress(Progress(done, total, "speaking"))
                yield AudioClip(audio, self.sample_rate)
        stats.total_s = time.perf_counter() - started

    def _chunk(
        self, seg: Say, request: SpeechRequest, p: prosody.Prosody, raw: np.ndarray | None = None
    ) -> np.ndarray:
        """One sentence delivered: ``raw`` is the engine's output for it (made here if None)."""
        if raw is None:
            raw = self._synth(seg.text, request)
        raw = trim_silence(np.asarray(raw, np.float32), self.sample_rate)
        if len(raw) == 0:
            return np.zeros(int(seg.gap_after / p.rate * self.sample_rate), np.float32)
        # A take a conversion follows (a clone's WORLD shift and equaliser, --world-toward)
        # is not re-voiced when neutral: the clone was fitted and judged on the engine's own
        # audio, and a second WORLD resynthesis in a row cost a Piper clone 0.19 of its
        # similarity (joe-shifted, held out: 0.977 judged, 0.789 spoken re-voiced).
        shaped = prosody.reshape(
            raw,
            self.sample_rate,
            p,
            steady=self.steady_phonation,
            steady_neutral=self.steady_neutral and request.convert_toward is None,
        )
        if request.convert_toward is not None:
            from engines.speech.world_convert import convert

            shaped = convert(shaped, self.sample_rate, request.convert_toward)
        shaped = set_level(shaped, self.sample_rate, p.energy_db)
        gap = np.zeros(int(round(seg.gap_after / p.rate * self.sample_rate)), np.float32)
        return np.concatenate([shaped, gap])

    def generate(
        self,
        request: SpeechRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[GeneratedTake]:
        stats = StreamStats()
        pieces = [c.samples[0] for c in self.stream(request, progress, cancel, stats)]
        clip = AudioClip(np.concatenate(pieces) if pieces else np.zeros(1, np.float32), self.sample_rate)
        params = request.params()
        params.update(
            first_chunk_s=round(stats.first_chunk_s or 0.0, 3),
            synthesis_s=round(stats.total_s, 3),
            chunks=stats.chunks,
        )
        provenance = Provenance(
            engine=self.name,
            model_id=self.model_id,
            model_version=self.model_version(),
            prompt=request.text,
            params=params,
            seed=request.seed,
            voice=request.voice_label or request.voice,
            consent=request.consent,
        )
        from engines.watermark import finalize_take

        return [finalize_take(clip, provenance)]
