"""Voice conversion with Chatterbox: any recording re-spoken in a library voice.

Chatterbox's ``ChatterboxVC`` is S3Gen alone: the source is cut into speech tokens by
S3Gen's own tokenizer (16 kHz in), which keep what is said and how it is timed but not who
says it, and S3Gen's flow decoder and vocoder speak those tokens again conditioned on the
target voice's reference (24 kHz out). So the output is as long as the input.

Converting into a library voice is cloning it, so it needs the voice's consent record
exactly as speaking with it does: the voice is resolved through
:func:`engines.speech.voices.resolve` for Chatterbox, which calls ``require_consent`` and
hands back the reference audio and the consent record for the take's provenance.

As in :mod:`engines.speech.chatterbox_engine`, the package's ``generate`` is not called: it
reads files through librosa, cannot report progress or be cancelled, and applies its own
Perth watermark, which :func:`engines.watermark.finalize_take` would then mark a second
time. :meth:`ChatterboxConverter.convert` runs its steps with the package's pieces and
leaves the one watermark to ``finalize_take``. The model is loaded through the package's
``ChatterboxVC.from_local`` from the same checkpoint folder as Chatterbox speech (it reads
``s3gen.safetensors`` and, if present, ``conds.pt``); ``model="debug"`` is the tiny random
checkpoint of :mod:`engines.speech.chatterbox_tiny`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput, ModelMissing
from engines.provenance import GeneratedTake, Provenance

ENGINE_NAME = "chatterbox-vc"
REPO_ID = "ResembleAI/chatterbox"
REQUIRED = ("s3gen.safetensors",)
TOKEN_RATE = 16_000  # S3Gen's tokenizer reads 16 kHz
SAMPLE_RATE = 24_000  # S3Gen speaks at 24 kHz
REFERENCE_S = 10.0  # ChatterboxVC.DEC_COND_LEN: S3Gen conditions on up to 10 s of the voice
# Converted a segment at a time: progress and cancel between segments, and memory bounded
# for long recordings (the tokenizer and the flow decoder hold the whole segment at once).
SEGMENT_S = 20.0
CFM_STEPS = 10  # S3Gen's flow-matching steps per segment (its default)
MAX_SOURCE_S = 3600.0  # one take is held in memory whole: an hour at 24 kHz is ~350 MB


@dataclass
class ConvertRequest:
    """One conversion: the recording, the target voice's reference and its consent."""

    source: AudioClip
    reference: AudioClip
    voice_label: str
    consent: dict[str, Any]
    source_name: str = ""
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The job row's copy (audio left out)."""
        return {"source": self.source_name, "voice": self.voice_label, "seed": self.seed,
                "source_s": round(self.source.duration, 3)}


def convert_request(source: Path, voice: str, seed: int | None = None) -> ConvertRequest:
    """The request for ``timbre convert``: the source read (refused if missing or not
    audio) and the library voice resolved with its consent (refused without)."""
    from engines.audio_io import read_audio

    return clip_request(read_audio(source), source.name, voice, seed)


def clip_request(clip: AudioClip, name: str, voice: str, seed: int | None = None) -> ConvertRequest:
    """The request to re-speak ``clip`` (a file's audio, or a clip of the studio's
    timeline, called ``name``) in the library ``voice``, whose consent it requires."""
    from engines.speech.voices import resolve
    from engines.voices.library import open_library

    if clip.duration > MAX_SOURCE_S:
        raise BadInput(
            f"{name} is {clip.duration / 60:.0f} minutes long; convert at most "
            f"{MAX_SOURCE_S / 60:.0f} minutes at a time (split the recording)."
        )
    if not open_library().exists(voice):
        raise BadInput(
            f"There is no library voice called '{voice}' (timbre voice list); conversion "
            "re-speaks a recording in a voice of your library that has a consent recording."
        )
    fields = resolve(voice, "chatterbox").fields  # require_consent: ConsentRequired if none
    return ConvertRequest(clip, fields["reference"], fields["voice_label"], fields["consent"], name, seed)


