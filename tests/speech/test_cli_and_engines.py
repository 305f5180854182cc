"""What a user does from the terminal, and what the engines hear back (Whisper-base)."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.errors import BadInput
from engines.speech.clone import word_error_rate
from engines.speech.request import SpeechRequest
from engines.speech.text import segments

SCRIPT = ("On 2024-03-15 the shop sold 12 red boxes. [pause 500ms] "
          "Then everyone went home.")
SPOKEN = "On March fifteenth, twenty twenty-four the shop sold twelve red boxes. Then everyone went home."


@pytest.mark.parametrize("engine_name", ["piper", "kokoro"])
def test_engines_are_intelligible_with_numbers_read_out(request, engine_name):
    from engines.voices.transcribe import transcribe

    engine = request.getfixturevalue(engine_name)
    chunks = [c.samples[0] for c in engine.stream(SpeechRequest(SCRIPT, seed=0))]
    heard = transcribe(AudioClip(np.concatenate(chunks), engine.sample_rate))
    spoken = " ".join(s.text for s in segments(SCRIPT) if hasattr(s, "text"))
    assert spoken == SPOKEN
    # Whisper writes numbers as digits: compare its words with the written script.
    wer = word_error_rate("On March 15, 2024 the shop sold 12 red boxes. Then everyone went home.", heard)
    assert wer <= 0.2, f"{engine_name} heard as: {heard!r}"


def test_explicit_pause_is_exact_silence(piper):
    chunks = [c.samples[0] for c in piper.stream(SpeechRequest("One. [pause 700ms] Two.", seed=0))]
    assert len(chunks) == 3
    assert len(chunks[1]) == round(0.7 * piper.sample_rate) and not chunks[1].any()


def test_long_text_streams_with_progress_and_cancels(piper):
    from engines.cancel import CancelToken
    from engines.errors import Cancelled
    from engines.speech.pipeline import StreamStats

    text = " ".join(f"This is sentence number {i} of a long reading." for i in range(200))
    token, stats, progress = CancelToken(), StreamStats(), []
    stream = piper.stream(SpeechRequest(text), progress.append, token, stats)
    first = next(stream)
    assert first.duration > 1.0 and stats.first_chunk_s is not None
    next(stream)
    token.cancel()
    with pytest.raises(Cancelled):
        next(stream)
    assert 0 < progress[-1].done < progress[-1].total  # progress counts characters spoken


def test_bad_controls_and_voices_are_refused_in_one_sentence(kokoro, espeak):
    with pytest.raises(BadInput, match="0.5 to 2.0"):
        kokoro.check_request(SpeechRequest("Hi", rate=2.5))
    with pytest.raises(BadInput, match="−12 to \\+12"):
        kokoro.check_request(SpeechRequest("Hi", pitch=13))
    with pytest.raises(BadInput, match="emotion"):
        kokoro.check_request(SpeechRequest("Hi", emotion="angry"))
    with pytest.raises(BadInput, match="no voice 'nope'"):
        kokoro.raw("Hi", SpeechRequest("Hi", voice="nope"))
    with pytest.raises(BadInput, match="espeak-ng has no voice"):
        espeak.check_request(SpeechRequest("Hi", voice="xx-notalang"))


def test_speak_command_writes_a_tagged_file_and_adds_a_take(timbre_cli, tmp_path):
    from desktop.project.store import Project
    from engines.audio_io import read_audio
    from engines.tags import read_tags

    project = tmp_path / "talk.timbre"
    Project.create(project).close()
    out = tmp_path / "hello.wav"
    done = timbre_cli("speak", "Hello there. [pause 300ms] Happy to see you.", "--emotion",
                      "happy", "--rate", "1.2", "--project", project, "-o", out)
    assert done.returncode == 0, done.stderr
    clip = read_audio(out)
    assert 1.0 < clip.duration < 6.0
    tags = read_tags(out)
    assert "piper" in str(tags)
    with Project.open(project) as p:
        takes = p.takes()
        assert len(takes) == 1 and takes[0].kind == "speech" and len(p.clips()) == 1


def test_speak_command_refuses_bad_input(timbre_cli, tmp_path):
    bad = timbre_cli("speak", "Hi", "--rate", "3", "-o", tmp_path / "x.wav")
    assert bad.returncode == 1 and "0.5 to 2.0" in bad.stderr
    none = timbre_cli("speak", "Hi", "--voice", "Nobody", "-o", tmp_path / "x.wav")
    assert none.returncode == 1 and "no voice called 'Nobody'" in none.stderr
    assert not (tmp_path / "x.wav").exists()


def test_speech_engines_are_registered_and_available():
    from engines.registry import engine_infos

    infos = {i.name: i for i in engine_infos("speech")}
    for name in ("piper", "kokoro", "espeak"):
        assert infos[name].available, infos[name].reason
