"""Transcripts with word timings: Whisper (the one loader in ``engines.voices.transcribe``)
hears the words, :mod:`.edges` moves each word's edges onto the audio's own onsets and
offsets (Whisper's word times run gap to gap, often 0.3 s off), :mod:`.fillers` names the
hesitation sounds per language, :mod:`.subtitles` writes SRT, WebVTT and plain text and
:mod:`.wer` scores a transcript against what was said. Plain data in and out, no Qt.
"""
