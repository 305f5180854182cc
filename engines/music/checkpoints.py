"""Every released MusicGen/AudioGen checkpoint, what it needs, and how a name resolves.

A checkpoint repo holds ``state_dict.bin`` (LM) and ``compression_state_dict.bin``;
audiocraft then loads the text encoder (T5) and, for MusicGen, the 32 kHz EnCodec through
transformers, so those repos must be in the store too. ``timbre models download NAME``
fetches all of them; availability checks here only look at the store (no torch).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from engines import modelstore
from engines.errors import BadInput, ModelMissing
from engines.music import melody
from engines.music.tiny import AUDIOGEN_DEBUG, MUSICGEN_DEBUG

CHECKPOINT_FILES = ("state_dict.bin", "compression_state_dict.bin")

# What to fetch from each dependency repo: configs, tokenizer and safetensors weights only.
_T5_FILES = (
    "config.json",
    "spiece.model",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "model.safetensors",
)
# Only the files that exist on the hub are fetched; pickled .bin weights never are.
DEPENDENCY_FILES: dict[str, tuple[str, ...]] = {
    "t5-base": _T5_FILES,
    "t5-large": _T5_FILES,
    "facebook/encodec_32khz": ("config.json", "preprocessor_config.json", "model.safetensors"),
}


@dataclass(frozen=True)
class Checkpoint:
    name: str  # what users type: "musicgen-small"
    repo_id: str  # "facebook/musicgen-small"
    family: str  # "musicgen" | "audiogen"
    label: str
    download_gb: float  # approximate, for the download prompt
    text_encoder: str
    codec: str | None = "facebook/encodec_32khz"
    stereo: bool = False
    melody: bool = False
    debug: bool = False

    @property
    def dependencies(self) -> tuple[str, ...]:
        return (self.text_encoder,) + ((self.codec,) if self.codec else ())


def _musicgen(
    size: str, gb: float, params: str, stereo: bool = False, melody: bool = False
) -> Checkpoint:
    kind = ("stereo-" if stereo else "") + size
    what = "text + melody to music" if melody else "text to music"
    return Checkpoint(
        f"musicgen-{kind}",
        f"facebook/musicgen-{kind}",
        "musicgen",
        f"MusicGen {kind} ({params}, {what}{', stereo' if stereo else ''})",
        gb,
        "t5-base",
        stereo=stereo,
        melody=melody,
    )


CHECKPOINTS: tuple[Checkpoint, ...] = (
    _musicgen("small", 1.2, "300M"),
    _musicgen("medium", 3.3, "1.5B"),
    _musicgen("large", 6.5, "3.3B"),
    _musicgen("melody", 3.8, "1.5B", melody=True),
    _musicgen("melody-large", 6.5, "3.3B", melody=True),
    _musicgen("small", 1.2, "300M", stereo=True),
    _musicgen("medium", 3.3, "1.5B", stereo=True),
    _musicgen("large", 6.5, "3.3B", stereo=True),
    _musicgen("melody", 3.8, "1.5B", stereo=True, melody=True),
    _musicgen("melody-large", 6.5, "3.3B", stereo=True, melody=True),
    Checkpoint(
        "audiogen-medium",
        "facebook/audiogen-medium",
        "audiogen",
        "AudioGen medium (1.5B, text to sound effects)",
        3.6,
        "t5-large",
        codec=None,
    ),
)

DEBUG_CHECKPOINTS = {
    "musicgen": Checkpoint(
        "debug",
        MUSICGEN_DEBUG,
        "musicgen",
        "debug (tiny random model: noise, for testing)",
        0.0,
        "t5-base",
        codec="timbre/encodec-32khz-debug",
        debug=True,
    ),
    "audiogen": Checkpoint(
        "debug",
        AUDIOGEN_DEBUG,
        "audiogen",
        "debug (tiny random model: noise, for testing)",
        0.0,
        "t5-base",
        codec=None,
        debug=True,
    ),
}

DEFAULT = {"musicgen": "musicgen-small", "audiogen": "audiogen-medium"}


def by_name(name: str) -> Checkpoint | None:
    """A released checkpoint by short name or hub id."""
    for ckpt in CHECKPOINTS:
        if name in (ckpt.name, ckpt.repo_id):
            return ckpt
    return None


@dataclass(frozen=True)
class Source:
    """Where a model will be loaded from: a hub id in a cache, or a model folder."""

    checkpoint: Checkpoint | None  # None for a user's folder or import
    location: str  # hub id (in ``cache``) or a folder path
    cache: Path
    family: str

    @property
    def debug(self) -> bool:
        return self.checkpoint is not None and self.checkpoint.debug


def resolve(name: str | None, family: str) -> Source:
    """``debug``, a released name/id, an imported id, or a folder path → a :class:`Source`."""
    from engines.music.tiny import debug_hub

    name = (name or DEFAULT[family]).strip()
    if name == "debug" or name == DEBUG_CHECKPOINTS[family].repo_id:
        return Source(
            DEBUG_CHECKPOINTS[family], DEBUG_CHECKPOINTS[family].repo_id, debug_hub(), family
        )
    ckpt = by_name(name)
    if ckpt is not None and ckpt.family != family:
        other = "timbre sfx" if ckpt.family == "audiogen" else "timbre music"
        raise BadInput(
            f"{ckpt.name} makes {'sound effects' if ckpt.family == 'audiogen' else 'music'}; use it with '{other}'."
        )
    path = Path(name).expanduser()
    if ckpt is None and path.is_dir():
        missing = [f for f in CHECKPOINT_FILES if not (path / f).is_file()]
        if missing:
            raise BadInput(
                f"{path} is not a MusicGen/AudioGen model folder: it lacks {', '.join(missing)}."
            )
        return Source(None, str(path.resolve()), modelstore.hub_cache(), family)
    repo_id = ckpt.repo_id if ckpt else name
    if ckpt is None and "/" not in name:
        known = ", ".join(c.name for c in CHECKPOINTS if c.family == family)
        raise BadInput(f"'{name}' is not a model name or folder. Known models: {known}, debug.")
    label = ckpt.label if ckpt else repo_id
    modelstore.require(repo_id, label, CHECKPOINT_FILES)
    for dep in ckpt.dependencies if ckpt else ():
        if not modelstore.is_installed(dep):
            raise ModelMissing(
                f"{label} also needs {dep}, which is not installed — run "
                f"'timbre models download {ckpt.name}' (it fetches dependencies too)."
            )
    if ckpt is not None and ckpt.melody:
        melody.require(label)
    return Source(ckpt, repo_id, modelstore.hub_cache(), family)


def unavailable_reason(family: str) -> str | None:
    """Cheap engine check: audiocraft importable and at least one checkpoint installed."""
    if importlib.util.find_spec("audiocraft") is None:
        return "audiocraft is not installed (make setup installs it)."
    if any(c.family == family and is_ready(c) for c in CHECKPOINTS):
        return None
    return (
        f"no {family} model installed — run 'timbre models download {DEFAULT[family]}' or "
        f"'timbre models import PATH' ('--model debug' runs a tiny noise model for testing)."
    )


def is_ready(ckpt: Checkpoint) -> bool:
    if not modelstore.is_installed(ckpt.repo_id, CHECKPOINT_FILES):
        return False
    if ckpt.melody and melody.missing_reason() is not None:
        return False
    return all(modelstore.is_installed(dep) for dep in ckpt.dependencies)


def melody_note(ckpt: Checkpoint) -> str:
    """What a melody checkpoint needs besides its own files, or '' (see engines.music.melody)."""
    return (melody.missing_reason() or "") if ckpt.melody else ""
