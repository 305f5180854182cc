"""Piper's published voice catalog: list, search, and download voices into the model store.

Piper's voices live in one hub repo (``rhasspy/piper-voices``) described by its
``voices.json``: one entry per voice key (``en_US-lessac-medium``) with its language, quality,
speaker count and files (``{path: {size_bytes, md5_digest}}``). The app ships no copy of that
list: ``timbre models list --kind voice --refresh`` (or the Models… dialog) fetches it through
:mod:`engines.download` and caches it in the model store; offline, the cached copy is used, or
a handful of popular English voices (:data:`FALLBACK`) so the list is never empty.

A voice downloads its ``.onnx``, ``.onnx.json`` and ``MODEL_CARD`` into the store as
``piper-voices/<key>`` — where :func:`engines.speech.voices.imported_piper_voices` finds
imported voices — resumably, each file checked against the catalog's MD5. The catalog names
no licence: it is read from the voice's MODEL_CARD (its dataset's ``License:`` line), fetched
on its own (a few hundred bytes) before the voice; until then it reads "see model card".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engines import modelstore
from engines.cancel import CancelToken, Progress, ProgressCallback, no_progress
from engines.download import hub_error
from engines.errors import BadInput, EngineError
from engines.licences import UNKNOWN_CARD_LICENCE, card_licence
from engines.speech.voices import PIPER_REPO_PREFIX

HUB_REPO = "rhasspy/piper-voices"
CATALOG_FILE = "voices.json"
UNKNOWN_LICENCE = UNKNOWN_CARD_LICENCE
# Piper's own test sentences (piper/etc/test_sentences), the first of each, to try a voice with.
SAMPLE_TEXT = {
    "en": "A rainbow is a meteorological phenomenon that is caused by reflection, refraction "
          "and dispersion of light in water droplets resulting in a spectrum of light appearing "
          "in the sky.",
}


@dataclass(frozen=True)
class CatalogFile:
    path: str  # inside the hub repo, e.g. en/en_US/lessac/medium/en_US-lessac-medium.onnx
    size: int
    md5: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PiperVoice:
    """One catalog entry, as Piper's voices.json describes it."""

    key: str
    name: str
    language: str  # "en_US"
    family: str  # "en"
    language_english: str
    country_english: str
    quality: str
    num_speakers: int
    files: tuple[CatalogFile, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def size_bytes(self) -> int:
        """Bytes a download fetches (0 when only the offline list knows the voice)."""
        return sum(f.size for f in self.files)

    @property
    def language_label(self) -> str:
        return f"{self.language_english} ({self.country_english})" if self.country_english \
            else self.language_english

    @property
    def sample_text(self) -> str:
        return SAMPLE_TEXT.get(self.family, "")

    def matches(self, language: str | None = None, search: str | None = None) -> bool:
        """``language``: a family ("en"), a code ("en_US", "en-us") or an English name;
        ``search``: any part of the key, speaker name, language, country or an alias."""
        if language:
            want = language.strip().lower().replace("-", "_")
            names = {self.family.lower(), self.language.lower(), self.language_english.lower()}
            if want not in names:
                return False
        if search:
            hay = " ".join([self.key, self.name, self.language_english, self.country_english,
                            self.quality, *self.aliases]).lower()
            return all(word in hay for word in search.lower().split())
        return True


def _voice(key: str, entry: dict) -> PiperVoice:
    lang = entry.get("language") or {}
    files = tuple(
        CatalogFile(path, int(meta.get("size_bytes", 0)), str(meta.get("md5_digest", "")))
        for path, meta in sorted((entry.get("files") or {}).items())
    )
    return PiperVoice(
        key=str(entry.get("key", key)),
        name=str(entry.get("name", "")),
        language=str(lang.get("code", "")),
        family=str(lang.get("family", "")),
        language_english=str(lang.get("name_english", "")),
        country_english=str(lang.get("country_english", "")),
        quality=str(entry.get("quality", "")),
        num_speakers=int(entry.get("num_speakers", 1)),
        files=files,
        aliases=tuple(entry.get("aliases") or ()),
    )


def parse_catalog(data: dict) -> list[PiperVoice]:
    """voices.json → voices, English first, then by language and key."""
    if not isinstance(data, dict):
        raise BadInput("Piper's voices.json is not a catalog (expected an object of voices).")
    voices = [_voice(k, v) for k, v in data.items() if isinstance(v, dict)]
    return sorted(voices, key=lambda v: (v.family != "en", v.language, v.key))


def _fallback_entry(key: str, name: str, country: str, quality: str) -> PiperVoice:
    code = key.split("-")[0]
    return PiperVoice(key, name, code, "en", "English", country, quality, 1)


# Shown offline before the catalog was ever fetched: popular English voices. No sizes or
# checksums are typed in here, so downloading one first fetches the real catalog.
FALLBACK: tuple[PiperVoice, ...] = (
    _fallback_entry("en_GB-alan-medium", "alan", "Great Britain", "medium"),
    _fallback_entry("en_US-amy-medium", "amy", "United States", "medium"),
    _fallback_entry("en_US-lessac-medium", "lessac", "United States", "medium"),
    _fallback_entry("en_US-ryan-high", "ryan", "United States", "high"),
)


def cache_folder() -> Path:
    return modelstore.hub_cache() / "catalogs"


def cached_catalog_path() -> Path:
    return cache_folder() / "piper-voices.json"


def _hub_url(path: str) -> str:
    from huggingface_hub import hf_hub_url

    from engines.download import endpoint

    return hf_hub_url(HUB_REPO, path, revision="main", endpoint=endpoint())


def _offline(exc: BaseException) -> EngineError:
    return hub_error(exc, f"Piper's voices ({HUB_REPO})", "import a voice with 'timbre speak-import VOICE.onnx'")


def _fetch_small(path: str, dest: Path) -> Path:
    """A small file of the voices repo (the catalog, a model card) into ``dest``."""
    from engines.download import RemoteFile, fetch_url, remote_size
    from engines.files import write_bytes

    modelstore.configure_hub_env(allow_download=True)
    try:
        url = _hub_url(path)
        part = cache_folder() / "partial" / (dest.name + ".part")
        part.unlink(missing_ok=True)  # small: fetched whole each time
        fetch_url(url, part, RemoteFile(path, remote_size(url)), lambda _n: None)
        write_bytes(dest, part.read_bytes())
        part.unlink(missing_ok=True)
        return dest
    except Exception as exc:  # noqa: BLE001 - httpx, OSError, hub errors: all mean "not now"
        raise _offline(exc) from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)


