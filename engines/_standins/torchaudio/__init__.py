"""Stand-in for torchaudio: what audiocraft, resemble-perth and Chatterbox use, on torch.

PyPI's torchaudio wheels are CUDA builds that fail to import against a CPU torch, and these
packages need only a handful of transforms and Kaldi's fbank, so those are provided here
with torchaudio's signatures and numerics.
"""

from . import compliance, transforms

__version__ = "0+timbre.standin"
__all__ = ["compliance", "transforms"]
