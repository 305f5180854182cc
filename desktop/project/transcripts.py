"""Transcripts of a project: made with Whisper, kept in the store, placed on the timeline.

Why words are kept in take coordinates (see schema migration 1 -> 2): the transcript is a
view of the audio, and the audio on the timeline is clips of takes. Placing each word
through the clips that play it means a range edit — made here by deleting words, or in the
timeline, or undone — moves and removes words with no second bookkeeping; a word whose
audio is no longer on the timeline is simply not shown.

Deleting words and removing fillers go through ``Timeline.delete_ranges`` (ripple, one
undo step, every track, so voices and music stay in sync), the same edit as Delete on a
time selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from desktop.project.errors import ProjectError
from desktop.project.models import Clip
from desktop.project.store import Project, now
from desktop.project.timeline import Timeline
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.transcripts.fillers import is_filler
from engines.transcripts.words import RATE, Word, transcribe_words

READ_SHARE = 0.1  # of the progress bar: mixing the audio down before Whisper hears it


@dataclass(frozen=True)
class TranscriptInfo:
    id: int
    scope: str  # mix | track
    track_id: int | None
    language: str
    model: str
    created: str


@dataclass(frozen=True)
class PlacedWord:
    """A stored word where it plays now: ``start``/``end`` in timeline frames."""

    id: int
    seq: int
    text: str
    start: int
    end: int
    probability: float
    segment: int

    def as_word(self, rate: int) -> Word:
        return Word(self.text, self.start / rate, self.end / rate, self.probability, self.segment)


# ---- making one ----------------------------------------------------------------------
def _scaled(progress: ProgressCallback, lo: float, hi: float) -> ProgressCallback:
    def sink(p: Progress) -> None:
        progress(Progress(lo + (hi - lo) * p.fraction, 1.0, p.stage))

    return sink


def timeline_audio(project: Project, track_id: int | None = None,
                   progress: ProgressCallback = no_progress,
                   cancel: CancelToken | None = None) -> np.ndarray:
    """The mix (or one track, at unity gain, whatever its mute) as mono 16 kHz samples."""
    from dataclasses import replace

    from engines.mixing import mix_stream
    from engines.stream import walk

    tracks = project.mix_tracks()
    if track_id is not None:
        order = [t.id for t in project.tracks()]
        if track_id not in order:
            raise ProjectError(f"There is no track {track_id} in {project.name}.")
        one = tracks[order.index(track_id)]
        tracks = [replace(one, gain_db=0.0, mute=False, solo=False, pan=0.0)]
    stream = mix_stream(tracks, project.sample_rate, 1)
    if stream.frames == 0:
        what = "That track" if track_id is not None else project.name
        raise ProjectError(f"{what} has no audio to transcribe. Import or record speech first.")
    parts = list(walk(stream.resampled(RATE), "reading the audio", progress, cancel))
    return np.concatenate(parts, axis=1)[0] if parts else np.zeros(0, np.float32)


# Where the mix has several tracks under a word, the word is kept with the voice, not the bed.
_VOICE_FIRST = {"speech": 0, "clone": 0, "import": 1, "bounce": 2, "sfx": 3, "music": 3}


def timeline_clips(project: Project, track_id: int | None) -> list[Clip]:
    """The clips a transcript's words can lie in: the transcribed track's, or for the mix
    every unmuted track's, voices before music and effects (see :func:`save_transcript`)."""
    tracks = [t for t in project.tracks() if track_id is None or t.id == track_id]
    if track_id is None:
        tracks = [t for t in tracks if not t.mute] or tracks
    kinds = {t.id: t.kind for t in project.takes()}
    clips = [c for t in tracks for c in project.clips(t.id)]
    return sorted(clips, key=lambda c: _VOICE_FIRST.get(kinds.get(c.take_id, ""), 2))


def _anchor(project: Project, words: Sequence[Word], clips: Sequence[Clip]) -> list[tuple]:
    """Each word as (take, start, end in the take) through the first clip playing its middle."""
    rate = project.sample_rate
    out = []
    for w in words:
        a, b = round(w.start * rate), round(w.end * rate)
        mid = (a + b) // 2
        clip = next((c for c in clips if c.start_frame <= mid < c.end_frame), None)
        if clip is None:
            continue
        shift = clip.offset_frame - clip.start_frame
        out.append((clip.take_id, a + shift, b + shift, w))
    return out


def save_transcript(project: Project, words: Sequence[Word], track_id: int | None,
                    language: str, model: str, clips: Sequence[Clip] | None = None) -> int:
    """Store a transcript of the timeline as it was when its audio was mixed (``clips``,
    default: as it is now), replacing the last one of the same scope (the mix, or that
    track). Returns its id."""
    clips = timeline_clips(project, track_id) if clips is None else clips
    anchored = _anchor(project, words, clips)
    scope = "mix" if track_id is None else "track"
    with project.transaction() as db:
        if track_id is None:
            db.execute("DELETE FROM transcripts WHERE scope='mix'")
        else:
            db.execute("DELETE FROM transcripts WHERE scope='track' AND track_id=?", (track_id,))
        cur = db.execute(
            "INSERT INTO transcripts(scope, track_id, language, model, created) VALUES (?,?,?,?,?)",
            (scope, track_id, language, model, now()),
        )
        tid = int(cur.lastrowid)
        db.executemany(
            "INSERT INTO transcript_words(transcript_id, seq, take_id, start_frame, end_frame,"
            " text, probability, segment) VALUES (?,?,?,?,?,?,?,?)",
            [(tid, i, take, a, b, w.text, w.probability, w.segment)
             for i, (take, a, b, w) in enumerate(anchored)],
        )
    return tid


