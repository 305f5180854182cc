"""Training on a Ray cluster (``timbre bank train --ray local|ADDRESS``), in chunks.

The training loop is the local one (:func:`engines.banking.training.run._fit`), run as a Ray
task through :mod:`engines.cluster` — asking for a GPU when the cluster has one, the device
chosen on the worker. No shared file system is assumed, so the run is cut into *chunks*:

1. the driver sends the bank's prepared training set (``dataset/``, a few MB per minute of
   speech), the run's state and the checkpoint to start from (the base's, or ``last.ckpt``);
2. the worker trains until its first periodic checkpoint is due (``--checkpoint-minutes``)
   or the chunk's last step, and returns the new checkpoint, piper's voice config and the
   losses;
3. the driver writes them atomically into the bank's ``training/`` folder — the same
   layout as a run on this machine — reports progress, and sends the next chunk, whose
   starting checkpoint is the previous chunk's result still in the cluster's object store
   (no second upload).

So a killed driver resumes from the last chunk like a killed local run; cancel (Ctrl-C)
stops the running task at once and keeps what the finished chunks made. A worker keeps the
run's files and piper's phoneme/spectrogram cache between chunks in a folder of its own.
Export, the check and the library stay on the driver.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from engines.banking.training.run import (
    CHECKPOINT,
    RunState,
    TrainOptions,
    _duration,
    _fit,
)
from engines.cancel import CancelToken, Progress, ProgressCallback
from engines.errors import Cancelled, DeviceUnavailable
from engines.files import atomic_write

POLL_S = 0.5  # how often the driver looks at cancel while a chunk runs
DEFAULT_CHUNK_STEPS = 0  # 0: a chunk ends at its first periodic checkpoint (by time)


@dataclass(frozen=True)
class Chunk:
    """One task's work: the run's state and options, and the step it stops at."""

    run_id: str
    state: dict[str, Any]
    opts: TrainOptions
    until: int
    from_base: bool  # the starting checkpoint is the base's (no last.ckpt yet)
    device: str  # cpu, cuda, or auto (a GPU when the task got one)


@dataclass
class ChunkResult:
    """What a chunk sends back: the new ``last.ckpt``, piper's voice config, the losses."""

    checkpoint: bytes
    config: bytes
    steps_done: int
    last_loss: float | None
    seconds_per_step: float | None
    device: str
    seconds: float
    messages: list[str] = field(default_factory=list)


def dataset_files(folder: Path) -> dict[str, bytes]:
    """The prepared training set (``dataset/``) as relative path → bytes."""
    root = folder / "dataset"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_id(folder: Path, state: RunState) -> str:
    return hashlib.sha256(f"{folder.resolve()}|{state.created}".encode()).hexdigest()[:16]


def plan_chunk(state: RunState, chunk_steps: int) -> int:
    """The step the next chunk stops at."""
    if chunk_steps <= 0:
        return state.steps
    return min(state.steps, state.steps_done + chunk_steps)


