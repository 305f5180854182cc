"""MusicGen and AudioGen engines (audiocraft 1.3.0), their checkpoints and tiny test models."""
