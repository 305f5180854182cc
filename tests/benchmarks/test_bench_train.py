"""make bench-train: piper's trainer at the real (medium) model size on this machine.

Builds piper's ``VitsModel`` with the published medium voices' architecture (its defaults:
hidden 192, 6 layers, HiFi-GAN 256 channels), feeds it batches of synthetic utterances
(3 s of audio, 60 phonemes each, collated by piper's own ``UtteranceCollate``) and times
training steps with Lightning, as ``timbre bank train`` runs them. Prints seconds per step
and steps per second, and what a fine-tune of the default 2000 steps would take here.
``TIMBRE_BENCH_TRAIN_STEPS`` (4), ``TIMBRE_BENCH_TRAIN_BATCH`` (4) and
``TIMBRE_BENCH_TRAIN_DEVICE`` (cpu|cuda) change the run. The first step (allocation, the
alignment's JIT) is not counted.
"""

from __future__ import annotations

import os
import time

import pytest
import torch

pytestmark = [pytest.mark.bench, pytest.mark.timeout(4 * 3600)]  # minutes per step on a busy CPU

STEPS = int(os.environ.get("TIMBRE_BENCH_TRAIN_STEPS", "4"))
BATCH = int(os.environ.get("TIMBRE_BENCH_TRAIN_BATCH", "4"))
DEVICE = os.environ.get("TIMBRE_BENCH_TRAIN_DEVICE", "cpu")
FINE_TUNE_STEPS = 2000  # timbre bank train's default


def _loader(n: int, batches: int, seconds: float = 3.0, phonemes: int = 60):
    from piper.train.vits.dataset import UtteranceCollate, UtteranceTensors
    from piper.train.vits.mel_processing import spectrogram_torch
    from torch.utils.data import DataLoader

    gen = torch.Generator().manual_seed(0)
    utts = []
    for _ in range(n):
        audio = 0.1 * torch.randn(int(22050 * seconds), generator=gen)
        spec = spectrogram_torch(audio.unsqueeze(0), 1024, 22050, 256, 1024, center=False).squeeze(0)
        ids = torch.randint(1, 150, (phonemes,), generator=gen)
        utts.append(UtteranceTensors(phoneme_ids=ids, spectrogram=spec, audio_norm=audio))
    collate = UtteranceCollate(is_multispeaker=False, segment_size=8192)
    return DataLoader(utts * batches, batch_size=n, collate_fn=collate)


def test_bench_training_steps_at_medium_size():
    import lightning as L

    from engines.banking.training.align import install

    install()
    from piper.train.vits.lightning import VitsModel

    torch.manual_seed(0)
    model = VitsModel(batch_size=BATCH, mos_metric=None)  # piper's medium architecture
    params_g = sum(p.numel() for p in model.model_g.parameters()) / 1e6
    params_d = sum(p.numel() for p in model.model_d.parameters()) / 1e6
    times: list[float] = []

    class Clock(L.Callback):
        def on_train_batch_start(self, *args) -> None:
            self.t = time.perf_counter()

        def on_train_batch_end(self, *args) -> None:
            times.append(time.perf_counter() - self.t)
            print(f"  step {len(times)}: {times[-1]:.1f} s", flush=True)

    trainer = L.Trainer(
        accelerator="gpu" if DEVICE == "cuda" else "cpu", devices=1,
        max_steps=2 * (STEPS + 1), logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[Clock()],
    )
    trainer.fit(model, train_dataloaders=_loader(BATCH, STEPS + 1))
    steady = times[1:]
    per_step = sum(steady) / len(steady)
    print(
        f"\nbench-train ({DEVICE}, {torch.get_num_threads()} threads): generator {params_g:.1f} M, "
        f"discriminator {params_d:.1f} M parameters; batch {BATCH} x 3 s"
        f"\n  {per_step:.2f} s per step, {1 / per_step:.3f} steps/s "
        f"(first step {times[0]:.1f} s, not counted)"
        f"\n  fine-tune of {FINE_TUNE_STEPS} steps: {FINE_TUNE_STEPS * per_step / 3600:.1f} h here "
        f"(~{FINE_TUNE_STEPS * per_step * 16 / BATCH / 3600:.0f} h at the default batch of 16)"
    )
    assert len(steady) == STEPS and per_step > 0
