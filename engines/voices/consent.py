"""Consent: the speaker reads a statement the app wrote, and the recording must match the voice.

A statement names the voice, the date and a random phrase, so an old recording or one made
for another voice cannot be replayed. A consent recording is accepted when

- its Resemblyzer similarity to the voice's embedding clears :data:`THRESHOLD`, and
- when the offline recogniser (Whisper-base) is installed, the random phrase was heard
  (all its five words but at most one).

THRESHOLD is calibrated by ``tests/benchmarks/test_consent_calibration.py`` from same-speaker
and different-speaker score distributions over the voices that can be made here (Piper joe
at several rates and seeds, espeak-ng voice variants, pitch/formant-shifted joe via WORLD).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from engines.errors import EngineError

if TYPE_CHECKING:
    import numpy as np

    from engines.audio import AudioClip

# Calibrated (see module docstring) on 104 same-speaker and 2,188 different-speaker trials
# (consents in other words, at other rates, with noise at 20/15/10 dB, reverb, telephone band,
# MP3), two runs (Piper's delivery noise is random). Same speaker: 0.78–0.98, mean 0.93;
# different: 0.37–0.94, mean 0.61; equal error rate 5.6–5.9 % at 0.845–0.85. At 0.84:
# FRR 3.8–4.8 % (4–5/104, every one a Kokoro voice recorded in a reverberant room against a
# dry reference: re-recording in a drier room fixes it) and FAR 5.8–5.9 % (126–130/2,188,
# every one a near-copy from the same synthesiser: WORLD-vocoded joe with formants moved
# ≤ 12 %, espeak-ng's male voices against each other and f2/f4, the Japanese female Kokoro
# styles nezumi/gongitsune/tebukuro). No trial across synthesisers (joe, espeak-ng, Kokoro)
# passed; the highest was 0.72.
THRESHOLD = 0.84

PHRASE_WORDS = 5
WORD_MATCH = 0.75  # difflib ratio for a heard word to count as a phrase word
# Whisper-base mishears a word now and then ("sugar" → "chugger" on Piper joe), so one of the
# five may be missed; an old recording with another phrase then passes about 1 time in 6,000
# (4 of 5 words drawn from 63 matching by chance) — and must still match the speaker.
MAX_MISSED_WORDS = 1

# Plain, distinct words that speech recognisers spell one way (no numbers, no homophones);
# words Whisper-base misheard from Piper joe (violin, meadow, summer, window, mirror, helmet,
# ladder, saddle) are out.
WORDS = (
    "amber apple basket bicycle blanket bridge butter camel candle canyon carpet castle "
    "cherry coffee copper cotton crystal dolphin dragon eagle forest garden ginger guitar "
    "hammer island jacket jungle kettle lemon lizard magnet marble "
    "monkey mountain orange oyster palace panda parrot pencil pepper pillow planet "
    "pocket puzzle rabbit rocket salmon silver spider spinach tiger "
    "tomato tunnel turtle velvet walnut winter yellow"
).split()


class ConsentRequired(EngineError):
    """The voice has no accepted consent recording, so it cannot be cloned."""


class ConsentRefused(EngineError):
    """A consent recording was checked and did not pass."""


@dataclass(frozen=True)
class Statement:
    voice: str
    text: str
    phrase: str
    created: str  # ISO date

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ConsentCheck:
    similarity: float
    threshold: float
    transcript: str | None  # None when no recogniser is installed
    phrase_heard: bool | None  # None when not checked
    missing_words: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.similarity >= self.threshold and self.phrase_heard is not False

    def reason(self, voice: str) -> str:
        """One sentence a user can act on when the check failed."""
        if self.similarity < self.threshold:
            return (
                f"The consent recording does not sound like the voice '{voice}' (similarity "
                f"{self.similarity:.2f}, needs {self.threshold:.2f}); the person whose voice it "
                f"is must read the statement (timbre voice statement {voice!r}), in a quiet room "
                f"without echo."
            )
        if self.phrase_heard is False:
            return (
                f"The random phrase was not heard in the consent recording (missing: "
                f'{", ".join(self.missing_words)}; heard: "{self.transcript}"); read the '
                f"current statement aloud, clearly, and try again."
            )
        return "The consent recording was accepted."


def new_statement(voice: str, today: _dt.date | None = None) -> Statement:
    today = today or _dt.date.today()
    phrase = " ".join(secrets.choice(WORDS) for _ in range(PHRASE_WORDS))
    date_text = f"{today.day} {today:%B %Y}"
    text = (
        f"I agree that my voice may be used to create a synthetic voice called {voice} "
        f"in Timbre Studio. Today is {date_text}. My phrase is: {phrase}."
    )
    return Statement(voice, text, phrase, today.isoformat())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def missing_phrase_words(phrase: str, transcript: str) -> tuple[str, ...]:
    """The phrase words not heard in ``transcript`` (close spellings count as heard)."""
    heard = _words(transcript)
    missing = []
    for word in _words(phrase):
        # A word run together with its neighbour ("summertunnel") still counts as heard.
        best = max(
            (1.0 if word in h else difflib.SequenceMatcher(None, word, h).ratio() for h in heard),
            default=0.0,
        )
        if best < WORD_MATCH:
            missing.append(word)
    return tuple(missing)


def check(similarity: float, phrase: str, transcript: str | None) -> ConsentCheck:
    """Judge one consent recording from its speaker similarity and what was heard."""
    if transcript is None:
        return ConsentCheck(similarity, THRESHOLD, None, None)
    missing = missing_phrase_words(phrase, transcript)
    heard = len(missing) <= MAX_MISSED_WORDS
    return ConsentCheck(similarity, THRESHOLD, transcript, heard, missing)


def verify_recording(
    clip: AudioClip,
    embedding: np.ndarray,
    voice_embedding: np.ndarray,
    phrase: str,
    check_phrase: bool | None = None,
) -> ConsentCheck:
    """The one consent check: speaker similarity, then (when installed) the spoken phrase.

    Used when consent is recorded and again when a voice file is imported, so an imported
    consent passes exactly the test a recorded one does. ``clip`` is the cleaned consent
    speech and ``embedding`` its speaker embedding; ``check_phrase`` None means "when the
    recogniser is installed". Another speaker is refused on the score alone; only a match is
    worth transcribing.
    """
    from engines.voices import transcribe
    from engines.voices.embedding import cosine

    similarity = cosine(embedding, voice_embedding)
    if check_phrase is None:
        check_phrase = transcribe.unavailable_reason() is None
    transcript = (
        transcribe.transcribe(clip) if check_phrase and similarity >= THRESHOLD else None
    )
    return check(similarity, phrase, transcript)
