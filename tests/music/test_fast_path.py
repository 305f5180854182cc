"""The fast decoding path (cached attention, each kernel) against audiocraft's own, on the
tiny random model: teacher-forced logits and greedy generations."""

from __future__ import annotations

import copy

import pytest


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (as the engine runs them)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


def _inputs(lm):
    import torch
    from audiocraft.modules.conditioners import ConditioningAttributes

    attrs = [ConditioningAttributes(text={"description": d}) for d in ("calm piano", "dog barking")]
    conditions = lm.condition_provider(lm.condition_provider.tokenize(attrs))
    codes = torch.randint(0, lm.card, (2, 4, 40), generator=torch.Generator().manual_seed(0))
    return codes, conditions


def test_exact_kernels_match_stock_and_reduced_ones_differ_a_little(stock_model):
    from engines.music.fast import accelerate
    from engines.music.kernels import ATTENTIONS, EXACT, REDUCED, unavailable

    lm = stock_model.lm
    codes, conditions = _inputs(lm)
    reference = _teacher_forced(lm, codes, conditions, streaming=False)
    for kernel in EXACT:
        for attention in ATTENTIONS:
            fast = accelerate(copy.deepcopy(lm), kernel=kernel, attention=attention)
            got = _teacher_forced(fast, codes, conditions, streaming=True)
            assert (got - reference).abs().max() < 1e-4, (kernel, attention)
    got = _teacher_forced(fast, codes, conditions, streaming=False)
    assert (got - reference).abs().max() < 1e-4
    for kernel in REDUCED:
        if unavailable(kernel):
            continue
        reduced = _teacher_forced(accelerate(copy.deepcopy(lm), kernel), codes, conditions, True)
        agree = (reduced.argmax(-1) == reference.argmax(-1)).float().mean()
        assert 1e-4 < (reduced - reference).abs().max() < 1.0 and agree > 0.8, kernel


# the exact kernels as the chooser picks them on different machines (gemv and onednn-packed:
# the 2-core EPYC, one take and a batch)
EXACT_PATHS = [("onednn", "matmul"), ("gemv", "sdpa"), ("onednn-packed", "matmul")]


@pytest.mark.parametrize(("kernel", "attention"), EXACT_PATHS)
def test_fast_engine_makes_the_same_greedy_tokens_as_stock(stock_model, kernel, attention):
    import torch

    from engines.music.fast import accelerate

    stock_model.set_generation_params(duration=1.0, use_sampling=False)
    stock = stock_model.generate(["calm piano"], return_tokens=True)[1]
    original = stock_model.lm
    try:
        stock_model.lm = accelerate(copy.deepcopy(original), kernel, attention)
        fast = stock_model.generate(["calm piano"], return_tokens=True)[1]
        assert torch.equal(stock, fast)
    finally:
        stock_model.lm = original


@pytest.mark.parametrize(("kernel", "attention"), EXACT_PATHS)
def test_fast_engine_samples_the_same_tokens_as_stock_for_the_same_seed(
    stock_model, kernel, attention
):
    import torch

    from engines.music.fast import accelerate

    stock_model.set_generation_params(duration=1.0, use_sampling=True, top_k=10)
    original = stock_model.lm
    try:
        got = []
        for lm in (original, accelerate(copy.deepcopy(original), kernel, attention)):
            stock_model.lm = lm
            torch.manual_seed(7)
            got.append(stock_model.generate(["calm piano"], return_tokens=True)[1])
        assert torch.equal(*got)
    finally:
        stock_model.lm = original


def test_accelerate_is_idempotent_and_kernels_swap_and_restore(stock_model):
    from torch.nn import functional as F

    from engines.music.fast import accelerate, can_accelerate, restore, set_kernel

    lm = accelerate(copy.deepcopy(stock_model.lm))
    assert can_accelerate(lm) == ""
    layer = lm.transformer.layers[0]
    assert type(layer).__name__ == "FastLayer"  # the lean pre-norm block, same parameters
    before = layer.self_attn
    assert accelerate(lm).transformer.layers[0].self_attn is before
    fused = layer.linear1
    assert fused.kernel == "onednn" and fused.gelu and layer.activation is not F.gelu
    replaced = set_kernel(lm, "int8-weight")
    assert layer.linear1.kernel == "int8-weight" and layer.linear1.weight.dtype.itemsize == 1
    restore(replaced)
    assert layer.linear1 is fused
    set_kernel(lm, "mkl")  # plain nn.Linear and GELU back as audiocraft had them
    assert type(layer.linear1).__name__ == "Linear" and layer.activation is F.gelu
    set_kernel(lm, "bf16")
    with pytest.raises(ValueError):  # bfloat16 weights cannot become float32 ones again
        set_kernel(lm, "onednn")


def test_onednn_kernel_runs_on_onednn_and_falls_back_under_autograd(stock_model):
    import torch
    from torch.nn import functional as F
    from torch.profiler import ProfilerActivity, profile

    from engines.music.fast import accelerate

    lm = accelerate(copy.deepcopy(stock_model.lm), "onednn")
    fused = lm.transformer.layers[0].linear1
    assert all(head.kernel == "onednn" for head in lm.linears)
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


