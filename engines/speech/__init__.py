"""Speech: text-to-speech engines, the shared delivery controls, and cloning.

- :mod:`engines.speech.pipeline` — the base every engine shares (chunks, delivery, streaming);
- engines: :mod:`.piper_engine`, :mod:`.kokoro_engine`, :mod:`.espeak_engine`,
  :mod:`.chatterbox_engine` (registered in :mod:`engines.catalog`);
- :mod:`.text` / :mod:`.numbers` — the text front-end; :mod:`.prosody` — emotion, stability,
  rate and pitch; :mod:`.world_convert` — the WORLD conversion baseline;
- :mod:`.clone` — Kokoro style search; :mod:`.voices` — what a voice name means;
  :mod:`.service` — one call from a voice name to a finished take.

Nothing heavy is imported here; onnxruntime, pyworld and Resemblyzer load on first use.
"""
