"""Chatterbox (Resemble AI, MIT): neural zero-shot cloning from a few seconds of reference.

Neither its weights nor a torch-compatible build of its package ship with the studio:
the user installs the weights through the model manager (``ResembleAI/chatterbox`` in the
model store) and the ``chatterbox-tts`` package. Until both are there the engine is listed
as unavailable with the reason. Before anything is handed to torch the checkpoint folder
is checked: the three networks must be safetensors files (read without executing code),
and the one pickle file, the built-in voice ``conds.pt``, is only ever opened with
``torch.load(weights_only=True)`` by the package.

Emotion maps onto Chatterbox's own *exaggeration* control, stability onto its sampling
temperature; rate and pitch go through the shared post-process like every engine.

The package's ``generate`` is not called: it has no cap on speech tokens but a fixed 1,000
(a random or confused model never stops), no way to report or cancel between tokens, and it
applies its own Perth watermark, which the studio's :func:`engines.watermark.finalize_take`
would then mark a second time after rate, pitch and level change the audio. :meth:`speak`
runs the same steps with the package's own pieces (``punc_norm``, its tokenizer, T3's
``inference``, S3Gen's ``inference``) and leaves the one watermark to ``finalize_take``.
``--model debug`` is a tiny random Chatterbox (:mod:`engines.speech.chatterbox_tiny`)
loaded through the same ``from_local``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput, ModelMissing
from engines.speech.pipeline import SpeechEngine, StreamStats
from engines.speech.request import SpeechRequest

REPO_ID = "ResembleAI/chatterbox"
NETWORKS = {  # file: a key prefix every real checkpoint of that network has
    "ve.safetensors": "lstm.",
    "t3_cfg.safetensors": "tfmr.",
    "s3gen.safetensors": "flow.",
}
REQUIRED = (*NETWORKS, "tokenizer.json")
SAMPLE_RATE = 24_000
EXAGGERATION = {"neutral": 0.5, "calm": 0.3, "sad": 0.35, "happy": 0.7, "excited": 0.9}
MAX_NEW_TOKENS = 1000  # the package's own cap per chunk (40 s of speech at 25 tokens a second)
CFG_WEIGHT = 0.5  # the package's default classifier-free guidance
KEPT_VOICES = 8  # conditionals kept per engine (a podcast alternates a few voices)


def unavailable_reason(
    required: tuple[str, ...] = REQUIRED, repo: str = REPO_ID, name: str = "chatterbox"
) -> str | None:
    """Why Chatterbox (the model whose files are ``required``) cannot run here (cheap:
    package metadata and the model store)."""
    from engines import modelstore

    if not modelstore.is_installed(repo, required):
        return (
            f"weights not installed — download {name} in the model manager "
            f"(timbre models download {name}) or import its folder ({repo})"
        )
    if importlib.util.find_spec("chatterbox") is None:
        return "the chatterbox-tts package is not installed (pip install chatterbox-tts --no-deps)"
    return None


def verify_checkpoint(
    folder: Path, required: tuple[str, ...] = REQUIRED, networks: dict[str, str] = NETWORKS
) -> None:
    """Refuse a folder that is not a Chatterbox checkpoint, before torch sees any of it:
    every ``required`` file there, each of ``networks`` a safetensors file with its keys."""
    from safetensors import SafetensorError, safe_open

    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        raise ModelMissing(
            f"The Chatterbox weights in {folder} lack {', '.join(missing)}; "
            f"download {REPO_ID} again in the model manager."
        )
    for name, prefix in networks.items():
        try:
            with safe_open(str(folder / name), framework="numpy") as handle:
                keys = list(handle.keys())
        except (SafetensorError, OSError, ValueError) as exc:
            raise BadInput(
                f"{name} in {folder} is not a safetensors file ({exc}); Chatterbox weights are "
                f"loaded only from safetensors. Download {REPO_ID} again."
            ) from exc
        if not any(k.startswith(prefix) for k in keys):
            raise BadInput(
                f"{name} in {folder} does not hold Chatterbox's network (no '{prefix}*' "
                f"weights); download {REPO_ID} again."
            )


def _reference_key(reference: Any) -> str:
    """Identity of a reference recording by content (ids of freed objects are reused)."""
    mono = np.ascontiguousarray(reference.mono().samples, np.float32)
    return hashlib.sha1(mono.tobytes() + str(reference.sample_rate).encode()).hexdigest()


def _quiet_sampling_bar() -> None:
    """T3 draws a tqdm bar on stderr per sentence; the studio reports its own progress
    (per token, through :class:`_StepProgress`), so the package's bar is turned off."""
    import functools

    import chatterbox.models.t3.t3 as t3_module
    from tqdm import tqdm

    t3_module.tqdm = functools.partial(tqdm, disable=True)


