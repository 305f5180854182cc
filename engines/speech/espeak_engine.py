"""espeak-ng: formant synthesis in about a hundred languages — robotic, tiny, always there.

The fallback for languages no neural voice here speaks. It runs the ``espeak-ng`` program
(one process per chunk, a few milliseconds) writing a WAV file, which is read back; a
voice is any espeak-ng voice name with an optional variant ("en-us", "de", "en-us+f3").
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from engines.errors import BadInput, ModelMissing
from engines.speech.pipeline import SpeechEngine
from engines.speech.request import SpeechRequest

_VOICE_RE = re.compile(r"^[A-Za-z0-9_\-]+(\+[A-Za-z0-9_\-]+)?$")


def unavailable_reason() -> str | None:
    if shutil.which("espeak-ng") is None:
        return "the espeak-ng program is not installed (apt install espeak-ng)"
    return None


class EspeakEngine(SpeechEngine):
    name = "espeak"
    label = "espeak-ng"
    model_id = "espeak-ng"
    sample_rate = 22_050
    default_voice = ""  # chosen from the request's language

    def __init__(self) -> None:
        super().__init__()
        self._program: str | None = None
        self._languages: set[str] = set()

    def _load(self) -> None:
        self._program = shutil.which("espeak-ng")
        if self._program is None:
            raise ModelMissing(unavailable_reason() or "espeak-ng is missing.")
        listing = subprocess.run(
            [self._program, "--voices"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        # "Pty Language       Age/Gender VoiceName          File ..."
        self._languages = {line.split()[1] for line in listing.splitlines()[1:] if line.split()}

    def voices(self) -> list[str]:
        self.load()
        return sorted(self._languages)

    def model_version(self) -> str:
        self.load()
        out = subprocess.run([self._program, "--version"], capture_output=True, text=True, timeout=30)
        match = re.search(r"(\d+\.\d+(\.\d+)?)", out.stdout)
        return f"espeak-ng {match.group(1)}" if match else "espeak-ng"

    def check_request(self, request: SpeechRequest) -> SpeechRequest:
        request = super().check_request(request)
        self.load()
        voice = request.voice or request.language.lower().replace("_", "-")
        base = voice.split("+")[0]
        known = base in self._languages or any(x.startswith(base + "-") for x in self._languages)
        if not _VOICE_RE.match(voice) or not known:
            raise BadInput(
                f"espeak-ng has no voice '{voice}'. Use a language code such as en-us, de, fr, "
                "es, hi or cmn, optionally with a variant (en-us+f3); timbre engines lists them."
            )
        request.voice = voice
        return request

    def _synth(self, text: str, request: SpeechRequest) -> np.ndarray:
        import soundfile as sf

        with tempfile.TemporaryDirectory(prefix="timbre-espeak-") as tmp:
            out = Path(tmp) / "chunk.wav"
            subprocess.run(
                [self._program, "-v", request.voice, "-b", "1", "-z", "-w", str(out), "--stdin"],
                input=text.encode("utf-8"),
                capture_output=True,
                check=True,
                timeout=120,
            )
            samples, rate = sf.read(str(out), dtype="float32")
        if rate != self.sample_rate:
            self.sample_rate = rate
        return np.asarray(samples, np.float32)
