"""The per-machine kernel choice (engines.music.speed) on the tiny random models: it times
the kernels, keeps the fastest, caches the choice per CPU and torch, refuses a reduced
kernel that changes the music, and ``--speed reduced`` (old name ``int8``) works end to end."""

from __future__ import annotations

import copy
import json
import types

import numpy as np
import pytest


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("TIMBRE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def tiny_model(debug_hub):
    from engines.music.loading import load_pretrained
    from engines.music.tiny import MUSICGEN_DEBUG

    return load_pretrained("musicgen", MUSICGEN_DEBUG, debug_hub, "cpu")


@pytest.fixture
def accelerated_lm(tiny_model):
    from engines.music.fast import accelerate

    return accelerate(copy.deepcopy(tiny_model.lm), kernel="mkl")


def _fake_timing(monkeypatch, times: dict[str, float]) -> None:
    """The chooser's linear-layer timing replaced by ``times`` (kernels absent: not run)."""
    from engines.music import speed

    monkeypatch.setattr(
        speed,
        "time_linears",
        lambda lm, names, *a: ({k: times[k] for k in names if k in times}, {}),
    )


def test_choice_is_timed_once_cached_and_invalidated_by_cpu_or_torch(
    accelerated_lm, cache_dir, monkeypatch
):
    import torch

    from engines.music import speed
    from engines.music.kernels import EXACT, KERNELS

    monkeypatch.setattr(speed, "cpu_name", lambda: "Test CPU 1")
    first = speed.choose(accelerated_lm, budget_s=0.3)
    assert first.measured
    timed = first.step_ms
    assert set(timed) | set(first.dropped) == set(KERNELS)
    fastest = min((k for k in timed if k in EXACT), key=timed.get)
    lean = min((k for k in timed if k in EXACT and not KERNELS[k].copies_weights), key=timed.get)
    # a kernel keeping a copy of the weights must be clearly faster than one that does not
    assert first.exact == (fastest if timed[lean] > speed.COPY_GAIN * timed[fastest] else lean)
    assert first.attention in first.attention_ms
    assert all(timed[k] < timed[first.exact] for k in first.reduced)
    assert [timed[k] for k in first.reduced] == sorted(timed[k] for k in first.reduced)
    record = json.loads((cache_dir / speed.CACHE_FILE).read_text())
    assert record["machine"]["cpu"] == "Test CPU 1"

    again = speed.choose(accelerated_lm)
    assert not again.measured and again.to_record() == first.to_record()

    monkeypatch.setattr(speed, "cpu_name", lambda: "Test CPU 2")  # another processor
    assert speed.choose(accelerated_lm, budget_s=0.3).measured
    assert not speed.choose(accelerated_lm).measured
    monkeypatch.setattr(torch, "__version__", "99.0")  # another torch
    assert speed.choose(accelerated_lm, budget_s=0.3).measured


def test_chooser_keeps_the_fastest_exact_and_only_faster_reduced(
    accelerated_lm, cache_dir, monkeypatch
):
    from engines.music import speed

    times = {"mkl": 9.0, "onednn": 5.0, "bf16": 3.0, "int8-weight": 6.0, "int4-weight": 1.0}
    _fake_timing(monkeypatch, times)
    choice = speed.choose(accelerated_lm)
    assert (choice.exact, choice.reduced) == ("onednn", ["int4-weight", "bf16"])
    times.update(mkl=0.5)  # cached: not timed again
    assert speed.choose(accelerated_lm).exact == "onednn"


def test_a_cached_packed_choice_gives_way_when_its_copy_does_not_fit_today(
    accelerated_lm, cache_dir, monkeypatch
):
    """onednn-packed keeps its own copy of the weights: chosen on a day with memory to spare,
    it is passed over (without timing again) on a day with too little free."""
    import psutil

    from engines.music import speed

    times = {"mkl": 9.0, "gemv": 4.0, "onednn-packed": 2.0, "int8-weight": 1.0}
    _fake_timing(monkeypatch, times)
    assert speed.choose(accelerated_lm).exact == "onednn-packed"
    monkeypatch.setattr(psutil, "virtual_memory", lambda: types.SimpleNamespace(available=0))
    monkeypatch.setattr(speed, "time_linears", lambda *a: pytest.fail("timed again"))
    choice = speed.choose(accelerated_lm)
    assert choice.exact == "gemv" and not choice.measured


def test_a_kernel_copying_the_weights_must_be_clearly_faster_to_be_chosen(
    accelerated_lm, monkeypatch
):
    """onednn-packed doubles the weights' memory: within COPY_GAIN of gemv it is not worth it."""
    from engines.music import speed

    times = {"mkl": 9.0, "gemv": 4.2, "onednn-packed": 4.0}
    _fake_timing(monkeypatch, times)
    assert speed.choose(accelerated_lm, cache=False).exact == "gemv"
    times["onednn-packed"] = 3.0
    assert speed.choose(accelerated_lm, cache=False).exact == "onednn-packed"


def test_a_batch_kernel_keeps_its_copy_of_the_weights_for_the_next_batch_while_memory_allows(
    accelerated_lm, cache_dir, monkeypatch
):
    """onednn-packed's copy is made once, not at every batch of variations; a single take in
    between runs on its own kernel; when memory is short the copy goes and the batch runs on
    a kernel without one."""
    import psutil

    from engines.music import speed
    from engines.music.fast import linear_shapes, set_kernel
    from engines.music.kernels import KERNELS, copy_bytes

    def timed(lm, names, batch, *rest):
        fastest = "gemv" if batch == 2 else "onednn-packed"
        return {k: 0.1 if k == fastest else 1.0 for k in names if KERNELS[k].exact}, {}

    monkeypatch.setattr(speed, "time_linears", timed)
    set_kernel(accelerated_lm, "gemv")

    def layers() -> list:
        return [
            x for layer in accelerated_lm.transformer.layers for x in (layer.linear1, layer.linear2)
        ]

    def batch() -> tuple[str, list]:
        with speed.kernel_for_rows(accelerated_lm, 8, "gemv") as used:
            assert {x.kernel for x in layers()} == {used}
            return used, layers()

    used, first = batch()
    assert used == "onednn-packed" and {x.kernel for x in layers()} == {"gemv"}
    with speed.kernel_for_rows(accelerated_lm, 2, "gemv") as used:  # one take between
        assert used == "gemv" and {x.kernel for x in layers()} == {"gemv"}
    used, second = batch()
    assert used == "onednn-packed"
    assert all(a is b for a, b in zip(first, second, strict=True))  # not reordered again

    free = psutil.virtual_memory()
    shapes = linear_shapes(accelerated_lm, step=False)  # every layer the kernel converts
    short = types.SimpleNamespace(available=copy_bytes(shapes) - 1, total=free.total)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: short)
    assert batch()[0] == "gemv"  # the copy went, and no new one is made
    assert accelerated_lm not in speed._kept
    monkeypatch.setattr(psutil, "virtual_memory", lambda: free)
    used, third = batch()
    assert used == "onednn-packed" and not any(a is b for a, b in zip(second, third, strict=True))
    # a copy larger than KEEP_SHARE of the computer's memory is made for its batch, not kept
    small = types.SimpleNamespace(available=free.available, total=int(copy_bytes(shapes) * 3.9))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: small)
    assert batch()[0] == "onednn-packed" and accelerated_lm not in speed._kept


