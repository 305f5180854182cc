"""Faster CPU/GPU decoding for a loaded audiocraft LM, with the same numerics.

audiocraft's streaming decoder spends most of each step on work it has already done:

- **cross-attention** projects the text condition to keys and values again at every step
  (24 layers × 2 projections of every text token, each step), although the condition
  never changes during a generation — for a typical prompt this is most of a step's
  arithmetic;
- **self-attention** grows its key/value cache by ``torch.cat``, copying the whole cache
  at every step (quadratic in the length).

:func:`accelerate` swaps each layer's attention modules for ones that compute cross keys and
values once per generation and keep self-attention keys and values in a preallocated
buffer. The arithmetic per token is unchanged (same projections, same scaled-dot-product
attention), so logits match audiocraft's to float rounding; everything else — conditioning,
classifier-free guidance, sampling, windows, continuation — is still audiocraft's own code.
The projections become ``nn.Linear`` modules, so :func:`quantize_int8` can then quantise
every matrix of the model with torch's dynamic int8 quantisation (a stated quality cost).

On the CPU, every linear layer then goes through oneDNN instead of torch's default MKL
GEMM (:class:`FastLinear`). With classifier-free guidance a step multiplies 2 rows by every
weight matrix; measured here (AMD EPYC, AVX-512, one thread) MKL's ``sgemm`` streamed the
weights at 4–9 GB/s for such shapes while oneDNN reached 10–14 GB/s, close to what the
core can read at all (a plain sum: ~15 GB/s). The product is the same float32 dot product in
another summation order (|Δ| ~1e-6 relative); the feed-forward GELU is fused into its
linear layer (oneDNN's exact-erf GELU).

This is done on the loaded model instance; no audiocraft file is changed.
"""

from __future__ import annotations

import functools
from typing import Any

SPEEDS = ("stock", "fast", "int8")


