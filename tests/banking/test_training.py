"""Training a voice from a bank end to end with piper's own trainer, on the CPU, from the
tiny random-weight base: train, export, check, add to the library, speak; and a training
killed mid-run resumes from its checkpoint. The debug base makes noise, so its check fails
and the voice is only added when forced (marked debug/unchecked): that is what the test
asserts about the gate, the plumbing around it is what it proves."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.banking.training_bank import VOICE, build_bank, copy_bank, record_consent
from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]  # minutes of CPU training


@pytest.fixture(scope="module")
def dozen(tmp_path_factory):
    return build_bank(tmp_path_factory.mktemp("bank") / "ada")


def test_train_check_add_and_speak_in_the_banked_voice(tmp_path, dozen, timbre_cli):
    import soundfile as sf

    bank = copy_bank(dozen, tmp_path / "ada")
    args = ("bank", "train", bank.path, "--base", "debug", "--steps", "2", "--batch-size", "2")
    out = timbre_cli(*args)
    assert out.returncode == 2, out.stderr
    assert "step 2/2" in out.stdout and "loss" in out.stdout
    assert "word error rate" in out.stdout and "base voice" in out.stdout
    assert "not added" in out.stdout
    folder = bank.path / "training"
    check = json.loads((folder / "check.json").read_text())
    assert check["passed"] is False and len(check["prompts"]) == 2
    assert check["base"] is not None and check["trained"]["wer"] > 0.1
    onnx = folder / "voice" / "voice.onnx"
    config = json.loads((folder / "voice" / "voice.onnx.json").read_text())
    assert onnx.stat().st_size > 100_000 and config["espeak"]["voice"] == "en-us"

    record_consent(bank)
    out = timbre_cli(*args, "--force")  # the finished run is reused, then added when forced
    assert out.returncode == 0, out.stderr
    assert f"added      '{VOICE}'" in out.stdout
    listed = timbre_cli("voice", "show", VOICE)
    assert "debug" in listed.stdout and "unchecked" in listed.stdout

    wav = tmp_path / "hello.wav"
    out = timbre_cli("speak", "--voice", VOICE, "Hello, it is still me.", "-o", wav)
    assert out.returncode == 0, out.stderr
    info = sf.info(str(wav))
    assert info.samplerate == 22050 and info.duration > 0.3

    # ...and every program on the machine can use it through the local speech service.
    from engines.serving.speech_api import serve_in_thread
    from tests.serving.test_speech_api import call

    server = serve_in_thread()
    try:
        status, _kind, body = call(f"{server.url}/v1/voices")
        assert {"id": VOICE, "kind": "library"}.items() <= {
            v["id"]: v for v in json.loads(body)["data"]}[VOICE].items()
        speech = {"model": "tts-1", "input": "Hello.", "voice": VOICE, "response_format": "wav"}
        status, kind, body = call(f"{server.url}/v1/audio/speech", speech)
        assert status == 200 and kind == "audio/wav" and body[:4] == b"RIFF"
    finally:
        server.shutdown()
        server.server_close()


def test_killed_training_resumes_from_its_checkpoint(tmp_path, dozen, timbre_cli):
    bank = copy_bank(dozen, tmp_path / "ada")
    state = bank.path / "training" / "run.json"
    cmd = [sys.executable, "-m", "desktop.cli.main", "bank", "train", str(bank.path),
           "--base", "debug", "--steps", "4", "--batch-size", "2", "--checkpoint-steps", "1",
           "--no-check"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ))
    deadline = time.monotonic() + 900
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if state.is_file():
            done = json.loads(state.read_text()).get("steps_done", 0)
            if done >= 1:
                break
        time.sleep(0.5)
    assert proc.poll() is None and done >= 1, proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)  # no chance to save anything more
    proc.communicate()
    saved = json.loads(state.read_text())["steps_done"]
    assert 1 <= saved < 4

    out = timbre_cli(*cmd[3:])
    assert out.returncode == 0, out.stderr
    resumed = int(re.search(r"resumed at step (\d+)", out.stdout).group(1))
    assert saved <= resumed <= saved + 1 < 5  # run.json is written just after the checkpoint
    assert "step 4/4" in out.stdout
    final = json.loads(state.read_text())
    assert final["steps_done"] == 4 and final["finished"] is True
