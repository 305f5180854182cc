"""A bank folder through a person's sessions: record, redo, resume another day, export."""

from __future__ import annotations

import csv

import pytest

from engines.banking.bank import ACCEPTED, REJECTED, REPLACED, VoiceBank
from engines.errors import BadInput
from tests.banking.recordings import clipped, recording


def test_takes_resume_and_redo_across_sessions(tmp_path, clean_takes, script_lines):
    ids = [line.id for line in script_lines]
    bank = VoiceBank.create(tmp_path / "ada", speaker="Ada")
    assert bank.next_prompt().id == ids[0]
    take, report = bank.add_take(ids[0], clean_takes[ids[0]])
    assert (take.verdict, take.status) == ("green", ACCEPTED)
    bad, report = bank.add_take(ids[1], clipped(clean_takes[ids[1]]))
    assert (bad.verdict, bad.status) == ("red", REJECTED)
    assert "clipping" in report.summary()

    # Another day: a fresh object on the same folder resumes at the prompt still to do.
    later = VoiceBank.open(tmp_path / "ada")
    assert later.next_prompt().id == ids[1]
    redo, _ = later.add_take(ids[1], clean_takes[ids[1]])
    assert redo.status == ACCEPTED
    noisy = recording(script_lines[0].text, noise_db=-46.0)  # amber, kept by the person
    again, _ = later.add_take(ids[0], noisy, accept=True)
    assert again.verdict == "amber"
    assert later.take(take.id).status == REPLACED
    assert [t.id for _, t in later.accepted()] == [again.id, redo.id]
    assert later.next_prompt().id == ids[2]
    later.skip_to(ids[3])
    assert later.next_prompt().id == ids[3]

    status = later.status()
    assert status.recorded == 2 and status.prompts == 1132
    assert status.clean_seconds > 4
    assert status.next_milestone == (50, "quick") and status.milestone is None
    # Worst first, so the person can re-record the weakest accepted take.
    assert [t.id for _, t in later.review()] == [again.id, redo.id]


def test_same_recording_is_stored_once(tmp_path, clean_takes):
    bank = VoiceBank.create(tmp_path / "b")
    pid, clip = next(iter(clean_takes.items()))
    a, _ = bank.add_take(pid, clip)
    b, _ = bank.add_take(pid, clip)
    assert a.sha256 == b.sha256
    assert len(list((tmp_path / "b" / "takes").rglob("*.flac"))) == 2  # original + trimmed


def test_milestones_count_accepted_sentences(tmp_path, clean_takes):
    lines = "\n".join(f"p{i:03d}\tPrompt number {i}." for i in range(60))
    script = tmp_path / "mine.tsv"
    script.write_text(lines + "\n", encoding="utf-8")
    bank = VoiceBank.create(tmp_path / "m", script=str(script))
    clip = next(iter(clean_takes.values()))
    for i in range(50):
        bank.add_take(f"p{i:03d}", clip, accept=True)
    status = bank.status()
    assert status.milestone == (50, "quick")
    assert status.next_milestone == (400, "usable")
    assert status.next_prompt.id == "p050"


def test_ljspeech_export_is_what_piper_training_reads(tmp_path, clean_takes, script_lines):
    import soundfile as sf

    bank = VoiceBank.create(tmp_path / "x")
    texts = {line.id: line.text for line in script_lines}
    ids = list(clean_takes)
    for pid in ids[:3]:
        bank.add_take(pid, clean_takes[pid])
    bank.add_take(ids[3], clipped(clean_takes[ids[3]]), accept=True)  # red: never exported

    from engines.banking.export import export_ljspeech

    report = export_ljspeech(bank, tmp_path / "set")
    assert report.files == 3 and report.skipped == (ids[3],)
    rows = list(csv.reader((tmp_path / "set" / "metadata.csv").open(), delimiter="|"))
    assert rows == [[pid, texts[pid]] for pid in ids[:3]]  # piper.train fit's id|text
    for pid in ids[:3]:
        info = sf.info(str(tmp_path / "set" / "wavs" / f"{pid}.wav"))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert info.duration < clean_takes[pid].duration - 0.5  # VAD-trimmed
    with pytest.raises(BadInput, match="not empty"):
        export_ljspeech(bank, tmp_path / "set")


def test_messages_are_tagged_searchable_and_exported_by_name(tmp_path):
    from engines.banking.export import export_messages

    bank = VoiceBank.create(tmp_path / "msg")
    bank.add_message("I love you, Sam.", recording("I love you, Sam."), ["family"])
    prompt, _, _ = bank.add_message(
        "Could you open the window?", recording("Could you open the window?"), ["requests"]
    )
    bank.tag_message(prompt.id, ["home"])
    assert [p.text for p, _ in bank.messages("family")] == ["I love you, Sam."]
    assert [p.text for p, _ in bank.messages("window home")] == ["Could you open the window?"]
    assert bank.messages("nothing-like-this") == []
    report = export_messages(bank, tmp_path / "out")
    assert report.files == 2
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["could-you-open-the-window.wav", "i-love-you-sam.wav", "messages.csv"]
    assert bank.status().messages == 2
