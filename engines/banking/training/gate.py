"""The check a trained voice passes before it is offered as the person's voice.

The exported voice speaks the bank's held-out prompts (never trained on) through the
studio's own Piper engine; Whisper-base (:mod:`engines.voices.transcribe`) writes down what
it heard, giving the word error rate, and Resemblyzer (:mod:`engines.voices.embedding`)
compares its voice with the bank's takes. The base checkpoint, exported the same way,
speaks the same prompts, so the report says what the training changed.

The voice *passes* when Whisper understands it (WER ≤ :data:`MAX_WER`) and it sounds more
like the person than the base did (when the base could be spoken). A voice that fails is
kept in the training folder and not offered, unless the user forces it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engines.audio import AudioClip
from engines.banking.bank import VoiceBank
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.files import write_text

MAX_WER = 0.10
FALLBACK_PROMPTS = (  # when a bank is too small to hold prompts out
    "Please bring me a glass of water.",
    "I would like to go outside for a walk today.",
)


@dataclass
class VoiceScore:
    wer: float | None  # None: speech recognition not installed
    similarity: float  # cosine of Resemblyzer embeddings, voice vs the bank's takes
    heard: list[str]


@dataclass
class GateReport:
    prompts: list[str]
    trained: VoiceScore
    base: VoiceScore | None
    max_wer: float = MAX_WER

    @property
    def wer_ok(self) -> bool:
        return self.trained.wer is not None and self.trained.wer <= self.max_wer

    @property
    def similarity_ok(self) -> bool:
        return self.base is None or self.trained.similarity > self.base.similarity

    @property
    def passed(self) -> bool:
        return self.wer_ok and self.similarity_ok

    def lines(self) -> list[str]:
        def wer(score: VoiceScore) -> str:
            return "n/a (no speech recognition)" if score.wer is None else f"{score.wer:.0%}"

        out = [
            f"word error rate  {wer(self.trained)} (needs ≤ {self.max_wer:.0%})"
            + (f"; base voice {wer(self.base)}" if self.base else ""),
            f"likeness         {self.trained.similarity:.2f} to the bank's takes"
            + (f"; base voice {self.base.similarity:.2f}" if self.base else ""),
            f"verdict          {'passed' if self.passed else 'not good enough yet'}",
        ]
        return out

    @classmethod
    def load(cls, path: Path) -> GateReport:
        data = json.loads(path.read_text(encoding="utf-8"))
        base = data.get("base")
        return cls(
            list(data["prompts"]),
            VoiceScore(**data["trained"]),
            VoiceScore(**base) if base else None,
            float(data.get("max_wer", MAX_WER)),
        )

    def save(self, path: Path) -> None:
        data = {**asdict(self), "passed": self.passed}
        write_text(path, json.dumps(data, indent=1))


def held_out_prompts(bank: VoiceBank, ids: list[str]) -> list[str]:
    texts = [bank.prompt(pid).text for pid in ids]
    return texts or list(FALLBACK_PROMPTS)


def bank_embedding(bank: VoiceBank, limit: int = 12) -> np.ndarray:
    from engines.voices.embedding import embed, mean_embedding

    takes = [t for _p, t in bank.accepted() if t.verdict != "red"][:limit]
    return mean_embedding([embed(bank.audio(t)) for t in takes])


def score_voice(onnx: Path, prompts: list[str], target: np.ndarray, language: str) -> VoiceScore:
    """Speak ``prompts`` with the Piper engine, transcribe them, compare the voice."""
    from engines.speech.piper_engine import PiperEngine
    from engines.speech.request import SpeechRequest
    from engines.voices import transcribe
    from engines.voices.embedding import embed

    piper = PiperEngine()  # its own: a shared engine may hold an older export of this file
    clips = []
    for text in prompts:
        audio = piper.raw(text, SpeechRequest(text, voice=str(onnx), seed=0))
        clips.append(AudioClip(np.asarray(audio, np.float32), piper.sample_rate))
    heard: list[str] = []
    wer: float | None = None
    if transcribe.unavailable_reason() is None:
        from engines.speech.clone import word_error_rate

        heard = [transcribe.transcribe(c, language=language) for c in clips]
        wer = float(np.mean([word_error_rate(t, h) for t, h in zip(prompts, heard, strict=True)]))
    joined = AudioClip(np.concatenate([c.mono().samples[0] for c in clips]), clips[0].sample_rate)
    try:
        similarity = float(np.dot(embed(joined), target))
    except Exception:  # noqa: BLE001 - e.g. a noise-only voice too short to embed
        similarity = 0.0
    return VoiceScore(None if wer is None else round(wer, 4), round(similarity, 4), heard)


def check_voice(
    bank: VoiceBank,
    onnx: Path,
    held_out: list[str],
    language: str,
    base_onnx: Path | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> GateReport:
    prompts = held_out_prompts(bank, held_out)
    progress(Progress(0, 3, "checking: the bank's voice"))
    target = bank_embedding(bank)
    if cancel is not None:
        cancel.check()
    progress(Progress(1, 3, "checking: the trained voice"))
    trained = score_voice(onnx, prompts, target, language)
    base = None
    if base_onnx is not None:
        if cancel is not None:
            cancel.check()
        progress(Progress(2, 3, "checking: the base voice"))
        base = score_voice(base_onnx, prompts, target, language)
    progress(Progress(3, 3, "checked"))
    return GateReport(prompts, trained, base)
