"""An OpenAI-compatible text-to-speech endpoint on this machine (``timbre serve``).

``POST /v1/audio/speech`` takes OpenAI's body — ``{"model", "input", "voice",
"response_format", "speed"}`` — and answers with the audio; ``GET /v1/voices`` (and
``GET /v1/models``) list what can be asked for. So any program written for OpenAI's speech
API (readers, AAC apps, scripts, a speech-dispatcher module) speaks in a library voice,
the person's own banked voice included, without a network.

Which voices: every library voice that has a consent recording (others are refused with 403,
like everywhere in the studio), imported Piper voices, and the built-in ones (``joe``…).
OpenAI's own voice names (``alloy``…) are not mapped to anything: asking for one says so.

Safety: it listens on 127.0.0.1 unless told otherwise; on any other address a token is
required (``Authorization: Bearer TOKEN``), and a token given on 127.0.0.1 is enforced too.
Requests are spoken one at a time (engines are shared), bodies are capped, and text longer
than :data:`MAX_CHARS` is refused rather than tying the machine up.

stdlib ``http.server`` (threaded) is enough for one household's programs; no framework.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np

from engines.errors import BadInput, TimbreError

MAX_BODY = 64 * 1024
MAX_CHARS = 4096  # OpenAI's own limit per request
CONTENT_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/mp4",
    "pcm": "audio/L16",
}
PCM_RATE = 24_000  # OpenAI's pcm: 24 kHz, 16-bit signed little-endian, mono


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    if not is_loopback(host) and not token:
        raise BadInput(
            f"Serving on {host} lets other machines use the voices; give a token with --token "
            "(clients send 'Authorization: Bearer TOKEN'), or serve on 127.0.0.1."
        )


@dataclass
class VoiceEntry:
    id: str
    kind: str  # "library" (with consent), "piper", "builtin"
    language: str = ""
    tags: list[str] = field(default_factory=list)


def list_voices() -> list[VoiceEntry]:
    """Voices a request may name: library voices with consent, imported Piper, built-in."""
    from engines.speech.voices import imported_piper_voices
    from engines.voices.library import open_library

    found = [
        VoiceEntry(v.name, "library", v.language, list(v.tags))
        for v in open_library().voices()
        if v.has_consent
    ]
    names = {v.id for v in found}
    found += [VoiceEntry(n, "piper") for n in sorted(imported_piper_voices()) if n not in names]
    found.append(VoiceEntry("joe", "builtin", "en-us"))
    return found


def _encode(clip, fmt: str) -> bytes:
    from engines.audio_io import encode_audio

    if fmt == "pcm":
        mono = clip.mono().resampled(PCM_RATE).samples[0]
        return (np.clip(mono, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    ext = {"aac": "m4a"}.get(fmt, fmt)
    with tempfile.TemporaryDirectory(prefix="timbre-serve-") as tmp:
        path = Path(tmp) / f"speech.{ext}"
        encode_audio(path, clip, ext)
        return path.read_bytes()


def speak_request(body: dict[str, Any]) -> tuple[bytes, str]:
    """``(audio bytes, content type)`` for an OpenAI speech request body."""
    from engines.speech.service import speak
    from engines.speech.voices import resolve

    text = body.get("input")
    if not isinstance(text, str) or not text.strip():
        raise BadInput("'input' must be the text to speak.")
    if len(text) > MAX_CHARS:
        raise BadInput(f"'input' is {len(text)} characters; at most {MAX_CHARS} per request.")
    voice = body.get("voice")
    if isinstance(voice, dict):  # OpenAI's newer {"id": ...} form
        voice = voice.get("id")
    if not isinstance(voice, str) or not voice:
        raise BadInput("'voice' must name a voice; GET /v1/voices lists them.")
    known = {v.id for v in list_voices()}
    if voice not in known:
        from engines.voices.library import open_library

        if open_library().exists(voice):
            raise PermissionError(
                f"The voice '{voice}' has no consent recording, so it cannot be spoken."
            )
        raise LookupError(f"There is no voice '{voice}'; GET /v1/voices lists them.")
    fmt = str(body.get("response_format") or "mp3").lower()
    if fmt not in CONTENT_TYPES:
        raise BadInput(f"response_format '{fmt}' is not one of {', '.join(CONTENT_TYPES)}.")
    speed = body.get("speed", 1.0)
    if not isinstance(speed, int | float) or not 0.25 <= float(speed) <= 4.0:
        raise BadInput("'speed' must be a number from 0.25 to 4.0.")
    take = speak(text, resolve(voice), rate=float(speed))
    return _encode(take.clip, fmt), CONTENT_TYPES[fmt]


class SpeechServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, token: str | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        check_binding(host, token)
        self.token = token
        self.log = log or (lambda _line: None)
        self.speak_lock = threading.Lock()
        super().__init__((host, port), SpeechHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class SpeechHandler(BaseHTTPRequestHandler):
    server: SpeechServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        self.server.log(f"{self.address_string()} {format % args}")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str, kind: str) -> None:
        body = json.dumps({"error": {"message": message, "type": kind}}).encode("utf-8")
        self._reply(status, body, "application/json")

    def _authorised(self) -> bool:
        token = self.server.token
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
        self._error(HTTPStatus.UNAUTHORIZED, "A valid 'Authorization: Bearer TOKEN' is required.",
                    "authentication_error")
        return False

    def do_GET(self) -> None:  # noqa: N802 - stdlib's name
        if not self._authorised():
            return
        path = self.path.split("?")[0].rstrip("/")
        if path == "/v1/voices":
            data = {"object": "list", "data": [{"object": "voice", **v.__dict__} for v in list_voices()]}
        elif path == "/v1/models":
            data = {"object": "list", "data": [{"id": "timbre", "object": "model", "owned_by": "local"}]}
        elif path in ("", "/health"):
            data = {"status": "ok"}
        else:
            self._error(HTTPStatus.NOT_FOUND, f"No such endpoint {path}.", "invalid_request_error")
            return
        self._reply(HTTPStatus.OK, json.dumps(data).encode("utf-8"), "application/json")

    def do_POST(self) -> None:  # noqa: N802 - stdlib's name
        if not self._authorised():
            return
        if self.path.split("?")[0].rstrip("/") != "/v1/audio/speech":
            self._error(HTTPStatus.NOT_FOUND, f"No such endpoint {self.path}.", "invalid_request_error")
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._error(HTTPStatus.BAD_REQUEST, f"Send a JSON body of at most {MAX_BODY} bytes.",
                        "invalid_request_error")
            return
        try:
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "The body is not a JSON object.", "invalid_request_error")
            return
        try:
            with self.server.speak_lock:
                audio, content_type = speak_request(body)
        except PermissionError as exc:
            self._error(HTTPStatus.FORBIDDEN, str(exc), "permission_error")
        except LookupError as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc), "invalid_request_error")
        except TimbreError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc), "invalid_request_error")
        except Exception as exc:  # noqa: BLE001 - a server answers, it does not die
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}", "server_error")
        else:
            self._reply(HTTPStatus.OK, audio, content_type)


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> SpeechServer:
    """Start a server on a background thread (port 0: any free port); ``shutdown()`` stops it."""
    server = SpeechServer(host, port, token)
    threading.Thread(target=server.serve_forever, name="timbre-serve", daemon=True).start()
    return server