def test_agreement_check_refuses_a_broken_kernel_and_takes_the_next(
    tiny_model, cache_dir, monkeypatch
):
    from engines.music import speed
    from engines.music.fast import accelerate
    from engines.music.kernels import _linear_class

    model = copy.copy(tiny_model)
    model.lm = accelerate(copy.deepcopy(tiny_model.lm), kernel="mkl")
    cls = _linear_class()
    original_pack = cls.pack

    def broken_pack(self, weight, bias):  # a layout bug: output channels in reverse order
        original_pack(self, weight.flip(0) if self.kernel == "bf16" else weight, bias)

    monkeypatch.setattr(cls, "pack", broken_pack)
    choice = speed.Choice("mkl", "sdpa", ["bf16", "int8-weight"], {}, {})
    kernel, seen = speed.pick_reduced(model, choice, "tiny @ 1")
    assert kernel == "int8-weight"
    broken, good = seen
    assert not broken.accepted and broken.agreement < 0.5 and broken.max_logit_error > 0.1
    assert good.accepted and good.agreement >= 0.98 and 0 < good.max_logit_error < 0.5
    assert type(model.lm.linears[0]).__name__ == "Linear"  # the LM is left as it was
    cached = json.loads((cache_dir / speed.CACHE_FILE).read_text())["agreement"]
    assert not speed.Agreement(**cached["tiny @ 1 | bf16"]).accepted
    monkeypatch.setattr(cls, "pack", original_pack)  # cached: the verdict stands
    assert speed.pick_reduced(model, choice, "tiny @ 1")[0] == "int8-weight"


