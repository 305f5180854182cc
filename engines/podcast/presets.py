"""Delivery loudness targets for spoken-word audio.

The numbers are the ones platforms and broadcasters publish: −16 LUFS for stereo podcasts
(Apple/Spotify spoken word), −19 LUFS for mono (the same perceived level, since a mono file
plays from both speakers), −23 LUFS for EBU R128 broadcast, −14 LUFS for music streaming.
All share a true-peak ceiling of −1 dBTP so lossy encoders do not clip.
"""

from __future__ import annotations

from dataclasses import dataclass

from engines.errors import BadInput

TRUE_PEAK_CEILING_DB = -1.0


@dataclass(frozen=True)
class LoudnessPreset:
    name: str
    label: str
    lufs: float
    channels: int
    true_peak_db: float = TRUE_PEAK_CEILING_DB


PRESETS: dict[str, LoudnessPreset] = {
    p.name: p
    for p in (
        LoudnessPreset("podcast", "Podcast, stereo (−16 LUFS)", -16.0, 2),
        LoudnessPreset("podcast-mono", "Podcast, mono (−19 LUFS)", -19.0, 1),
        LoudnessPreset("ebu-r128", "Broadcast, EBU R128 (−23 LUFS)", -23.0, 2),
        LoudnessPreset("streaming", "Streaming (−14 LUFS)", -14.0, 2),
    )
}


def resolve_preset(value: str | float | None, channels: int | None = None) -> LoudnessPreset:
    """A preset by name, or a custom target from a number such as ``-16`` or ``"-19"``.

    A bare −19 means the mono podcast preset, so ``--lufs -19`` gives what people expect.
    """
    if value is None:
        preset = PRESETS["podcast"]
    elif isinstance(value, str) and value.strip().lower() in PRESETS:
        preset = PRESETS[value.strip().lower()]
    else:
        try:
            lufs = float(value)
        except ValueError:
            names = ", ".join(PRESETS)
            raise BadInput(
                f"'{value}' is not a loudness target; give a number in LUFS (e.g. -16) "
                f"or one of: {names}."
            ) from None
        if not -40.0 <= lufs <= -5.0:
            raise BadInput(f"A target of {lufs} LUFS is outside −40…−5; podcasts use −16 to −23.")
        known = [p for p in PRESETS.values() if p.lufs == lufs]
        preset = known[0] if known else LoudnessPreset("custom", f"{lufs:g} LUFS", lufs, 2)
    if channels is not None and channels != preset.channels:
        preset = LoudnessPreset(preset.name, preset.label, preset.lufs, channels)
    return preset
