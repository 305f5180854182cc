"""Bringing a Piper voice trained on a bank back into the voice library as the person's voice.

The library entry is made from the bank itself: its cleanest accepted takes are the voice's
reference recordings, and the consent statement the person read during banking is its
consent recording (checked by the library exactly like any other: speaker similarity and,
with Whisper installed, the random phrase). The trained model goes into the model store
through the speech engines' own Piper import (which refuses a model it cannot speak with),
and the library voice gets a ``piper`` clone whose data is the config JSON and whose meta
``piper_voice`` names that stored Piper voice.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from engines.audio_io import write_audio
from engines.banking.bank import ACCEPTED, CONSENT, GREEN, VoiceBank
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.errors import BadInput

CLONE_KIND = "piper"
MAX_REFERENCES = 8


def statement_for(bank: VoiceBank, name: str) -> str:
    """The library's consent statement for ``name``, added to the bank as its consent prompt."""
    from engines.voices.library import open_library

    statement = open_library().statement(name)
    bank.set_meta("voice_name", statement.voice)
    bank.consent_prompt(statement.text)
    return statement.text


def _config_for(onnx: Path, config: Path | None) -> tuple[Path, dict[str, Any]]:
    candidates = [config] if config else [Path(f"{onnx}.json"), onnx.with_suffix(".json")]
    found = next((c for c in candidates if c is not None and c.is_file()), None)
    if found is None:
        raise BadInput(
            f"{onnx.name} needs its Piper config ({onnx.name}.json) next to it, or give it with --config."
        )
    try:
        data = json.loads(found.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(
            f"{found.name} is not valid JSON ({exc}); export the config from training again."
        ) from exc
    if (
        not isinstance(data, dict)
        or "phoneme_id_map" not in data
        or "sample_rate" not in data.get("audio", {})
    ):
        raise BadInput(
            f"{found.name} is not a Piper voice config (no phoneme_id_map or audio.sample_rate)."
        )
    return found, data


def _store_model(onnx: Path, config: dict[str, Any], name: str) -> str:
    """Hand the model to the speech engines' Piper import (it probes the voice by speaking,
    then keeps it in the model store); returns the Piper voice name it is stored under."""
    from engines.speech.voices import import_piper_voice as import_into_store

    store_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:56] or "voice"
    store_name = f"{store_name}-banked"
    with tempfile.TemporaryDirectory(prefix="timbre-bank-") as tmp:
        staged = Path(tmp) / f"{store_name}.onnx"
        shutil.copyfile(onnx, staged)
        Path(f"{staged}.json").write_text(json.dumps(config), encoding="utf-8")
        return import_into_store(str(staged), store_name)


def import_piper_voice(
    bank: VoiceBank,
    onnx: str | Path,
    name: str,
    config: str | Path | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    note: str = "",
    tags: tuple[str, ...] = (),
):
    """Add ``name`` to the voice library from the bank and the trained Piper model.

    Needs the bank's consent statement recorded (see :func:`statement_for`); nothing is
    left in the library if any check fails. Returns the library's ``Voice``.
    """
    from engines.voices.library import open_library

    onnx = Path(onnx)
    if not onnx.is_file():
        raise BadInput(f"{onnx} does not exist. Check the path and try again.")
    config_path, config_data = _config_for(onnx, Path(config) if config else None)
    consent = [t for p in bank.prompts(CONSENT) for t in bank.takes(p.id) if t.status == ACCEPTED]
    if not consent:
        raise BadInput(
            f"The bank has no consent recording yet: run timbre bank consent {bank.path} --name "
            f"{name!r} to see the statement, record the person reading it, then add it with "
            f"timbre bank consent {bank.path} --name {name!r} FILE."
        )
    lib = open_library()
    if lib.exists(name):
        raise BadInput(
            f"A voice called '{name}' is already in the library; remove it or choose another name."
        )
    clean = sorted(
        ((p, t) for p, t in bank.accepted() if t.verdict == GREEN),
        key=lambda item: -(item[1].metrics.get("snr_db") or 0.0),
    )[:MAX_REFERENCES]
    if not clean:
        raise BadInput(
            "The bank has no clean (green) takes to serve as the voice's references; record some first."
        )
    progress(Progress(0, 3, "adding references"))
    with tempfile.TemporaryDirectory() as tmp:
        refs = [write_audio(Path(tmp) / f"{p.id}.flac", bank.audio(t), "flac") for p, t in clean]
        lib.add(
            name,
            refs,
            notes=f"Banked voice ({bank.path.name}), Piper model {onnx.name}.{note}",
            tags=["banked", *tags],
            cancel=cancel,
        )
        try:
            progress(Progress(1, 3, "checking consent"))
            consent_file = write_audio(
                Path(tmp) / "consent.flac", bank.audio(consent[-1], trimmed=False), "flac"
            )
            lib.record_consent(name, consent_file, cancel=cancel)
            progress(Progress(2, 3, "storing the model"))
            meta = {
                "piper_voice": _store_model(onnx, config_data, name),
                "sample_rate": int(config_data["audio"]["sample_rate"]),
                "config_name": config_path.name,
                "bank": str(bank.path),
                "recorded_prompts": len(bank.accepted()),
            }
            lib.set_clone(name, CLONE_KIND, json.dumps(config_data).encode("utf-8"), meta)
        except BaseException:
            lib.remove(name)
            raise
    progress(Progress(3, 3, "done"))
    return lib.get(name)