def test_same_seed_gives_identical_audio_on_the_exact_path(tiny_musicgen):
    from engines.music.engine import MusicRequest

    request = MusicRequest("calm piano", duration=0.5, seed=11, watermark=False)
    first, second = (tiny_musicgen.generate(request)[0] for _ in range(2))
    assert first.provenance.params["speed"] == "fast"
    assert first.provenance.params["kernel"] in ("mkl", "onednn")
    assert np.array_equal(first.clip.samples, second.clip.samples)


def test_speed_reduced_and_int8_alias_from_the_command_line(
    timbre_cli, tmp_path, debug_hub, tiny_model, monkeypatch, capsys
):
    """On the tiny model no reduced kernel is faster than float32, so the measured choice
    is written as if int8-weight had won; the agreement is then checked for real."""
    from engines.music import speed
    from engines.music.fast import accelerate
    from engines.tags import read_tags

    cache = tmp_path / "cache"
    monkeypatch.setenv("TIMBRE_CACHE_DIR", str(cache))
    lm = accelerate(copy.deepcopy(tiny_model.lm), kernel="mkl")
    data = speed.load_cache()
    record = speed.Choice("mkl", "sdpa", ["int8-weight"], {"mkl": 2.0, "int8-weight": 1.0}, {})
    data["choices"][speed.choice_key(lm, threads=1)] = record.to_record()
    speed.save_cache(data)
    files = []
    for name in ("reduced", "int8"):
        out = tmp_path / name
        r = timbre_cli(
            "music",
            "calm piano",
            "--model",
            "debug",
            "--duration",
            "1",
            "--seed",
            "5",
            "--speed",
            name,
            "-o",
            out,
            "--no-watermark",
        )
        assert r.returncode == 0, r.stderr
        (path,) = out.glob("*.wav")
        files.append(path)
        take = read_tags(path).provenance["takes"][0]
        assert take["params"]["speed"] == "reduced" and take["params"]["kernel"] == "int8-weight"
        assert take["params"]["agreement"] >= 0.98 and take["dtype"] == "int8-weight"
    from engines.audio_io import read_audio

    assert np.array_equal(read_audio(files[0]).samples, read_audio(files[1]).samples)
    from desktop.cli.basics import cmd_devices  # what `timbre devices` prints

    assert cmd_devices(None) == 0
    shown = capsys.readouterr().out
    assert "--speed reduced: int8-weight" in shown and "| int8-weight: " in shown
    assert speed.cpu_name() in shown


