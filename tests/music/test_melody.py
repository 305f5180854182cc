"""Melody conditioning from a file, through the real loading path, with random weights.

No musicgen-melody or htdemucs weights can be had offline, so a tiny random-weight
musicgen-melody (audiocraft's builders, chroma-stem ``self_wav`` conditioner, saved as
``facebook/musicgen-melody`` in hub layout with its ``t5-base`` and EnCodec) goes into a
store of its own, and a tiny random-weight HTDemucs (demucs' class, demucs' file format)
is either imported with ``timbre models import`` or left in torch's hub cache, the two
places a user's htdemucs can be. The audio is noise; what is tested is that the melody
file reaches the model through demucs, reproducibly, and that nothing runs pickled code.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from engines.audio_io import read_audio
from engines.htdemucs import HTDEMUCS_FILE, HTDEMUCS_REPO

RATE = 44_100  # the melody file's rate: the engine resamples it to the model's 32 kHz


def _tone_file(path: Path, freqs: tuple[float, ...], seconds: float = 1.0) -> Path:
    """A stereo melody: one sine note per entry of ``freqs``, equal lengths."""
    t = np.arange(int(seconds * RATE)) / RATE
    note = np.array_split(np.arange(t.size), len(freqs))
    mono = np.zeros_like(t)
    for idx, f in zip(note, freqs, strict=True):
        mono[idx] = 0.3 * np.sin(2 * np.pi * f * t[idx])
    sf.write(path, np.stack([mono, mono], axis=1).astype(np.float32), RATE)
    return path


def _evil_th(path: Path, marker: Path) -> Path:
    """A demucs-looking file whose unpickling would write ``marker`` (code execution)."""
    import torch

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').write('ran')",))

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"klass": Payload(), "args": (), "kwargs": {}, "state": {}}, path)
    return path


@pytest.fixture(scope="module")
def melody_setup(tmp_path_factory):
    """A store with the tiny random melody checkpoints, mono and stereo (no htdemucs
    imported), a torch home
    whose hub cache holds the tiny random HTDemucs, the same file loose, and melodies."""
    from engines.htdemucs import save_tiny_htdemucs
    from engines.music.tiny import build_tiny_melody

    root = tmp_path_factory.mktemp("melody")
    store, torch_home = root / "store", root / "torch-home"
    build_tiny_melody(store, torch_home / "hub")
    build_tiny_melody(store, torch_home / "hub", "facebook/musicgen-stereo-melody", stereo=True)
    loose = save_tiny_htdemucs(root / "download" / HTDEMUCS_FILE)
    return SimpleNamespace(
        root=root,
        store=store,
        torch_home=torch_home,
        empty_home=root / "empty-torch-home",
        htdemucs=loose,
        melody_a=_tone_file(root / "a.wav", (440.0, 659.3)),
        melody_b=_tone_file(root / "b.wav", (329.6, 392.0)),
    )


def _env(setup, torch_home: Path) -> dict[str, str]:
    # One thread: the tiny models are fastest that way, and a busy machine does not slow them.
    return {
        "TIMBRE_MODELS_DIR": str(setup.store),
        "TORCH_HOME": str(torch_home),
        "OMP_NUM_THREADS": "1",
    }


@pytest.fixture
def use_store(melody_setup, monkeypatch):
    """In-process runs read the melody store and an empty torch hub cache."""
    import torch

    for key, value in _env(melody_setup, melody_setup.empty_home).items():
        monkeypatch.setenv(key, value)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield melody_setup
    torch.set_num_threads(threads)


@pytest.fixture
def imported_htdemucs(use_store):
    from engines import modelstore
    from engines.music.models import import_model

    model = import_model(use_store.htdemucs)
    yield model
    modelstore.remove(HTDEMUCS_REPO)


def _music(timbre_cli, setup, torch_home, melody, out, seed="7"):
    out.mkdir(exist_ok=True)
    return timbre_cli(
        "music", "calm piano", "--model", "musicgen-melody", "--melody", melody,
        "--duration", "1", "--seed", seed, "-o", out, "--no-watermark",
        env=_env(setup, torch_home),
    )  # fmt: skip


def test_missing_htdemucs_random_weights_says_what_to_import(timbre_cli, melody_setup, tmp_path):
    r = _music(timbre_cli, melody_setup, melody_setup.empty_home, melody_setup.melody_a, tmp_path)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "htdemucs" in lines[0] and f"timbre models import {HTDEMUCS_FILE}" in lines[0]
    assert "dl.fbaipublicfiles.com/demucs" in lines[0]
    assert not list(tmp_path.glob("*.wav"))
    listed = timbre_cli("models", "list", env=_env(melody_setup, melody_setup.empty_home))
    melody_line = next(ln for ln in listed.stdout.splitlines() if "musicgen-melody " in ln)
    assert "needs demucs' htdemucs weights" in melody_line


def test_melody_cli_random_weights_imported_htdemucs_same_seed_identical(
    timbre_cli, melody_setup, tmp_path
):
    env = _env(melody_setup, melody_setup.empty_home)
    imported = timbre_cli("models", "import", melody_setup.htdemucs, env=env)
    try:
        assert imported.returncode == 0, imported.stderr
        assert HTDEMUCS_REPO in imported.stdout and "not the official" in imported.stdout
        listed = timbre_cli("models", "list", env=env).stdout
        assert "needs demucs" not in listed and HTDEMUCS_REPO in listed
        runs = []
        for name in ("first", "second"):
            r = _music(timbre_cli, melody_setup, melody_setup.empty_home, melody_setup.melody_a,
                       tmp_path / name)  # fmt: skip
            assert r.returncode == 0, r.stderr
            (path,) = (tmp_path / name).glob("music-calm-piano-7-1.wav")
            runs.append(read_audio(path))
    finally:
        timbre_cli("models", "remove", HTDEMUCS_REPO, env=env)
    first, second = runs
    assert first.sample_rate == 32_000 and first.frames == 32_000
    assert np.abs(first.samples).max() > 0.01  # audio, not silence
    assert np.array_equal(first.samples, second.samples)  # fresh processes, same seed


def test_melody_cli_random_weights_htdemucs_from_torch_hub_cache(
    timbre_cli, melody_setup, tmp_path
):
    from engines.tags import read_tags

    r = _music(timbre_cli, melody_setup, melody_setup.torch_home, melody_setup.melody_b, tmp_path)
    assert r.returncode == 0, r.stderr
    (path,) = tmp_path.glob("*.wav")
    take = read_tags(path).provenance["takes"][0]
    assert take["model_id"] == "facebook/musicgen-melody"
    assert take["params"]["melody_s"] == pytest.approx(1.0)


def test_melody_changes_the_take_random_weights(use_store, imported_htdemucs):
    from engines.music.engine import MusicGenEngine, MusicRequest

    engine = MusicGenEngine(model="musicgen-melody", device="cpu")

    def take(melody: Path | None):
        clip = read_audio(melody) if melody else None
        request = MusicRequest("calm piano", duration=1.0, seed=3, melody=clip,
                               normalize="none", watermark=False)  # fmt: skip
        return engine.generate(request)[0].clip.samples

    a, a_again, b, none = (take(m) for m in (use_store.melody_a, use_store.melody_a,
                                             use_store.melody_b, None))  # fmt: skip
    assert np.array_equal(a, a_again)
    assert np.abs(a - b).max() > 1e-4  # a different melody changes the prepended chroma
    assert np.abs(a - none).max() > 1e-4


def test_stereo_melody_random_weights(use_store, imported_htdemucs):
    """musicgen-stereo-melody: interleaved stereo codebooks, the same melody conditioner."""
    from engines.music.engine import MusicGenEngine, MusicRequest

    engine = MusicGenEngine(model="musicgen-stereo-melody", device="cpu")

    def take(melody: Path):
        request = MusicRequest("calm piano", duration=1.0, seed=5, melody=read_audio(melody),
                               normalize="none", watermark=False)  # fmt: skip
        return engine.generate(request)[0].clip.samples

    a, a_again, b = (take(m) for m in (use_store.melody_a, use_store.melody_a, use_store.melody_b))
    assert a.shape == (2, 32_000) and np.abs(a[0] - a[1]).max() > 1e-4  # two real channels
    assert np.array_equal(a, a_again)
    assert np.abs(a - b).max() > 1e-4


def test_conditioner_separates_with_the_imported_random_weight_htdemucs(
    use_store, imported_htdemucs
):
    """The stem separator inside the loaded model is the file the user imported."""
    import torch

    from engines.htdemucs import safe_globals
    from engines.music.engine import MusicGenEngine
    from engines.safe_load import allowing

    engine = MusicGenEngine(model="musicgen-melody", device="cpu")
    engine.load()
    bag = engine._model.lm.condition_provider.conditioners["self_wav"].demucs
    (separator,) = bag.models
    with allowing(safe_globals()):
        path = imported_htdemucs.path / "checkpoints" / HTDEMUCS_FILE
        saved = torch.load(path, weights_only=True)["state"]
    loaded = separator.state_dict()
    assert type(separator).__name__ == "HTDemucs" and set(loaded) == set(saved)
    assert all(torch.equal(loaded[k].float(), saved[k].float()) for k in saved)


def test_htdemucs_with_pickled_code_is_never_run_random_weights(use_store, tmp_path, monkeypatch):
    """Refused at import, and refused at load when it sits in torch's hub cache."""
    from engines.errors import BadInput, ModelMissing
    from engines.music.engine import MusicGenEngine
    from engines.music.models import import_model

    marker = tmp_path / "code-ran"
    evil = _evil_th(tmp_path / "hub" / "checkpoints" / HTDEMUCS_FILE, marker)
    with pytest.raises(BadInput, match="pickled code"):
        import_model(evil)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ModelMissing, match="pickled code") as caught:
        MusicGenEngine(model="musicgen-melody", device="cpu").load()
    assert "htdemucs" in str(caught.value)
    assert not marker.exists()
    assert os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD") is None  # restored after the load


def test_import_refuses_a_file_that_is_not_htdemucs(use_store, tmp_path):
    import torch

    from engines.errors import BadInput
    from engines.music.models import import_model

    path = tmp_path / "weights.th"
    torch.save({"state": {"w": torch.zeros(2)}}, path)
    with pytest.raises(BadInput, match="not a demucs HTDemucs"):
        import_model(path)


def test_demucs_imports_with_the_torchaudio_standin():
    import sys

    from engines import _standins
    from engines.safe_load import prepare_imports

    prepare_imports()
    import demucs.apply  # noqa: F401 - imports openunmix and demucs.audio (torchaudio)
    import demucs.pretrained  # noqa: F401

    assert _standins.installed()
    assert Path(sys.modules["torchaudio"].__file__).is_relative_to(_standins.HERE)
