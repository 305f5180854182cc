"""MusicGen and AudioGen engines: text (and audio) in, finished takes out.

Everything model-specific is audiocraft's own code, loaded through ``get_pretrained``; what
is added here is what a studio needs around it:

- one overall progress across audiocraft's windows (see :mod:`engines.music.plan`), and a
  cancel that takes effect within one step (the progress callback raises);
- reproducible seeds (a random one is drawn and recorded when none is given);
- continuation, melody conditioning, a seamless-loop option;
- loudness (−14 LUFS by default) or peak normalisation, the watermark, provenance;
- GPU out-of-memory → retry on the CPU, and unloading.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engines.audio import AudioClip
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.music.checkpoints import Source, resolve
from engines.openmp import torch_threads
from engines.provenance import GeneratedTake, Provenance

MAX_SECONDS = 300.0  # windowed extension up to five minutes
MAX_VARIATIONS = 8
NORMALIZE_CHOICES = ("loudness", "peak", "none")
LOOP_CROSSFADE_S = 0.5
log = logging.getLogger(__name__)
_DTYPES = {  # the LM's weights as each kernel holds them (engines.music.kernels)
    "mkl": "float32",
    "onednn": "float32",
    "gemv": "float32",
    "bf16": "bfloat16",
    "fp16-weight": "float16-weight",
    "int8-weight": "int8-weight",
    "int8-dynamic": "int8-dynamic",
    "int4-weight": "int4-weight-g32",
}


@dataclass(frozen=True)
class MusicRequest:
    """One generation: ``variations`` takes of ``duration`` seconds of new audio each."""

    prompt: str
    duration: float = 10.0
    variations: int = 1
    seed: int | None = None
    temperature: float = 1.0
    top_k: int = 250
    top_p: float = 0.0
    cfg_coef: float = 3.0
    continuation: AudioClip | None = None  # audio to continue (its tail is the prompt)
    melody: AudioClip | None = None  # melody checkpoints only
    loop: bool = False  # make the take loop seamlessly
    normalize: str = "loudness"  # "loudness" | "peak" | "none"
    target_lufs: float = -14.0
    peak_db: float = -1.0
    watermark: bool | None = None  # None: the user's setting
    # torch threads; None: as many as the job has (engines.openmp.fitted_threads). A take
    # records its count and regenerating uses it: some kernels split their sums by thread.
    # Not a user's setting: hidden from forms, flags and batch manifests.
    threads: int | None = field(default=None, metadata={"hidden": True})

    def validate(self) -> None:
        if not self.prompt.strip() and self.continuation is None:
            raise BadInput("Describe the sound you want (the prompt is empty).")
        if not 0.5 <= self.duration <= MAX_SECONDS:
            raise BadInput(
                f"Duration must be between 0.5 and {MAX_SECONDS:.0f} seconds; got {self.duration:g}."
            )
        if not 1 <= self.variations <= MAX_VARIATIONS:
            raise BadInput(f"Variations must be 1 to {MAX_VARIATIONS}; got {self.variations}.")
        if self.temperature <= 0:
            raise BadInput(f"Temperature must be above 0; got {self.temperature:g}.")
        if self.top_k < 0 or not 0.0 <= self.top_p <= 1.0:
            raise BadInput("top-k must be 0 or more and top-p between 0 and 1.")
        if self.cfg_coef < 0:
            raise BadInput(
                f"The guidance (cfg) coefficient must be 0 or more; got {self.cfg_coef:g}."
            )
        if self.normalize not in NORMALIZE_CHOICES:
            raise BadInput(
                f"Normalise by one of {', '.join(NORMALIZE_CHOICES)}, not '{self.normalize}'."
            )
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise BadInput("The seed must be a non-negative integer.")
        if self.loop and self.continuation is not None:
            raise BadInput("A loop cannot also continue a clip; choose one of the two.")
        if self.melody is not None and self.continuation is not None:
            raise BadInput("Continue a clip or follow a melody, not both at once.")
        if self.threads is not None and self.threads < 1:
            raise BadInput(f"Threads must be 1 or more; got {self.threads}.")

    def to_record(self) -> dict[str, Any]:
        """JSON-able summary for a project's job row (audio inputs by length only)."""
        record = {k: v for k, v in self.__dict__.items() if k not in ("continuation", "melody")}
        record["continuation_s"] = self.continuation.duration if self.continuation else None
        record["melody_s"] = self.melody.duration if self.melody else None
        return record