def test_4bit_keeps_the_output_heads_in_int8(stock_model):
    """The heads make the logits directly: 4-bit there costs a fifth of the logit error."""
    from engines.music.fast import accelerate
    from engines.music.kernels import unavailable

    if unavailable("int4-weight"):
        pytest.skip(unavailable("int4-weight"))
    lm = accelerate(copy.deepcopy(stock_model.lm), "int4-weight")
    assert {head.kernel for head in lm.linears} == {"int8-weight"}
    assert {layer.linear1.kernel for layer in lm.transformer.layers} == {"int4-weight"}
    lm = accelerate(copy.deepcopy(stock_model.lm), "bf16")  # a kernel with no head rule
    assert {head.kernel for head in lm.linears} == {"bf16"}


@pytest.mark.parametrize("kernel", ["int8-weight", "int8-dynamic"])
def test_int8_kernels_make_the_logits_with_half_precision_heads(stock_model, kernel):
    """int8-weight's heads in fp16 lifted its agreement from 96.6 to 98.3 % (random
    MusicGen-small-sized weights); where fbgemm is missing the heads stay in the body's
    kernel."""
    from engines.music.fast import accelerate
    from engines.music.kernels import unavailable

    if unavailable(kernel):
        pytest.skip(unavailable(kernel))
    lm = accelerate(copy.deepcopy(stock_model.lm), kernel)
    heads = kernel if unavailable("fp16-weight") else "fp16-weight"
    assert {head.kernel for head in lm.linears} == {heads}
    assert {layer.linear1.kernel for layer in lm.transformer.layers} == {kernel}


def test_every_kernel_returns_contiguous_rows_even_from_a_strided_input():
    """A layer's output is the next layer's input: a strided one (gemv's transposed product
    once was) sent the next matrix–vector product down BLAS's slow path, 3-4× its time."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from engines.music.kernels import EXACT, KERNELS, REDUCED, kernel_linear, unavailable

    torch.manual_seed(0)
    src = nn.Linear(64, 96, bias=False)
    strided = torch.randn(64, 2).t().reshape(2, 1, 64)  # rows as a transposed view
    assert not strided.is_contiguous()
    want = F.linear(strided, src.weight)
    for kernel in (*EXACT, *REDUCED):
        if unavailable(kernel, [(96, 64)]):
            continue
        with torch.inference_mode():
            got = kernel_linear(kernel, src)(strided)
        assert got.shape == (2, 1, 96) and got.is_contiguous(), kernel
        tolerance = 1e-5 if KERNELS[kernel].exact else 0.1 * float(want.abs().max())
        assert (got - want).abs().max() < tolerance, kernel


def test_half_precision_weights_keep_more_of_the_product_than_bfloat16():
    """fp16-weight and bf16 read the same bytes; fp16 keeps 11 significant bits of a weight
    and float32 activations, bf16 8 bits of both: its products should be several times closer
    to float32 (2e-4 against 3e-3 relative on MusicGen-small's shapes)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from engines.music.kernels import kernel_linear, unavailable

    if unavailable("fp16-weight") or unavailable("bf16"):
        pytest.skip(unavailable("fp16-weight") or unavailable("bf16"))
    torch.manual_seed(0)
    src = nn.Linear(1024, 512)
    x = torch.randn(2, 1, 1024)
    with torch.inference_mode():
        want = F.linear(x, src.weight, src.bias)
        error = {
            k: float((kernel_linear(k, src)(x) - want).norm() / want.norm())
            for k in ("fp16-weight", "bf16")
        }
    assert error["fp16-weight"] < 1e-3 and error["fp16-weight"] * 5 < error["bf16"], error


def test_switching_kernels_keeps_the_weights_and_draws_no_random_numbers(stock_model):
    """A switch of kernels (every batch of variations makes two) hands the same weight
    tensors on; it used to re-initialise a fresh ``nn.Linear`` per layer and throw that away."""
    import torch

    from engines.music.fast import accelerate, set_kernel

    lm = accelerate(copy.deepcopy(stock_model.lm), "onednn-packed")
    before = [p.data_ptr() for p in lm.transformer.parameters()]
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    set_kernel(lm, "gemv")
    set_kernel(lm, "onednn-packed")
    assert torch.equal(torch.rand(1), expected)  # the generator was not touched
    assert [p.data_ptr() for p in lm.transformer.parameters()] == before


@pytest.mark.parametrize("kernel", ["onednn-packed", "bf16"])
def test_a_copy_of_an_lm_on_reordered_weights_computes_the_same(stock_model, kernel):
    """oneDNN's reordered tensors cannot be deep-copied; a copy of such a layer shares them."""
    import torch

    from engines.music.fast import accelerate
    from engines.music.kernels import unavailable

    if unavailable(kernel):
        pytest.skip(unavailable(kernel))
    lm = accelerate(copy.deepcopy(stock_model.lm), kernel)
    twin = copy.deepcopy(lm)
    x = torch.randn(2, 1, lm.dim)
    with torch.inference_mode():
        layer, other = lm.transformer.layers[0], twin.transformer.layers[0]
        assert other.linear1 is not layer.linear1
        assert torch.equal(layer.linear1(x), other.linear1(x))