def _verify_s3gen(folder: Path) -> None:
    """Refuse a folder without S3Gen's weights as safetensors, before torch sees it."""
    from safetensors import SafetensorError, safe_open

    path = folder / "s3gen.safetensors"
    if not path.is_file():
        raise ModelMissing(
            f"The Chatterbox weights in {folder} lack s3gen.safetensors; download {REPO_ID} "
            "again in the model manager."
        )
    try:
        with safe_open(str(path), framework="numpy") as handle:
            ok = any(k.startswith("flow.") for k in handle.keys())  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInput(f"{path} is not a safetensors file ({exc}); download {REPO_ID} again.") from exc
    if not ok:
        raise BadInput(f"{path} does not hold Chatterbox's S3Gen; download {REPO_ID} again.")


class ChatterboxConverter:
    """Loads ``ChatterboxVC`` once and converts requests into watermarked takes.

    Has the engine interface :func:`desktop.session.run_job` drives (``loaded``, ``load``,
    ``generate``), so a conversion is a job like any other: job row, watermark decision,
    storing in a project.
    """

    name = ENGINE_NAME
    sample_rate = SAMPLE_RATE

    def __init__(self, model: str | None = None) -> None:
        """``model``: None (the installed ``ResembleAI/chatterbox``), ``"debug"`` (the tiny
        random model: noise, for testing) or a checkpoint folder."""
        if model not in (None, "debug", REPO_ID) and not Path(model).is_dir():
            raise BadInput(
                f"'{model}' is not a Chatterbox model: use 'debug' (a tiny test model), "
                f"{REPO_ID} (installed through the model manager) or a checkpoint folder."
            )
        self.model = model
        self.model_id = REPO_ID
        self._vc: Any = None
        self._folder: Path | None = None
        if model == "debug":
            from engines.speech.chatterbox_tiny import DEBUG_REPO

            self.model_id = DEBUG_REPO

    @property
    def loaded(self) -> bool:
        return self._vc is not None

    def _checkpoint(self) -> Path:
        if importlib.util.find_spec("chatterbox") is None:
            raise ModelMissing(
                "the chatterbox-tts package is not installed (pip install chatterbox-tts --no-deps)"
            )
        from engines._standins import install

        install()  # chatterbox and s3tokenizer import torchaudio: the stand-in provides it
        if self.model == "debug":
            from engines.speech.chatterbox_tiny import ensure_debug_checkpoint

            return ensure_debug_checkpoint()
        if self.model not in (None, REPO_ID):
            return Path(self.model)
        from engines import modelstore

        modelstore.configure_hub_env()
        return modelstore.require(REPO_ID, "Chatterbox", REQUIRED)

    def load(self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None) -> None:
        """Build S3Gen through the package's ``ChatterboxVC.from_local``."""
        folder = self._checkpoint()
        _verify_s3gen(folder)
        import torch
        from chatterbox.vc import ChatterboxVC

        from engines.devices import choose_device
        from engines.speech.chatterbox_tiny import read_config, tiny_vc_classes

        tiny = read_config(folder)
        sizes = tiny_vc_classes(tiny) if tiny else contextlib.nullcontext()
        # perth (built by ChatterboxVC) prints a banner to stdout, which would corrupt CLI output
        with sizes, contextlib.redirect_stdout(io.StringIO()), torch.random.fork_rng([]):
            torch.manual_seed(0)
            self._vc = ChatterboxVC.from_local(folder, choose_device())
        self._folder = folder

    def model_version(self) -> str:
        if self.model == "debug":
            from engines.speech.chatterbox_tiny import BUILD_VERSION

            return f"debug-v{BUILD_VERSION}"
        return self._folder.name if self._folder else ""

    def generate(
        self,
        request: ConvertRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[GeneratedTake]:
        """One take: the converted audio, watermarked once, with the voice and its consent."""
        from engines.watermark import finalize_take

        if not self.loaded:
            self.load(progress, cancel)
        seed = request.seed if request.seed is not None else random.randrange(2**31)
        started = time.perf_counter()
        samples = self.convert(request.source, request.reference, seed, progress, cancel)
        provenance = Provenance(
            engine=ENGINE_NAME,
            model_id=self.model_id,
            model_version=self.model_version(),
            prompt=f"voice conversion of {request.source_name or 'a recording'}",
            params={"source": request.source_name, "source_s": round(request.source.duration, 3),
                    "convert_s": round(time.perf_counter() - started, 3), **request.extra},
            seed=seed,
            device=str(self._vc.device),
            voice=request.voice_label,
            consent=request.consent,
        )
        return [finalize_take(AudioClip(samples[None, :], SAMPLE_RATE), provenance)]

    def convert(
        self,
        source: AudioClip,
        reference: AudioClip,
        seed: int = 0,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> np.ndarray:
        """``source`` re-spoken in ``reference``'s voice, 24 kHz mono, unwatermarked.

        The same steps as ``ChatterboxVC.generate``: the reference (its first 10 s) embedded
        by S3Gen, the source tokenised at 16 kHz, S3Gen's flow and vocoder. Progress is in
        seconds of source, reported per flow-matching step; cancel is checked at each.
        """
        import torch

        vc = self._vc
        s3gen = vc.s3gen
        voice = reference.mono().resampled(SAMPLE_RATE).samples[0]
        voice = voice[: int(REFERENCE_S * SAMPLE_RATE)]
        if voice.size < SAMPLE_RATE // 2:
            raise BadInput("The voice's reference is shorter than half a second; add more of it.")
        mono = source.mono().resampled(TOKEN_RATE).samples[0].astype(np.float32)
        total = len(mono) / TOKEN_RATE
        step = int(SEGMENT_S * TOKEN_RATE)
        pieces: list[np.ndarray] = []
        state = {"done": 0.0, "length": 0.0, "calls": 0}

        def on_step(*_: Any) -> None:  # the estimator's last layer: once per CFM step
            if cancel is not None:
                cancel.check()
            state["calls"] += 1
            fraction = min(state["calls"], CFM_STEPS) / (CFM_STEPS + 1)
            progress(Progress(state["done"] + state["length"] * fraction, total, "converting"))

        # the solver calls ``estimator.forward`` directly (no hooks), so its last layer is hooked
        hook = s3gen.flow.decoder.estimator.final_proj.register_forward_hook(on_step)
        try:
            with torch.inference_mode(), torch.random.fork_rng([]):
                torch.manual_seed(seed)
                ref_dict = s3gen.embed_ref(torch.from_numpy(voice.copy()), SAMPLE_RATE, device=vc.device)
                for index, start in enumerate(range(0, len(mono), step)):
                    if cancel is not None:
                        cancel.check()
                    segment = mono[start : start + step]
                    state.update(done=start / TOKEN_RATE, length=len(segment) / TOKEN_RATE, calls=0)
                    pieces.append(self._segment(segment, ref_dict, first=index == 0))
        finally:
            hook.remove()
        progress(Progress(total, total, "converting"))
        out = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return out[: round(len(mono) * SAMPLE_RATE / TOKEN_RATE)].astype(np.float32)

    def _segment(self, segment: np.ndarray, ref_dict: dict[str, Any], first: bool) -> np.ndarray:
        """One segment through tokenizer, flow and vocoder. S3Gen fades in the start of what
        it speaks (against spill-over from the reference); only the take's start gets that
        fade, or every segment boundary would dip to silence."""
        import torch

        s3gen = self._vc.s3gen
        wav = torch.from_numpy(np.ascontiguousarray(segment)).float().to(self._vc.device)[None]
        tokens, _ = s3gen.tokenizer(wav)
        if tokens.shape[-1] == 0:
            return np.zeros(round(len(segment) * SAMPLE_RATE / TOKEN_RATE), np.float32)
        mels = s3gen.flow_inference(tokens, ref_dict=ref_dict, n_cfm_timesteps=CFM_STEPS,
                                    finalize=True)
        audio, _ = s3gen.hift_inference(mels.to(dtype=s3gen.dtype), None)
        if first:
            audio[:, : len(s3gen.trim_fade)] *= s3gen.trim_fade
        out = np.asarray(audio.squeeze(0).detach().float().cpu().numpy(), np.float32)
        want = round(len(segment) * SAMPLE_RATE / TOKEN_RATE)  # tokens are 40 ms: pad the tail
        return np.pad(out[:want], (0, max(0, want - len(out))))
