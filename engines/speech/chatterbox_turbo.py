"""Chatterbox Turbo (Resemble AI, MIT): the faster English model, ``ResembleAI/chatterbox-turbo``.

The engine of :mod:`engines.speech.chatterbox_engine` on the package's ``ChatterboxTurboTTS``:
T3 on a GPT-2 backbone sampled without classifier-free guidance (``T3.inference_turbo``),
GPT-2's tokenizer, and S3Gen decoding with meanflow in 2 steps. Turbo has no exaggeration
control, so emotion reaches it only through the shared prosody post-process.

Two differences from the package's ``generate``, besides the one watermark and the token
cap it shares with the other Chatterbox engines: the reference is levelled to Turbo's
-27 LUFS here in float32 and ``prepare_conditionals`` is called with
``norm_loudness=False``, because the package's own levelling turns the audio into float64
under numpy 2, which its speech tokenizer then refuses; and a reference of 5 s or less is
refused in one line instead of the package's ``assert``.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from engines.errors import BadInput
from engines.speech.chatterbox_engine import ChatterboxEngine
from engines.speech.chatterbox_engine import unavailable_reason as _reason

REPO_ID = "ResembleAI/chatterbox-turbo"
NETWORKS = {"ve.safetensors": "lstm.", "t3_turbo_v1.safetensors": "tfmr.",
            "s3gen_meanflow.safetensors": "flow."}
REQUIRED = tuple(NETWORKS)  # and GPT-2 tokenizer files, read by transformers' AutoTokenizer
MIN_REFERENCE_S = 5.0  # ChatterboxTurboTTS.prepare_conditionals asserts longer than this
REFERENCE_LUFS = -27.0  # ChatterboxTurboTTS.norm_loudness's target
CFM_STEPS = 2  # Turbo's meanflow decoder steps (its generate's n_cfm_timesteps)


def unavailable_reason() -> str | None:
    return _reason(REQUIRED, REPO_ID, "chatterbox-turbo")


class ChatterboxTurboEngine(ChatterboxEngine):
    name = "chatterbox-turbo"
    label = "Chatterbox Turbo (fast English)"
    variant = "turbo"
    tts_module, tts_class = "chatterbox.tts_turbo", "ChatterboxTurboTTS"
    required = REQUIRED
    networks = NETWORKS
    repo_id = REPO_ID
    debug_repo = "timbre/chatterbox-turbo-debug"
    repetition_penalty = 1.2  # ChatterboxTurboTTS.generate's default

    def _load(self) -> None:
        """As the other engines, and the meanflow solver's tqdm bar off (it draws one per
        chunk on stderr; the studio reports its own progress)."""
        import functools

        super()._load()
        import chatterbox.models.s3gen.flow_matching as flow_matching
        from tqdm import tqdm

        flow_matching.tqdm = functools.partial(tqdm, disable=True)

    def conditionals_for(self, reference: Any, exaggeration: float = 0.5) -> Any:
        import tempfile
        from pathlib import Path

        from engines.audio import AudioClip
        from engines.audio_io import write_audio
        from engines.loudness import SILENCE_LUFS, mono_lufs

        mono = reference.mono()
        if mono.duration <= MIN_REFERENCE_S:
            raise BadInput(
                f"Chatterbox Turbo needs a reference longer than {MIN_REFERENCE_S:.0f} s and "
                f"this voice has {mono.duration:.1f} s; add a longer recording to the voice, "
                "or speak with --engine chatterbox."
            )
        samples = np.asarray(mono.samples[0], np.float32)
        loudness = mono_lufs(samples, mono.sample_rate)
        if loudness > SILENCE_LUFS:
            samples = samples * np.float32(10 ** ((REFERENCE_LUFS - loudness) / 20))
        self.load()
        with tempfile.TemporaryDirectory(prefix="timbre-chatterbox-") as tmp:
            path = Path(tmp) / "reference.wav"
            write_audio(path, AudioClip(samples, mono.sample_rate))
            self._model.prepare_conditionals(str(path), exaggeration=exaggeration,
                                             norm_loudness=False)
        return self._model.conds

    def speak(
        self, text: str, exaggeration: float = 0.5, temperature: float = 0.8,
        language: str | None = None,
    ) -> np.ndarray:
        """``ChatterboxTurboTTS.generate``'s steps without its watermark, with the cap."""
        import torch
        from chatterbox.models.s3gen.const import S3GEN_SIL
        from chatterbox.models.s3tokenizer import SPEECH_VOCAB_SIZE
        from chatterbox.tts_turbo import punc_norm

        model = self._model
        tokens = model.tokenizer(punc_norm(text), return_tensors="pt").input_ids.to(model.device)
        with torch.inference_mode():
            speech = model.t3.inference_turbo(
                t3_cond=model.conds.t3, text_tokens=tokens, temperature=temperature,
                top_k=1000, top_p=0.95, repetition_penalty=self.repetition_penalty,
                max_gen_len=self.max_new_tokens - 1,  # it samples one token before its loop
            )
            speech = speech[speech < SPEECH_VOCAB_SIZE].to(model.device)
            if speech.numel() == 0:
                return np.zeros(0, np.float32)
            silence = torch.tensor([S3GEN_SIL] * 3, dtype=torch.long, device=model.device)
            # its meanflow solver prints a line to stdout, which would corrupt CLI output
            with contextlib.redirect_stdout(io.StringIO()):
                wav, _ = model.s3gen.inference(speech_tokens=torch.cat([speech, silence]),
                                               ref_dict=model.conds.gen,
                                               n_cfm_timesteps=CFM_STEPS)
        return np.asarray(wav.squeeze(0).detach().cpu().numpy(), np.float32)