# ---- on the worker --------------------------------------------------------------------------
def _work_dir(run: str) -> Path:
    """This worker process's folder for the run, kept between chunks (piper's cache); the
    folders of worker processes that are gone (any run's) are removed."""
    root = Path(tempfile.gettempdir())
    for old in root.glob("timbre-train-*-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    work = root / f"timbre-train-{run}-{os.getpid()}"
    work.mkdir(exist_ok=True)
    return work


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_device(wanted: str) -> tuple[str, str]:
    """``(Lightning accelerator, device name)`` for this task; Ray hides the GPUs a task
    did not ask for, so torch sees one only when the task was given one."""
    import torch

    if wanted != "cpu" and torch.cuda.is_available():
        return "gpu", torch.cuda.get_device_name(0)
    if wanted == "cuda":
        raise DeviceUnavailable("--device cuda: the Ray worker sees no CUDA GPU; use a cluster "
                                "with a GPU node, or --device cpu.")
    return "cpu", "cpu"


def train_chunk(chunk: Chunk, dataset: dict[str, bytes],
                start: bytes | ChunkResult) -> ChunkResult:
    """Run on a worker: train from ``start`` until ``chunk.until`` or the first periodic
    checkpoint, and return the new checkpoint."""
    from engines.cancel import no_progress

    began = time.monotonic()
    accelerator, device = _worker_device(chunk.device)
    work = _work_dir(chunk.run_id)
    data = work / "dataset"
    for name, blob in dataset.items():
        target = data / name
        if not (target.is_file() and target.stat().st_size == len(blob)
                and target.read_bytes() == blob):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
    ckpt = work / "checkpoints" / CHECKPOINT
    ckpt.parent.mkdir(exist_ok=True)
    blob = start.checkpoint if isinstance(start, ChunkResult) else start
    state = RunState(**chunk.state)
    if chunk.from_base:
        ckpt.unlink(missing_ok=True)
        (work / "base.ckpt").write_bytes(blob)
        state.base_checkpoint = str(work / "base.ckpt")
    else:
        ckpt.write_bytes(blob)
        state.base_checkpoint = str(ckpt)  # its architecture; its weights are restored anyway
    messages: list[str] = []
    _fit(work, state, chunk.opts, accelerator, messages.append, no_progress, None,
         until=chunk.until, stop_on_save=True)
    result = ChunkResult(
        checkpoint=ckpt.read_bytes(), config=(work / "voice.onnx.json").read_bytes(),
        steps_done=state.steps_done, last_loss=state.last_loss,
        seconds_per_step=state.seconds_per_step, device=device,
        seconds=time.monotonic() - began, messages=messages,
    )
    ckpt.unlink(missing_ok=True)  # the largest file: the driver has it now
    return result


# ---- on the driver --------------------------------------------------------------------------
def save_chunk(folder: Path, state: RunState, result: ChunkResult) -> None:
    """The chunk's checkpoint and config into the run folder (atomically), then ``run.json``
    — the order a local run writes them in, so a kill between the two repeats one chunk."""
    ckpt = folder / "checkpoints" / CHECKPOINT
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(ckpt) as tmp:
        tmp.write_bytes(result.checkpoint)
    with atomic_write(folder / "voice.onnx.json") as tmp:
        tmp.write_bytes(result.config)
    state.steps_done = result.steps_done
    state.last_loss = result.last_loss
    state.seconds_per_step = result.seconds_per_step
    state.save(folder / "run.json")


def train_on_cluster(
    folder: Path,
    state: RunState,
    opts: TrainOptions,
    address: str,
    say: Callable[[str], None] = print,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    ray_temp: str | None = None,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
) -> None:
    """Train ``state``'s run on the cluster at ``address`` until its steps are done (or
    cancel), saving each chunk's checkpoint in ``folder``; ``state`` is updated."""
    from engines import cluster

    ckpt = folder / "checkpoints" / CHECKPOINT
    wanted = {"cpu": "cpu", "cuda": "cuda"}.get(opts.device, "auto")
    dataset = dataset_files(folder)
    run = run_id(folder, state)
    with cluster.connect(address, workers, ray_temp) as where:
        if wanted == "cuda" and not where.gpus:
            raise DeviceUnavailable(f"--device cuda: the Ray cluster at {where.address} has no "
                                    "GPU; use --device cpu or a cluster with a GPU node.")
        gpus = 0.0 if wanted == "cpu" else 1.0
        resources = where.resources(1.0, gpus)
        on = "a GPU" if resources["num_gpus"] else "a CPU"
        say(f"training on the Ray cluster at {where.address} ({on} worker), "
            f"{state.steps_done} of {state.steps} steps done")
        start: Any = ckpt.read_bytes() if ckpt.is_file() else Path(state.base_checkpoint).read_bytes()
        from_base = not ckpt.is_file()
        first = True
        while state.steps_done < state.steps:
            chunk = Chunk(run, asdict(state), replace(opts, restart=False),
                          plan_chunk(state, chunk_steps), from_base, wanted)
            handle = cluster.submit(train_chunk, chunk, dataset, start,
                                    cpus=resources["num_cpus"], gpus=resources["num_gpus"],
                                    name=f"timbre-train-{run}")
            try:
                while not cluster.wait([handle], POLL_S):
                    if cancel is not None and cancel.cancelled:
                        raise Cancelled()
                result: ChunkResult = cluster.result(handle)
            except BaseException:  # cancel, Ctrl-C twice, a lost worker: stop the task
                cluster.cancel([handle])
                raise
            if first:
                for line in result.messages:
                    say(line)
                say(f"worker device: {result.device}")
                first = False
            before = state.steps_done
            save_chunk(folder, state, result)
            if state.steps_done <= before:
                raise cluster.ClusterError(
                    f"a training chunk on the cluster made no progress (step {before})")
            start, from_base = handle, False  # the next chunk starts from this result
            if progress is not None:
                _report(progress, state)
            if cancel is not None and cancel.cancelled:
                return


def _report(progress: ProgressCallback, state: RunState) -> None:
    left = max(0, state.steps - state.steps_done) * (state.seconds_per_step or 0.0)
    loss = f"loss {state.last_loss:.2f}, " if state.last_loss is not None else ""
    progress(Progress(state.steps_done, state.steps, f"training: {loss}{_duration(left)} left"))
