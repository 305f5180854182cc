"""The voice library: reference clean-up, speaker embeddings, consent.

Public API for other engines (speech, cloning) — keep it small:

- :func:`engines.voices.library.open_library` → :class:`VoiceLibrary` with ``get(name)``,
  ``reference_audio(name)``, ``require_consent(name)``, ``set_clone`` / ``get_clone``.
- :func:`engines.voices.embedding.embed` and :func:`engines.voices.embedding.cosine` for
  Resemblyzer speaker similarity (256-d, unit length, 16 kHz).
- :func:`engines.voices.prepare.prepare_reference` for the clean-up pipeline and its report.
- :mod:`engines.voices.transcribe` for the offline Whisper-base recogniser.

Nothing heavy is imported here; torch, onnxruntime and Resemblyzer load on first use.
"""
