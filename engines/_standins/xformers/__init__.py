"""Stand-in for xformers: audiocraft imports it, but its torch attention backend (the
default) only touches ``ops.unbind`` and ``ops.LowerTriangularMask``."""

__version__ = "0+timbre.standin"
