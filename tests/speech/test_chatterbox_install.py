"""Chatterbox's weights installed the way a user installs them: downloaded through the
model manager (against a local stand-in for the hub) or imported from a folder.

The files served are the tiny random checkpoints' (the package's own classes, saved in the
released layout), with the released repo's extra pickled copies beside them, which must
never be fetched.
"""

from __future__ import annotations

import pickle
import shutil

import pytest

from engines import modelstore
from engines.errors import BadInput, EngineError
from engines.speech import chatterbox_models
from tests.music.fake_hub import FakeHub, hub_and_store

ENGLISH = chatterbox_models.MODELS[0]
MULTILINGUAL = chatterbox_models.MODELS[1]


@pytest.fixture(scope="module")
def tiny():
    """The tiny English and Multilingual checkpoints (built once in the test store)."""
    from engines.speech.chatterbox_tiny import ensure_debug_checkpoint

    return {v: ensure_debug_checkpoint(v) for v in ("english", "multilingual", "turbo")}


@pytest.fixture
def hub(tiny, tmp_path, monkeypatch):
    """ResembleAI/chatterbox as the hub lists it: English, Multilingual and pickles."""
    files = {p.name: p.read_bytes() for v in ("english", "multilingual") for p in tiny[v].iterdir()}
    files["t3_cfg.pt"] = pickle.dumps({"never": "fetched"})  # the repo's pickled copies
    fake = FakeHub()
    fake.repos[ENGLISH.repo_id] = files
    with hub_and_store(fake, tmp_path / "store", monkeypatch):
        yield fake


def test_download_fetches_only_the_models_files_and_the_engine_becomes_available(hub, capsys):
    from desktop.cli.main import main
    from engines.speech import chatterbox_engine, chatterbox_multilingual

    assert chatterbox_engine.unavailable_reason() is not None
    assert "timbre models download chatterbox-multilingual" in chatterbox_multilingual.unavailable_reason()
    assert main(["models", "download", "chatterbox"]) == 0
    snap = modelstore.snapshot_path(ENGLISH.repo_id)
    assert {p.name for p in snap.iterdir()} == {*ENGLISH.required, "conds.pt"}  # no .pt pickles
    assert chatterbox_engine.unavailable_reason() is None
    assert chatterbox_multilingual.unavailable_reason() is not None

    # The second model of the same repo lands in the same snapshot, beside the first.
    assert main(["models", "download", "chatterbox-multilingual"]) == 0
    assert modelstore.snapshot_path(ENGLISH.repo_id) == snap
    assert ENGLISH.installed() and MULTILINGUAL.installed()
    assert chatterbox_multilingual.unavailable_reason() is None
    assert "t3_cfg.pt" not in {p.name for p in snap.iterdir()}
    listed = capsys.readouterr().out
    assert "Chatterbox: MIT" in listed and "installed chatterbox-multilingual" in listed

    assert main(["models", "remove", "chatterbox"]) == 0
    assert "chatterbox, chatterbox-multilingual" in capsys.readouterr().out
    assert not ENGLISH.installed()


def test_a_corrupt_download_is_refused_and_nothing_is_installed(hub):
    hub.corrupt.add(f"{ENGLISH.repo_id}/s3gen.safetensors")
    with pytest.raises(EngineError, match="corrupt"):
        chatterbox_models.download("chatterbox", lambda _m: None)
    assert not ENGLISH.installed()


def test_imported_folder_is_checked_stored_under_its_hub_id_and_speaks(tiny, tmp_path, monkeypatch, capsys):
    from desktop.cli.main import main
    from engines.speech.chatterbox_engine import ChatterboxEngine
    from engines.speech.request import SpeechRequest

    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "store"))
    bad = tmp_path / "not-safetensors"
    shutil.copytree(tiny["english"], bad)
    (bad / "t3_cfg.safetensors").write_bytes(pickle.dumps({"tfmr.x": 1}))
    with pytest.raises(BadInput, match="not a safetensors file"):
        chatterbox_models.import_folder(bad)
    assert not ENGLISH.installed()

    assert main(["models", "import", str(tiny["english"])]) == 0
    assert f"as {ENGLISH.repo_id}" in capsys.readouterr().out
    engine = ChatterboxEngine()  # the installed model, as a user's would be
    audio = engine.raw("Hello.", SpeechRequest("Hello.", seed=1))
    assert audio.size > 0

    assert main(["models", "import", str(tiny["turbo"])]) == 0
    assert chatterbox_models.MODELS[2].installed()
