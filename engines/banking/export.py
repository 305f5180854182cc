"""Getting a bank out: a Piper training set, and message files named by their words.

The training set is what the installed piper-tts trainer (``python -m piper.train fit``,
its ``VitsDataModule``) reads: ``wavs/<id>.wav`` (22,050 Hz, mono, 16-bit) and
``metadata.csv`` with ``id|text`` lines (single speaker; piper looks for
``<audio_dir>/<id>.wav``), plus ``README.txt`` with the ``fit`` command for it (the archived
``piper_train.preprocess`` step no longer exists: the trainer phonemizes and caches itself).
Each clip is the VAD-trimmed take brought to one loudness, so level differences between days
do not become part of the voice.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from engines.audio_io import write_audio
from engines.banking.bank import VoiceBank
from engines.banking.quality import RED
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput
from engines.loudness import normalize_loudness

PIPER_RATE = 22_050
TRAINING_LUFS = -23.0


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    files: int
    seconds: float
    skipped: tuple[str, ...]  # prompt ids left out, with the reason in the README


def _ready_folder(out: Path) -> Path:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BadInput(f"{out} is not empty; export into a new or empty folder.")
    out.mkdir(parents=True, exist_ok=True)
    return out


def export_ljspeech(
    bank: VoiceBank,
    out: str | Path,
    include_amber: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    espeak_voice: str = "en-us",
    exclude: frozenset[str] = frozenset(),
) -> ExportReport:
    """Write the accepted script takes (red ones never; amber ones unless told not to)."""
    items = bank.accepted()
    if not items:
        raise BadInput(f"{bank.path} has no accepted takes yet; record some prompts first.")
    folder = _ready_folder(Path(out))
    wavs = folder / "wavs"
    wavs.mkdir()
    rows, skipped, seconds = [], [], 0.0
    for i, (prompt, take) in enumerate(items):
        if cancel is not None:
            cancel.check()
        if prompt.id in exclude:
            continue
        if take.verdict == RED or (take.verdict == "amber" and not include_amber):
            skipped.append(prompt.id)
            continue
        clip = bank.audio(take).mono().resampled(PIPER_RATE)
        clip = normalize_loudness(clip, TRAINING_LUFS)
        write_audio(wavs / f"{prompt.id}.wav", clip, "wav", subtype="PCM_16")
        text = prompt.text.replace("|", " ")
        rows.append((prompt.id, text))
        seconds += clip.duration
        progress(Progress(i + 1, len(items), "exporting takes"))
    with (folder / "metadata.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(
            handle, delimiter="|", quoting=csv.QUOTE_NONE, escapechar="\\", lineterminator="\n"
        ).writerows(rows)
    (folder / "README.txt").write_text(fit_readme(espeak_voice), encoding="utf-8")
    return ExportReport(folder, len(rows), seconds, tuple(skipped))


def fit_readme(espeak_voice: str) -> str:
    """How to train on this folder with piper's own command line (run inside it)."""
    return (
        "Piper training set exported by Timbre Studio (timbre bank train does all of this).\n"
        "To train with piper-tts[train] yourself, from this folder (in Timbre's environment;\n"
        "plain `python -m piper.train fit` needs piper's Cython alignment, which the\n"
        "piper-tts 1.8.0 wheel does not include):\n\n"
        "  python -m engines.banking.training.piper_cli fit \\\n"
        "    --data.voice_name my-voice --data.csv_path metadata.csv --data.audio_dir wavs \\\n"
        f"    --data.espeak_voice {espeak_voice} --data.cache_dir cache \\\n"
        "    --data.config_path my-voice.onnx.json --data.batch_size 16 \\\n"
        "    --ckpt_path BASE.ckpt   # a published Piper checkpoint to fine-tune from\n"
    )


def message_filename(text: str, taken: set[str]) -> str:
    """``"I love you, Sam!"`` → ``i-love-you-sam.wav`` (unique within the folder)."""
    stem = (
        re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")[:60].rstrip("-")
        or "message"
    )
    name, n = f"{stem}.wav", 2
    while name in taken:
        name, n = f"{stem}-{n}.wav", n + 1
    taken.add(name)
    return name


def export_messages(bank: VoiceBank, out: str | Path, query: str = "") -> ExportReport:
    """Each banked message as a WAV named after its words, plus ``messages.csv`` (file, text,
    tags) so a communication device or a person can find them again."""
    found = [(p, t) for p, t in bank.messages(query) if t is not None]
    if not found:
        what = f"matching '{query}'" if query else "recorded"
        raise BadInput(f"{bank.path} has no messages {what}.")
    folder = _ready_folder(Path(out))
    taken: set[str] = set()
    rows, seconds = [], 0.0
    for prompt, take in found:
        clip = bank.audio(take)
        name = message_filename(prompt.text, taken)
        write_audio(folder / name, clip, "wav")
        rows.append((name, prompt.text, " ".join(prompt.tags)))
        seconds += clip.duration
    with (folder / "messages.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("file", "text", "tags"))
        writer.writerows(rows)
    return ExportReport(folder, len(rows), seconds, ())
