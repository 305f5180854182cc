"""Is the bank ready to train, and how long would training take on this machine?

Readiness is minutes of accepted (non-red) speech against what a good voice needs. The
services people bank with ask for 150 (Apple Personal Voice), ~350 (Acapela) or 1,600
(ModelTalker) sentences; fine-tuning a Piper medium voice gives a recognisable voice from
about :data:`QUICK_MINUTES` and a good one from :data:`GOOD_MINUTES` (roughly the bank's
400-sentence "usable" milestone).

The time estimate uses, in order: the seconds per step this bank's last run measured, or
:data:`CPU_SECONDS_PER_STEP` — what ``make bench-train`` measured for the medium model at
batch 4 on the reference machine (2 cores shared with other work: 27 s per step at load ≈ 4,
92 s at load ≈ 9), scaled linearly with the batch size.
GPU figures are only shown once a run on a GPU has measured them (none is assumed).
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.banking.bank import VoiceBank
from engines.banking.training.run import MIN_TAKES, TrainOptions, load_state

QUICK_MINUTES = 5.0
GOOD_MINUTES = 30.0
CPU_SECONDS_PER_STEP = 27.0  # make bench-train, medium model, batch 4, 2 shared cores
BENCH_BATCH = 4


@dataclass(frozen=True)
class Readiness:
    takes: int
    minutes: float
    needed_minutes: float
    can_train: bool
    message: str

    @property
    def fraction(self) -> float:
        return min(1.0, self.minutes / self.needed_minutes) if self.needed_minutes else 1.0


def readiness(bank: VoiceBank) -> Readiness:
    usable = [t for _p, t in bank.accepted() if t.verdict != "red"]
    minutes = sum(t.clean_seconds for t in usable) / 60.0
    if len(usable) < MIN_TAKES:
        msg = f"Record at least {MIN_TAKES - len(usable)} more sentences before training."
    elif minutes < QUICK_MINUTES:
        msg = (f"{minutes:.1f} of {GOOD_MINUTES:.0f} minutes: a voice can be trained now, but "
               f"it will be rough below {QUICK_MINUTES:.0f} minutes.")
    elif minutes < GOOD_MINUTES:
        msg = (f"{minutes:.1f} of {GOOD_MINUTES:.0f} minutes: ready for a quick voice; more "
               "sentences make it clearer.")
    else:
        msg = f"{minutes:.1f} minutes: enough for a good voice."
    return Readiness(len(usable), round(minutes, 2), GOOD_MINUTES, len(usable) >= MIN_TAKES, msg)


def seconds_per_step(bank: VoiceBank, batch_size: int) -> tuple[float, str]:
    """``(seconds per step, where the figure comes from)`` for this bank on this machine."""
    state = load_state(bank)
    if state is not None and state.seconds_per_step and state.batch_size == batch_size:
        return state.seconds_per_step, "measured by the last run"
    return CPU_SECONDS_PER_STEP * batch_size / BENCH_BATCH, "benchmark estimate (CPU)"


def estimate_seconds(bank: VoiceBank, opts: TrainOptions | None = None) -> tuple[float, str]:
    opts = opts or TrainOptions()
    state = load_state(bank)
    done = state.steps_done if state is not None else 0
    per_step, source = seconds_per_step(bank, opts.batch_size)
    return max(0, opts.steps - done) * per_step, source