def refresh_catalog() -> list[PiperVoice]:
    """Fetch voices.json from the hub (``HF_ENDPOINT`` when set) and cache it."""
    path = _fetch_small(CATALOG_FILE, cached_catalog_path())
    try:
        return parse_catalog(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, BadInput) as exc:
        path.unlink(missing_ok=True)
        raise EngineError(f"Piper's voices.json from the hub could not be read ({exc}); "
                          "try again later.") from exc


def catalog(refresh: bool = False) -> tuple[list[PiperVoice], str]:
    """(voices, where they came from): the hub when ``refresh``, else the cached copy, else
    :data:`FALLBACK`. The source is "hub", "cached" or "built-in"."""
    if refresh:
        return refresh_catalog(), "hub"
    path = cached_catalog_path()
    if path.is_file():
        try:
            return parse_catalog(json.loads(path.read_text(encoding="utf-8"))), "cached"
        except (ValueError, BadInput):
            pass
    return list(FALLBACK), "built-in"


def find(voices: list[PiperVoice], key: str) -> PiperVoice | None:
    key = key.removeprefix("piper:")
    return next((v for v in voices if key == v.key or key in v.aliases), None)


# ---- licences ---------------------------------------------------------------------------
def _card_path(key: str) -> Path:
    return cache_folder() / "piper-cards" / f"{key}.md"


def _installed_card(key: str) -> Path | None:
    snap = modelstore.snapshot_path(PIPER_REPO_PREFIX + key)
    return snap / "MODEL_CARD" if snap is not None and (snap / "MODEL_CARD").is_file() else None


def licence(key: str) -> str:
    """A voice's licence from its MODEL_CARD (installed or fetched), else "see model card"."""
    card = _installed_card(key) or _card_path(key)
    return card_licence(card.read_text(encoding="utf-8", errors="replace")) if card.is_file() \
        else UNKNOWN_LICENCE


