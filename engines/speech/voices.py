"""Which engine and settings a voice name means.

A name is looked up, in order, as: a voice in the user's library (spoken through its
clone — a Kokoro style, or a Piper or espeak-ng voice, with the clone's post-process —
or cloned on the fly by an engine that takes a reference recording), a
Piper voice the user imported into the model store, then an engine's own voice id
("joe", "jf_alpha", "en-us+f3"). Speaking as a library voice needs its consent record.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from engines.errors import BadInput

DEFAULT_ENGINE = "piper"
CLONE_KIND = "kokoro-style"  # the library clone slot the style search fills
CHATTERBOX_ENGINES = ("chatterbox", "chatterbox-multilingual", "chatterbox-turbo")  # clone from audio
PIPER_REPO_PREFIX = "piper-voices/"
KOKORO_SHIPPED = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


@dataclass
class ResolvedVoice:
    engine: str
    fields: dict[str, Any] = field(default_factory=dict)  # SpeechRequest fields to set


def imported_piper_voices() -> dict[str, str]:
    """Name → ``.onnx`` path of every Piper voice imported into the model store."""
    from engines import modelstore

    found = {}
    for model in modelstore.list_installed():
        if model.repo_id.startswith(PIPER_REPO_PREFIX):
            onnx = next(iter(sorted(model.path.glob("*.onnx"))), None)
            if onnx is not None:
                found[model.repo_id[len(PIPER_REPO_PREFIX) :]] = str(onnx)
    return found


def import_piper_voice(onnx: str, name: str | None = None) -> str:
    """Copy a Piper voice (``X.onnx`` + ``X.onnx.json``) into the model store; returns its name."""
    import shutil
    import tempfile
    from pathlib import Path

    from engines import modelstore

    src = Path(onnx)
    config = Path(f"{src}.json")
    if src.suffix != ".onnx" or not src.is_file():
        raise BadInput(f"{src} is not a Piper voice file; choose the voice's .onnx file.")
    if not config.is_file():
        raise BadInput(f"{config.name} is missing next to {src.name}; Piper voices come as a pair.")
    name = name or src.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise BadInput(f"'{name}' cannot name a voice; use letters, digits, '-', '_' and '.'.")
    with tempfile.TemporaryDirectory(prefix="timbre-piper-") as tmp:
        shutil.copyfile(src, Path(tmp) / src.name)
        shutil.copyfile(config, Path(tmp) / config.name)
        from engines.speech.piper_engine import PiperEngine
        from engines.speech.request import SpeechRequest

        probe = PiperEngine()  # refuse a broken voice before storing it
        probe.raw("Test.", SpeechRequest("Test.", voice=str(Path(tmp) / src.name)))
        modelstore.import_folder(Path(tmp), PIPER_REPO_PREFIX + name)
    return name


def resolve(name: str | None, engine: str | None = None) -> ResolvedVoice:
    """Turn ``--voice`` / ``--engine`` into an engine name and request fields."""
    if name is None:
        return ResolvedVoice(engine or DEFAULT_ENGINE)
    from engines.voices.library import open_library

    library = open_library()
    if library.exists(name):
        return _library_voice(library, name, engine)
    piper = imported_piper_voices()
    if name in piper and engine in (None, "piper"):
        return ResolvedVoice("piper", {"voice": piper[name]})
    kokoro = _downloaded_kokoro(name)
    if kokoro is not None and engine in (None, "kokoro"):
        return kokoro
    if engine is not None:
        return ResolvedVoice(engine, {"voice": name})
    if name == "joe":
        return ResolvedVoice("piper", {"voice": name})
    if name in KOKORO_SHIPPED:
        return ResolvedVoice("kokoro", {"voice": name})
    raise BadInput(
        f"There is no voice called '{name}': not in the voice library (timbre voice list), "
        f"not an imported Piper voice, and not a built-in one (joe, {', '.join(KOKORO_SHIPPED)}); "
        "for espeak-ng voices add --engine espeak."
    )


def _downloaded_kokoro(name: str) -> ResolvedVoice | None:
    """A voice downloaded from Kokoro's full set, spoken in its own language."""
    from engines.speech import kokoro_catalog

    if name not in kokoro_catalog.installed():
        return None
    return ResolvedVoice("kokoro", {"voice": name, "language": kokoro_catalog.KokoroVoice(name).language})


