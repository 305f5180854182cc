"""Chatterbox without its weights (they cannot be had offline): the engine says why it is
unavailable, and the checkpoint check that guards torch runs on folders made here."""

from __future__ import annotations

import numpy as np
import pytest

from engines.errors import BadInput, ModelMissing
from engines.speech.chatterbox_engine import (
    NETWORKS,
    REPO_ID,
    unavailable_reason,
    verify_checkpoint,
)


def _fake_checkpoint(folder, prefix_ok=True):
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    for name, prefix in NETWORKS.items():
        key = f"{prefix if prefix_ok else 'other.'}weight"
        save_file({key: np.zeros((2, 2), np.float32)}, str(folder / name))
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_unavailable_until_weights_are_installed_with_a_reason():
    from engines.registry import engine_infos

    reason = unavailable_reason()
    assert reason is not None and REPO_ID in reason and "model manager" in reason
    info = {i.name: i for i in engine_infos("speech")}["chatterbox"]
    assert not info.available and info.reason == reason


def test_creating_the_engine_without_weights_fails_in_one_sentence():
    from engines.registry import create

    with pytest.raises(ModelMissing, match="weights not installed"):
        create("chatterbox")


def test_checkpoint_check_names_missing_files(tmp_path):
    folder = _fake_checkpoint(tmp_path / "ckpt")
    (folder / "t3_cfg.safetensors").unlink()
    with pytest.raises(ModelMissing, match="t3_cfg.safetensors"):
        verify_checkpoint(folder)


def test_checkpoint_check_refuses_pickles_posing_as_safetensors(tmp_path):
    import pickle

    folder = _fake_checkpoint(tmp_path / "ckpt")
    (folder / "ve.safetensors").write_bytes(pickle.dumps({"lstm.weight": [1, 2]}))
    with pytest.raises(BadInput, match="not a safetensors file"):
        verify_checkpoint(folder)


def test_checkpoint_check_refuses_other_networks(tmp_path):
    folder = _fake_checkpoint(tmp_path / "ckpt", prefix_ok=False)
    with pytest.raises(BadInput, match="does not hold Chatterbox"):
        verify_checkpoint(folder)


def test_installed_weights_with_the_package_make_the_engine_available(tmp_path, monkeypatch):
    """make setup installs chatterbox-tts (requirements/nodeps.txt), so installed weights are
    all the engine lacks: once they are in the model store it is listed as available."""
    import importlib.util

    from engines import modelstore

    assert importlib.util.find_spec("chatterbox") is not None, "run make setup"
    monkeypatch.setenv("TIMBRE_MODELS_DIR", str(tmp_path / "models"))
    modelstore.import_folder(_fake_checkpoint(tmp_path / "ckpt"), REPO_ID)
    verify_checkpoint(modelstore.snapshot_path(REPO_ID))  # passes: structure is right
    assert unavailable_reason() is None
