"""Transcript fixtures: the speech is made and transcribed once per session (Whisper-base
on ~9 s of audio); each test works on its own copy of the transcribed project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engines.audio_io import write_audio
from tests.transcripts.speech import Said, say_words


@pytest.fixture(scope="session")
def said() -> Said:
    return say_words()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory, said) -> Path:
    return write_audio(tmp_path_factory.mktemp("speech") / "interview.wav", said.clip)


@pytest.fixture(scope="session")
def transcribed(tmp_path_factory, speech_wav, said) -> Path:
    """A project at the speech's own rate (so mixes compare sample for sample) with the
    speech on one track and its transcript stored."""
    from desktop.project.store import Project
    from desktop.project.transcripts import transcribe_project

    folder = tmp_path_factory.mktemp("transcribed") / "show"
    with Project.create(folder, sample_rate=said.rate, channels=1) as project:
        project.import_file(speech_wav)
        transcribe_project(project, language="en")
    return folder.with_name("show.timbre")


@pytest.fixture
def project_copy(tmp_path, transcribed) -> Path:
    target = tmp_path / transcribed.name
    shutil.copytree(transcribed, target, ignore=shutil.ignore_patterns("project.lock"))
    return target
