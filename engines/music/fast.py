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
The projections become linear layers, and every linear layer of the transformer and output
heads is then computed by one of :mod:`engines.music.kernels` (:func:`set_kernel`): the
float32 ones keep the numerics, the reduced ones read fewer bytes per weight. Which kernel
and which attention arithmetic are fastest differs between processors, so
:mod:`engines.music.speed` measures them on this machine and picks.

This is done on the loaded model instance; no audiocraft file is changed.
"""

from __future__ import annotations

import functools
from typing import Any

SPEEDS = ("stock", "fast", "reduced", "int8")  # "int8": the old name of "reduced"


@functools.cache
def _attention_classes() -> tuple[type, type]:
    """Built on first use (they subclass audiocraft's, which imports torch); cached so
    ``isinstance`` recognises modules already swapped."""
    import torch
    from audiocraft.modules.streaming import StreamingModule
    from torch import nn
    from torch.nn import functional as F

    from engines.music.kernels import attend, float_linear

    def heads(x: torch.Tensor, n: int) -> torch.Tensor:  # b t (h d) -> b h t d
        b, t, _ = x.shape
        return x.view(b, t, n, -1).transpose(1, 2)

    def merge(x: torch.Tensor) -> torch.Tensor:  # b h t d -> b t (h d)
        b, h, t, d = x.shape
        return x.transpose(1, 2).reshape(b, t, h * d)

    def linear_from(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
        return float_linear(weight.detach(), None if bias is None else bias.detach())

    class SelfAttention(StreamingModule):
        """Causal self-attention with a preallocated key/value cache while streaming."""

        accelerated = True
        attention = "sdpa"  # how one new step attends (engines.music.kernels.attend)

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
            used = state.get("used", 0)  # a Python int: no tensor made or read per step
            cache = state.get("kv")
            if cache is None or used + t > cache.shape[-2]:
                size = max(256, 2 * (used + t))
                grown = k.new_empty((2, b, self.num_heads, size, k.shape[-1]))
                if cache is not None:
                    grown[..., :used, :] = cache[..., :used, :]
                state["kv"] = cache = grown
            cache[0, :, :, used : used + t] = k
            cache[1, :, :, used : used + t] = v
            state["used"] = used + t
            if used and t > 1:
                raise RuntimeError(
                    "streaming with several new steps after the first is not supported"
                )
            keys, values = cache[0, :, :, : used + t], cache[1, :, :, : used + t]
            if t == 1:
                x = attend(q, keys, values, self.attention)
            else:
                x = F.scaled_dot_product_attention(q, keys, values, is_causal=used == 0)
            return self.out_proj(merge(x)), None

    class CrossAttention(StreamingModule):
        """Cross-attention whose keys and values are computed once per generation."""

        accelerated = True
        attention = "sdpa"

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
            """Keys and values as contiguous (b h t d) blocks, copied once per generation:
            as strided views of the projections, every step's ``matmul`` attention copied
            them again (in a MusicGen-small-sized int8 step, 52 → 46 ms on a 2-core EPYC),
            and the chooser times attention on contiguous ones."""
            k, v = self.k_proj(source), self.v_proj(source)
            return heads(k, self.num_heads).contiguous(), heads(v, self.num_heads).contiguous()

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
            x = attend(q, k, v, self.attention if q.shape[-2] == 1 else "sdpa")
            return self.out_proj(merge(x)), None

    return SelfAttention, CrossAttention


@functools.cache
def _layer_class() -> type:
    """A transformer layer computing audiocraft's pre-norm residual block in as few calls as
    possible (built on first use, cached so ``isinstance`` recognises swapped layers).

    A decoding step runs 24 such layers on 2 rows, so each Python call and tensor made per
    layer is paid 24 times a step; with reduced kernels, whose weight reads are short, that
    overhead is a large share of the step. The arithmetic is the same as audiocraft's
    (``norm_first``, no layer scale, no dropout: the released models' settings); a layer
    with other settings keeps audiocraft's forward."""
    from audiocraft.modules.transformer import StreamingTransformerLayer
    from torch import nn

    class FastLayer(StreamingTransformerLayer):
        accelerated = True

        def forward(self, src, src_mask=None, src_key_padding_mask=None, cross_attention_src=None):
            if src_mask is not None or src_key_padding_mask is not None:
                return super().forward(src, src_mask, src_key_padding_mask, cross_attention_src)
            # the accelerated attention takes its keys and values from the query (self) or
            # the cross source; masks: causal by construction
            x = src + self.self_attn(self.norm1(src), None, None)[0]
            if self.cross_attention is not None:
                x = x + self.cross_attention(self.norm_cross(x), cross_attention_src, None)[0]
            h = self.linear1(self.norm2(x))
            if self.activation is not _identity:
                h = self.activation(h)
            return x + self.linear2(h)

    def eligible(layer: Any) -> bool:
        scales = ("layer_scale_1", "layer_scale_2", "layer_scale_cross")
        drops = ("dropout", "dropout1", "dropout2", "dropout_cross")
        return (
            layer.norm_first
            and all(type(getattr(layer, n, nn.Identity())) is nn.Identity for n in scales)
            and all(getattr(getattr(layer, n, None), "p", 0.0) == 0.0 for n in drops)
        )

    FastLayer.eligible = staticmethod(eligible)
    return FastLayer


def _linear_layers(lm: Any) -> list[tuple[Any, str, Any]]:
    """(parent, attribute, layer) of every linear layer of the transformer and output heads,
    a step's layers in the order a step uses them."""
    from torch import nn

    from engines.music.kernels import _linear_class

    kinds = (nn.Linear, _linear_class())
    found = []
    for root in (lm.transformer, lm.linears):
        for module in root.modules():
            for name, child in module.named_children():
                if isinstance(child, kinds):
                    found.append((module, name, child))
    return found


def linear_shapes(lm: Any, step: bool = True) -> list[tuple[int, int]]:
    """(out, in) of every linear layer; with ``step``, only those a decoding step uses
    (cross-attention keys and values are computed once per generation)."""
    return [
        (layer.out_features, layer.in_features)
        for parent, name, layer in _linear_layers(lm)
        if not (step and name in ("k_proj", "v_proj"))
    ]


def set_kernel(lm: Any, kernel: str) -> list[tuple[Any, str, Any]]:
    """Compute every linear layer of ``lm`` with ``kernel`` (see :mod:`engines.music.kernels`);
    the feed-forward GELU moves into ``linear1``. Returns what was replaced, for
    :func:`restore`; ``mkl`` leaves (or puts back) plain ``nn.Linear`` layers."""
    from torch import nn
    from torch.nn import functional as F

    from engines.music.kernels import KERNELS, _linear_class, kernel_linear, unavailable

    cls = _linear_class()
    replaced = []
    for layer in lm.transformer.layers:
        if isinstance(layer.linear1, cls) and layer.linear1.gelu:
            replaced.append((layer, "activation", layer.activation))
            layer.activation = F.gelu
            replaced.append((layer, "linear1", layer.linear1))
            layer.linear1 = _plain(layer.linear1)
    for parent, name, child in _linear_layers(lm):
        if isinstance(child, cls):
            replaced.append((parent, name, child))
            setattr(parent, name, child := _plain(child))
    if kernel == "mkl":
        return replaced
    for layer in lm.transformer.layers:
        if getattr(layer, "activation", None) is F.gelu and type(layer.linear1) is nn.Linear:
            replaced.append((layer, "activation", layer.activation))
            replaced.append((layer, "linear1", layer.linear1))
            layer.linear1 = kernel_linear(kernel, layer.linear1, gelu=True)
            layer.activation = _identity
    heads = KERNELS[kernel].heads  # the output heads' own kernel, where it has one that runs
    heads = heads if heads and not unavailable(heads) else kernel
    for parent, name, child in _linear_layers(lm):
        if type(child) is nn.Linear:
            replaced.append((parent, name, child))
            setattr(parent, name, kernel_linear(heads if parent is lm.linears else kernel, child))
    return replaced


def restore(replaced: list[tuple[Any, str, Any]]) -> None:
    """Undo :func:`set_kernel` (its list, in reverse): the layers it replaced, with the
    weights they hold, come back as they were (nothing is converted again)."""
    for parent, name, value in reversed(replaced):
        setattr(parent, name, value)


def _plain(layer: Any) -> Any:
    """A float32 kernel layer as the ``nn.Linear`` it came from (same parameters)."""
    from engines.music.kernels import KERNELS, float_linear

    if not KERNELS[layer.kernel].exact:
        raise ValueError("a reduced-precision layer cannot be turned back into float32")
    return float_linear(layer.weight, layer.bias)


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


def accelerate(lm: Any, kernel: str = "onednn", attention: str = "sdpa") -> Any:
    """Swap the attention modules of ``lm`` (in place) for the cached ones, computing a
    single new step with ``attention``, and its linear layers to ``kernel``; returns ``lm``."""
    reason = can_accelerate(lm)
    if reason:
        raise ValueError(f"this model cannot use the fast path: {reason}")
    self_cls, cross_cls = _attention_classes()
    layer_cls = _layer_class()
    for layer in lm.transformer.layers:
        if type(layer) is not layer_cls and layer_cls.eligible(layer):
            layer.__class__ = layer_cls  # same module and parameters, leaner forward
        if not isinstance(layer.self_attn, self_cls):
            layer.self_attn = self_cls(layer.self_attn)
        if layer.cross_attention is not None and not isinstance(layer.cross_attention, cross_cls):
            layer.cross_attention = cross_cls(layer.cross_attention)
        layer.self_attn.attention = attention
        if layer.cross_attention is not None:
            layer.cross_attention.attention = attention
    set_kernel(lm, kernel)
    return lm
