"""The model store uses the real Hugging Face cache layout, offline by default."""

from __future__ import annotations

import pytest

from engines import modelstore
from engines.errors import BadInput, ModelMissing


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def test_import_list_remove(store, tmp_path):
    src = tmp_path / "my-model"
    src.mkdir()
    (src / "config.json").write_text('{"a": 1}')
    (src / "state_dict.bin").write_bytes(b"\0" * 1000)
    model = modelstore.import_folder(src, "me/tiny")
    assert model.path == store / "models--me--tiny" / "snapshots" / model.revision
    assert (store / "models--me--tiny" / "refs" / "main").read_text() == model.revision
    assert modelstore.is_installed("me/tiny", ("config.json", "state_dict.bin"))
    assert [m.repo_id for m in modelstore.list_installed()] == ["me/tiny"]
    assert modelstore.list_installed()[0].size_bytes >= 1000
    assert modelstore.remove("me/tiny")
    assert modelstore.list_installed() == []
    with pytest.raises(ModelMissing, match="weights not installed — import a model folder"):
        modelstore.require("me/tiny", "Tiny")


def test_huggingface_hub_finds_imported_files_offline(store, tmp_path):
    src = tmp_path / "m"
    src.mkdir()
    (src / "config.json").write_text("{}")
    modelstore.import_folder(src, "facebook/encodec_32khz")
    modelstore.configure_hub_env(allow_download=False)
    from huggingface_hub import hf_hub_download

    path = hf_hub_download("facebook/encodec_32khz", "config.json", cache_dir=str(store))
    assert path.endswith("config.json")
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_bad_ids_and_folders(store, tmp_path):
    with pytest.raises(BadInput):
        modelstore.repo_folder("../../etc")
    with pytest.raises(BadInput, match="not a folder"):
        modelstore.import_folder(tmp_path / "nothing", "a/b")


def test_every_failed_hub_call_becomes_one_of_two_sentences():
    """One mapping for every download: 'not there' (retrying won't help) or 'not reachable'."""
    from engines.download import hub_error
    from engines.errors import BadInput, ModelMissing

    missing = hub_error(OSError("the hub answered HTTP 404 for https://x/y"), "org/repo")
    assert isinstance(missing, BadInput) and "org/repo does not exist on the hub" in str(missing)
    away = hub_error(ConnectionRefusedError("no route"), "Piper's voices", "import a voice file")
    assert isinstance(away, ModelMissing)
    assert str(away).startswith("Cannot reach the Hugging Face hub for Piper's voices (ConnectionRefusedError)")
    assert str(away).endswith(", or import a voice file.")
    already = ModelMissing("said before")
    assert hub_error(already, "org/repo") is already
