"""``timbre bank`` as a person would use it with recordings made elsewhere."""

from __future__ import annotations

from engines.audio_io import write_audio
from tests.banking.recordings import clipped


def test_bank_cli_session(tmp_path, clean_takes, timbre_cli):
    bank = tmp_path / "joe-bank"
    ids = list(clean_takes)
    good = write_audio(tmp_path / "good.wav", clean_takes[ids[0]])
    bad = write_audio(tmp_path / "bad.wav", clipped(clean_takes[ids[1]]))

    run = timbre_cli("bank", "new", bank, "--speaker", "Joe")
    assert run.returncode == 0 and "1132 prompts" in run.stdout
    run = timbre_cli("bank", "add-take", bank, ids[0], good)
    assert run.returncode == 0 and "verdict  green: clean take" in run.stdout
    run = timbre_cli("bank", "add-take", bank, ids[1], bad)
    assert run.returncode == 0
    assert "verdict  red: clipping" in run.stdout and "not accepted" in run.stdout

    run = timbre_cli("bank", "prompts", bank, "--todo")
    assert ids[0] not in run.stdout and ids[1] in run.stdout
    run = timbre_cli("bank", "status", bank)
    assert "recorded   1 of 1132" in run.stdout
    assert "49 to go" in run.stdout and f"resume at  {ids[1]}" in run.stdout
    assert "training   Record at least 5 more sentences" in run.stdout

    run = timbre_cli("bank", "export", bank, "-o", tmp_path / "set")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "set" / "wavs" / f"{ids[0]}.wav").is_file()

    run = timbre_cli("bank", "consent", bank, "--name", "Joe Banked")
    assert run.returncode == 0 and "I agree that my voice may be used" in run.stdout

    run = timbre_cli("bank", "add-take", bank, "no_such_prompt", good)
    assert run.returncode == 1 and "no prompt 'no_such_prompt'" in run.stderr
    run = timbre_cli("bank", "status", tmp_path / "not-a-bank")
    assert run.returncode == 1 and "not a voice bank" in run.stderr