def test_audiogen_reduced_is_checked_the_same_way(debug_hub, cache_dir):
    """AudioGen goes through the same chooser and agreement check (here the measured choice
    is written as if half-precision weights had won; the command-line test above does the
    same with int8)."""
    from engines.music import speed
    from engines.music.engine import AudioGenEngine, MusicRequest
    from engines.music.fast import accelerate
    from engines.music.kernels import unavailable
    from engines.music.loading import load_pretrained
    from engines.music.tiny import AUDIOGEN_DEBUG

    if unavailable("fp16-weight"):
        pytest.skip(unavailable("fp16-weight"))
    lm = accelerate(load_pretrained("audiogen", AUDIOGEN_DEBUG, debug_hub, "cpu").lm, "mkl")
    data = speed.load_cache()
    record = speed.Choice("mkl", "sdpa", ["fp16-weight"], {"mkl": 2.0, "fp16-weight": 1.0}, {})
    data["choices"][speed.choice_key(lm, threads=1)] = record.to_record()
    speed.save_cache(data)
    engine = AudioGenEngine(model="debug", device="cpu", speed="int8")  # the old name
    take = engine.generate(MusicRequest("rain", duration=0.5, seed=1, watermark=False))[0]
    params = take.provenance.params
    assert params["speed"] == "reduced" and params["kernel"] == "fp16-weight"
    assert params["agreement"] >= 0.98 and take.provenance.dtype == "float16-weight"
    assert np.isfinite(take.clip.samples).all()


def test_agreement_is_teacher_forced_on_the_models_own_codes(tiny_model):
    """With greedy settings, each code the check generated is the argmax of the CFG-mixed
    logits teacher forcing gives at its position: the codes are the model's own and the
    delay pattern lines logits up with the codes they predict (off by one step, a match
    would be chance, 1 in 64 here)."""
    import torch

    from engines.music import speed
    from engines.music.fast import accelerate

    model = copy.copy(tiny_model)
    model.lm = accelerate(copy.deepcopy(tiny_model.lm), kernel="mkl")
    model.generation_params = {**tiny_model.generation_params, "use_sampling": False}
    inputs = speed.check_inputs(model)
    rows = speed.teacher_forced(model.lm, inputs)
    mixed = rows[1] + (rows[0] - rows[1]) * inputs.cfg_coef
    assert inputs.codes.shape == (len(speed.CHECK_PROMPTS), 4, speed.CHECK_STEPS)
    both = torch.cat([inputs.codes, inputs.codes])
    with torch.inference_mode():
        valid = model.lm.compute_predictions(both, [], inputs.conditions).mask.chunk(2)[0]
    assert mixed.shape[0] == int(valid.sum()) > 0.9 * inputs.codes.numel()
    greedy = (mixed.argmax(-1) == inputs.codes[valid]).float().mean()
    assert greedy >= 0.97


def test_a_batch_runs_on_the_kernel_chosen_for_its_rows_then_goes_back(
    accelerated_lm, cache_dir, monkeypatch
):
    from engines.music import speed
    from engines.music.fast import set_kernel
    from engines.music.kernels import KERNELS

    fastest = {2: "gemv", 8: "onednn"}  # as on a 2-core EPYC (stop 24's microbench)

    def timed(lm, names, batch, *rest):
        return {k: 0.1 if k == fastest[batch] else 1.0 for k in names if KERNELS[k].exact}, {}

    monkeypatch.setattr(speed, "time_linears", timed)
    set_kernel(accelerated_lm, "gemv")

    def kernels() -> set[str]:
        return {
            x.kernel
            for layer in accelerated_lm.transformer.layers
            for x in (layer.linear1, layer.linear2)
        }

    with speed.kernel_for_rows(accelerated_lm, 8, "gemv") as used:  # 4 variations × CFG
        assert used == "onednn" and kernels() == {"onednn"}
    assert kernels() == {"gemv"}
    with speed.kernel_for_rows(accelerated_lm, 2, "gemv") as used:  # one take: as loaded
        assert used == "gemv" and kernels() == {"gemv"}
