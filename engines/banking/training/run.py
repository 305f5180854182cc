"""Fine-tuning a Piper voice on a bank with piper's own trainer, resumably.

Everything for one bank lives in ``BANK/training/``::

    run.json             what this run is (base, steps, language, held-out prompts)
    dataset/             the bank's accepted takes in piper's format (engines.banking.export)
    cache/               piper's phoneme/audio/spectrogram cache (its VitsDataModule writes it)
    voice.onnx.json      the voice config piper's data module writes
    checkpoints/last.ckpt
                         a full Lightning checkpoint (weights, optimizers, loop state)

The model is piper's ``VitsModel`` (a Lightning module), the data piper's
``VitsDataModule``; only the Trainer is set up here: no logger or MOS download, a callback
that reports step, loss and time left, honours cancel, and writes ``last.ckpt`` every few
minutes (atomically: written beside and renamed), and again on cancel and at the end. A
killed run resumes from ``last.ckpt`` with Lightning's own restore (``weights_only``), so at
most the steps since the last checkpoint are repeated; ``restart=True`` starts over.

One *step* here is one batch: the generator and the discriminator each take an optimizer
step (Lightning counts both in ``global_step``, so ``max_steps`` is twice the steps).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engines.banking.bank import VoiceBank
from engines.cancel import CancelToken, Progress, ProgressCallback
from engines.errors import BadInput, Cancelled, DeviceUnavailable
from engines.files import write_text
from engines.provenance import now_iso

TRAINING = "training"
CHECKPOINT = "last.ckpt"
OPTIMIZER_STEPS_PER_STEP = 2  # generator + discriminator
MIN_TAKES = 6  # fewer cannot be split into training and held-out prompts


@dataclass
class TrainOptions:
    base: str = "auto"
    steps: int = 2000
    device: str = "cpu"
    batch_size: int = 16
    espeak_voice: str = ""  # default: the bank's (meta ``espeak_voice``) or en-us
    checkpoint_every_s: float = 300.0
    checkpoint_every_steps: int = 0  # 0: by time only
    held_out: int = 2  # accepted prompts kept out of training, spoken by the check
    restart: bool = False
    download: bool = True


@dataclass
class RunState:
    """``run.json``: enough to resume the same run, or to tell that options changed."""

    base: str
    base_checkpoint: str
    espeak_voice: str
    steps: int
    batch_size: int
    held_out: list[str]
    train_prompts: int
    train_seconds: float
    created: str = field(default_factory=now_iso)
    steps_done: int = 0
    last_loss: float | None = None
    seconds_per_step: float | None = None
    finished: bool = False

    @classmethod
    def load(cls, path: Path) -> RunState:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        write_text(path, json.dumps(asdict(self), indent=1))


@dataclass(frozen=True)
class TrainReport:
    folder: Path
    checkpoint: Path
    config: Path
    state: RunState
    resumed_from: int  # steps already done when this call started
    seconds: float


def training_dir(bank: VoiceBank) -> Path:
    return bank.path / TRAINING


def espeak_voice_of(bank: VoiceBank, override: str = "") -> str:
    return override or bank.meta("espeak_voice", "") or "en-us"


def _pick_device(device: str) -> str:
    import torch

    if device == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable(
                "--device cuda: no CUDA GPU is usable here (torch sees none); train with --device cpu."
            )
        return "gpu"
    if device != "cpu":
        raise BadInput(f"--device {device}: use cpu or cuda.")
    return "cpu"


def _held_out_ids(bank: VoiceBank, n: int) -> list[str]:
    """Every k-th accepted, non-red prompt (spread over the script), never trained on."""
    usable = [p.id for p, t in bank.accepted() if t.verdict != "red"]
    if len(usable) < MIN_TAKES:
        raise BadInput(
            f"{bank.path} has {len(usable)} usable takes; training needs at least {MIN_TAKES} "
            "(a useful voice needs 50 or more). Record more prompts first."
        )
    n = max(0, min(n, len(usable) // 4))
    if n == 0:
        return []
    stride = len(usable) / n
    return [usable[int(i * stride + stride / 2)] for i in range(n)]


def _prepare(bank: VoiceBank, opts: TrainOptions, say: Callable[[str], None], progress, cancel):
    from engines.banking.export import export_ljspeech
    from engines.banking.training import bases

    folder = training_dir(bank)
    state_path = folder / "run.json"
    if opts.restart and folder.exists():
        shutil.rmtree(folder)
    if state_path.is_file() and (folder / "checkpoints" / CHECKPOINT).is_file():
        state = RunState.load(state_path)
        if opts.base not in (bases.AUTO, state.base):
            say(f"continuing the run from base {state.base} (--restart to start over from {opts.base})")
        if opts.steps > state.steps:  # asking for more steps continues the same run
            state.steps, state.finished = opts.steps, False
            state.save(state_path)
        return folder, state
    if folder.exists():  # a run that never reached its first checkpoint: start it cleanly
        shutil.rmtree(folder)
    espeak_voice = espeak_voice_of(bank, opts.espeak_voice)
    base_name, base_path = bases.resolve(
        opts.base, espeak_voice, download=opts.download, say=say, progress=progress, cancel=cancel
    )
    held = _held_out_ids(bank, opts.held_out)
    report = export_ljspeech(
        bank, folder / "dataset", espeak_voice=espeak_voice, exclude=frozenset(held)
    )
    state = RunState(
        base=base_name,
        base_checkpoint=str(base_path),
        espeak_voice=espeak_voice,
        steps=opts.steps,
        batch_size=max(1, min(opts.batch_size, report.files)),
        held_out=held,
        train_prompts=report.files,
        train_seconds=round(report.seconds, 2),
    )
    state.save(state_path)
    return folder, state


def _data_module(folder: Path, state: RunState, model):
    from piper.train.vits.dataset import VitsDataModule

    hp = model.hparams
    return VitsDataModule(
        csv_path=folder / "dataset" / "metadata.csv",
        audio_dir=folder / "dataset" / "wavs",
        cache_dir=folder / "cache",
        espeak_voice=state.espeak_voice,
        config_path=folder / "voice.onnx.json",
        voice_name="voice",
        sample_rate=hp.sample_rate,
        num_symbols=hp.num_symbols,
        num_speakers=hp.num_speakers,
        batch_size=state.batch_size,
        validation_split=0.0,  # the held-out prompts are checked after training instead
        num_test_examples=0,
        filter_length=hp.filter_length,
        hop_length=hp.hop_length,
        win_length=hp.win_length,
        segment_size=hp.segment_size,
        num_workers=0,
        trim_silence=False,  # bank takes are already trimmed by the bank's own VAD
    )


def _callback(folder: Path, state: RunState, progress, cancel, opts: TrainOptions, say,
              until: int | None = None, stop_on_save: bool = False):
    """``until``: the step this fit stops at (a chunk's end; default the run's); with
    ``stop_on_save`` the fit also ends at its first periodic checkpoint (a Ray chunk)."""
    import lightning as L

    state_path = folder / "run.json"
    ckpt = folder / "checkpoints" / CHECKPOINT

    class Watch(L.Callback):
        """Progress, cancel and periodic checkpoints, once per training batch."""

        def __init__(self) -> None:
            self.started = time.monotonic()
            self.last_save = self.started
            self.steps_since_save = 0
            self.rate: float | None = state.seconds_per_step
            self.tick = self.started

        def save(self, trainer) -> None:
            part = ckpt.with_name(f".{CHECKPOINT}.{os.getpid()}.part")
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            trainer.save_checkpoint(part, weights_only=False)  # optimizers too
            os.replace(part, ckpt)
            state.steps_done = trainer.global_step // OPTIMIZER_STEPS_PER_STEP
            state.save(state_path)
            self.last_save, self.steps_since_save = time.monotonic(), 0

        def on_train_start(self, trainer, pl_module) -> None:
            if trainer.global_step:  # Lightning restored the checkpoint's loop state
                say(f"resumed at step {trainer.global_step // OPTIMIZER_STEPS_PER_STEP}")

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            self.tick = time.monotonic()  # data loading between steps is not counted

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            now = time.monotonic()
            took = now - self.tick
            self.rate = took if self.rate is None else 0.8 * self.rate + 0.2 * took
            state.seconds_per_step = round(self.rate, 4)
            step = trainer.global_step // OPTIMIZER_STEPS_PER_STEP
            loss = trainer.callback_metrics.get("loss_g")
            if loss is not None:
                state.last_loss = round(float(loss), 4)
            left = max(0, state.steps - step) * self.rate
            loss_text = f"loss {state.last_loss:.2f}, " if state.last_loss is not None else ""
            stopping = False
            try:  # a progress sink may itself raise Cancelled (the studio's does)
                progress(Progress(step, state.steps, f"training: {loss_text}{_duration(left)} left"))
            except Cancelled:
                stopping = True
            self.steps_since_save += 1
            due = now - self.last_save >= opts.checkpoint_every_s or (
                opts.checkpoint_every_steps and self.steps_since_save >= opts.checkpoint_every_steps
            )
            stopping = stopping or (cancel is not None and cancel.cancelled)
            end = step >= (state.steps if until is None else until)
            if due or stopping or end:
                self.save(trainer)
                stopping = stopping or (stop_on_save and bool(due))
            if stopping or end:
                trainer.should_stop = True

    return Watch()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _fit(folder: Path, state: RunState, opts: TrainOptions, accelerator: str,
         say: Callable[[str], None], progress: ProgressCallback, cancel: CancelToken | None,
         until: int | None = None, stop_on_save: bool = False) -> None:
    """Run piper's trainer in ``folder`` from its ``last.ckpt`` (or the base) until step
    ``until`` (default: the run's steps), updating ``state.steps_done``. The same code runs
    here and on a cluster's worker (:mod:`engines.banking.training.remote`)."""
    import logging
    import warnings

    from engines.banking.training import bases

    ckpt = folder / "checkpoints" / CHECKPOINT
    resumed_from = state.steps_done if ckpt.is_file() else 0

    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "piper.train"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import lightning as L

    L.seed_everything(1234, verbose=False)  # the same train split on every resume
    model = bases.model_from_checkpoint(
        Path(state.base_checkpoint), batch_size=state.batch_size
    )
    data = _data_module(folder, state, model)
    watch = _callback(folder, state, progress, cancel, opts, say, until, stop_on_save)
    trainer = L.Trainer(
        accelerator=accelerator,
        devices=1,
        max_steps=(state.steps if until is None else until) * OPTIMIZER_STEPS_PER_STEP,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[watch],
        default_root_dir=str(folder),
    )
    say(
        f"{'resuming from the last checkpoint' if resumed_from else 'training'} "
        f"from base {state.base}: {state.train_prompts} takes "
        f"({state.train_seconds / 60:.1f} min), {state.steps} steps, batch {state.batch_size}"
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        trainer.fit(
            model,
            datamodule=data,
            ckpt_path=str(ckpt) if ckpt.is_file() else None,
            weights_only=True,
        )
    state.steps_done = trainer.global_step // OPTIMIZER_STEPS_PER_STEP


def load_state(bank: VoiceBank) -> RunState | None:
    path = training_dir(bank) / "run.json"
    return RunState.load(path) if path.is_file() else None