def seamless_loop(clip: AudioClip, frames: int, crossfade: int) -> AudioClip:
    """Fold the ``crossfade`` frames after ``frames`` back over the start (equal power).

    The result has ``frames`` frames, and playing it in a loop continues from its last
    frame into material that was generated to follow it, so the seam is inaudible.
    """
    x = clip.samples
    if x.shape[1] < frames + crossfade:
        raise ValueError("clip too short for the loop crossfade")
    t = np.linspace(0.0, np.pi / 2, crossfade, dtype=np.float32)
    out = x[:, :frames].copy()
    out[:, :crossfade] = x[:, :crossfade] * np.sin(t) + x[:, frames : frames + crossfade] * np.cos(
        t
    )
    return AudioClip(out, clip.sample_rate)


def normalise(clip: AudioClip, request: MusicRequest) -> AudioClip:
    from engines.loudness import normalize_loudness, peak_normalize

    if request.normalize == "loudness":
        return normalize_loudness(clip, request.target_lufs, max_true_peak_db=request.peak_db)
    if request.normalize == "peak":
        return peak_normalize(clip, request.peak_db)
    return clip


@contextlib.contextmanager
def _python_random(seed: int) -> Iterator[None]:
    """Seed Python's ``random`` meanwhile: demucs (melody stems) draws its time shift there,
    not from torch, so without this the same seed gives different melody takes."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


class AudiocraftEngine:
    """Shared by MusicGen and AudioGen; ``family`` picks the audiocraft class."""

    name = "audiocraft"
    family = "musicgen"

    def __init__(
        self,
        model: str | None = None,
        device: str | None = None,
        window_seconds: float | None = None,
        speed: str | None = None,
    ) -> None:
        from engines.music.fast import SPEEDS
        from engines.settings import get_setting

        speed = speed or str(get_setting("music/speed"))  # none given: the user's preference
        if speed not in SPEEDS:
            raise BadInput(f"Speed must be one of {', '.join(SPEEDS)}, not '{speed}'.")
        self.model_name = model
        self.device_wish = device
        self.window_seconds = window_seconds  # shorter windows than the model's: less memory
        # "fast" keeps the numerics; "reduced" (old name "int8") trades a measured little quality
        self.speed = "reduced" if speed == "int8" else speed
        self._speed_used = "stock"
        self._kernel = ""  # the kernel the linear layers run on (engines.music.kernels)
        self._kernel_used = ""  # ... in the last generation (another one for a batch)
        self._threads_used: int | None = None  # torch threads in the last generation
        self._agreement: Any = None  # the reduced kernel's measured agreement
        self._version = ""
        self._model: Any = None
        self._source: Source | None = None
        self._device = "cpu"
        self._lock = threading.Lock()

    # ---- loading -------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = resolve(self.model_name, self.family)
        return self._source

    def load(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> None:
        from engines.devices import choose_device

        if self._model is None:
            self._load_on(self.device_wish or choose_device(), progress)

    def _load_on(self, device: str, progress: ProgressCallback = no_progress) -> None:
        from engines.music.loading import load_pretrained, quiet_libraries

        quiet_libraries()
        source = self.source
        progress(Progress(0, 1, f"loading {self.model_label}"))
        if source.debug:
            from engines.music.tiny import build_debug_models

            build_debug_models(source.cache)
        model = load_pretrained(self.family, source.location, source.cache, device)
        if self.window_seconds is not None:
            if not 1.0 <= self.window_seconds <= model.max_duration:
                raise BadInput(
                    f"The window must be 1 to {model.max_duration:g} seconds for this model."
                )
            default_stride = model.extend_stride
            ratio = self.window_seconds / model.max_duration
            model.max_duration = self.window_seconds
            model.set_generation_params(extend_stride=default_stride * ratio)
        self._speed_used = self._apply_speed(model, device, progress)
        self._version = self._model_version()
        self._model, self._device = model, device
        progress(Progress(1, 1, f"loaded {self.model_label}"))

    def _apply_speed(self, model: Any, device: str, progress: ProgressCallback) -> str:
        """Swap in the cached attention and this machine's fastest kernels (measured once,
        see :mod:`engines.music.speed`) when the model allows; returns the speed used."""
        from engines.music import fast

        self._kernel, self._agreement = "", None
        if self.speed == "stock" or fast.can_accelerate(model.lm):
            return "stock"
        if device != "cpu":  # untested here (no GPU): the cached attention, torch's own GEMM
            fast.accelerate(model.lm, kernel="mkl")
            return "fast"
        from engines.music import speed

        with torch_threads(self._threads):
            fast.accelerate(model.lm, kernel="mkl")
            if speed.choice_key(model.lm) not in speed.load_cache()["choices"]:
                progress(Progress(0, 1, "timing this computer's kernels (once)"))
            choice = speed.choose(model.lm)
            kernel = None
            if self.speed in ("reduced", "int8"):
                fast.set_kernel(model.lm, choice.exact)
                if choice.reduced:
                    progress(Progress(0, 1, "checking the reduced-precision kernels (once)"))
                try:
                    kernel, seen = speed.pick_reduced(model, choice, self._model_key())
                except Exception:  # noqa: BLE001 - a check that cannot run keeps float32
                    log.warning("could not check the reduced kernels; using float32", exc_info=True)
                    fast.set_kernel(model.lm, choice.exact)
                    kernel, seen = None, []
                self._agreement = next((a for a in seen if a.kernel == kernel), None)
            fast.accelerate(model.lm, kernel=kernel or choice.exact, attention=choice.attention)
        self._kernel = kernel or choice.exact
        return "reduced" if kernel else "fast"

    def _kernel_for(self, model: Any, rows: int) -> contextlib.AbstractContextManager[str]:
        """The linear layers' kernel for a generation of ``rows`` rows (variations × CFG):
        the one chosen at that batch where a CPU kernel was chosen (no kernel: stock or a
        GPU), else the loaded one."""
        if not self._kernel:
            return contextlib.nullcontext(self._kernel)
        from engines.music import speed

        return speed.kernel_for_rows(model.lm, rows, self._kernel)

    @property
    def _threads(self) -> int | None:
        """Tiny models run fastest on one thread (thread hand-offs dominate their steps)."""
        return 1 if self.source.debug else None

    def _model_key(self) -> str:
        return f"{self.source.location} @ {self._model_version() or 'unversioned'}"

    def unload(self) -> None:
        from engines.devices import free_device_memory

        with self._lock:
            self._model = None
        free_device_memory(self._device)

    @property
    def model_label(self) -> str:
        ckpt = self.source.checkpoint
        return ckpt.label if ckpt else self.source.location

    @property
    def max_duration(self) -> float:
        return float(self._model.max_duration)

    @property
    def sample_rate(self) -> int:
        return int(self._model.sample_rate)

    def _model_version(self) -> str:
        """The snapshot revision (a commit or content hash) of the weights being loaded."""
        from pathlib import Path

        from engines import modelstore

        source = self.source
        if Path(source.location).is_absolute():  # a model folder used in place
            return modelstore.folder_revision(Path(source.location))
        ref = source.cache / ("models--" + source.location.replace("/", "--")) / "refs" / "main"
        return ref.read_text().strip() if ref.is_file() else ""

    def request_from_provenance(self, provenance: Provenance) -> MusicRequest:
        """The request a take was made with, switching to its model (for regeneration)."""
        p = provenance.params
        if p.get("continuation_s") or p.get("melody_s"):
            raise BadInput(
                "This take continued or followed another clip, which is not stored with it, "
                "so it cannot be regenerated from its provenance alone."
            )
        if provenance.model_id and provenance.model_id != self.source.location:
            self.unload()
            self.model_name, self._source = provenance.model_id, None
        wanted = "reduced" if p.get("speed") == "int8" else p.get("speed")
        if wanted in ("stock", "fast", "reduced") and wanted != self.speed:
            self.unload()
            self.speed = wanted
        fields = (
            "duration",
            "variations",
            "temperature",
            "top_k",
            "top_p",
            "cfg_coef",
            "loop",
            "normalize",
            "target_lufs",
            "threads",
        )
        values = {k: p[k] for k in fields if p.get(k) is not None}
        return MusicRequest(
            prompt=provenance.prompt,
            seed=provenance.seed,
            watermark=provenance.watermarked,
            **values,
        )

    # ---- generation ----------------------------------------------------------------
    def generate(
        self,
        request: MusicRequest,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[GeneratedTake]:
        from engines.devices import choose_device, run_with_oom_fallback

        request.validate()
        cancel = cancel or CancelToken()
        seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
        request = replace(request, seed=seed)
        with self._lock:
            device = (
                self._device if self._model is not None else (self.device_wish or choose_device())
            )

            def attempt(dev: str) -> list[AudioClip]:
                if self._model is None or self._device != dev:
                    self._model = None
                    self._load_on(dev, progress)
                return self._generate_clips(request, progress, cancel)

            clips, used = run_with_oom_fallback(
                attempt, device, notify=lambda m: progress(Progress(0, 1, m))
            )
        return self._finish(clips, request, used, progress)

    def _generate_clips(
        self, request: MusicRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> list[AudioClip]:
        import torch

        from engines.music.plan import plan_windows, total_steps

        model = self._model
        rate = model.sample_rate
        cancel.check()
        n = request.variations
        prompt_audio = self._prompt_audio(request)
        prompt_s = prompt_audio.duration if prompt_audio is not None else 0.0
        loop_xf = min(LOOP_CROSSFADE_S, request.duration / 4) if request.loop else 0.0
        total_s = prompt_s + request.duration + loop_xf
        if total_s > MAX_SECONDS + self.max_duration / 2:
            raise BadInput(f"Continuation plus new audio is limited to {MAX_SECONDS:.0f} seconds.")
        # audiocraft makes int(seconds × frame rate) frames: round up to whole frames (plus
        # two for the last window's rounding when windowed), and trim to the exact length later.
        frames = int(np.ceil(total_s * model.frame_rate - 1e-6))
        frames += 2 if total_s > self.max_duration else 0
        total_s = (frames + 0.5) / model.frame_rate
        model.set_generation_params(
            use_sampling=True,
            top_k=min(request.top_k, model.lm.card),
            top_p=request.top_p,
            temperature=request.temperature,
            duration=total_s,
            cfg_coef=request.cfg_coef,
            extend_stride=model.extend_stride,
        )
        prompt_tokens = int(np.ceil(prompt_s * model.frame_rate)) if prompt_audio is not None else 0
        windows = plan_windows(
            model.lm,
            model.frame_rate,
            total_s,
            model.max_duration,
            model.extend_stride,
            prompt_tokens,
        )
        total = total_steps(windows)
        done = 0
        stage = "generating" if len(windows) == 1 else f"generating ({len(windows)} windows)"

        def on_step(_generated: int, _to_generate: int) -> None:
            nonlocal done
            cancel.check()  # raising here stops audiocraft within this step
            done = min(done + 1, total)
            progress(Progress(done, total + 1, stage))

        model.set_custom_progress_callback(on_step)
        descriptions = [request.prompt or None] * n
        threads = self._threads or (request.threads and min(request.threads, os.cpu_count() or 1))
        try:
            with (
                torch.random.fork_rng(devices=[]),
                _python_random(request.seed),
                torch_threads(threads),
                torch.inference_mode(),
                self._kernel_for(model, 2 * n) as self._kernel_used,
            ):
                self._threads_used = torch.get_num_threads()
                torch.manual_seed(request.seed)
                if torch.cuda.is_available():
                    torch.cuda.manual_seed_all(request.seed)
                if prompt_audio is not None:
                    wav = torch.from_numpy(prompt_audio.samples).expand(n, -1, -1)
                    out = model.generate_continuation(wav, rate, descriptions, progress=True)
                elif request.melody is not None:
                    melody = self._melody_tensor(request.melody)
                    out = model.generate_with_chroma(
                        descriptions, melody.expand(n, -1, -1), rate, progress=True
                    )
                else:
                    out = model.generate(descriptions, progress=True)
        finally:
            model.set_custom_progress_callback(None)
        progress(Progress(total, total + 1, "finishing"))
        return [
            self._shape_take(out[i].float().cpu().numpy(), request, prompt_audio, loop_xf)
            for i in range(n)
        ]

    def _prompt_audio(self, request: MusicRequest) -> AudioClip | None:
        """The tail of the clip to continue, in the model's rate and channels."""
        if request.continuation is None:
            return None
        model = self._model
        clip = request.continuation.resampled(model.sample_rate).with_channels(model.audio_channels)
        keep = min(clip.duration, self.max_duration / 2)
        return clip.slice_seconds(clip.duration - keep)

    def _melody_tensor(self, melody: AudioClip) -> Any:
        import torch

        if "self_wav" not in self._model.lm.condition_provider.conditioners:
            raise BadInput(
                f"{self.model_label} cannot follow a melody; use musicgen-melody or "
                "musicgen-melody-large (or their stereo versions)."
            )
        clip = melody.resampled(self._model.sample_rate).with_channels(self._model.audio_channels)
        return torch.from_numpy(clip.samples)[None]

    def _shape_take(
        self, samples: np.ndarray, request: MusicRequest, prompt: AudioClip | None, loop_xf: float
    ) -> AudioClip:
        rate = self._model.sample_rate
        clip = AudioClip(samples, rate)
        if prompt is not None:
            # Keep the user's audio untouched and append only what was generated after it.
            original = request.continuation.resampled(rate).with_channels(clip.channels)
            new = clip.samples[:, prompt.frames :]
            return AudioClip(np.concatenate([original.samples, new], axis=1), rate)
        frames = int(round(request.duration * rate))
        if request.loop:
            return seamless_loop(clip, frames, int(round(loop_xf * rate)))
        return AudioClip(clip.samples[:, :frames], rate)

    def _finish(
        self, clips: list[AudioClip], request: MusicRequest, device: str, progress: ProgressCallback
    ) -> list[GeneratedTake]:
        from engines.watermark import finalize_take

        version = self._version
        ckpt = self.source.checkpoint
        takes = []
        for index, clip in enumerate(clips):
            clip = normalise(clip, request)
            params = {
                "duration": request.duration,
                "variations": request.variations,
                "variation": index + 1,
                "temperature": request.temperature,
                "top_k": request.top_k,
                "top_p": request.top_p,
                "cfg_coef": request.cfg_coef,
                "loop": request.loop,
                "normalize": request.normalize,
                "target_lufs": request.target_lufs if request.normalize == "loudness" else None,
                "continuation_s": request.continuation.duration if request.continuation else None,
                "melody_s": request.melody.duration if request.melody else None,
                "window_s": self.max_duration,
                "debug_model": self.source.debug,
                "speed": self._speed_used,
                "kernel": self._kernel_used or None,
                "threads": self._threads_used,
            }
            if self._agreement is not None:
                params["agreement"] = round(self._agreement.agreement, 4)
                params["max_logit_error"] = round(self._agreement.max_logit_error, 4)
                if self._agreement.cfg_agreement == self._agreement.cfg_agreement:  # not NaN
                    params["cfg_agreement"] = round(self._agreement.cfg_agreement, 4)
            prov = Provenance(
                engine=self.name,
                model_id=ckpt.repo_id if ckpt else self.source.location,
                model_version=version,
                prompt=request.prompt,
                params=params,
                seed=request.seed,
                device=device,
                dtype=_DTYPES.get(self._kernel, "float32" if device == "cpu" else "float16"),
            )
            takes.append(finalize_take(clip, prov, watermark=request.watermark))
            progress(Progress(index + 1, len(clips), "finishing"))
        return takes


class MusicGenEngine(AudiocraftEngine):
    name = "musicgen"
    family = "musicgen"


class AudioGenEngine(AudiocraftEngine):
    name = "audiogen"
    family = "audiogen"
