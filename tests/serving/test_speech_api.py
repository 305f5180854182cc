"""``timbre serve``: an OpenAI-style client speaks through the local endpoint with the
shipped Piper voice; voices without consent, unknown voices and missing tokens are refused."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import pytest


def call(url: str, body: dict | None = None, token: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if body else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


@pytest.fixture
def server():
    from engines.serving.speech_api import serve_in_thread

    srv = serve_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_openai_client_speaks_with_a_served_voice(server, tmp_path):
    import soundfile as sf

    status, kind, body = call(f"{server.url}/v1/voices")
    assert status == 200 and kind == "application/json"
    voices = {v["id"]: v for v in json.loads(body)["data"]}
    assert voices["joe"]["kind"] == "builtin"

    speech = {"model": "tts-1", "input": "Good morning, how are you?", "voice": "joe",
              "response_format": "wav"}
    status, kind, body = call(f"{server.url}/v1/audio/speech", speech)
    assert status == 200 and kind == "audio/wav"
    audio, rate = sf.read(io.BytesIO(body))
    assert rate == 22050 and len(audio) / rate > 1.0

    from engines.audio import AudioClip
    from engines.serving.speech_api import _encode

    pcm = _encode(AudioClip(audio.astype("float32"), rate), "pcm")
    assert abs(len(pcm) / 2 / 24_000 - len(audio) / rate) < 0.01  # OpenAI's 24 kHz s16le

    status, _kind, body = call(f"{server.url}/v1/audio/speech", {**speech, "voice": "alloy"})
    assert status == 404 and "/v1/voices" in json.loads(body)["error"]["message"]
    status, _kind, body = call(f"{server.url}/v1/audio/speech", {**speech, "response_format": "xyz"})
    assert status == 400 and "response_format" in json.loads(body)["error"]["message"]


def test_library_voice_without_consent_is_refused(server, tmp_path):
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.banking.recordings import recording

    ref = write_audio(tmp_path / "ref.flac", recording("The birch canoe slid on the smooth planks."))
    open_library().add("Nobody Asked", [ref])
    status, _kind, body = call(f"{server.url}/v1/voices")
    assert "Nobody Asked" not in {v["id"] for v in json.loads(body)["data"]}
    speech = {"model": "tts-1", "input": "Hello.", "voice": "Nobody Asked", "response_format": "wav"}
    status, _kind, body = call(f"{server.url}/v1/audio/speech", speech)
    assert status == 403 and "consent" in json.loads(body)["error"]["message"]


def test_a_token_is_required_off_loopback_and_enforced_when_set(timbre_cli):
    from engines.errors import BadInput
    from engines.serving.speech_api import check_binding, serve_in_thread

    with pytest.raises(BadInput, match="--token"):
        check_binding("0.0.0.0", None)
    check_binding("::1", None)
    out = timbre_cli("serve", "--host", "0.0.0.0", "--port", "0")
    assert out.returncode == 1 and "give a token with --token" in out.stderr

    srv = serve_in_thread(token="s3cret")
    try:
        status, _kind, body = call(f"{srv.url}/v1/voices")
        assert status == 401 and "Bearer" in json.loads(body)["error"]["message"]
        assert call(f"{srv.url}/v1/voices", token="wrong")[0] == 401
        assert call(f"{srv.url}/v1/voices", token="s3cret")[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()
