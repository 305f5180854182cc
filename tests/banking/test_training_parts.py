"""The parts of voice training that are quick to check: the alignment stand-in, the
weights-only debug base, the exported training set read by piper's own data module, and
the command's refusals. The training itself runs in test_training.py (slow)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.errors import BadInput


def vits_reference(value: np.ndarray, t_y: int, t_x: int) -> np.ndarray:
    """VITS' core.pyx ``maximum_path_each`` in plain Python, for small inputs."""
    value = value.astype(np.float32).copy()
    path = np.zeros(value.shape, np.int32)
    neg = np.float32(-1e9)
    for y in range(t_y):
        for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
            v_cur = neg if x == y else value[y - 1, x]
            v_prev = (np.float32(0.0) if y == 0 else neg) if x == 0 else value[y - 1, x - 1]
            value[y, x] += max(v_prev, v_cur)
    index = t_x - 1
    for y in range(t_y - 1, -1, -1):
        path[y, index] = 1
        if index != 0 and (index == y or value[y - 1, index] < value[y - 1, index - 1]):
            index -= 1
    return path


def test_alignment_stand_in_is_the_vits_search_inside_piper():
    from engines.banking.training.align import maximum_path

    rng = np.random.default_rng(3)
    neg_cent = torch.from_numpy(rng.normal(size=(3, 40, 12)).astype(np.float32))
    mask = torch.zeros(3, 40, 12)
    lengths = [(40, 12), (31, 9), (12, 12)]  # padded batch, and a square one
    for b, (ty, tx) in enumerate(lengths):
        mask[b, :ty, :tx] = 1
    path = maximum_path(neg_cent, mask).numpy()  # piper's own wrapper around the stand-in
    for b, (ty, tx) in enumerate(lengths):
        expected = vits_reference(neg_cent[b].numpy(), ty, tx)
        assert np.array_equal(path[b], expected)
        assert (path[b, :ty, :tx].sum(axis=1) == 1).all()  # every frame gets one phoneme
        assert path[b].sum() == ty and path[b, ty:].sum() == 0


def test_debug_base_is_a_released_layout_checkpoint_read_weights_only(tmp_path):
    from engines.banking.training import bases

    path = bases.debug_checkpoint()
    assert bases.debug_checkpoint() == path  # built once
    data = torch.load(path, map_location="cpu", weights_only=True)
    assert {"epoch", "global_step", "pytorch-lightning_version", "state_dict", "hyper_parameters"} <= set(data)
    assert any(k.startswith("model_g.dec.") for k in data["state_dict"])
    assert any(k.startswith("model_d.") for k in data["state_dict"])
    assert data["hyper_parameters"]["hidden_channels"] == 16

    class Payload:  # anything that needs code to unpickle is refused, not run
        def __reduce__(self):
            return (print, ("pickle code ran",))

    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": {"x": Payload()}}, evil)
    with pytest.raises(BadInput, match="weights-only"):
        bases.load_checkpoint(evil)
    with pytest.raises(BadInput, match="not a base voice"):
        bases.resolve("en_XX-nobody-medium", "en-us", download=False)


def test_exported_set_is_read_by_piper_trainers_data_module(tmp_path, clean_takes, script_lines):
    import csv

    from engines.banking.bank import VoiceBank
    from engines.banking.export import export_ljspeech
    from engines.banking.training.align import install

    install()
    from piper.train.vits.dataset import VitsDataModule

    bank = VoiceBank.create(tmp_path / "b")
    for pid, clip in clean_takes.items():
        bank.add_take(pid, clip)
    texts = {line.id: line.text for line in script_lines}
    report = export_ljspeech(bank, tmp_path / "set", espeak_voice="en-us")
    rows = list(csv.reader((tmp_path / "set" / "metadata.csv").open(), delimiter="|"))
    assert rows == [[pid, texts[pid]] for pid in clean_takes]
    assert "--data.audio_dir wavs" in (tmp_path / "set" / "README.txt").read_text()

    data = VitsDataModule(
        csv_path=tmp_path / "set" / "metadata.csv",
        audio_dir=tmp_path / "set" / "wavs",
        cache_dir=tmp_path / "cache",
        espeak_voice="en-us",
        config_path=tmp_path / "voice.onnx.json",
        voice_name="v",
        batch_size=2,
        validation_split=0.0,
        num_test_examples=0,
        num_workers=0,
        trim_silence=False,
    )
    data.prepare_data()
    data.setup("fit")
    assert len(data.train_dataset) == report.files == len(clean_takes)
    batch = next(iter(data.train_dataloader()))
    assert batch.phoneme_ids.shape[0] == 2 and batch.spectrograms.shape[1] == 513
    assert (tmp_path / "voice.onnx.json").is_file()


