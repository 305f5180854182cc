"""How a request field is shown and checked: one vocabulary for the studio and the CLI.

An engine's request dataclass says what it takes; its fields' ``metadata`` may add
``label``, ``help``, ``min``/``max``/``step``, ``choices`` and ``hidden``. Where an engine
gives none, the shared explanations below (words a creator uses: temperature is
creativity) fill in, so the studio's form (``desktop.ui.forms``) and the command line's
``timbre run`` flags are both generated from the same place and never drift apart.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

HELP: dict[str, str] = {
    "prompt": "Describe what you want to hear: instruments, mood, tempo, setting.",
    "description": "Describe what you want to hear.",
    "text": "The words to speak. Long texts are split into sentences.",
    "temperature": "Creativity: higher values surprise more, lower values play it safe.",
    "cfg_coef": "How closely it follows the prompt: higher sticks to the words, lower "
                "lets the model wander.",
    "cfg": "How closely it follows the prompt: higher sticks to the words, lower lets the "
           "model wander.",
    "top_k": "Consider only the k most likely next sounds at each step (0 = no limit); "
             "smaller is safer, larger is more varied.",
    "top_p": "Consider the most likely next sounds up to this total probability (0 = off).",
    "duration": "Length of each take in seconds.",
    "seconds": "Length of each take in seconds.",
    "variations": "How many different takes to make from the same settings.",
    "num_variations": "How many different takes to make from the same settings.",
    "seed": "The same seed and settings give the same take again; -1 picks a new one each time.",
    "melody": "An audio file whose melody the music should follow (chroma conditioning).",
    "melody_path": "An audio file whose melody the music should follow.",
    "continuation": "Continue from the audio of the selected clip instead of starting fresh.",
    "loop": "Make the end flow back into the start, for seamless looping.",
    "voice": "A voice from your library, or the engine's own voice.",
    "language": "Language of the text (for pronunciation).",
    "emotion": "Speaking style: changes pitch, pitch range, loudness and pace together.",
    "stability": "Stability: lower varies delivery between takes, higher is steadier.",
    "rate": "Speaking rate: 2.0 is twice as fast, 0.5 half as fast.",
    "pitch": "Pitch shift in semitones.",
    "model": "Which model of this engine to use; larger is better and slower.",
    "normalize": "How each take's level is set: to a loudness target (LUFS), to a peak level, "
                 "or left as the model made it.",
    "target_lufs": "Loudness to normalise to, in LUFS: -14 suits streaming, -23 broadcast.",
    "peak_db": "Highest level after peak normalising, in dB below full scale.",
    "watermark": "Mark the takes with an inaudible watermark that says they were generated.",
    "model_id": "Which model of this engine to use; larger is better and slower.",
}
RANGES: dict[str, tuple[float, float, float]] = {  # name: (min, max, step)
    "temperature": (0.05, 3.0, 0.05), "cfg_coef": (0.0, 20.0, 0.5), "cfg": (0.0, 20.0, 0.5),
    "top_k": (0, 2000, 10), "top_p": (0.0, 1.0, 0.05), "duration": (0.5, 300.0, 0.5),
    "seconds": (0.5, 300.0, 0.5), "variations": (1, 8, 1), "num_variations": (1, 8, 1),
    "seed": (-1, 2**31 - 1, 1), "stability": (0.0, 1.0, 0.05), "rate": (0.5, 2.0, 0.05),
    "pitch": (-12.0, 12.0, 0.5), "target_lufs": (-40.0, -5.0, 0.5), "peak_db": (-20.0, 0.0, 0.1),
}
FALLBACK_RANGE = (-1_000_000.0, 1_000_000.0, 0.1)
AUDIO_FILE_FIELDS = ("melody",)  # AudioClip fields read from a file (others: the selected clip)
TEXT_FIELDS = ("prompt", "description", "text")
# Request fields the engine layer fills in itself (resolved voices, clone data, provenance).
INTERNAL = {"voice_label", "extra", "style", "reference", "convert_toward", "voice_pitch"}


def unwrap(hint: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True)."""
    args = typing.get_args(hint)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else hint), True
    return hint, False


def label_for(f: dataclasses.Field) -> str:
    return str(f.metadata.get("label") or f.name.replace("_", " ").capitalize())


def help_for(f: dataclasses.Field) -> str:
    return str(f.metadata.get("help") or HELP.get(f.name) or label_for(f))



def range_for(f: dataclasses.Field, hint: Any) -> tuple[float, float, float]:
    """(min, max, step) of a numeric field: its metadata, else the shared table."""
    fallback = (-1_000_000, 1_000_000, 1) if hint is int else FALLBACK_RANGE
    lo, hi, step = RANGES.get(f.name, fallback)
    meta = f.metadata
    return meta.get("min", lo), meta.get("max", hi), meta.get("step", step)


def editable_fields(request_type: type) -> list[tuple[dataclasses.Field, Any, bool]]:
    """(field, type, optional) of every field a user sets; engine-filled ones are left out."""
    hints = typing.get_type_hints(request_type)
    out = []
    for f in dataclasses.fields(request_type):
        if not f.init or f.name in INTERNAL or f.metadata.get("hidden"):
            continue
        hint, optional = unwrap(hints.get(f.name, Any))
        out.append((f, hint, optional))
    return out


def default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return None


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def coerce(f: dataclasses.Field, hint: Any, value: Any) -> Any:
    """A value typed as text (a manifest cell, a flag) as the field's type; raises
    ValueError with what was wrong. Audio fields take a file path and are read here."""
    from engines.audio import AudioClip

    if hint is AudioClip:
        from engines.audio_io import read_audio

        return value if isinstance(value, AudioClip) else read_audio(str(value))
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"{f.name} must be true or false, not {value!r}")
    if hint in (int, float):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{f.name} must be a number, not {value!r}") from None
        if hint is int and not number.is_integer():
            raise ValueError(f"{f.name} must be a whole number, not {value!r}")
        return hint(number)  # ranges are the request's own check (its validate)
    choices = f.metadata.get("choices")
    if choices and str(value) not in [str(c) for c in choices]:
        raise ValueError(f"{f.name} must be one of {', '.join(map(str, choices))}, not {value!r}")
    return str(value) if hint is str else value


def request_from_values(engine: str, request_type: type, values: dict[str, Any]) -> Any:
    """The engine's request from field values by name (flags, a manifest row): unknown
    names and values of the wrong type are refused with the field named.
    ``None`` (an empty cell, an unset flag) keeps the field's default."""
    from engines.errors import BadInput

    fields = {f.name: (f, hint) for f, hint, _ in editable_fields(request_type)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise BadInput(f"The {engine} engine has no setting called {', '.join(unknown)}; it takes "
                       f"{', '.join(fields)}.")
    typed = {}
    try:
        for name, value in values.items():
            if value is None or (isinstance(value, str) and not value.strip() and
                                 fields[name][1] is not str):
                continue
            typed[name] = coerce(fields[name][0], fields[name][1], value)
        return request_type(**typed)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"These settings do not make a valid {engine} request: {exc}.") from exc


def coerce_text_number(name: str, value: Any, hint: type) -> Any:
    """A number typed as text (a manifest cell) for a setting without a request field."""
    from engines.errors import BadInput

    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number, not {value!r}.") from None
    if hint is int and not number.is_integer():
        raise BadInput(f"{name} must be a whole number, not {value!r}.")
    return hint(number)
