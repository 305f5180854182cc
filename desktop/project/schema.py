"""The project database schema, as forward migrations.

``MIGRATIONS[i]`` takes a database from schema version ``i`` to ``i + 1``; the version is
kept in ``PRAGMA user_version``. Append new migrations, never edit released ones.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- Audio files in audio/, named by the sha256 of their bytes.
    CREATE TABLE audio_files (
        sha256 TEXT PRIMARY KEY,
        ext TEXT NOT NULL,
        sample_rate INTEGER NOT NULL,
        channels INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        created TEXT NOT NULL
    );
    -- A take: one piece of audio with where it came from (import or generation).
    CREATE TABLE takes (
        id INTEGER PRIMARY KEY,
        audio_sha256 TEXT NOT NULL REFERENCES audio_files(sha256),
        name TEXT NOT NULL,
        kind TEXT NOT NULL,             -- import | music | sfx | speech | clone | bounce
        engine TEXT NOT NULL DEFAULT '',
        model_id TEXT NOT NULL DEFAULT '',
        model_version TEXT NOT NULL DEFAULT '',
        prompt TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',  -- JSON
        seed INTEGER,
        device TEXT NOT NULL DEFAULT '',
        dtype TEXT NOT NULL DEFAULT '',
        voice_id TEXT,                  -- library voice (user-level voice database)
        consent TEXT,                   -- JSON copy of the consent record used, for clones
        watermarked INTEGER NOT NULL DEFAULT 0,
        provenance TEXT NOT NULL DEFAULT '{}',  -- JSON: the full record
        source_path TEXT NOT NULL DEFAULT '',
        job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
        duration REAL NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        gain_db REAL NOT NULL DEFAULT 0,
        pan REAL NOT NULL DEFAULT 0,
        mute INTEGER NOT NULL DEFAULT 0,
        solo INTEGER NOT NULL DEFAULT 0
    );
    -- Positions are integer frames at the project sample rate.
    CREATE TABLE clips (
        id INTEGER PRIMARY KEY,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        take_id INTEGER NOT NULL REFERENCES takes(id),
        start_frame INTEGER NOT NULL CHECK (start_frame >= 0),
        offset_frame INTEGER NOT NULL DEFAULT 0 CHECK (offset_frame >= 0),
        length_frames INTEGER NOT NULL CHECK (length_frames > 0),
        gain_db REAL NOT NULL DEFAULT 0,
        fade_in_frames INTEGER NOT NULL DEFAULT 0,
        fade_out_frames INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        engine TEXT NOT NULL DEFAULT '',
        request TEXT NOT NULL DEFAULT '{}',  -- JSON
        state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed','cancelled')),
        progress REAL NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        started TEXT,
        finished TEXT
    );
    CREATE TABLE markers (
        id INTEGER PRIMARY KEY,
        frame INTEGER NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'marker'  -- marker | chapter
    );
    CREATE INDEX clips_track ON clips(track_id);
    CREATE INDEX clips_take ON clips(take_id);
    CREATE INDEX takes_audio ON takes(audio_sha256);
    """,
    # 1 -> 2: transcripts. A word is kept where it lies in its take's audio (project-rate
    # frames, like a clip's offset), not on the timeline: a range edit moves or removes the
    # clips, and the words follow (or go, and come back on undo) without being rewritten.
    """
    CREATE TABLE transcripts (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL CHECK (scope IN ('mix','track')),
        track_id INTEGER,               -- the transcribed track (scope 'track')
        language TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL
    );
    CREATE TABLE transcript_words (
        id INTEGER PRIMARY KEY,
        transcript_id INTEGER NOT NULL REFERENCES transcripts(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        take_id INTEGER NOT NULL,       -- the take whose audio holds the word
        start_frame INTEGER NOT NULL,   -- in that take, at the project rate
        end_frame INTEGER NOT NULL,
        text TEXT NOT NULL,
        probability REAL NOT NULL DEFAULT 0,
        segment INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX transcript_words_order ON transcript_words(transcript_id, seq);
    """,
]

LATEST = len(MIGRATIONS)
