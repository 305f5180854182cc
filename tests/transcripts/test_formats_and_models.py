"""The plain-data parts: subtitle cues, WER, fillers per language, and which Whisper
model a name means (no model is loaded here)."""

from __future__ import annotations

import pytest

from engines.errors import BadInput, ModelMissing
from engines.transcripts.fillers import is_filler
from engines.transcripts.subtitles import LINE_CHARS, cues, format_for, to_srt, to_vtt
from engines.transcripts.wer import word_error_rate
from engines.transcripts.words import Word


def test_cues_keep_to_two_lines_break_at_sentences_and_pauses():
    words = [Word(f"word{i}{'.' if i == 3 else ''}", i * 0.5, i * 0.5 + 0.4) for i in range(30)]
    words.append(Word("later", 40.0, 40.5))
    found = cues(words)
    assert found[0].text.replace("\n", " ").endswith("word3.")  # a sentence ends the cue
    assert found[-1].text == "later" and found[-1].start == 40.0  # a long pause starts one
    for cue in found:
        assert all(len(line) <= LINE_CHARS + 8 for line in cue.text.split("\n"))
        assert len(cue.text.split("\n")) <= 2 and cue.end - cue.start <= 7.5


def test_srt_and_vtt_stamps_past_an_hour():
    words = [Word("Hello", 3723.25, 3723.9), Word("there.", 3724.0, 3724.5)]
    assert to_srt(words) == "1\n01:02:03,250 --> 01:02:04,500\nHello there.\n"
    assert to_vtt(words) == "WEBVTT\n\n01:02:03.250 --> 01:02:04.500\nHello there.\n"
    assert format_for("out.VTT", None) == "vtt" and format_for("out", None) == "txt"
    with pytest.raises(BadInput):
        format_for("x.srt", "docx")


def test_word_error_rate():
    assert word_error_rate("the cat sat", "The cat sat.") == 0.0
    assert word_error_rate("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert word_error_rate("a b", "x a b y") == 1.0


def test_fillers_per_language_and_not_words_that_mean_something():
    assert is_filler("Um,") and is_filler("uh...") and is_filler("Erm")
    assert not is_filler("like") and not is_filler("umbrella") and not is_filler("so")
    assert is_filler("Ähm", "de") and is_filler("euh", "fr") and not is_filler("ähm", "en")


def test_which_whisper_a_name_means(tmp_path):
    from engines import modelstore
    from engines.voices.transcribe import model_folder

    with pytest.raises(ModelMissing, match="Systran/faster-whisper-small"):
        model_folder("small")
    with pytest.raises(ModelMissing, match="not a Whisper model"):
        model_folder("enormous")
    with pytest.raises(ModelMissing, match="model.bin"):
        model_folder(str(tmp_path))
    src = tmp_path / "converted"
    src.mkdir()
    for name in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt"):
        (src / name).write_text("{}")
    assert model_folder(str(src)) == src
    installed = modelstore.import_folder(src, "Systran/faster-whisper-small")
    try:
        assert model_folder("small") == installed.path
    finally:
        modelstore.remove("Systran/faster-whisper-small")
