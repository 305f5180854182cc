"""Stem separation: a song into drums, bass, other and vocals, or a noisy take's dialogue
away from everything else, with demucs' htdemucs (see :mod:`engines.stems.separate`)."""
