"""The fast decoding path (cached attention, int8) against audiocraft's own, on the tiny
random model: teacher-forced logits and greedy generations."""

from __future__ import annotations

import copy

import numpy as np
import pytest


@pytest.fixture(scope="module")
def stock_model(debug_hub):
    from engines.music.loading import load_pretrained
    from engines.music.tiny import MUSICGEN_DEBUG

    return load_pretrained("musicgen", MUSICGEN_DEBUG, debug_hub, "cpu")


def _teacher_forced(lm, codes, conditions, streaming: bool):
    import torch

    with torch.no_grad():
        if not streaming:
            return lm(codes, [], conditions)
        with lm.streaming():
            steps = [lm(codes[..., :5], [], conditions)]
            steps += [lm(codes[..., s : s + 1], [], conditions) for s in range(5, codes.shape[-1])]
        return torch.cat(steps, dim=2)


def test_fast_and_int8_teacher_forced_logits_tiny_random_model(stock_model):
    import torch
    from audiocraft.modules.conditioners import ConditioningAttributes

    from engines.music.fast import accelerate, quantize_int8

    lm = stock_model.lm
    attrs = [ConditioningAttributes(text={"description": d}) for d in ("calm piano", "dog barking")]
    conditions = lm.condition_provider(lm.condition_provider.tokenize(attrs))
    codes = torch.randint(0, lm.card, (2, 4, 40), generator=torch.Generator().manual_seed(0))
    reference = _teacher_forced(lm, codes, conditions, streaming=False)
    fast = accelerate(copy.deepcopy(lm))
    assert (_teacher_forced(fast, codes, conditions, True) - reference).abs().max() < 1e-4
    assert (_teacher_forced(fast, codes, conditions, False) - reference).abs().max() < 1e-4
    int8 = quantize_int8(copy.deepcopy(lm))
    quantised = _teacher_forced(int8, codes, conditions, True)
    agree = (quantised.argmax(-1) == reference.argmax(-1)).float().mean()
    assert 1e-4 < (quantised - reference).abs().max() < 0.5 and agree > 0.8


def test_fast_engine_makes_the_same_greedy_tokens_as_stock(stock_model):
    import torch

    from engines.music.fast import accelerate

    stock_model.set_generation_params(duration=1.0, use_sampling=False)
    stock = stock_model.generate(["calm piano"], return_tokens=True)[1]
    original = stock_model.lm
    stock_model.lm = accelerate(copy.deepcopy(original))
    try:
        fast = stock_model.generate(["calm piano"], return_tokens=True)[1]
    finally:
        stock_model.lm = original
    assert torch.equal(stock, fast)


def test_int8_speed_is_recorded_in_provenance(debug_hub):
    from engines.music.engine import MusicGenEngine, MusicRequest

    engine = MusicGenEngine(model="debug", device="cpu", speed="int8")
    take = engine.generate(MusicRequest("calm piano", duration=0.5, seed=2, watermark=False))[0]
    assert take.provenance.params["speed"] == "int8" and take.provenance.dtype == "int8-dynamic"
    assert np.isfinite(take.clip.samples).all()


def test_accelerate_is_idempotent_and_int8_applies_on_top(stock_model):
    from engines.music.fast import accelerate, can_accelerate, quantize_int8

    lm = accelerate(copy.deepcopy(stock_model.lm))
    assert can_accelerate(lm) == ""
    layer = lm.transformer.layers[0]
    before = layer.self_attn
    assert accelerate(lm).transformer.layers[0].self_attn is before
    quantize_int8(lm)
    assert "quantized.dynamic" in type(lm.transformer.layers[0].linear1).__module__


def test_fast_linears_run_on_onednn_and_int8_gets_plain_layers_back(stock_model):
    import torch
    from torch.nn import functional as F
    from torch.profiler import ProfilerActivity, profile

    from engines.music.fast import accelerate, quantize_int8

    lm = accelerate(copy.deepcopy(stock_model.lm))
    layer = lm.transformer.layers[0]
    fused = layer.linear1
    assert type(fused).__name__ == "FastLinear" and fused.gelu
    assert all(type(head).__name__ == "FastLinear" for head in lm.linears)
    x = torch.randn(2, 1, fused.in_features)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        got = fused(x)
    if torch.backends.mkldnn.is_available():
        assert "mkldnn::_linear_pointwise" in {e.name for e in prof.events()}
    want = F.gelu(F.linear(x, fused.weight, fused.bias))
    assert (got - want).abs().max() < 1e-5
    with torch.enable_grad():  # autograd falls back to F.linear
        x.requires_grad_(True)
        fused(x).sum().backward()
        assert x.grad is not None
    int8 = quantize_int8(lm)
    assert int8.transformer.layers[0].activation is F.gelu  # un-fused before quantising
    assert not any(type(m).__name__ == "FastLinear" for m in int8.modules())
