"""One synthetic episode (two Piper speakers, room noise, a music bed) per test session,
and one master of it, shared by the podcast tests."""

from __future__ import annotations

import pytest

from tests.podcast.synth import Episode, build_episode

DUCK_DB = 12.0


@pytest.fixture(scope="session")
def episode() -> Episode:
    return build_episode()


@pytest.fixture(scope="session")
def mastered(episode):
    """The episode at the −16 LUFS preset with the bed ducked by DUCK_DB; pauses kept so
    the test's own knowledge of where lines are stays valid."""
    from engines.podcast.chapters import Chapter
    from engines.podcast.master import MasterRequest, master

    request = MasterRequest(
        voices=episode.voices,
        music=episode.music,
        duck_db=DUCK_DB,
        max_pause_s=None,
        chapters=[Chapter(0.0, "Welcome"), Chapter(episode.speech[2][0], "Sunlight")],
    )
    return master(request)
