"""Drive a training run to its step count: here (:func:`run._fit`) or on a Ray cluster in
chunks (:mod:`remote`). Apart from :mod:`run` because :mod:`remote` builds on ``run``'s loop
and state; this module sits over both.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from engines.banking.bank import VoiceBank
from engines.banking.training.remote import train_on_cluster
from engines.banking.training.run import (
    CHECKPOINT,
    TrainOptions,
    TrainReport,
    _fit,
    _pick_device,
    _prepare,
)
from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.errors import BadInput, Cancelled


def train(
    bank: VoiceBank,
    opts: TrainOptions | None = None,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    ray: str | None = None,
    workers: int | None = None,
    ray_temp: str | None = None,
) -> TrainReport:
    """Train (or resume training) the bank's voice until ``opts.steps`` steps are done;
    with ``ray`` (``"local"`` or a cluster address) the steps run on a cluster's worker."""
    opts = opts or TrainOptions()
    if opts.steps < 1:
        raise BadInput("--steps must be at least 1.")
    if not ray:
        _pick_device(opts.device)  # refused before anything is written
    folder, state = _prepare(bank, opts, say, progress, cancel)
    ckpt = folder / "checkpoints" / CHECKPOINT
    resumed_from = state.steps_done if ckpt.is_file() else 0
    started = time.monotonic()
    if ckpt.is_file() and state.steps_done >= state.steps:
        state.finished = True
        state.save(folder / "run.json")
        return TrainReport(folder, ckpt, folder / "voice.onnx.json", state, resumed_from, 0.0)

    if ray:
        try:
            train_on_cluster(folder, state, opts, ray, say=say, progress=progress,
                             cancel=cancel, workers=workers, ray_temp=ray_temp)
        except Cancelled:
            if cancel is None:  # the progress sink stopped it
                cancel = CancelToken()
            cancel.cancel()
    else:
        _fit(folder, state, opts, _pick_device(opts.device), say, progress, cancel)
    if cancel is not None and cancel.cancelled:
        state.save(folder / "run.json")
        raise Cancelled(
            f"Training stopped at step {state.steps_done} of {state.steps}; it is saved — train "
            "again (the same command, or Train my voice) to continue from there."
        )
    state.finished = state.steps_done >= state.steps
    state.save(folder / "run.json")
    if not math.isfinite(state.last_loss or 0.0):
        raise BadInput("Training diverged (the loss is not a number); retrain with --restart.")
    return TrainReport(
        folder, ckpt, folder / "voice.onnx.json", state, resumed_from, time.monotonic() - started
    )
