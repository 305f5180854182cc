"""The kernels that compute a MusicGen/AudioGen decoding step, and what each one costs.

A decoding step with classifier-free guidance multiplies 2 rows (CFG batch 2) by every
weight matrix of the LM, so it is bound by how fast the weights can be read: musicgen-small
reads ~1.4 GB per step in float32. Which library streams weights fastest for such thin
products differs between processors (MKL's ``sgemm`` and oneDNN swap places between an AMD
EPYC and an Intel Xeon), and past the float32 floor only fewer bytes per weight help. So
nothing here is assumed from a vendor name: :mod:`engines.music.speed` times these kernels
on the model's own shapes on this machine and keeps the fastest.

Exact kernels (the same float32 dot products in another summation order, |Δ| ~1e-6):

- ``mkl``: ``torch.nn.functional.linear`` (torch's default GEMM);
- ``onednn``: oneDNN's linear (``mkldnn::_linear_pointwise``) with the feed-forward GELU fused;
- ``gemv``: the product taken weight-first, ``(W·xᵀ)ᵀ``. For two rows BLAS then runs a
  matrix–vector kernel that streams each weight row once, where ``x·Wᵀ`` goes through a
  GEMM that packs the weights first: on a 2-core AMD EPYC it read at 1.4–1.8× a plain
  read's time against 2.2–2.7× for oneDNN and 3.4–4.5× for ``linear`` (same run); with
  8 rows it lost to oneDNN. Timing decides per machine and batch. Only with contiguous
  rows in and out: a strided input (as its transposed product once passed on to the next
  layer) sends BLAS down a path 3-4× slower, which the chooser's timing never saw.
- ``onednn-packed``: oneDNN's linear on a copy of the weights reordered once into its
  blocked layout (``mkldnn._reorder_linear_weight``, what Inductor does for oneDNN). Given
  plain weights, ``onednn`` reorders them on every call; given the blocked copy it streams
  them: a step's 144 products, 8 rows (a batch of 4 variations), 55–57 ms against 109 for
  ``onednn`` and 151–197 for ``gemv`` on a 2-core EPYC; with 2 rows 52–69 against ``gemv``'s
  65–67 (same runs). The copy is another 4 bytes per weight (1.6 GB for musicgen-small), so
  it is offered only while twice that is free, and chosen only where it beats the fastest
  kernel without a copy by more than 10 % (``speed.COPY_GAIN``); one copy reordered for 2
  rows ran as fast at 8 rows as one reordered for 8, so a single copy serves both.

Reduced kernels (fewer bytes per weight, a quality cost that is measured before use):

- ``bf16``: bfloat16 weights and activations through oneDNN (2 bytes per weight), the weights
  reordered once into oneDNN's blocked layout (as ``onednn-packed``; bit-identical outputs):
  a step's products took 28.5 ms against 46.1 with plain weights, 2 rows, and 28.5 against
  61.3 with 8 (2-core EPYC, same run);
- ``fp16-weight``: float16 weights, float32 activations and sums (fbgemm's packed half-
  precision GEMM, ``quantized::linear_dynamic_fp16``, the form torch's dynamic quantisation
  uses; 2 bytes per weight; x86 only). Same bytes as bf16, but a weight keeps 11
  significant bits instead of 8: on MusicGen-small's shapes its relative product error was
  2e-4 against bf16's 3e-3; on a 2-core AMD EPYC (Zen 4, KVM) a step's linear layers took
  43 ms against 113 for bf16 on plain weights and 140 for float32 gemv (same run: fbgemm
  streams the half-precision weights at ~33 GB/s, oneDNN's bf16 path on plain weights at a
  third of that; on reordered ones 17 against 28.5 ms, another run);
- ``int8-weight``: weight-only int8 with a scale per output channel, bfloat16 activations
  (``aten::_weight_int8pack_mm``; 1 byte per weight). Its output heads, which make the
  logits directly and are under 3 % of a step's weights, are ``fp16-weight`` where that
  runs: on a MusicGen-small-sized LM (random weights) that lifted the teacher-forced argmax
  agreement from 96.6 to 98.3 % (mean logit error 0.0094 → 0.0075) for ~2 % more bytes;
- ``int8-dynamic``: int8 weights with per-channel scales and activations quantised per row
  at run time (fbgemm's ``quantized::linear_dynamic``; 1 byte per weight). The activations
  get all 8 bits where the CPU has VNNI (its int8 products add up in 32 bits), 7 elsewhere
  (fbgemm's AVX2 products add pairs in 16 bits, which 8-bit activations can overflow); on
  a MusicGen-small-sized LM (random weights) 8 bits cut the mean logit error by a third
  (argmax agreement 93.7 → 96.1 %). Its output heads are ``fp16-weight`` (97.2 → 97.4 %,
  mean logit error 0.0113 → 0.0098, against weight-only int8 heads).
- ``int4-weight``: weight-only 4-bit in groups of 32 along the input with a scale and zero
  per group, bfloat16 activations (``aten::_weight_int4pack_mm_for_cpu``; ~0.56 bytes per
  weight). The output heads, which make the logits directly and are under 3 % of a step's
  weights, stay weight-only int8 where that runs: on a MusicGen-small-sized LM (random
  weights) that cut the mean logit error by a fifth for ~2 % more bytes per step
  (``fp16-weight`` heads did no better there: 4-bit's error is the body's).

Measured and not used (``make bench-linears`` times them beside these on any machine;
2-core AMD EPYC, 2 rows, a step's 144 products in turn, same run): MKL's packed GEMM
(``mkl::_mkl_linear``, what Inductor emits for a frozen float32 linear) 144 ms against 54
for ``gemv``; ONNX Runtime's weight-only ``MatMulNBits`` (a session per layer) 4-bit 18 ms and
8-bit 22 ms against ``int4-weight`` 16 and ``int8-dynamic`` 16. In other runs (``gemv`` 50
ms): numpy's OpenBLAS 91–95 ms, weights in 64-column blocks through ``bmm`` 71, oneDNN with
its own weight tensors (``MkldnnLinear``) 79 against ``onednn``'s 73. Only Inductor's
generated GEMM (``torch.compile``, frozen weights, its C++ template) streamed float32 at a
plain read's rate: 43 ms, 95 % of the read in the same run (25.5 ms, 55 GB/s, alone). At 8
rows it lost to ``onednn`` in one run (156 against 110 ms) and beat it in another (67
against 106; its autotuning chooses differently), and it needs a C++ compiler, 35–70 s of
compiling per process and a step written as one static graph; the README's speed section
says what such a step measured.

ONNX Runtime's float32 ``Gemm`` (MLAS, a one-node session per layer, the weight packed once;
``ort-fp32`` in the bench) streamed faster than the torch routes alone: 62 ms against
``gemv``'s 66 with 2 rows, 71 against ``onednn``'s 106 with 8 (stop 30). In a real
MusicGen-small-sized step it lost that edge: each session's own pool woke a different
sleeping thread per layer, and torch's workers, spinning after the step's other operations,
took the cores (2 rows 82–90 ms against ``gemv``'s 63–72; 8 rows 112 against ``onednn``'s
114). One process-wide ONNX Runtime pool, with the rest of the step on one torch thread,
kept it — one take 7.7 s against ``gemv``'s 8.9, a batch of 4 12.9 against ``onednn``'s
15.3 (2 s of audio, same process) — but a process with that pool refuses every session that
keeps a pool of its own ("use_per_session_threads must be false when using a global thread
pool"), which Piper, Silero VAD, Kokoro and faster-whisper's VAD all do (the clean-clone CI:
39 tests failed, 138 errored). One session for every layer, the weight passed in at each
call, keeps a pool of its own but packs the weight every time: 83–88 ms with 2 rows against
``gemv``'s 52, 100–103 with 8 against ``onednn``'s 118. So it is not used.

OpenVINO (2026.4, stop 32): a layer per call was slower than these (a step's linears 33 ms
in weight-only int8); a whole step as one graph was no faster than the app's own step (int8
25 ms against ``int8-dynamic``'s 24; the README's speed section has the numbers).

:class:`KernelLinear` holds a layer's weights in its kernel's form; ``pack`` converts real
weights, ``pack_synthetic`` makes weights of the same shape and form without converting
anything (for timing: a kernel's speed does not depend on the values).
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INT4_GROUP = 32
PACKED_ROWS = 2  # the row count ``onednn-packed`` reorders for (one take's CFG batch)


@dataclass(frozen=True)
class Kernel:
    name: str
    exact: bool
    bytes_per_weight: float
    label: str
    min_agreement: float = 0.98  # teacher-forced argmax agreement needed (reduced only)
    heads: str = ""  # the kernel for the LM's output heads, where it can run (else this one)
    copies_weights: bool = False  # keeps a float32 copy of the weights beside the model's own


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("mkl", True, 4.0, "float32, torch's default GEMM (MKL)"),
        Kernel("onednn", True, 4.0, "float32, oneDNN linear with fused GELU"),
        Kernel("gemv", True, 4.0, "float32, weight-first product (matrix–vector form)"),
        Kernel(
            "onednn-packed",
            True,
            4.0,
            "float32, oneDNN linear on weights reordered once for its GEMM (fused GELU)",
            copies_weights=True,
        ),
        Kernel("bf16", False, 2.0, "bfloat16 weights and activations (oneDNN)"),
        Kernel("fp16-weight", False, 2.0, "float16 weights, float32 activations (fbgemm)"),
        Kernel(
            "int8-weight",
            False,
            1.0,
            "weight-only int8, per-channel scales, bf16 activations (output heads fp16)",
            heads="fp16-weight",
        ),
        Kernel(
            "int8-dynamic",
            False,
            1.0,
            "int8 weights per channel, dynamic int8 activations (output heads fp16)",
            heads="fp16-weight",
        ),
        # the moonshot: 4-bit groups, accepted at ≥ 97 % agreement
        Kernel(
            "int4-weight",
            False,
            0.5 + 4 / INT4_GROUP,
            "weight-only 4-bit, groups of 32 (output heads int8)",
            min_agreement=0.97,
            heads="int8-weight",
        ),
    )
}
EXACT = tuple(k for k, v in KERNELS.items() if v.exact)
REDUCED = tuple(k for k, v in KERNELS.items() if not v.exact)
ATTENTIONS = ("sdpa", "matmul")


def unavailable(kernel: str, shapes: list[tuple[int, int]] | None = None, held: int = 0) -> str:
    """Why ``kernel`` cannot run here (or on these (out, in) shapes), or ''. ``held``: bytes
    of a copy of these weights in this kernel's form that the model already holds (see
    :func:`copy_bytes`): counted as free, it is what the copy would take."""
    import torch

    aten = torch.ops.aten
    onednn = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    bf16 = onednn and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if kernel in ("mkl", "gemv"):
        return ""
    if kernel == "onednn":
        return "" if onednn else "torch was built without oneDNN"
    reorder = onednn and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
    if kernel in ("onednn-packed", "bf16") and not reorder:
        return "torch was built without oneDNN's weight reordering"
    if kernel in KERNELS and KERNELS[kernel].copies_weights:
        return _copy_unavailable(shapes, held)
    if kernel in ("bf16", "int8-weight", "int4-weight") and not bf16:
        return "oneDNN has no bfloat16 support on this CPU"
    if kernel == "int8-weight" and not hasattr(aten, "_weight_int8pack_mm"):
        return "this torch has no weight-only int8 kernel"
    fbgemm = "fbgemm" in torch.backends.quantized.supported_engines
    if kernel in ("int8-dynamic", "fp16-weight") and not fbgemm:
        return "this torch has no fbgemm kernels (x86 only)"
    if kernel == "int4-weight":
        if not hasattr(aten, "_weight_int4pack_mm_for_cpu"):
            return "this torch has no 4-bit kernel for the CPU"
        if shapes and any(i % INT4_GROUP or o % 8 for o, i in shapes):
            return f"a layer's width is not a multiple of {INT4_GROUP}"
    if kernel not in KERNELS:
        return f"no kernel called '{kernel}'"
    return ""


def copy_bytes(shapes: list[tuple[int, int]]) -> int:
    """Bytes of a float32 copy of weights of these (out, in) shapes."""
    return 4 * sum(o * i for o, i in shapes)


def _copy_unavailable(shapes: list[tuple[int, int]] | None, held: int = 0) -> str:
    """Why a kernel that keeps its own float32 copy of the weights (``copies_weights``) cannot
    be offered now: less free memory than twice that copy (the copy, and room left for the
    rest of the studio and the system). Checked when the kernels are timed and again when a
    cached choice is used, so a machine that is short of memory today runs another kernel."""
    if not shapes:
        return ""
    import psutil

    copy = copy_bytes(shapes)
    free = psutil.virtual_memory().available + held
    if free < 2 * copy:
        return (
            f"its own copy of the weights needs {copy / 1e9:.1f} GB and "
            f"{free / 1e9:.1f} GB of memory is free"
        )
    return ""


def float_linear(weight: Any, bias: Any = None) -> Any:
    """An ``nn.Linear`` holding ``weight`` and ``bias`` themselves (no copy), made without
    ``nn.Linear``'s random initialisation: that drew fresh random numbers for every layer
    only to throw them away — 1.2 s for each switch of a MusicGen-small-sized LM's kernels
    on a 2-core EPYC, paid twice by every batch of variations."""
    from torch import nn

    out_f, in_f = weight.shape
    layer = nn.Linear(in_f, out_f, bias=bias is not None, device="meta")
    layer.weight = weight if isinstance(weight, nn.Parameter) else nn.Parameter(weight, False)
    if bias is not None:
        layer.bias = bias if isinstance(bias, nn.Parameter) else nn.Parameter(bias, False)
    return layer


def cpu_flags() -> set[str]:
    """The processor's instruction-set flags (``/proc/cpuinfo``; empty where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@functools.cache
