"""Stand-in for torchaudio: the transforms audiocraft and resemble-perth use, on torch.stft.

PyPI's torchaudio wheels are CUDA builds that fail to import against a CPU torch, and the
two packages need only a handful of transforms, so those are provided here with
torchaudio's signatures and numerics.
"""

from . import transforms

__version__ = "0+timbre.standin"
__all__ = ["transforms"]