class _StepProgress:
    """Forwards the pipeline's progress and adds Chatterbox's per-token steps in between.

    Units are the pipeline's (characters of text spoken). Synthesis runs a sentence ahead of
    the pipeline's own reports, so what is forwarded never goes backwards.
    """

    def __init__(self, sink: ProgressCallback) -> None:
        self._sink = sink
        self.done = 0.0
        self.total = 0.0

    def __call__(self, p: Progress) -> None:
        if p.stage == "speaking":
            self.total = p.total
            self.done = max(self.done, p.done)
            p = Progress(self.done, p.total, p.stage)
        self._sink(p)

    def step(self, done: float) -> None:
        if self.total > 0 and done > self.done:
            self.done = min(done, self.total)
            self._sink(Progress(self.done, self.total, "speaking"))


class ChatterboxEngine(SpeechEngine):
    """Chatterbox English; :mod:`engines.speech.chatterbox_multilingual` subclasses it with
    the other model's files, loader and tokenizer (the class attributes below)."""

    name = "chatterbox"
    label = "Chatterbox (zero-shot cloning)"
    model_id = REPO_ID
    sample_rate = SAMPLE_RATE
    default_voice = "builtin"
    variant = "english"  # the tiny checkpoint --model debug builds (chatterbox_tiny.VARIANTS)
    tts_module, tts_class = "chatterbox.tts", "ChatterboxTTS"  # the package's model and loader
    required: tuple[str, ...] = REQUIRED
    networks: dict[str, str] = NETWORKS
    repetition_penalty = 1.2  # the package's default for this model
    debug_repo = "timbre/chatterbox-debug"  # the model id --model debug records
    # ~3 s of speech: the first audio comes after one short clause, not a whole sentence
    # (T3 makes 25 tokens a second of speech, one backbone call each).
    first_chunk_chars = 80
    repo_id = REPO_ID  # where the model manager installs its weights

    def __init__(self, model: str | None = None) -> None:
        """``model``: None (the installed ``ResembleAI/chatterbox``), ``"debug"`` (a tiny
        random model built on first use: noise, for testing) or a checkpoint folder."""
        super().__init__()
        self.model = model
        self.model_id = self.repo_id
        self._model: Any = None
        self._folder: Path | None = None
        self._builtin: Any = None  # the checkpoint's own voice (conds.pt), if it has one
        self._voices: dict[str, Any] = {}  # reference content → its conditionals
        self.max_new_tokens = MAX_NEW_TOKENS
        self._steps = _StepProgress(no_progress)
        self._cancel: CancelToken | None = None
        self._chars_synthesised = 0
        self._conditioned: SpeechRequest | None = None  # the request the model is set up for
        if model not in (None, "debug", self.repo_id) and not Path(model).is_dir():
            raise BadInput(
                f"'{model}' is not a {self.label} model: use 'debug' (a tiny test model), "
                f"{self.repo_id} (installed through the model manager) or a checkpoint folder."
            )
        if model == "debug":
            self.model_id = self.debug_repo

    # --- loading -----------------------------------------------------------------------
    def _checkpoint(self) -> Path:
        if self.model == "debug":
            if importlib.util.find_spec("chatterbox") is None:
                raise ModelMissing(
                    "the chatterbox-tts package is not installed (run make setup)."
                )
            self._prepare_imports()
            from engines.speech.chatterbox_tiny import ensure_debug_checkpoint

            return ensure_debug_checkpoint(self.variant)
        if self.model not in (None, self.repo_id):
            return Path(self.model)
        from engines import modelstore

        modelstore.configure_hub_env()
        return modelstore.require(self.repo_id, self.label, self.required)

    @staticmethod
    def _prepare_imports() -> None:
        """The torchaudio stand-in must come first: chatterbox and s3tokenizer import it;
        and the hub offline before huggingface_hub is imported (the multilingual tokenizer
        asks the hub for a file and would otherwise retry for a minute)."""
        from engines import modelstore
        from engines._standins import install

        modelstore.configure_hub_env()
        install()

    def _load(self) -> None:
        folder = self._checkpoint()
        verify_checkpoint(folder, self.required, self.networks)
        if importlib.util.find_spec("chatterbox") is None:
            raise ModelMissing(
                unavailable_reason(self.required, self.repo_id) or "chatterbox-tts is not installed."
            )
        self._prepare_imports()
        import torch

        from engines.devices import choose_device
        from engines.speech.chatterbox_tiny import read_config, tiny_classes

        tts = getattr(importlib.import_module(self.tts_module), self.tts_class)
        tiny = read_config(folder)
        sizes = tiny_classes(tiny, self.tts_module) if tiny else contextlib.nullcontext()
        # perth (built by the package's model) prints to stdout, which would corrupt CLI output
        with sizes, contextlib.redirect_stdout(io.StringIO()), torch.random.fork_rng([]):
            torch.manual_seed(0)  # nothing random should depend on the load order
            self._model = tts.from_local(folder, choose_device())
        _quiet_sampling_bar()
        if tiny:
            self.max_new_tokens = int(tiny["max_new_tokens"])
        self._folder = folder
        self._builtin = self._model.conds
        self.sample_rate = int(self._model.sr)

    def unload(self) -> None:
        self._model = None
        self._builtin = None
        self._voices.clear()
        self._conditioned = None
        super().unload()

    def voices(self) -> list[str]:
        return ["builtin"]

    def model_version(self) -> str:
        if self.model == "debug":
            from engines.speech.chatterbox_tiny import VARIANTS

            return f"debug-v{VARIANTS[self.variant][1]}"
        return self._folder.name if self._folder else ""

    # --- one request ---------------------------------------------------------------------
    def stream(
        self,
        request: SpeechRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        stats: StreamStats | None = None,
    ) -> Iterator[Any]:
        """The pipeline's stream, with progress and cancel reaching every speech token."""
        self._steps = _StepProgress(progress)
        self._cancel = cancel
        yield from super().stream(request, self._steps, cancel, stats)

    def _begin(self, request: SpeechRequest) -> None:
        self._chars_synthesised = 0
        self._conditioned = None

    def _condition(self, request: SpeechRequest) -> None:
        """Condition the model on the reference voice (once per reference, kept for reuse):
        from a zero-shot clone's stored conditionals when the request has them."""
        if request.reference is None:
            if self._builtin is None:
                raise BadInput("Chatterbox needs a reference voice: speak with --voice NAME.")
            self._model.conds = self._builtin
            return
        key = _reference_key(request.reference)
        if key not in self._voices:
            from engines.speech.chatterbox_conds import conditionals_from_bytes, conditionals_model

            stored = request.conditionals
            if stored is not None and conditionals_model(stored) == self.model_id:
                conds = conditionals_from_bytes(stored, self._model.device)
            else:  # none stored, or made with another model (e.g. --model debug): made afresh
                conds = self.conditionals_for(request.reference, EXAGGERATION.get(request.emotion, 0.5))
            if len(self._voices) >= KEPT_VOICES:
                self._voices.pop(next(iter(self._voices)))
            self._voices[key] = conds
        self._model.conds = self._voices[key]

    def conditionals_for(self, reference: Any, exaggeration: float = 0.5) -> Any:
        """The package's ``prepare_conditionals`` on a reference recording: its
        ``Conditionals`` (speaker embedding, prompt speech tokens, S3Gen's prompt)."""
        import tempfile

        from engines.audio_io import write_audio

        self.load()
        self._conditioned = None  # the model's conditionals are about to change
        with tempfile.TemporaryDirectory(prefix="timbre-chatterbox-") as tmp:
            path = Path(tmp) / "reference.wav"
            write_audio(path, reference.mono())
            self._model.prepare_conditionals(str(path), exaggeration=exaggeration)
        return self._model.conds

    def _synth(self, text: str, request: SpeechRequest) -> np.ndarray:
        import torch

        if self._conditioned is not request:  # once per request: hashing the reference
            self._condition(request)  # and finding its conditionals cost a chunk's worth of work
            self._conditioned = request
        # the chunk's own seed: reproducible whether it is spoken alone (raw) or in a text
        seed = (int(request.seed or 0) * 1_000_003 + zlib.crc32(text.encode())) % 2**63
        start = self._chars_synthesised
        cap = self.max_new_tokens
        steps = 0

        def on_step(*_: Any) -> None:  # one call of T3's backbone = one speech token
            nonlocal steps
            if self._cancel is not None:
                self._cancel.check()
            steps += 1
            self._steps.step(start + len(text) * min(steps, cap) / (cap + 1))

        hook = self._model.t3.tfmr.register_forward_hook(on_step)
        try:
            with torch.random.fork_rng([]):
                torch.manual_seed(seed)
                wav = self.speak(
                    text,
                    exaggeration=EXAGGERATION.get(request.emotion, 0.5),
                    temperature=0.5 + 0.6 * (1.0 - request.stability),
                    language=request.language,
                )
        finally:
            hook.remove()
        self._chars_synthesised = start + len(text)
        return wav

    def _text_tokens(self, text: str, language: str | None) -> Any:
        """The package's text normalisation and tokenizer for this model (English: no
        language tag)."""
        from chatterbox.tts import punc_norm

        return self._model.tokenizer.text_to_tokens(punc_norm(text))

    def speak(
        self, text: str, exaggeration: float = 0.5, temperature: float = 0.8,
        language: str | None = None,
    ) -> np.ndarray:
        """The package's ``generate`` without its watermark and with :attr:`max_new_tokens`.

        Same steps as the package's: normalised punctuation, text tokens with start and stop
        tokens (doubled for classifier-free guidance), T3's speech tokens, S3Gen's waveform.
        """
        import torch
        import torch.nn.functional as F
        from chatterbox.models.s3tokenizer import SPEECH_VOCAB_SIZE, drop_invalid_tokens
        from chatterbox.models.t3.modules.cond_enc import T3Cond

        model = self._model
        cond = model.conds.t3
        if float(cond.emotion_adv[0, 0, 0]) != exaggeration:
            model.conds.t3 = T3Cond(
                speaker_emb=cond.speaker_emb,
                cond_prompt_speech_tokens=cond.cond_prompt_speech_tokens,
                emotion_adv=exaggeration * torch.ones(1, 1, 1),
            ).to(device=model.device)
        tokens = self._text_tokens(text, language).to(model.device)
        tokens = torch.cat([tokens, tokens], dim=0)  # conditional and unconditional rows
        tokens = F.pad(tokens, (1, 0), value=model.t3.hp.start_text_token)
        tokens = F.pad(tokens, (0, 1), value=model.t3.hp.stop_text_token)
        with torch.inference_mode():
            speech = model.t3.inference(
                t3_cond=model.conds.t3,
                text_tokens=tokens,
                max_new_tokens=self.max_new_tokens,
                temperature=temperature,
                cfg_weight=CFG_WEIGHT,
                repetition_penalty=self.repetition_penalty,
                min_p=0.05,
                top_p=1.0,
            )
            speech = drop_invalid_tokens(speech[0])
            speech = speech[speech < SPEECH_VOCAB_SIZE].to(model.device)
            if speech.numel() == 0:
                return np.zeros(0, np.float32)
            wav, _ = model.s3gen.inference(speech_tokens=speech, ref_dict=model.conds.gen)
        return np.asarray(wav.squeeze(0).detach().cpu().numpy(), np.float32)