def reduce_range() -> bool:
    """Whether ``int8-dynamic`` quantises activations to 7 bits: fbgemm's AVX2 kernels add
    pairs of u8 × s8 products in 16 bits, which full 8-bit activations can overflow; with
    VNNI the products add up in 32 bits and all 8 bits are safe."""
    return not {"avx512_vnni", "avx_vnni"} & cpu_flags()


@functools.cache
def _linear_class() -> type:
    """:class:`KernelLinear`, built on first use (torch is imported lazily)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    mkldnn = torch.ops.mkldnn
    aten = torch.ops.aten

    def quantize_int4(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Asymmetric 4-bit per group of INT4_GROUP inputs, packed for the CPU kernel, and
        its (groups, out, 2) scales and zeros in bf16 (value = (q - 8) * scale + zero)."""
        out_f, in_f = w.shape
        groups = w.float().view(out_f, in_f // INT4_GROUP, INT4_GROUP)
        low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
        scale = (high - low).clamp(min=1e-8) / 15
        q = ((groups - low) / scale).round_().clamp_(0, 15).to(torch.int32).view(out_f, in_f)
        packed = aten._convert_weight_to_int4pack_for_cpu(q, 1)
        zero = low + 8 * scale
        sz = torch.stack([scale.squeeze(-1), zero.squeeze(-1)], -1).transpose(0, 1)
        return packed, sz.contiguous().to(torch.bfloat16)

    class KernelLinear(nn.Module):
        """A linear layer (optionally followed by GELU) computed by one of :data:`KERNELS`
        on the CPU. Outside inference (autograd) or off the CPU, a float32 kernel falls back
        to ``F.linear``; a reduced one computes as it would on the CPU."""

        def __init__(self, kernel: str, in_features: int, out_features: int, gelu: bool) -> None:
            super().__init__()
            self.kernel, self.gelu = kernel, gelu
            self.in_features, self.out_features = in_features, out_features
            self.bias: Any = None

        # ---- building ----------------------------------------------------------------
        @classmethod
        def from_linear(cls, kernel: str, src: nn.Linear, gelu: bool = False) -> KernelLinear:
            layer = cls(kernel, src.in_features, src.out_features, gelu)
            layer.pack(src.weight.detach(), src.bias)
            return layer

        def pack(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
            """Hold ``weight`` (out × in, float32) in this kernel's form."""
            self.bias = None if bias is None else nn.Parameter(bias.detach(), False)
            k = self.kernel
            if KERNELS[k].exact:
                self.weight = nn.Parameter(weight, requires_grad=False)  # shared, not copied
                if k == "onednn-packed":  # the copy in oneDNN's blocked layout
                    self.packed = mkldnn._reorder_linear_weight(weight.detach(), PACKED_ROWS)
            elif k == "bf16":  # reordered once (oneDNN reorders plain weights every call)
                w16 = weight.detach().to(torch.bfloat16)
                self.register_buffer("weight", mkldnn._reorder_linear_weight(w16, PACKED_ROWS))
            elif k == "int8-weight":
                scale = weight.abs().amax(1).clamp(min=1e-8) / 127
                q = (weight / scale[:, None]).round_().clamp_(-127, 127).to(torch.int8)
                self.register_buffer("weight", q)
                self.register_buffer("scale", scale.to(torch.bfloat16))
            elif k == "fp16-weight":
                self.packed = torch.ops.quantized.linear_prepack_fp16(weight.float(), None)
            elif k == "int8-dynamic":
                scale = (weight.abs().amax(1).clamp(min=1e-8) / 127).double()
                q = (weight / scale[:, None]).round_().clamp_(-127, 127).to(torch.int8)
                self._prepack(q, scale)
            elif k == "int4-weight":
                packed, sz = quantize_int4(weight)
                self.register_buffer("weight", packed)
                self.register_buffer("scale_zeros", sz)
            else:
                raise ValueError(f"no kernel called '{k}'")

        def pack_synthetic(self) -> None:
            """Weights of this layer's shape and form with arbitrary values (for timing)."""
            o, i, k = self.out_features, self.in_features, self.kernel
            if KERNELS[k].exact or k == "bf16":  # no conversion worth skipping
                self.pack(torch.full((o, i), 0.01), None)
            elif k == "int8-weight":
                self.register_buffer("weight", torch.full((o, i), 3, dtype=torch.int8))
                self.register_buffer("scale", torch.full((o,), 0.01, dtype=torch.bfloat16))
            elif k == "fp16-weight":
                self.packed = torch.ops.quantized.linear_prepack_fp16(
                    torch.full((o, i), 0.01), None
                )
            elif k == "int8-dynamic":
                self._prepack(torch.full((o, i), 3, dtype=torch.int8), torch.full((o,), 0.01))
            elif k == "int4-weight":
                self.register_buffer("weight", torch.full((o, i // 2), 0x37, dtype=torch.uint8))
                sz = torch.full((i // INT4_GROUP, o, 2), 0.01, dtype=torch.bfloat16)
                self.register_buffer("scale_zeros", sz)

        def _prepack(self, q: torch.Tensor, scale: torch.Tensor) -> None:
            import warnings

            zeros = torch.zeros(q.shape[0], dtype=torch.long)
            with warnings.catch_warnings():  # torch 2.13 announces quantised tensors will go
                warnings.simplefilter("ignore")
                qweight = torch._make_per_channel_quantized_tensor(q, scale.double(), zeros, 0)
            self.packed = torch.ops.quantized.linear_prepack(qweight, None)

        def __deepcopy__(self, memo: dict) -> KernelLinear:
            """A copy sharing this layer's weights, which inference only reads: oneDNN's
            reordered tensors have no storage and cannot be deep-copied."""
            clone = copy.copy(self)
            clone._parameters, clone._buffers = dict(self._parameters), dict(self._buffers)
            clone._modules = dict(self._modules)
            memo[id(self)] = clone
            return clone

        # ---- computing ---------------------------------------------------------------
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k, shape = self.kernel, x.shape
            if k in ("mkl", "onednn", "onednn-packed"):
                if (
                    k != "mkl"
                    and x.device.type == "cpu"
                    and x.dtype == torch.float32
                    and not (torch.is_grad_enabled() and x.requires_grad)
                ):
                    attr, algorithm = ("gelu", "none") if self.gelu else ("none", "")
                    w = self.packed if k == "onednn-packed" else self.weight
                    return mkldnn._linear_pointwise(x, w, self.bias, attr, [], algorithm)
                y = F.linear(x, self.weight, self.bias)
                return F.gelu(y) if self.gelu else y
            # rows contiguous: the weight-only int8 kernel refuses others, and gemv's BLAS
            # route reads them 3-4× slower (a no-op for the usual, contiguous input)
            x2 = x.reshape(-1, shape[-1]).contiguous()
            if k == "gemv":
                return self._gemv(x2, shape)
            if k == "bf16":
                y = mkldnn._linear_pointwise(
                    x2.to(torch.bfloat16), self.weight, None, "none", [], ""
                )
            elif k == "int8-weight":
                y = aten._weight_int8pack_mm(x2.to(torch.bfloat16), self.weight, self.scale)
            elif k == "fp16-weight":
                y = torch.ops.quantized.linear_dynamic_fp16(x2.float(), self.packed)
            elif k == "int8-dynamic":
                y = torch.ops.quantized.linear_dynamic(x2.float(), self.packed, reduce_range())
            else:  # int4-weight
                y = aten._weight_int4pack_mm_for_cpu(
                    x2.to(torch.bfloat16), self.weight, INT4_GROUP, self.scale_zeros
                )
            y = y.to(x.dtype).view(*shape[:-1], self.out_features)
            if self.bias is not None:
                y = y + self.bias
            return F.gelu(y) if self.gelu else y

        def _gemv(self, x2: torch.Tensor, shape: torch.Size) -> torch.Tensor:
            """``(W·x2ᵀ)ᵀ`` with ``x2`` contiguous rows, returned as contiguous rows.

            Both layouts matter. BLAS takes the matrix–vector route only when the columns
            of ``x2ᵀ`` are contiguous, i.e. ``x2``'s rows; and the product comes out as
            (out × rows), whose transpose is a strided view. Left as that view, it made the
            next layer's input strided: in a MusicGen-small-sized step, 2 rows, the
            feed-forward's second product (1024 × 4096, fed by the first's GELU) took
            5.5 ms against 1.35 ms for the first (4096 × 1024, same bytes, input from a
            layer norm), a third of the exact step on a 2-core EPYC. Copying the (rows ×
            out) result costs microseconds."""
            w, b = self.weight, self.bias
            y = torch.mm(w, x2.t()) if b is None else torch.addmm(b[:, None], w, x2.t())
            y = y.t().contiguous().view(*shape[:-1], self.out_features)
            return F.gelu(y) if self.gelu else y

        def weight_bytes(self) -> int:
            return int(self.out_features * self.in_features * KERNELS[self.kernel].bytes_per_weight)

        def extra_repr(self) -> str:
            return f"{self.in_features}, {self.out_features}, {self.kernel}, gelu={self.gelu}"

    return KernelLinear


def kernel_linear(kernel: str, src: Any, gelu: bool = False) -> Any:
    """``src`` (an ``nn.Linear``) as a :class:`KernelLinear` computed by ``kernel``."""
    return _linear_class().from_linear(kernel, src, gelu)


def synthetic_linear(kernel: str, out_features: int, in_features: int) -> Any:
    """A :class:`KernelLinear` of that shape with arbitrary weights in ``kernel``'s form."""
    layer = _linear_class()(kernel, in_features, out_features, False)
    layer.pack_synthetic()
    return layer


def attend(q: Any, k: Any, v: Any, impl: str) -> Any:
    """Attention of one new query step over ``k``/``v`` (no mask needed): torch's fused
    ``scaled_dot_product_attention`` or two batched matrix products and a softmax, whichever
    was faster here; the same float32 arithmetic in another order."""
    from torch.nn import functional as F

    if impl == "matmul":
        weights = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
        return weights.softmax(-1) @ v
    return F.scaled_dot_product_attention(q, k, v)