@functools.cache
def _attention_classes() -> tuple[type, type]:
    """Built on first use (they subclass audiocraft's, which imports torch); cached so
    ``isinstance`` recognises modules already swapped."""
    import torch
    from audiocraft.modules.streaming import StreamingModule
    from torch import nn
    from torch.nn import functional as F

    def heads(x: torch.Tensor, n: int) -> torch.Tensor:  # b t (h d) -> b h t d
        b, t, _ = x.shape
        return x.view(b, t, n, -1).transpose(1, 2)

    def merge(x: torch.Tensor) -> torch.Tensor:  # b h t d -> b t (h d)
        b, h, t, d = x.shape
        return x.transpose(1, 2).reshape(b, t, h * d)

    def linear_from(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
        layer.weight = nn.Parameter(weight.detach(), requires_grad=False)
        if bias is not None:
            layer.bias = nn.Parameter(bias.detach(), requires_grad=False)
        return layer

    class SelfAttention(StreamingModule):
        """Causal self-attention with a preallocated key/value cache while streaming."""

        accelerated = True

        def __init__(self, src: Any) -> None:
            super().__init__()
            self.num_heads = src.num_heads
            self.in_proj = linear_from(src.in_proj_weight, src.in_proj_bias)
            self.out_proj = src.out_proj

        def forward(
            self,
            query,
            key,
            value,
            key_padding_mask=None,
            need_weights=False,
            attn_mask=None,
            average_attn_weights=True,
            is_causal=False,
        ):
            b, t, _ = query.shape
            q, k, v = self.in_proj(query).view(b, t, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
            if not self._is_streaming:
                x = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
                return self.out_proj(merge(x)), None
            state = self._streaming_state
            used = int(state["used"]) if "used" in state else 0
            cache = state.get("kv")
            if cache is None or used + t > cache.shape[-2]:
                size = max(256, 2 * (used + t))
                grown = k.new_empty((2, b, self.num_heads, size, k.shape[-1]))
                if cache is not None:
                    grown[..., :used, :] = cache[..., :used, :]
                state["kv"] = cache = grown
            cache[0, :, :, used : used + t] = k
            cache[1, :, :, used : used + t] = v
            state["used"] = torch.tensor(used + t)
            if used and t > 1:
                raise RuntimeError(
                    "streaming with several new steps after the first is not supported"
                )
            keys, values = cache[0, :, :, : used + t], cache[1, :, :, : used + t]
            x = F.scaled_dot_product_attention(q, keys, values, is_causal=used == 0 and t > 1)
            return self.out_proj(merge(x)), None

    class CrossAttention(StreamingModule):
        """Cross-attention whose keys and values are computed once per generation."""

        accelerated = True

        def __init__(self, src: Any) -> None:
            super().__init__()
            dim = src.in_proj_weight.shape[0] // 3
            w, bias = src.in_proj_weight, src.in_proj_bias
            part = (lambda i: None) if bias is None else (lambda i: bias[i * dim : (i + 1) * dim])
            self.num_heads = src.num_heads
            self.q_proj = linear_from(w[:dim], part(0))
            self.k_proj = linear_from(w[dim : 2 * dim], part(1))
            self.v_proj = linear_from(w[2 * dim :], part(2))
            self.out_proj = src.out_proj

        def _kv(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return heads(self.k_proj(source), self.num_heads), heads(
                self.v_proj(source), self.num_heads
            )

        def forward(
            self,
            query,
            key,
            value,
            key_padding_mask=None,
            need_weights=False,
            attn_mask=None,
            average_attn_weights=True,
            is_causal=False,
        ):
            if self._is_streaming:
                state = self._streaming_state
                if "k" not in state or state["k"].shape[0] != key.shape[0]:
                    state["k"], state["v"] = self._kv(key)
                k, v = state["k"], state["v"]
            else:
                k, v = self._kv(key)
            q = heads(self.q_proj(query), self.num_heads)
            x = F.scaled_dot_product_attention(q, k, v)
            return self.out_proj(merge(x)), None

    return SelfAttention, CrossAttention


@functools.cache
def _linear_class() -> type:
    """:class:`FastLinear`, built on first use (torch is imported lazily)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    onednn = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")

    class FastLinear(nn.Module):
        """``nn.Linear`` (optionally followed by GELU) computed by oneDNN for float32 on the
        CPU, where torch's MKL GEMM is slow for the 2-row products of a decoding step;
        anything else (GPU, half precision, autograd) takes ``F.linear`` as before."""

        def __init__(self, src: nn.Linear, gelu: bool = False) -> None:
            super().__init__()
            self.in_features, self.out_features = src.in_features, src.out_features
            self.weight, self.bias = src.weight, src.bias  # shared, not copied
            self.gelu = gelu

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if (
                onednn
                and x.device.type == "cpu"
                and x.dtype == torch.float32
                and self.weight.dtype == torch.float32
                and not (torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad))
            ):
                attr, algorithm = ("gelu", "none") if self.gelu else ("none", "")
                return torch.ops.mkldnn._linear_pointwise(
                    x, self.weight, self.bias, attr, [], algorithm
                )
            y = F.linear(x, self.weight, self.bias)
            return F.gelu(y) if self.gelu else y

        def to_linear(self) -> nn.Linear:
            """The plain ``nn.Linear`` (same parameters), e.g. for quantisation."""
            layer = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None)
            layer.weight, layer.bias = self.weight, self.bias
            return layer

        def extra_repr(self) -> str:
            return f"{self.in_features}, {self.out_features}, gelu={self.gelu}"

    return FastLinear


def _swap_linears(lm: Any, fast: bool) -> None:
    """Every linear layer of the transformer and output heads to :class:`FastLinear`
    (``fast``) or back to ``nn.Linear``; a feed-forward GELU moves into/out of ``linear1``."""
    from torch import nn
    from torch.nn import functional as F

    cls = _linear_class()
    for layer in lm.transformer.layers:
        fuse = fast and getattr(layer, "activation", None) is F.gelu
        if isinstance(layer.linear1, cls) and layer.linear1.gelu and not fast:
            layer.activation = F.gelu
        elif fuse and type(layer.linear1) is nn.Linear:
            layer.linear1 = cls(layer.linear1, gelu=True)
            layer.activation = _identity
    for root in (lm.transformer, lm.linears):
        for module in list(root.modules()):
            for name, child in list(module.named_children()):
                if fast and type(child) is nn.Linear:
                    setattr(module, name, cls(child))
                elif not fast and isinstance(child, cls):
                    setattr(module, name, child.to_linear())


def _identity(x: Any) -> Any:
    """The feed-forward activation once GELU is fused into ``linear1``."""
    return x


def can_accelerate(lm: Any) -> str:
    """Why this LM's layers cannot take the fast attention, or ''."""
    for layer in lm.transformer.layers:
        attn = layer.self_attn
        if getattr(attn, "accelerated", False):
            continue
        if not getattr(attn, "custom", False) or attn.rope is not None or attn.kv_repeat != 1:
            return "its attention uses rotary embeddings, grouped heads or torch's MHA"
        if attn.past_context is not None or attn.qk_layer_norm:
            return "its attention uses a limited context or query/key norms"
        if layer.cross_attention is not None and layer.cross_attention.qk_layer_norm:
            return "its cross-attention uses query/key norms"
    return ""


def accelerate(lm: Any, linears: bool = True) -> Any:
    """Swap the attention modules of ``lm`` (in place) for the cached ones and, with
    ``linears``, its linear layers for :class:`FastLinear`; returns ``lm``.
    (``linears=False`` exists so the benchmark can show what each part brings.)"""
    reason = can_accelerate(lm)
    if reason:
        raise ValueError(f"this model cannot use the fast path: {reason}")
    self_cls, cross_cls = _attention_classes()
    for layer in lm.transformer.layers:
        if not isinstance(layer.self_attn, self_cls):
            layer.self_attn = self_cls(layer.self_attn)
        if layer.cross_attention is not None and not isinstance(layer.cross_attention, cross_cls):
            layer.cross_attention = cross_cls(layer.cross_attention)
    _swap_linears(lm, fast=linears)
    return lm


def quantize_int8(lm: Any) -> Any:
    """Dynamic int8 quantisation of every linear layer of the (accelerated) transformer and
    output heads; the text conditioner and embeddings stay float32."""
    import warnings

    import torch
    from torch import nn

    accelerate(lm, linears=False)  # quantize_dynamic swaps exactly nn.Linear
    with warnings.catch_warnings():  # torch 2.13 announces a future move of these APIs
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        quantize = torch.ao.quantization.quantize_dynamic
        lm.transformer = quantize(lm.transformer, {nn.Linear}, dtype=torch.qint8)
        lm.linears = quantize(lm.linears, {nn.Linear}, dtype=torch.qint8)
    return lm
