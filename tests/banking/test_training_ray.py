"""Training on a Ray cluster (``timbre bank train --ray``): the run cut into chunks whose
checkpoints come back to the bank's run folder. The chunk bookkeeping is checked quickly;
the real thing — a private Ray cluster on 127.0.0.1 training the tiny debug base in two
chunks, then a second command resuming — is slow (Ray start-up, Lightning, two fits)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from engines.banking.training.remote import (
    ChunkResult,
    dataset_files,
    plan_chunk,
    run_id,
    save_chunk,
)
from engines.banking.training.run import CHECKPOINT, RunState


def _state(**kw) -> RunState:
    base = dict(base="debug", base_checkpoint="/x/debug.ckpt", espeak_voice="en-us", steps=10,
                batch_size=2, held_out=["a"], train_prompts=8, train_seconds=20.0)
    return RunState(**{**base, **kw})


def test_chunks_end_where_the_run_does_and_each_lands_in_the_run_folder(tmp_path):
    state = _state(steps_done=3)
    assert plan_chunk(state, 0) == 10  # by time: the worker stops at its first checkpoint
    assert plan_chunk(state, 4) == 7 and plan_chunk(_state(steps_done=8), 4) == 10

    folder = tmp_path / "training"
    (folder / "dataset" / "wavs").mkdir(parents=True)
    (folder / "dataset" / "metadata.csv").write_text("a|Hello.\n")
    (folder / "dataset" / "wavs" / "a.wav").write_bytes(b"RIFF....")
    assert dataset_files(folder) == {"metadata.csv": b"a|Hello.\n", "wavs/a.wav": b"RIFF...."}
    assert run_id(folder, state) == run_id(folder, _state()) != run_id(folder, _state(created="x"))

    first = ChunkResult(b"ckpt-1", b'{"audio": {}}', 5, 42.5, 1.5, "cpu", 8.0)
    save_chunk(folder, state, first)
    assert (folder / "checkpoints" / CHECKPOINT).read_bytes() == b"ckpt-1"
    assert (folder / "voice.onnx.json").read_bytes() == b'{"audio": {}}'
    saved = RunState.load(folder / "run.json")
    assert (saved.steps_done, saved.last_loss, saved.seconds_per_step) == (5, 42.5, 1.5)
    # a driver started again later continues from what the last chunk brought back
    save_chunk(folder, saved, ChunkResult(b"ckpt-2", b"{}", 7, 40.0, 1.4, "cpu", 3.0))
    assert RunState.load(folder / "run.json").steps_done == 7
    assert (folder / "checkpoints" / CHECKPOINT).read_bytes() == b"ckpt-2"
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == [CHECKPOINT]


def test_workers_option_needs_ray(tmp_path, timbre_cli):
    out = timbre_cli("bank", "train", tmp_path / "nobank", "--workers", "2")
    assert out.returncode == 1 and "--workers is for --ray local" in out.stderr


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_ray_training_lands_in_the_bank_and_a_second_command_resumes(tmp_path):
    import torch

    from tests.banking.training_bank import build_bank
    from tests.conftest import REPO

    bank = build_bank(tmp_path / "ada")
    base = ["bank", "train", str(bank.path), "--base", "debug", "--batch-size", "2",
            "--checkpoint-steps", "1", "--ray", "local", "--workers", "1", "--no-check"]

    def timbre(*extra: str):
        return subprocess.run([sys.executable, "-m", "desktop.cli.main", *base, *extra],
                              cwd=REPO, capture_output=True, text=True, timeout=1200,
                              env=dict(os.environ))

    out = timbre("--steps", "2")
    assert out.returncode == 0, out.stderr
    assert "training on the Ray cluster at local (a CPU worker)" in out.stdout
    assert "step 2/2" in out.stdout  # progress after each chunk (one step each here)
    folder = bank.path / "training"
    state = json.loads((folder / "run.json").read_text())
    assert state["steps_done"] == 2 and state["finished"] is True
    ckpt = torch.load(folder / "checkpoints" / CHECKPOINT, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 4  # generator + discriminator steps, as a local run counts
    assert {"state_dict", "optimizer_states", "loops", "hyper_parameters"} <= set(ckpt)
    assert json.loads((folder / "voice.onnx.json").read_text())["espeak"]["voice"] == "en-us"
    assert (folder / "voice" / "voice.onnx").is_file()  # exported here, on the driver

    out = timbre("--steps", "3")
    assert out.returncode == 0, out.stderr
    assert int(re.search(r"resumed at step (\d+)", out.stdout).group(1)) == 2
    assert "step 3/3" in out.stdout
    assert json.loads((folder / "run.json").read_text())["steps_done"] == 3
    again = torch.load(folder / "checkpoints" / CHECKPOINT, map_location="cpu", weights_only=True)
    assert again["global_step"] == 6


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_cancel_stops_the_running_chunk_and_keeps_the_finished_ones(tmp_path):
    import tempfile
    import threading

    from engines.banking.training.driver import train
    from engines.banking.training.run import TrainOptions
    from engines.cancel import CancelToken
    from engines.errors import Cancelled
    from tests.banking.training_bank import build_bank

    bank = build_bank(tmp_path / "ada")
    token = CancelToken()
    seen: list[int] = []

    def progress(p) -> None:
        if p.stage.startswith("training"):
            seen.append(int(p.done))
            if p.done == 1:  # the second chunk is being sent: stop it while it runs (a
                # Lightning fit from a checkpoint takes well over half a second to start)
                threading.Timer(0.5, token.cancel).start()

    opts = TrainOptions(base="debug", steps=3, batch_size=2, device="cpu",
                        checkpoint_every_steps=1)
    with tempfile.TemporaryDirectory(prefix="rt", dir="/tmp") as ray_temp:
        with pytest.raises(Cancelled, match="stopped at step 1 of 3"):
            train(bank, opts, progress=progress, cancel=token, ray="local", workers=1,
                  ray_temp=ray_temp)
    assert seen == [1]
    folder = bank.path / "training"
    assert json.loads((folder / "run.json").read_text())["steps_done"] == 1
    assert (folder / "checkpoints" / CHECKPOINT).is_file()