def transcribe_project(project: Project, track_id: int | None = None, language: str | None = None,
                       model: str = "base", progress: ProgressCallback = no_progress,
                       cancel: CancelToken | None = None) -> int:
    """Transcribe the mix (or one track) with word times and store it; returns its id.

    The words are placed through the clips as they were when the audio was mixed, so an
    edit made while Whisper listens does not shift them."""
    clips = timeline_clips(project, track_id)
    audio = timeline_audio(project, track_id, _scaled(progress, 0.0, READ_SHARE), cancel)
    result = transcribe_words(audio, language, model, progress=_scaled(progress, READ_SHARE, 1.0),
                              cancel=cancel)
    if cancel is not None:
        cancel.check()
    return save_transcript(project, result.words, track_id, result.language, result.model, clips)


# ---- reading one -----------------------------------------------------------------------
def transcripts(project: Project) -> list[TranscriptInfo]:
    rows = project.db.execute("SELECT * FROM transcripts ORDER BY id")
    return [TranscriptInfo(**dict(r)) for r in rows]


def latest(project: Project, track_id: int | None = None) -> TranscriptInfo | None:
    """The newest transcript (of that track when one is named)."""
    found = [t for t in transcripts(project) if track_id is None or t.track_id == track_id]
    return found[-1] if found else None


def of_scope(project: Project, track_id: int | None) -> TranscriptInfo | None:
    """The transcript of the mix (``None``) or of that track, if one was made."""
    found = [t for t in transcripts(project)
             if (t.scope == "mix" if track_id is None else t.track_id == track_id)]
    return found[-1] if found else None


def placed_words(project: Project, transcript_id: int) -> list[PlacedWord]:
    """The transcript's words where they play now, in time order (see the module doc): a
    word is shown through every clip that plays its middle, cut to that clip's edges."""
    rows = project.db.execute(
        "SELECT id, seq, take_id, start_frame, end_frame, text, probability, segment "
        "FROM transcript_words WHERE transcript_id=? ORDER BY seq", (transcript_id,)).fetchall()
    if not rows:
        return []
    take = np.array([r["take_id"] for r in rows])
    a = np.array([r["start_frame"] for r in rows], np.int64)
    b = np.array([r["end_frame"] for r in rows], np.int64)
    mid = (a + b) // 2
    found: list[tuple[int, int, int, int]] = []  # (start, seq order, row index, end)
    for c in project.clips():
        hit = np.flatnonzero((take == c.take_id) & (mid >= c.offset_frame)
                             & (mid < c.offset_frame + c.length_frames))
        shift = c.start_frame - c.offset_frame
        for i in hit.tolist():
            s = max(int(a[i]) + shift, c.start_frame)
            e = min(int(b[i]) + shift, c.end_frame)
            found.append((s, i, e, c.id))
    found.sort()
    out, seen = [], set()
    for s, i, e, _clip in found:
        r = rows[i]
        if (r["id"], s) in seen:  # the same take on two tracks at the same time
            continue
        seen.add((r["id"], s))
        out.append(PlacedWord(r["id"], r["seq"], r["text"], s, e, r["probability"], r["segment"]))
    return out


def words_in_seconds(project: Project, transcript_id: int) -> list[Word]:
    rate = project.sample_rate
    return [w.as_word(rate) for w in placed_words(project, transcript_id)]


# ---- editing by text ----------------------------------------------------------------------
def word_ranges(words: Sequence[PlacedWord], chosen: Sequence[int]) -> list[tuple[int, int]]:
    """Timeline ranges that remove the chosen words (indexes into ``words``): neighbours
    chosen together go as one range, the pause between them included; a lone word goes from
    its first sound to its last."""
    picked = sorted(set(chosen))
    ranges: list[tuple[int, int]] = []
    run: list[int] = []
    for i in picked:
        if not 0 <= i < len(words):
            raise ProjectError(f"There is no word {i + 1} in the transcript.")
        if run and i != run[-1] + 1:
            ranges.append((words[run[0]].start, words[run[-1]].end))
            run = []
        run.append(i)
    if run:
        ranges.append((words[run[0]].start, words[run[-1]].end))
    return ranges


def quoted(words: Sequence[PlacedWord], chosen: Sequence[int], limit: int = 40) -> str:
    text = " ".join(words[i].text for i in sorted(set(chosen)))
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def delete_words(timeline: Timeline, words: Sequence[PlacedWord], chosen: Sequence[int]) -> None:
    """Remove the chosen words' audio from every track (ripple), as one undo step."""
    if not chosen:
        raise ProjectError("Select the words to delete first.")
    timeline.delete_ranges(word_ranges(words, chosen), None,
                           label=f"Delete words {quoted(words, chosen)}")


def filler_indexes(words: Sequence[PlacedWord], language: str) -> list[int]:
    return [i for i, w in enumerate(words) if is_filler(w.text, language)]


def remove_fillers(timeline: Timeline, words: Sequence[PlacedWord], language: str) -> int:
    """Remove every filler word's audio in one undo step; returns how many went."""
    chosen = filler_indexes(words, language)
    if not chosen:
        return 0
    timeline.delete_ranges(word_ranges(words, chosen), None,
                           label=f"Remove {len(chosen)} filler word{'s' * (len(chosen) != 1)}")
    return len(chosen)
