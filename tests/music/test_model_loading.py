"""Loading a user's model folder: the real import + load path, and no pickle code execution."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from engines import modelstore
from engines.errors import BadInput, ModelMissing
from engines.music.tiny import DEBUG_ENCODEC, MUSICGEN_DEBUG, TEXT_ENCODER


class _Exploit:
    """Unpickling this would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _snapshot(hub: Path, repo_id: str) -> Path:
    folder = hub / ("models--" + repo_id.replace("/", "--"))
    return folder / "snapshots" / (folder / "refs" / "main").read_text().strip()


def test_checkpoint_with_pickled_code_is_refused_and_never_run(tmp_path, debug_hub):
    import torch

    from engines.music.engine import MusicGenEngine
    from engines.music.models import import_model

    folder = tmp_path / "evil"
    shutil.copytree(_snapshot(debug_hub, MUSICGEN_DEBUG), folder)
    marker = tmp_path / "pwned"
    torch.save(
        {"xp.cfg": "{}", "best_state": {}, "payload": _Exploit(marker)}, folder / "state_dict.bin"
    )
    with pytest.raises(BadInput, match="pickled code"):
        import_model(folder)
    with pytest.raises(ModelMissing, match="pickled code"):
        MusicGenEngine(model=str(folder), device="cpu").load()
    assert not marker.exists()
    assert not modelstore.is_installed("local/evil")


def test_imported_folder_with_pickled_omegaconf_config_loads_and_generates(tmp_path, debug_hub):
    """Some re-exported checkpoints pickle their OmegaConf config instead of YAML text; the
    OmegaConf classes are allowed through torch's weights-only loader, nothing else."""
    import torch
    from omegaconf import OmegaConf

    from engines.music.engine import MusicGenEngine, MusicRequest
    from engines.music.models import import_model

    folder = tmp_path / "my-musicgen"
    shutil.copytree(_snapshot(debug_hub, MUSICGEN_DEBUG), folder)
    pkg = torch.load(folder / "state_dict.bin", weights_only=True)
    pkg["xp.cfg"] = OmegaConf.create(OmegaConf.create(pkg["xp.cfg"]))
    torch.save(pkg, folder / "state_dict.bin")
    for dep in (TEXT_ENCODER, DEBUG_ENCODEC):  # the tiny T5 / EnCodec it was built with
        modelstore.import_folder(_snapshot(debug_hub, dep), dep)

    installed = import_model(folder)
    assert installed.repo_id == "local/my-musicgen"
    engine = MusicGenEngine(model="local/my-musicgen", device="cpu")
    take = engine.generate(MusicRequest("calm piano", duration=0.5, seed=1, watermark=False))[0]
    assert take.clip.frames == 16000 and np.isfinite(take.clip.samples).all()
    assert take.provenance.model_id == "local/my-musicgen"
    assert take.provenance.model_version == installed.revision
    engine.unload()
    for repo in ("local/my-musicgen", TEXT_ENCODER, DEBUG_ENCODEC):
        modelstore.remove(repo)


def test_missing_model_says_how_to_get_it():
    from engines.music.checkpoints import resolve

    with pytest.raises(ModelMissing, match="timbre models download facebook/musicgen-small"):
        resolve("musicgen-small", "musicgen")
    with pytest.raises(BadInput, match="Known models"):
        resolve("musicgen-tiny", "musicgen")


def test_imported_model_without_its_text_encoder_says_what_to_install(tmp_path, debug_hub):
    from engines.music.engine import MusicGenEngine
    from engines.music.models import import_model

    folder = tmp_path / "lonely"
    shutil.copytree(_snapshot(debug_hub, MUSICGEN_DEBUG), folder)
    import_model(folder)
    try:
        with pytest.raises(ModelMissing, match="t5-base and facebook/encodec_32khz"):
            MusicGenEngine(model="local/lonely", device="cpu").load()
    finally:
        modelstore.remove("local/lonely")
