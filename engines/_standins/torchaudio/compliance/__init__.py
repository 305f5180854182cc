"""torchaudio.compliance: Kaldi-compatible features (Chatterbox's speaker x-vector)."""

from . import kaldi

__all__ = ["kaldi"]
