"""``make bench-linears``: how fast each way of computing the linear layers of a
MusicGen-small decoding step streams their weights on this machine, against a plain read.

A step is bound by reading the LM's weights (see :mod:`engines.music.kernels`), so what
matters per kernel is its bandwidth: the bytes of its weight form over its time, next to
what this machine's memory does for a plain read of the same bytes. Measured at the rows a
step has: 2 (classifier-free guidance) and 8 (a batch of 4 variations).

The candidates are the app's own kernels (built as the chooser builds them,
:func:`engines.music.kernels.synthetic_linear`) and routes through other well-kept libraries
that the app does not use, so each machine shows whether one of them would be worth it:

- ``mkl-packed``: MKL's packed GEMM (``torch.ops.mkl._mkl_linear``, weights packed once for
  the row count; what Inductor emits for a frozen float32 linear by default);
- ``ort-4bit`` / ``ort-8bit``: ONNX Runtime's weight-only ``MatMulNBits`` (blocks of 32,
  int8 arithmetic), one session per layer (onnxruntime comes with Piper);
- ``ort-fp32``: ONNX Runtime's float32 ``Gemm`` (MLAS, the weight packed once), one session
  per layer, each with its own pool whose threads sleep when idle. Alone it is among the
  fastest float32 routes; why the app does not use it: :mod:`engines.music.kernels`;
- ``inductor``: ``torch.compile`` with frozen weights and Inductor's C++ GEMM template
  (``max_autotune``, CPP and ATen choices), where a C++ compiler is found; its compile time
  is printed (several tens of seconds on 2 cores, paid again in a new process where its
  caches miss).

Each candidate runs the transformer's 24 × 6 step products in a step's order (3072/1024/
1024/1024/4096 × 1024 and 1024 × 4096, the real shapes; the 4 output heads, ~4 % of the
bytes, are left out), each feeding the next as in a step, from the same input, timed as the
chooser times kernels (:func:`engines.music.speed.median_rounds`: a warm-up call each, then
rounds taking turns; medians). Only that the candidates ran is asserted: timings on a
shared machine are not a pass/fail signal. ``TIMBRE_BENCH_ROWS`` (default ``2,8``) and
``TIMBRE_BENCH_REPEATS`` (default 5) change what is run.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

ROWS = [int(r) for r in os.environ.get("TIMBRE_BENCH_ROWS", "2,8").split(",")]
REPEATS = int(os.environ.get("TIMBRE_BENCH_REPEATS", "5"))
DIM, FFN, LAYERS = 1024, 4096, 24
SHAPES = [(3 * DIM, DIM), (DIM, DIM), (DIM, DIM), (DIM, DIM), (FFN, DIM), (DIM, FFN)] * LAYERS
ORT_BLOCK = 32


def _ort_sessions(weights: list, bits: int) -> tuple[list, int]:
    """One ONNX Runtime session per layer computing ``x · Wᵀ``, and the bytes they hold:
    with ``bits`` 4 or 8, weights in blocks of :data:`ORT_BLOCK` (``MatMulNBits``,
    symmetric, int8 arithmetic); with 32, float32 weights (``Gemm``, packed once by MLAS)."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.capi import _pybind_state as ort_c

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    # spinning pool threads, one pool per session, take the cores from each other
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sessions, nbytes = [], 0
    for w in weights:
        n, k = w.shape
        if bits == 32:
            node = helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)
            initializers = [numpy_helper.from_array(w.numpy(), "w")]
            nbytes += w.numel() * 4
        else:
            quantize = {4: ort_c.quantize_matmul_4bits, 8: ort_c.quantize_matmul_8bits}[bits]
            blocks = k // ORT_BLOCK
            packed = np.zeros((n, blocks, ORT_BLOCK * bits // 8), np.uint8)
            scales = np.zeros((n, blocks), np.float32)
            zeros = np.zeros((n, (blocks * bits + 7) // 8), np.uint8)
            transposed = np.ascontiguousarray(w.numpy().T)
            quantize(packed, transposed, scales, zeros, ORT_BLOCK, n, k, True)
            node = helper.make_node(
                "MatMulNBits", ["x", "w", "s"], ["y"], domain="com.microsoft",
                K=k, N=n, bits=bits, block_size=ORT_BLOCK, accuracy_level=4,
            )  # fmt: skip
            initializers = [
                numpy_helper.from_array(packed, "w"),
                numpy_helper.from_array(scales.ravel(), "s"),
            ]
            nbytes += packed.nbytes + scales.nbytes
        graph = helper.make_graph(
            [node], "linear",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", k])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", n])],
            initializers,
        )  # fmt: skip
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        )
        sessions.append(
            ort.InferenceSession(
                model.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        )
    return sessions, nbytes


def _chain(call: Callable[[int, Any], Any], x: Any) -> Any:
    """All layers in a step's order, each product feeding the next as in a step (its first
    :data:`DIM` columns where a layer's output is wider than the next one's input: the
    attention's place); ``call(i, x)`` computes layer ``i``."""
    for i, (out, _) in enumerate(SHAPES):
        x = call(i, x)
        if out == 3 * DIM:  # rows contiguous again: a tensor, or ONNX Runtime's numpy array
            head = x[:, :DIM]
            x = head.contiguous() if hasattr(head, "contiguous") else head.copy()
    return x


def _inductor(weights: list, x: Any) -> tuple[Callable[[], object], float]:
    """The chain as one frozen ``torch.compile`` graph with Inductor's C++ GEMM template
    among the choices: (run, compile seconds)."""
    import torch
    import torch._inductor.config as config
    from torch import nn

    from engines.music.kernels import float_linear

    class Layers(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(float_linear(w) for w in weights)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return _chain(lambda i, h: self.layers[i](h), x)

    # the same settings at every call: dynamo compiles again (without them) where they differ
    settings = config.patch(
        freezing=True,
        max_autotune=True,
        max_autotune_gemm_backends="CPP,ATEN",
        autotune_num_choices_displayed=0,  # its tables on stderr: only this bench's
        max_autotune_report_choices_stats=False,
    )
    compiled = torch.compile(Layers().eval())

    def run() -> object:
        with settings, torch.inference_mode():  # as timed: dynamo compiles again per mode
            return compiled(x)

    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    return run, seconds


def _runs(rows: int, weights: list) -> dict[str, tuple[Callable[[], object], int]]:
    """Every candidate at ``rows`` rows: (run the chain once, bytes its weights take)."""
    import torch

    from engines.music.kernels import (
        KERNELS,
        float_linear,
        kernel_linear,
        synthetic_linear,
        unavailable,
    )

    x = torch.randn(rows, DIM)
    fp32_bytes = sum(w.numel() * 4 for w in weights)
    runs: dict[str, tuple[Callable[[], object], int]] = {}
    for name, kernel in KERNELS.items():
        if unavailable(name, SHAPES):
            continue
        if kernel.exact:  # the float32 weights, shared
            layers = [kernel_linear(name, float_linear(w)) for w in weights]
        else:
            layers = [synthetic_linear(name, o, i) for o, i in SHAPES]
        nbytes = sum(layer.weight_bytes() for layer in layers)
        runs[name] = (lambda ls=layers: _chain(lambda n, h: ls[n](h), x), nbytes)
    if torch.backends.mkl.is_available():  # torch's x86 builds
        packed = [torch.ops.mkl._mkl_reorder_linear_weight(w, rows) for w in weights]
        runs["mkl-packed"] = (
            lambda: _chain(
                lambda i, h: torch.ops.mkl._mkl_linear(h, packed[i], weights[i], None, rows), x
            ),
            fp32_bytes,
        )
    for bits in (4, 8, 32):
        sessions, nbytes = _ort_sessions(weights, bits)
        runs["ort-fp32" if bits == 32 else f"ort-{bits}bit"] = (
            lambda ss=sessions: _chain(lambda i, h: ss[i].run(None, {"x": h})[0], x.numpy()),
            nbytes,
        )
    if shutil.which(os.environ.get("CXX", "g++")) or shutil.which("clang++"):
        try:
            run, seconds = _inductor(weights, x)
        except Exception as exc:  # noqa: BLE001 - a machine that cannot compile is a finding
            print(f"{rows} rows: inductor could not compile here: {str(exc)[:200]}")
        else:
            runs["inductor"] = (run, fp32_bytes)
            print(f"{rows} rows: inductor compiled in {seconds:.0f} s")
    else:
        print(f"{rows} rows: inductor not timed: no C++ compiler on PATH")
    return runs


def test_bench_linear_kernels():
    import torch

    from engines.music import speed

    print(
        f"\nCPU: {speed.cpu_name()} ({os.cpu_count()} cores; {speed.cpu_features()}); torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads; GOMP_SPINCOUNT "
        f"{os.environ.get('GOMP_SPINCOUNT', 'unset')}, OMP_WAIT_POLICY "
        f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}; load {os.getloadavg()[0]:.1f}\n"
        f"{len(SHAPES)} linear layers of a MusicGen-small step's transformer, {REPEATS} rounds"
    )
    torch.manual_seed(0)
    weights = [torch.randn(o, i) * 0.02 for o, i in SHAPES]
    fp32_bytes = sum(w.numel() * 4 for w in weights)
    buffer = torch.ones(fp32_bytes // 4)
    for rows in ROWS:
        runs = _runs(rows, weights)
        runs["plain read"] = (buffer.sum, fp32_bytes)
        assert {"mkl", "gemv", "ort-4bit", "ort-8bit", "ort-fp32"} <= set(runs)  # others: where run
        with torch.inference_mode():
            median = speed.median_rounds(
                {name: run for name, (run, _) in runs.items()}, 0.0, REPEATS, REPEATS
            )
        read_bw = fp32_bytes / median["plain read"]
        print(f"{rows} rows  {'kernel':14s} {'ms':>7s} {'MB':>6s} {'GB/s':>6s} {'÷ read':>7s}")
        for name, (_, nbytes) in sorted(runs.items(), key=lambda r: median[r[0]]):
            print(
                f"{'':7s} {name:14s} {median[name] * 1e3:7.1f} {nbytes / 1e6:6.0f}"
                f" {nbytes / median[name] / 1e9:6.1f} {nbytes / median[name] / read_bw:7.0%}"
            )
        del runs  # before the next row count's copies
        gc.collect()
