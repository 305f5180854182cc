"""Import stand-ins for packages audiocraft and resemble-perth import but never need here.

audiocraft 1.3.0 imports ``xformers``, ``torchaudio`` and ``spacy`` at module level, and
resemble-perth imports three ``torchaudio`` transforms. On a CPU install none of them can be
had: PyPI's torchaudio is a CUDA build whose import fails, xformers pins an old torch, and
spaCy is only used by a tokenizer no released checkpoint uses. Each stand-in here provides
exactly what those packages touch at run time (see ``/work/shared/STACK.md``), written
against torch, so no file of audiocraft or perth is patched.

Call :func:`install` before the first ``import audiocraft`` or ``import perth``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDIN_PACKAGES = ("torchaudio", "xformers", "spacy")


def install() -> None:
    """Put the stand-ins first on ``sys.path`` (idempotent; imports nothing heavy).

    A stand-in shadows any installed package of the same name on purpose: the PyPI builds of
    torchaudio and xformers fail to import against this project's CPU torch.
    """
    path = str(HERE)
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
    importlib.invalidate_caches()


def installed() -> bool:
    """True when ``import torchaudio`` would load the stand-in."""
    spec = importlib.util.find_spec("torchaudio") if str(HERE) in sys.path else None
    return spec is not None and spec.origin is not None and Path(spec.origin).is_relative_to(HERE)
