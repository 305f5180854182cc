"""Chatterbox Multilingual (Resemble AI, MIT): zero-shot cloning in 23 languages.

The same engine as :mod:`engines.speech.chatterbox_engine` (reference conditioning, per
token progress and cancel, one watermark, seeded chunks) on the package's other model,
``ChatterboxMultilingualTTS``: its files in ``ResembleAI/chatterbox`` (``t3_mtl23ls_v2``
safetensors; ``ve.pt`` and ``s3gen.pt``, which the package's ``from_local`` opens with
``torch.load(weights_only=True)``, so no code in them is ever run), its grapheme
tokenizer, which prefixes a ``[xx]`` language tag, and its sampling defaults. The request's
``language`` (``--language fr``, or the library voice's language) picks the tag; one the
model does not speak is refused in one line before anything loads.

Multilingual T3 also runs the package's ``AlignmentStreamAnalyzer`` (which ends a chunk
when attention says the text is done); it hooks three attention layers on every call and
never removes the hooks, so :meth:`ChatterboxMultilingualEngine.speak` removes the ones
its call added. ``--model debug`` is a tiny random multilingual checkpoint
(:func:`engines.speech.chatterbox_tiny.build_multilingual`).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from engines.errors import BadInput, ModelMissing
from engines.speech.chatterbox_engine import ChatterboxEngine
from engines.speech.chatterbox_engine import unavailable_reason as _reason
from engines.speech.request import SpeechRequest

T3_FILE = "t3_mtl23ls_v2.safetensors"
TOKENIZER_FILE = "grapheme_mtl_merged_expanded_v1.json"
CANGJIE_FILE = "Cangjie5_TC.json"  # Chinese → Cangjie codes (optional in a folder)
REQUIRED = ("ve.pt", T3_FILE, "s3gen.pt", TOKENIZER_FILE)
NETWORKS = {T3_FILE: "tfmr."}  # the other two are torch state dicts (weights_only)
ALIASES = {"nb": "no", "nn": "no", "iw": "he", "cmn": "zh"}  # common codes for its languages


def unavailable_reason() -> str | None:
    return _reason(REQUIRED, name="chatterbox-multilingual")


def supported_languages() -> dict[str, str]:
    """The package's own list: code → name (``ChatterboxMultilingualTTS``'s 23)."""
    if importlib.util.find_spec("chatterbox") is None:
        raise ModelMissing(
            "the chatterbox-tts package is not installed (pip install chatterbox-tts --no-deps)"
        )
    ChatterboxEngine._prepare_imports()  # torchaudio stand-in, hub offline
    import warnings

    with warnings.catch_warnings():  # perth's and diffusers' deprecation notes, not the user's
        warnings.simplefilter("ignore")
        from chatterbox.mtl_tts import SUPPORTED_LANGUAGES

    return dict(SUPPORTED_LANGUAGES)


def language_code(language: str | None) -> str:
    """``fr``, ``fr-FR``, ``pt_br`` … → the model's code, or :class:`BadInput` in one line."""
    supported = supported_languages()
    given = (language or "en").strip()
    code = given.lower().replace("_", "-").split("-")[0]
    code = ALIASES.get(code, code)
    if code not in supported:
        raise BadInput(
            f"Chatterbox Multilingual does not speak '{given}'; use one of its "
            f"{len(supported)} languages: {', '.join(sorted(supported))} (e.g. --language fr)."
        )
    return code


class ChatterboxMultilingualEngine(ChatterboxEngine):
    name = "chatterbox-multilingual"
    label = "Chatterbox Multilingual (23 languages)"
    variant = "multilingual"
    tts_module, tts_class = "chatterbox.mtl_tts", "ChatterboxMultilingualTTS"
    required = REQUIRED
    networks = NETWORKS
    repetition_penalty = 2.0  # ChatterboxMultilingualTTS.generate's default
    debug_repo = "timbre/chatterbox-multilingual-debug"

    def languages(self) -> list[str]:
        return sorted(supported_languages())

    def check_request(self, request: SpeechRequest) -> SpeechRequest:
        """Refuses a language the model does not speak before anything is loaded."""
        request = super().check_request(request)
        language_code(request.language)
        return request

    def _load(self) -> None:
        """The package's loader, with its tokenizer's hub look-up quiet: its warnings (no
        Chinese table in the hub cache, no pkuseg) would land on the CLI's stderr."""
        import logging

        log = logging.getLogger("chatterbox.models.tokenizers.tokenizer")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            super()._load()
        finally:
            log.setLevel(level)
        self._load_cangjie()

    def _load_cangjie(self) -> None:
        """The package's tokenizer looks for the Chinese table through the hub's cache only,
        so from a model folder (offline) it finds none; it is read from the folder here in
        the package's own format (``glyph<TAB>code`` lines in a JSON list)."""
        converter = getattr(self._model.tokenizer, "cangjie_converter", None)
        path = (self._folder or Path()) / CANGJIE_FILE
        if converter is None or converter.word2cj or not path.is_file():
            return
        for entry in json.loads(path.read_text(encoding="utf-8")):
            word, code = entry.split("\t")[:2]
            converter.word2cj[word] = code
            converter.cj2word.setdefault(code, []).append(word)

    def _text_tokens(self, text: str, language: str | None) -> Any:
        from chatterbox.mtl_tts import punc_norm

        code = language_code(language)
        return self._model.tokenizer.text_to_tokens(punc_norm(text), language_id=code)

    def speak(
        self, text: str, exaggeration: float = 0.5, temperature: float = 0.8,
        language: str | None = None,
    ) -> np.ndarray:
        layers = self._model.t3.tfmr.layers
        before = [set(layer.self_attn._forward_hooks) for layer in layers]
        try:
            return super().speak(text, exaggeration, temperature, language)
        finally:  # the alignment analyzer's hooks of this call (the package leaves them)
            for layer, kept in zip(layers, before, strict=True):
                hooks = layer.self_attn._forward_hooks
                for key in set(hooks) - kept:
                    del hooks[key]
