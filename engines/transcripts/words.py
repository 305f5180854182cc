"""Words with times from faster-whisper, with progress and cancel between segments.

Whisper leaves out "um" and "uh" unless the text before it shows them (it learned from
tidied transcripts), so a verbatim prompt in the audio's language goes first: the filler
remover can only remove what the transcript holds.
"""

from __future__ import annotations

import numpy as np

from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.transcripts.timed import Transcript, Word

RATE = 16_000  # what Whisper listens at
# A prompt in the style of a verbatim transcript (OpenAI's advice for keeping fillers).
VERBATIM_PROMPTS = {
    "en": "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, er, yes.",
    "de": "Ähm, also, äh, ich denke, hm... ja, genau.",
    "fr": "Euh, alors, heu, je pense que, bah... oui, voilà.",
    "es": "Eh, bueno, em, creo que, mmm... sí, eso.",
    "it": "Ehm, allora, eh, penso che, mmm... sì, ecco.",
    "nl": "Eh, nou, uh, ik denk, hm... ja, precies.",
    "pt": "Hã, então, é, eu acho que, hum... sim, isso.",
}

__all__ = ["RATE", "Transcript", "Word", "transcribe_words"]


def detect_language(model, audio: np.ndarray) -> str:
    language, _prob, _all = model.detect_language(audio=audio)
    return str(language)


def transcribe_words(
    audio: np.ndarray,
    language: str | None = None,
    model: str = "base",
    verbatim: bool = True,
    refine: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Transcript:
    """The words in ``audio`` (mono float32 at 16 kHz) with their times.

    ``language`` None detects it; ``verbatim`` keeps fillers (see the module doc); ``refine``
    snaps each word's edges to the audio (:func:`engines.transcripts.edges.refine`).
    Progress counts seconds of audio heard; ``cancel`` stops between segments.
    """
    from engines.voices.transcribe import load_model

    audio = np.ascontiguousarray(audio, np.float32)
    duration = len(audio) / RATE
    progress(Progress(0, max(duration, 1e-9), "loading Whisper"))
    whisper = load_model(model)
    if cancel is not None:
        cancel.check()
    if len(audio) < RATE // 10:
        return Transcript([], language or "", duration, model)
    lang = language or detect_language(whisper, audio)
    prompt = VERBATIM_PROMPTS.get(lang) if verbatim else None
    segments, _info = whisper.transcribe(
        audio, language=lang, beam_size=5, word_timestamps=True, vad_filter=False,
        initial_prompt=prompt, condition_on_previous_text=False,
    )
    words: list[Word] = []
    for index, segment in enumerate(segments):
        if cancel is not None:
            cancel.check()
        for w in segment.words or []:
            text = w.word.strip()
            if text:
                words.append(Word(text, float(w.start), float(w.end), float(w.probability), index))
        progress(Progress(min(float(segment.end), duration), duration, "transcribing"))
    if refine:
        from engines.transcripts.edges import refine as snap

        words = snap(words, audio, RATE)
    progress(Progress(duration, duration, "transcribing"))
    return Transcript(words, lang, duration, model)