def fetch_licence(voice: PiperVoice) -> str:
    """Fetch a voice's MODEL_CARD alone (a few hundred bytes) and return its licence."""
    card = next((f for f in voice.files if f.name == "MODEL_CARD"), None)
    if card is None:
        return UNKNOWN_LICENCE
    if not _card_path(voice.key).is_file() and _installed_card(voice.key) is None:
        _fetch_small(card.path, _card_path(voice.key))
    return licence(voice.key)


# ---- installing ---------------------------------------------------------------------------
def is_installed(key: str) -> bool:
    return modelstore.is_installed(PIPER_REPO_PREFIX + key)


def download(
    key: str,
    say: Callable[[str], None] = print,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    voices: list[PiperVoice] | None = None,
) -> Path:
    """Download one voice into the store (resuming a partial one); returns its ``.onnx``.

    ``voices`` is a catalog fetched just now; without it the catalog is fetched first, so
    the checksums are the hub's current ones (a cached copy may predate a re-upload). Each
    file is checked against the catalog's MD5; a corrupt one is deleted and refused.
    """
    from engines.download import RemoteFile, fetch_files

    if is_installed(key.removeprefix("piper:")):
        say(f"{key.removeprefix('piper:')} is already installed")
        return _onnx(PIPER_REPO_PREFIX + key.removeprefix("piper:"))
    voice = find(voices if voices is not None else refresh_catalog(), key)
    if voice is None:
        raise BadInput(f"'{key}' is not in Piper's voice catalog; see "
                       "'timbre models list --kind voice --search WORD'.")
    store_id = PIPER_REPO_PREFIX + voice.key
    wanted = [f for f in voice.files if f.name.endswith((".onnx", ".onnx.json")) or f.name == "MODEL_CARD"]
    if not any(f.name.endswith(".onnx") for f in wanted) or not any(
        f.name.endswith(".onnx.json") for f in wanted
    ):
        raise BadInput(f"Piper's catalog lists no .onnx and .onnx.json for {voice.key}.")
    total = sum(f.size for f in wanted)
    say(f"downloading {voice.key} ({total / 1e6:.1f} MB)")
    revision = next(f.md5 for f in wanted if f.name.endswith(".onnx")) or "main"

    def on_bytes(n: int) -> None:
        if cancel is not None:
            cancel.check()  # the partial file stays: the next download resumes it
        progress(Progress(n, total, voice.key))

    modelstore.configure_hub_env(allow_download=True)
    try:
        pairs = [(_hub_url(f.path), RemoteFile(f.name, f.size, md5=f.md5 or None)) for f in wanted]
        fetch_files(store_id, revision, pairs, on_bytes)
    except Exception as exc:  # noqa: BLE001 - see _offline
        raise _offline(exc) from exc
    finally:
        modelstore.configure_hub_env(allow_download=False)
    return _onnx(store_id)


def _onnx(store_id: str) -> Path:
    snap = modelstore.require(store_id, store_id)
    return next(iter(sorted(snap.glob("*.onnx"))))


def remove(key: str) -> bool:
    return modelstore.remove(PIPER_REPO_PREFIX + key.removeprefix("piper:"))


# ---- installed voices, grouped by language ----------------------------------------------
_KEY_LANGUAGE = re.compile(r"^([a-z]{2,3}_[A-Z]{2})-")


def voice_language(name: str, onnx: str | None = None) -> str:
    """A Piper voice's language code ("en_US"): from its key, else its .onnx.json, else ""."""
    m = _KEY_LANGUAGE.match(name)
    if m:
        return m.group(1)
    if onnx:
        try:
            config = json.loads(Path(f"{onnx}.json").read_text(encoding="utf-8"))
            return str((config.get("language") or {}).get("code", ""))
        except (OSError, ValueError, AttributeError):
            return ""
    return ""


def installed_by_language(installed: dict[str, str]) -> list[tuple[str, str]]:
    """(name, "language — name") of installed Piper voices, sorted so each language's voices
    sit together (English first), for the Speech panel's voice box."""
    rows = [(voice_language(name, onnx) or "other", name) for name, onnx in installed.items()]
    rows.sort(key=lambda r: (not r[0].startswith("en"), r[0], r[1]))
    return [(name, f"{lang} — {name}") for lang, name in rows]
