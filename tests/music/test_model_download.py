"""Model downloads against a local stand-in for the hub (the real one cannot be reached here).

The files served are the tiny random-weight debug checkpoint and its tiny T5; the app's
download code (``engines.music.models.download`` → huggingface_hub) runs unchanged, so
these check what a user sees: byte progress, cancel and resume, hash verification, and a
downloaded model that loads and generates.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from engines import modelstore
from engines.errors import Cancelled, EngineError
from engines.music.tiny import DEBUG_ENCODEC, MUSICGEN_DEBUG, TEXT_ENCODER
from tests.music.fake_hub import FakeHub, cancel_after, hub_and_store


def _snapshot(hub: Path, repo_id: str) -> Path:
    folder = hub / ("models--" + repo_id.replace("/", "--"))
    return folder / "snapshots" / (folder / "refs" / "main").read_text().strip()


@pytest.fixture
def hub(debug_hub, tmp_path, monkeypatch):
    """A fake hub serving the debug checkpoint and T5, and an empty store to download into."""
    fake = FakeHub()
    for repo_id in (MUSICGEN_DEBUG, TEXT_ENCODER):
        fake.add_folder(repo_id, _snapshot(debug_hub, repo_id))
    store = tmp_path / "store"
    with hub_and_store(fake, store, monkeypatch):
        yield fake


def test_download_random_weight_checkpoint_reports_bytes_and_the_model_generates(hub, debug_hub):
    from engines.music.engine import MusicGenEngine, MusicRequest
    from engines.music.models import download

    seen = []
    messages = []
    assert download(TEXT_ENCODER, messages.append, progress=seen.append) == [TEXT_ENCODER]
    total = sum(len(b) for b in hub.repos[TEXT_ENCODER].values())
    assert seen[-1].done == seen[-1].total == total
    assert [p.done for p in seen] == sorted(p.done for p in seen)  # never goes backwards
    assert any(0 < p.done < total for p in seen)  # moves during the download, not only at the end
    assert "downloading t5-base" in messages[0]

    download(MUSICGEN_DEBUG, messages.append)
    for repo_id in (MUSICGEN_DEBUG, TEXT_ENCODER):
        got = _snapshot(modelstore.hub_cache(), repo_id)
        for name, data in hub.repos[repo_id].items():
            assert (got / name).read_bytes() == data
    # the compression model comes pre-installed (the fake hub serves only two repos)
    enc = "models--" + DEBUG_ENCODEC.replace("/", "--")
    shutil.copytree(debug_hub / enc, modelstore.hub_cache() / enc, symlinks=True)
    download(TEXT_ENCODER, messages.append)
    assert messages[-1] == "t5-base is already installed"

    engine = MusicGenEngine(model=MUSICGEN_DEBUG, device="cpu")
    take = engine.generate(MusicRequest(prompt="downloaded", duration=0.5, seed=3))[0]
    assert take.clip.frames > 0 and np.isfinite(take.clip.samples).all()


def test_cancelled_download_keeps_its_part_and_the_next_one_resumes(hub, monkeypatch):
    from engines import download as downloading
    from engines.music.models import download

    monkeypatch.setattr(downloading, "CHUNK_BYTES", 64 * 1024)
    cancel, progress, seen = cancel_after(128 * 1024)

    with pytest.raises(Cancelled):
        download(MUSICGEN_DEBUG, print, progress=progress, cancel=cancel)
    assert not modelstore.is_installed(MUSICGEN_DEBUG)
    partial = list(modelstore.hub_cache().rglob("*.part"))
    assert partial and partial[0].stat().st_size >= 128 * 1024

    seen.clear()
    download(MUSICGEN_DEBUG, print, progress=lambda p: seen.append(p.done))
    assert modelstore.is_installed(MUSICGEN_DEBUG)
    resumed = [start for path, start in hub.ranges if start > 0]
    assert resumed and resumed[0] >= 128 * 1024  # asked the server only for the rest
    assert seen[0] >= 128 * 1024  # and the progress starts where the last attempt stopped
    got = _snapshot(modelstore.hub_cache(), MUSICGEN_DEBUG)
    for name, data in hub.repos[MUSICGEN_DEBUG].items():
        assert (got / name).read_bytes() == data
    assert not list(modelstore.hub_cache().rglob("*.part"))


def test_corrupt_download_is_deleted_and_reported(hub):
    from engines.music.models import download

    hub.corrupt.add(f"{MUSICGEN_DEBUG}/state_dict.bin")
    with pytest.raises(EngineError, match="corrupt"):
        download(MUSICGEN_DEBUG, print)
    assert not modelstore.is_installed(MUSICGEN_DEBUG)
    assert not list(modelstore.hub_cache().rglob("state_dict.bin*"))  # nothing bad kept
    hub.corrupt.clear()  # the hub fixed its file: the next attempt succeeds
    download(MUSICGEN_DEBUG, print)
    assert modelstore.is_installed(MUSICGEN_DEBUG)


def test_unknown_repo_on_the_hub_is_one_line(hub):
    from engines.errors import BadInput
    from engines.music.models import download

    with pytest.raises(BadInput, match="does not exist on the hub"):
        download("nobody/nothing", print)


def test_melody_checkpoint_download_brings_random_weight_htdemucs_from_its_url(hub, tmp_path, monkeypatch):
    """htdemucs is not on the hub: it comes from demucs' URL, is checked against the
    published SHA-256 (here: of a tiny random-weight HTDemucs) and imported weights-only."""
    import hashlib

    from engines import htdemucs
    from engines.htdemucs import save_tiny_htdemucs
    from engines.music.models import download

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no copy lying in torch's cache
    weights = save_tiny_htdemucs(tmp_path / htdemucs.HTDEMUCS_FILE).read_bytes()
    hub.plain["/demucs/" + htdemucs.HTDEMUCS_FILE] = weights
    monkeypatch.setattr(htdemucs, "HTDEMUCS_URL", f"{hub.url}/demucs/{htdemucs.HTDEMUCS_FILE}")
    monkeypatch.setattr(htdemucs, "HTDEMUCS_SHA256", hashlib.sha256(weights).hexdigest())
    for repo_id in ("t5-base", "facebook/encodec_32khz", "facebook/musicgen-melody"):  # placeholders
        hub.repos[repo_id] = {"config.json": b"{}", "model.safetensors": b"w" * 100,
                              "state_dict.bin": b"s" * 100, "compression_state_dict.bin": b"c" * 10}
    seen, said = [], []
    repos = download("musicgen-melody", said.append, progress=seen.append)
    assert repos[-1] == htdemucs.HTDEMUCS_REPO and modelstore.is_installed(htdemucs.HTDEMUCS_REPO)
    assert htdemucs.find_hub_dir() == htdemucs.store_hub_dir()
    assert seen[-1].stage == htdemucs.HTDEMUCS_REPO and seen[-1].done == seen[-1].total == len(weights)
    assert not list(modelstore.hub_cache().rglob("*.part"))

    monkeypatch.setattr(htdemucs, "HTDEMUCS_SHA256", "0" * 64)  # a tampered file is refused
    modelstore.remove(htdemucs.HTDEMUCS_REPO)
    with pytest.raises(EngineError, match="corrupt"):
        download("musicgen-melody", said.append)
    assert not modelstore.is_installed(htdemucs.HTDEMUCS_REPO)
