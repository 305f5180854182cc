"""From a bank to the person's voice in the library: train, export, check, add.

Each stage leaves its result in ``BANK/training/`` so a repeated command continues where
the last one stopped: training resumes from its checkpoint, an exported voice newer than the
checkpoint is reused, and the check report is kept in ``check.json``. The voice joins the
library (with the bank's consent recording, :mod:`engines.banking.voice_import`) only when
the check passes, or when the user forces it — a voice trained from ``--base debug`` never
passes (its base is random noise) and is marked ``debug`` when forced in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines.banking.bank import VoiceBank
from engines.banking.training import bases
from engines.banking.training.driver import train
from engines.banking.training.gate import GateReport
from engines.banking.training.run import TrainOptions, TrainReport
from engines.cancel import CancelToken, ProgressCallback, no_progress
from engines.errors import BadInput


@dataclass(frozen=True)
class VoiceResult:
    training: TrainReport
    onnx: Path
    gate: GateReport | None
    added: str | None  # the library name, when it was added


def voice_name_for(bank: VoiceBank, name: str | None) -> str:
    chosen = name or bank.meta("voice_name", "") or bank.meta("speaker", "")
    if not chosen:
        raise BadInput(
            "Give the voice a name with --name (the name its consent statement was read for)."
        )
    return chosen


def _export(checkpoint: Path, config: Path, out: Path, name: str) -> Path:
    from engines.banking.training.export import export_voice

    onnx = out / f"{name}.onnx"
    if onnx.is_file() and onnx.stat().st_mtime >= checkpoint.stat().st_mtime:
        return onnx
    return export_voice(checkpoint, config, out, name)


def make_voice(
    bank: VoiceBank,
    opts: TrainOptions | None = None,
    name: str | None = None,
    force: bool = False,
    check: bool = True,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    ray: str | None = None,
    workers: int | None = None,
) -> VoiceResult:
    """Train (here, or on the Ray cluster ``ray``), export, check and add the voice."""
    opts = opts or TrainOptions()
    report = train(bank, opts, say=say, progress=progress, cancel=cancel, ray=ray,
                   workers=workers)
    state = report.state
    folder = report.folder / "voice"
    say(f"exporting the voice ({state.steps_done} steps trained)")
    onnx = _export(report.checkpoint, report.config, folder, "voice")
    gate = None
    saved = report.folder / "check.json"
    if check and saved.is_file() and saved.stat().st_mtime >= onnx.stat().st_mtime:
        gate = GateReport.load(saved)  # this very voice was checked already
        say("using the check of this voice made before")
    elif check:
        from engines.banking.training.gate import check_voice

        base_onnx = _export(Path(state.base_checkpoint), report.config, folder, "base")
        say("checking the voice on prompts it was not trained on")
        gate = check_voice(
            bank,
            onnx,
            state.held_out,
            state.espeak_voice.split("-")[0],
            base_onnx=base_onnx,
            progress=progress,
            cancel=cancel,
        )
        gate.save(report.folder / "check.json")
    passed = gate is not None and gate.passed
    if not (passed or force):
        return VoiceResult(report, onnx, gate, None)
    from engines.banking.voice_import import import_piper_voice
    from engines.voices.library import open_library

    library_name = voice_name_for(bank, name)
    debug = state.base == bases.DEBUG
    library = open_library()
    if library.exists(library_name) and "banked" in library.get(library_name).tags:
        library.remove(library_name)  # retrained: the new model replaces the bank's old one
    import_piper_voice(
        bank,
        onnx,
        library_name,
        progress=progress,
        cancel=cancel,
        note=(" Trained from the debug base: noise, for testing only." if debug else "")
        + ("" if passed else " Added without passing its check."),
        tags=(("debug",) if debug else ()) + (() if passed else ("unchecked",)),
    )
    return VoiceResult(report, onnx, gate, library_name)