def _library_voice(library, name: str, engine: str | None) -> ResolvedVoice:
    voice = library.require_consent(name)
    record = {**dataclasses.asdict(voice.consent), "path": voice.consent.path.name}
    fields: dict[str, Any] = {"voice_label": voice.name, "consent": record}
    if re.fullmatch(r"[a-z]{2,3}([-_][a-z]{2,4})?", voice.language.lower()):
        fields["language"] = voice.language.lower()
    if engine in CHATTERBOX_ENGINES:  # zero-shot: cloned from the reference as it speaks
        return _chatterbox_voice(library, name, engine, fields)
    banked = library.get_clone(name, "piper")  # the person's own trained Piper voice (banking)
    if banked is not None and engine in (None, "piper"):
        model = imported_piper_voices().get(str(banked.meta.get("piper_voice", "")))
        if model is None:
            raise BadInput(
                f"The Piper model of '{voice.name}' is no longer in the model store; import it "
                "again with timbre bank import-voice."
            )
        return ResolvedVoice("piper", {**fields, "voice": model})
    clone = library.get_clone(name, CLONE_KIND)
    if engine is None and _prefers_chatterbox(library, name, clone):
        return _chatterbox_voice(library, name, "chatterbox", fields)
    if clone is None:
        raise BadInput(
            f"The voice '{voice.name}' has no clone yet; run timbre voice clone {voice.name!r} "
            "(a few minutes), or speak with --engine chatterbox if its weights are installed."
        )
    speaks = clone_engine(clone)
    if engine not in (None, speaks):
        raise BadInput(
            f"'{voice.name}' is cloned to speak through {_speaks_through(clone)}; use --engine "
            f"{speaks} (or leave --engine out), or clone it again for another engine."
        )
    fields.update(_clone_fields(voice.name, clone))
    return ResolvedVoice(speaks, fields)


def clone_engine(clone: Any) -> str:
    """The engine a style clone speaks through (clones from before others were tried: Kokoro)."""
    return str(clone.meta.get("engine") or "kokoro")


def _speaks_through(clone: Any) -> str:
    """"Kokoro", "Piper voice 'joe'", "espeak-ng voice 'en-us+m3'" — for messages."""
    engine = clone_engine(clone)
    if engine == "kokoro":
        return "Kokoro"
    label = {"piper": "Piper", "espeak": "espeak-ng"}.get(engine, engine)
    return f"the {label} voice '{clone.meta.get('voice')}'"


def _clone_fields(name: str, clone: Any) -> dict[str, Any]:
    """The request fields of a style clone: its voice (a Kokoro table, a Piper model, an
    espeak-ng id) and the post-process the clone was judged with (WORLD shift, then EQ)."""
    engine = clone_engine(clone)
    fields: dict[str, Any] = {}
    if engine == "kokoro":
        fields["style"] = clone.data
        fields["voice"] = clone.meta.get("base", "clone")
    elif engine == "piper":
        wanted = str(clone.meta.get("voice"))
        model = "joe" if wanted == "joe" else imported_piper_voices().get(wanted)
        if model is None:
            raise BadInput(
                f"'{name}' speaks through the Piper voice '{wanted}', which is no longer in "
                f"the model store; import it again (timbre speak-import) or clone '{name}' again."
            )
        fields["voice"] = model
    else:
        fields["voice"] = str(clone.meta.get("voice"))
    world = clone.meta.get("world")
    eq = clone.meta.get("eq")
    steps: list[Any] = []
    extra: dict[str, Any] = {}  # recorded in the take's provenance
    if engine != "kokoro":
        extra.update(clone_engine=engine, clone_voice=str(clone.meta.get("voice")))
    if world:  # the pitch/formant shift the search fitted, as the clone sounded when judged
        from engines.speech.world_convert import WorldShift

        steps.append(WorldShift(float(world["pitch"]), float(world["warp"])))
        extra["clone_world"] = dict(world)
    else:  # clones made before the shift was fitted carry only a pitch offset
        fields["voice_pitch"] = float(clone.meta.get("pitch_offset", 0.0))
    if eq:  # the long-term spectrum equaliser, after the shift (as when it was fitted)
        from engines.speech.spectral_eq import SpectralEq

        steps.append(SpectralEq.from_dict(eq))
        extra["clone_eq"] = {"hz": list(eq["hz"]), "db": list(eq["db"])}
    if steps:
        fields["convert_toward"] = steps[0] if len(steps) == 1 else tuple(steps)
    if extra:
        fields["extra"] = extra
    return fields


def _chatterbox_voice(library, name: str, engine: str, fields: dict[str, Any]) -> ResolvedVoice:
    """A library voice for Chatterbox: its reference, and (English Chatterbox) the
    conditionals ``timbre voice clone`` stored, which spare conditioning on it again."""
    from engines.speech.chatterbox_conds import CLONE_KIND as ZERO_SHOT

    fields["reference"] = library.reference_audio(name)
    stored = library.get_clone(name, ZERO_SHOT) if engine == "chatterbox" else None
    if stored is not None and isinstance(stored.data, bytes):
        fields["conditionals"] = stored.data
    return ResolvedVoice(engine, fields)


def _prefers_chatterbox(library, name: str, kokoro_clone: Any) -> bool:
    """With no --engine, a voice speaks through its zero-shot Chatterbox clone when it has
    one newer than its Kokoro clone and Chatterbox can run here."""
    from engines.speech.chatterbox_conds import CLONE_KIND as ZERO_SHOT
    from engines.speech.chatterbox_engine import unavailable_reason

    zero_shot = library.get_clone(name, ZERO_SHOT)
    if zero_shot is None or unavailable_reason() is not None:
        return False
    return kokoro_clone is None or zero_shot.updated >= kokoro_clone.updated