def test_train_refuses_clearly(tmp_path, clean_takes, timbre_cli):
    from engines.banking.bank import VoiceBank

    bank = VoiceBank.create(tmp_path / "small")
    for pid, clip in clean_takes.items():
        bank.add_take(pid, clip)
    out = timbre_cli("bank", "train", bank.path, "--base", "debug", "--steps", "2")
    assert out.returncode == 1
    assert "has 4 usable takes; training needs at least 6" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1

    from engines.banking.training.driver import train
    from engines.banking.training.run import TrainOptions
    from engines.errors import DeviceUnavailable

    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailable, match="--device cpu"):
            train(bank, TrainOptions(base="debug", device="cuda"))
    assert not (bank.path / "training").exists()  # refused before anything was written


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_alignment_stand_in_matches_the_compiled_cython_original(tmp_path):
    """The VITS core.pyx piper expects, compiled with Cython here, against the stand-in on
    real-sized batches (a few hundred frames by ~100 phonemes)."""
    pytest.importorskip("Cython")
    import importlib.util
    import shutil
    import subprocess
    import sys

    from tests.conftest import REPO

    shutil.copyfile(REPO / "tests/banking/data/vits_monotonic_align_core.pyx", tmp_path / "vits_core.pyx")
    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\nfrom Cython.Build import cythonize\n"
        "setup(ext_modules=cythonize('vits_core.pyx', quiet=True))\n"
    )
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=600)
    built = next(tmp_path.glob("vits_core*.so"))
    spec = importlib.util.spec_from_file_location("vits_core", built)
    cython_core = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cython_core)

    from engines.banking.training.align import maximum_path_c

    rng = np.random.default_rng(11)
    b, ty, tx = 6, 400, 120
    values = rng.normal(size=(b, ty, tx)).astype(np.float32) * 5
    t_ys = rng.integers(tx, ty + 1, size=b).astype(np.int32)
    t_xs = rng.integers(10, tx + 1, size=b).astype(np.int32)
    ours, theirs = np.zeros((b, ty, tx), np.int32), np.zeros((b, ty, tx), np.int32)
    maximum_path_c(ours, values.copy(), t_ys, t_xs)
    cython_core.maximum_path_c(theirs, values.copy(), t_ys, t_xs)
    assert np.array_equal(ours, theirs)


@pytest.mark.slow
def test_piper_own_command_line_runs_with_the_stand_in():
    import subprocess
    import sys

    from tests.conftest import REPO

    out = subprocess.run(
        [sys.executable, "-m", "engines.banking.training.piper_cli", "fit", "--help"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "--data.csv_path" in out.stdout and "--model.hidden_channels" in out.stdout


def test_auto_base_is_the_installed_checkpoint_of_the_language(tmp_path, monkeypatch):
    from engines import modelstore
    from engines.banking.training import bases
    from engines.errors import ModelMissing

    british = next(b for b in bases.BASES if b.espeak_voice == "en-gb")
    for base in bases.BASES:  # the shared test store may hold one from another test
        modelstore.remove(bases.repo_for(base))
    with pytest.raises(ModelMissing, match="--base en_US-lessac-medium while online"):
        bases.resolve("auto", "en-us", download=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: offline
    with pytest.raises(ModelMissing, match="Cannot reach the Hugging Face hub"):
        bases.resolve("en_US-ryan-medium", "en-us")

    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "epoch=1-step=2.ckpt").write_bytes(b"weights")
    try:
        modelstore.import_folder(folder, bases.repo_for(british))
        name, path = bases.resolve("auto", "en-us", download=False)  # same language, other accent
        assert name == british.name and path.name == "epoch=1-step=2.ckpt"
        with pytest.raises(BadInput, match="no published base voice for 'xx'"):
            bases.resolve("auto", "xx", download=False)
    finally:
        modelstore.remove(bases.repo_for(british))
