"""Which kernels make MusicGen/AudioGen fastest on this machine, measured once and kept.

On first use of a model size, :func:`choose` times every kernel of
:mod:`engines.music.kernels` that can run here on the LM's own layer shapes at the batch a
step really has (2 rows: classifier-free guidance), and both ways of attending to the
key/value cache, and keeps

- the fastest **exact** kernel (float32) for ``--speed fast``, and
- the **reduced** kernels that beat it, fastest first, for ``--speed reduced``.

Nothing is assumed from the vendor's name: the numbers decide. The timing is done once per
machine and model size (about eight seconds for musicgen-small and eight kernels on a
2-core EPYC, most of it making the reduced kernels' layers) and made robust to other
programs running: each kernel runs a step's worth of layers in turn, the kernels take
turns round after round (so a busy moment hits all of them), and the median of the rounds
counts. A kernel many times slower than float32 on a single layer is dropped before the
rounds. A kernel that keeps its own copy of the weights (``onednn-packed``) is timed only
while twice that copy is free memory, and a cached choice of it is checked again at each
load: on a day with less free, the fastest other exact kernel it timed runs instead.

The layers timed are the model's own float32 layers for the exact kernels, and for the
reduced ones layers of the same shapes with weights already in their form (a kernel's
speed does not depend on the values; converting real weights would take longer than the
timing). For each kernel enough whole transformer layers are timed that their form is
three times the processor's last-level cache, so what is measured is streaming from
memory, as in a real step, and the time is scaled to all of the model's layers.

A reduced kernel is used only after its teacher-forced agreement with the float32 model
(:func:`agreement`), measured on the model actually loaded (the user's real weights): the
float32 model first generates a few seconds' worth of codes from two fixed prompts with its
own sampling settings and a fixed seed; both LMs are then teacher-forced on those codes,
and at every valid position (delay pattern as in training) the logits the sampler would see
— classifier-free-guidance-mixed — are compared. The share of positions where the most
likely next code is the same must reach the kernel's threshold (98 %; 97 % for 4-bit). The
largest and mean logit differences, the number of positions, and the share of positions
whose best code leads by more than twice the mean error ("decided": where the lead is
smaller, any error of that size may swap the best two) are kept with it.

Choices are cached in the user cache folder (``TIMBRE_CACHE_DIR`` overrides it) as JSON,
keyed by model size, batch and threads, and invalidated when the CPU model or the torch
version changes. ``timbre devices`` prints them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engines.music.kernels import (
    ATTENTIONS,
    EXACT,
    KERNELS,
    REDUCED,
    copy_bytes,
    cpu_flags,
    unavailable,
)

CACHE_FILE = "music-kernels.json"
CACHE_VERSION = 7  # 3: int8 heads, 8-bit dyn.; 4: gemv; 5: fp16-weight; 6: fp16 heads for int8;
# 7: onednn-packed
# a kernel that keeps its own copy of the weights is chosen only when it is faster than the
# fastest one that does not by more than this (gemv and onednn-packed came within ~20 % of
# each other with 2 rows on a 2-core EPYC, swapping places between runs)
COPY_GAIN = 1.1
# a batch kernel's copy of the weights is kept for the next batch only while it is at most
# this share of the computer's memory (musicgen-small's 1.6 GB on 6.4 GB and more; medium's
# 6 GB on 24 GB): a studio left open should not hold a large model's copy for hours
KEEP_SHARE = 0.25
BATCH = 2  # a step with classifier-free guidance: the prompt's row and the unconditioned one
KV_LENGTH = 256  # keys/values a step attends to: mid-way through a 10 s take
TEXT_TOKENS = 20  # a typical prompt's T5 tokens
SCREEN_FACTOR = 4.0  # a reduced kernel this much slower than float32 on one layer: dropped
CHECK_STEPS = 48  # steps of codes generated and teacher-forced in the agreement check
CHECK_PROMPTS = ("calm piano with soft strings", "energetic drums with electric guitar")


# ---- this machine ------------------------------------------------------------------------
def cpu_name() -> str:
    """The processor's model name (``/proc/cpuinfo``, else what the platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_features() -> dict[str, Any]:
    """What the processor offers for the reduced kernels (printed, never used to choose)."""
    import torch

    flags = cpu_flags()
    return {
        "capability": torch.backends.cpu.get_cpu_capability(),
        "bf16 instructions": "avx512_bf16" in flags or "amx_bf16" in flags,
        "amx": bool({"amx_bf16", "amx_int8", "amx_tile"} & flags),
        "vnni": bool({"avx512_vnni", "avx_vnni"} & flags),
        "onednn bf16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
    }


def machine_key() -> dict[str, Any]:
    """What invalidates the cache: the CPU model and the torch version."""
    import torch

    return {
        "cpu": cpu_name(),
        "capability": torch.backends.cpu.get_cpu_capability(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
    }


def last_level_cache_bytes() -> int:
    for index in (3, 2):
        try:
            text = Path(f"/sys/devices/system/cpu/cpu0/cache/index{index}/size").read_text()
        except OSError:
            continue
        text = text.strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:], 1)
        return int(text.rstrip("KM")) * scale
    return 32 << 20


# ---- cache -------------------------------------------------------------------------------
def cache_path() -> Path:
    from engines.paths import cache_dir

    return cache_dir() / CACHE_FILE


def load_cache() -> dict[str, Any]:
    """The cached choices for this machine; empty when there are none, they were made on
    another CPU or torch, or the file cannot be read (it is only a cache)."""
    empty: dict[str, Any] = {
        "version": CACHE_VERSION,
        "machine": machine_key(),
        "choices": {},
        "agreement": {},
    }
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return empty
    if (
        not isinstance(data, dict)
        or data.get("version") != CACHE_VERSION
        or data.get("machine") != empty["machine"]
    ):
        return empty
    data.setdefault("choices", {})
    data.setdefault("agreement", {})
    return data


def save_cache(data: dict[str, Any]) -> None:
    from engines.files import write_text

    try:
        write_text(cache_path(), json.dumps(data, indent=1, sort_keys=True))
    except Exception:  # noqa: BLE001 - a cache that cannot be written is measured again
        pass


# ---- choosing ----------------------------------------------------------------------------
@dataclass
class Choice:
    """The kernels for one model size, batch and thread count on this machine."""

    exact: str
    attention: str
    reduced: list[str]  # faster than ``exact``, fastest first
    step_ms: dict[str, float]  # a decoding step's linear layers, per kernel (median)
    attention_ms: dict[str, float]
    dropped: dict[str, str] = field(default_factory=dict)  # kernel → why not timed
    measured: bool = False  # timed just now (not read from the cache)

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("measured")
        return record


@dataclass(frozen=True)
class Agreement:
    kernel: str
    agreement: float  # share of teacher-forced positions with the same argmax as float32
    max_logit_error: float
    mean_logit_error: float
    positions: int = 0  # teacher-forced positions compared (0: an older record)
    decided: float = float("nan")  # share of them whose lead exceeds 2 × the mean error
    cfg_agreement: float = float("nan")  # the same on the CFG-mixed logits (stated, not gated)

    @property
    def accepted(self) -> bool:
        return self.agreement >= KERNELS[self.kernel].min_agreement


def model_shape(lm: Any) -> dict[str, int]:
    layer = lm.transformer.layers[0]
    return {
        "dim": int(lm.dim),
        "layers": len(lm.transformer.layers),
        "heads": int(layer.self_attn.num_heads),
        "codebooks": int(lm.num_codebooks),
        "card": int(lm.card),
    }


def choice_key(lm: Any, batch: int = BATCH, threads: int | None = None) -> str:
    import torch

    s = model_shape(lm)
    threads = threads or torch.get_num_threads()
    return (
        f"dim {s['dim']} × {s['layers']} layers, {s['heads']} heads, "
        f"{s['codebooks']}×{s['card']} codes; batch {batch}; {threads} threads"
    )


def choose(
    lm: Any,
    batch: int = BATCH,
    candidates: Sequence[str] | None = None,
    budget_s: float = 3.0,
    cache: bool = True,
    held: int = 0,
) -> Choice:
    """The kernels for ``lm``'s size on this machine: from the cache, or timed now (the LM
    must have gone through :func:`engines.music.fast.accelerate`). ``held``: bytes of a copy
    of the weights ``lm`` already holds (see :func:`engines.music.kernels.unavailable`)."""
    from engines.music.fast import linear_shapes

    key = choice_key(lm, batch)
    data = load_cache() if cache else None
    if data is not None and candidates is None and key in data["choices"]:
        try:
            choice = Choice(**data["choices"][key])
        except TypeError:
            pass  # an entry of another layout: measure again
        else:
            shapes = linear_shapes(lm, step=False)  # every layer the kernel converts
            if unavailable(choice.exact, shapes, held):  # a packed copy that does not fit today
                choice.exact = fastest_exact(
                    choice.step_ms, lambda k: not unavailable(k, shapes, held)
                )
            return choice

    shapes = linear_shapes(lm, step=False)
    names = list(candidates) if candidates is not None else [*EXACT, *REDUCED]
    dropped = {k: why for k in names if (why := unavailable(k, shapes, held))}
    names = [k for k in names if k not in dropped]
    timed, screened = time_linears(lm, names, batch, budget_s * 0.85)
    dropped.update(screened)
    s = model_shape(lm)
    attention = time_attention(
        batch, s["heads"], s["dim"] // s["heads"], s["layers"], budget_s * 0.15
    )
    exact_times = {k: t for k, t in timed.items() if KERNELS[k].exact}
    exact = min(exact_times, key=exact_times.get) if exact_times else "mkl"
    lean = fastest_exact(exact_times, lambda k: not KERNELS[k].copies_weights)
    if exact_times.get(lean, float("inf")) <= COPY_GAIN * exact_times.get(exact, 0.0):
        exact = lean  # a copy of the weights must earn its memory
    limit = exact_times.get(exact, float("inf"))
    reduced = sorted((k for k in timed if not KERNELS[k].exact and timed[k] < limit), key=timed.get)
    choice = Choice(
        exact=exact,
        attention=min(attention, key=attention.get),
        reduced=reduced,
        step_ms={k: round(t * 1e3, 3) for k, t in timed.items()},
        attention_ms={k: round(t * 1e3, 3) for k, t in attention.items()},
        dropped=dropped,
        measured=True,
    )
    if data is not None and candidates is None:
        data["choices"][key] = choice.to_record()
        save_cache(data)
    return choice


@dataclass
class _Kept:
    """A batch kernel's layers kept for the next batch: its copy of the weights is made once."""

    kernel: str
    state: list[tuple[Any, str, Any]]  # what engines.music.fast.set_kernel replaced


_kept: weakref.WeakKeyDictionary[Any, _Kept] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def kernel_for_rows(lm: Any, rows: int, current: str) -> Iterator[str]:
    """For one generation of ``rows`` rows, the fastest exact kernel at that many rows
    (chosen, timed and cached like the CFG-batch one); ``current`` again afterwards.

    The choice at 2 rows (one take) is not the choice at 8 (four variations): a weight-first
    ``gemv`` streams each weight row once for 2 rows at 1.4× a plain read on an EPYC, but
    for 8 it fell to 6.7× where oneDNN's GEMM held 3.2× (stop 24), and with gemv the batch
    of 4 gave only 1.8× the throughput of four single takes. Only exact kernels are
    switched (same logits up to float rounding); a reduced kernel stays as it is.

    A batch kernel with its own copy of the weights (``onednn-packed``) keeps its layers for
    the next batch while the memory the copy would need when made is still there (free
    memory at least the copy's size, checked after each batch and before each generation)
    and the copy is at most :data:`KEEP_SHARE` of the computer's memory: making the copy
    took 0.7 s of a 10 s batch of 4 (musicgen-small, 2-core EPYC), paid again by every
    batch. The copy goes when memory is short, or with the model.
    """
    import psutil

    from engines.music.fast import linear_shapes, restore, set_kernel

    shapes = linear_shapes(lm, step=False)  # every layer the kernel converts
    nbytes = copy_bytes(shapes)
    kept = _kept.get(lm)
    if kept and unavailable(kept.kernel, shapes, nbytes):
        del _kept[lm]  # memory is short now: the copy goes
        kept = None
    if rows == BATCH or not KERNELS[current].exact:
        yield current
        return
    kernel = choose(lm, batch=rows, held=nbytes if kept else 0).exact
    if kernel == current:
        yield current
        return
    if kept and kept.kernel == kernel:
        restore(kept.state)
    else:
        _kept.pop(lm, None)
        set_kernel(lm, kernel)
    try:
        yield kernel
    finally:
        state = set_kernel(lm, current)  # its undo list holds the batch kernel's layers
        if (
            KERNELS[kernel].copies_weights
            and nbytes <= KEEP_SHARE * psutil.virtual_memory().total
            and not unavailable(kernel, shapes, nbytes)
        ):
            _kept[lm] = _Kept(kernel, state)
        else:
            _kept.pop(lm, None)


def fastest_exact(times: dict[str, float], allowed: Callable[[str], bool]) -> str:
    """The fastest exact kernel in ``times`` that ``allowed`` lets through (else MKL)."""
    exact = [k for k in times if k in KERNELS and KERNELS[k].exact and allowed(k)]
    return min(exact, key=times.get, default="mkl")


def median_rounds(
    runs: dict[str, Callable[[], None]], budget_s: float, min_rounds: int = 3, max_rounds: int = 9
) -> dict[str, float]:
    """Median seconds of each run, the runs taking turns round after round (the starting one
    rotates), as many rounds as fit the budget, after one warm-up call each (also
    ``make bench-linears``'s timing)."""
    for run in runs.values():  # warm-up: first-call allocations, lazy packing
        run()
    first = {}
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        first[name] = time.perf_counter() - start
    rounds = int(budget_s / max(sum(first.values()), 1e-9))
    rounds = max(min_rounds, min(max_rounds, rounds))
    times = {name: [t] for name, t in first.items()}
    order = list(runs)
    for r in range(rounds - 1):
        turn = order[r % len(order) :] + order[: r % len(order)]
        for name in turn:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def time_linears(
    lm: Any, names: Sequence[str], batch: int = BATCH, budget_s: float = 2.5
) -> tuple[dict[str, float], dict[str, str]]:
    """Seconds per decoding step spent in the linear layers, per kernel, and the kernels
    dropped by the single-layer screen (with why)."""
    import torch

    from engines.music.fast import _linear_layers
    from engines.music.kernels import synthetic_linear

    layers = [
        (name, layer)
        for parent, name, layer in _linear_layers(lm)
        if name not in ("k_proj", "v_proj")
    ]
    total_weights = sum(layer.out_features * layer.in_features for _, layer in layers)
    per_layer = max(1, (len(layers) - len(lm.linears)) // len(lm.transformer.layers))

    def subset(kernel: str) -> list[Any]:
        """Enough whole transformer layers that ``kernel``'s form of them is 3× the
        last-level cache: streamed from memory as in a step, and no more weights packed
        than that needs (packing half of musicgen-small in every reduced form took ten of
        the chooser's fourteen seconds on a 2-core EPYC)."""
        need = 3 * last_level_cache_bytes() / KERNELS[kernel].bytes_per_weight
        count, weights = 0, 0
        while count < len(layers) and weights < need:
            layer = layers[count][1]
            weights += layer.out_features * layer.in_features
            count += 1
        count = min(len(layers), -(-count // per_layer) * per_layer)
        return [layer for _, layer in layers[:count]]

    def weights_of(part: list[Any]) -> int:
        return sum(layer.out_features * layer.in_features for layer in part)

    subsets = {k: subset(k) for k in names}
    inputs = {n: torch.randn(batch, 1, n) for n in {layer.in_features for _, layer in layers}}

    def stack(kernel: str, part: list[Any]) -> list[tuple[Any, Any]]:
        out = []
        for layer in part:
            if kernel in EXACT:  # the model's own float32 weights
                module = _float_layer(kernel, layer)
            else:
                module = synthetic_linear(kernel, layer.out_features, layer.in_features)
            out.append((module, inputs[layer.in_features]))
        return out

    def runner(stacked: list[tuple[Any, Any]]) -> Callable[[], None]:
        def run() -> None:
            for module, x in stacked:
                module(x)

        return run

    with torch.inference_mode():
        one_layer = [layer for _, layer in layers[:per_layer]]
        screen = median_rounds(
            {k: runner(stack(k, one_layer)) for k in names}, budget_s * 0.1, 3, 5
        )
        # a reduced kernel far slower than float32 even on one layer cannot win (one layer
        # may sit in the cache, so this only screens out compute-bound kernels)
        slowest_exact = max((t for k, t in screen.items() if KERNELS[k].exact), default=None)
        dropped = {
            k: f"{t / slowest_exact:.0f}× slower than float32 on one layer"
            for k, t in screen.items()
            if slowest_exact is not None
            and not KERNELS[k].exact
            and t > SCREEN_FACTOR * slowest_exact
        }
        runs = {k: runner(stack(k, subsets[k])) for k in names if k not in dropped}
        timed = median_rounds(runs, budget_s * 0.9)
    return {k: t * total_weights / weights_of(subsets[k]) for k, t in timed.items()}, dropped


def _float_layer(kernel: str, layer: Any) -> Any:
    """``layer``'s own float32 weights computed by ``kernel`` (no copy, except the blocked
    copy a packed kernel keeps)."""
    from engines.music.kernels import _linear_class, float_linear

    if kernel == "mkl":
        return float_linear(layer.weight)
    module = _linear_class()(kernel, layer.in_features, layer.out_features, False)
    module.pack(layer.weight, None)
    return module


def time_attention(
    batch: int, heads: int, head_dim: int, layers: int, budget_s: float = 0.4
) -> dict[str, float]:
    """Seconds per step attending to a mid-length self-attention cache and the text, per
    way of computing it (see :func:`engines.music.kernels.attend`)."""
    import torch

    from engines.music.kernels import attend

    q = torch.randn(batch, heads, 1, head_dim)
    caches = [
        (torch.randn(batch, heads, n, head_dim), torch.randn(batch, heads, n, head_dim))
        for _ in range(layers)
        for n in (KV_LENGTH, TEXT_TOKENS)
    ]

    def runner(impl: str) -> Callable[[], None]:
        def run() -> None:
            for k, v in caches:
                attend(q, k, v, impl)

        return run

    with torch.inference_mode():
        return median_rounds({impl: runner(impl) for impl in ATTENTIONS}, budget_s)


# ---- quality of the reduced kernels --------------------------------------------------------
@dataclass(frozen=True)
class CheckInputs:
    """What the agreement check feeds both LMs: CFG conditions (each prompt's row, then the
    unconditioned rows) and codes the float32 model itself generated from those prompts."""

    conditions: Any
    codes: Any  # [prompts, codebooks, steps]
    cfg_coef: float


def check_inputs(model: Any, steps: int = CHECK_STEPS) -> CheckInputs:
    """Conditions for :data:`CHECK_PROMPTS` and codes the model as it is now (float32)
    sampled from them with its own generation settings and a fixed seed.

    Teacher forcing on the model's own codes puts both LMs in the contexts a generation
    visits; on random codes a real checkpoint sees noise it was never trained on, and its
    next-code distributions there are flatter than in use, which makes agreement
    pessimistic for no reason related to the music."""
    import torch
    from audiocraft.modules.conditioners import ClassifierFreeGuidanceDropout

    lm = model.lm
    params = dict(getattr(model, "generation_params", {}) or {})
    cfg_coef = float(params.get("cfg_coef", 3.0))
    attributes, _ = model._prepare_tokens_and_attributes(list(CHECK_PROMPTS), None)
    cfg = attributes + ClassifierFreeGuidanceDropout(p=1.0)(attributes)
    with torch.inference_mode():
        conditions = lm.condition_provider(lm.condition_provider.tokenize(cfg))
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    try:
        with torch.inference_mode():
            codes = lm.generate(
                None,
                attributes,
                max_gen_len=steps,
                use_sampling=bool(params.get("use_sampling", True)),
                temp=float(params.get("temp", 1.0)),
                top_k=min(int(params.get("top_k", 250)), int(lm.card)),
                top_p=float(params.get("top_p", 0.0)),
                cfg_coef=cfg_coef,
            )
    finally:
        torch.random.set_rng_state(state)
    return CheckInputs(conditions, codes, cfg_coef)


def teacher_forced(lm: Any, inputs: CheckInputs) -> Any:
    """Each row's next-code logits at every valid position of ``inputs.codes`` given the true
    past (the delay pattern applied as in training): [2 (prompt rows, unconditioned rows),
    positions, card]."""
    import torch

    codes = torch.cat([inputs.codes, inputs.codes])
    with torch.inference_mode():
        out = lm.compute_predictions(codes, [], inputs.conditions)
    mask = out.mask.chunk(2)[0]
    return torch.stack([half[mask] for half in out.logits.float().chunk(2)])


def teacher_forced_raw(lm: Any, codes: Any, conditions: Any) -> Any:
    """``lm``'s logits for ``codes`` taken as its input sequence as they are (no pattern):
    [rows, codebooks, steps, card]; for comparing two LMs' arithmetic."""
    import torch

    with torch.inference_mode():
        return lm(codes, [], conditions).float()


def compare(kernel: str, reference: Any, logits: Any, cfg_coef: float = 3.0) -> Agreement:
    """Agreement of ``logits`` with ``reference`` (both from :func:`teacher_forced`): over
    every row's logits (the gate), and over the CFG-mixed logits the sampler sees (stated;
    guidance multiplies logit errors by up to ``2 × cfg_coef - 1``)."""
    diff = (logits - reference).abs()

    def mixed(x: Any) -> Any:
        return x[1] + (x[0] - x[1]) * cfg_coef

    return Agreement(
        kernel=kernel,
        agreement=float((logits.argmax(-1) == reference.argmax(-1)).float().mean()),
        max_logit_error=float(diff.max()),
        mean_logit_error=float(diff.mean()),
        positions=int(reference.shape[0] * reference.shape[1]),
        decided=decided_share(reference.flatten(0, 1), float(diff.mean())),
        cfg_agreement=float(
            (mixed(logits).argmax(-1) == mixed(reference).argmax(-1)).float().mean()
        ),
    )


def decided_share(reference: Any, error: float) -> float:
    """Share of positions whose best code leads the runner-up by more than ``2 × error``:
    where the lead is smaller, an error of that size can swap them, so a low agreement on a
    model whose logits are nearly tied (random weights) says little about real ones."""
    top2 = reference.topk(2, dim=-1).values
    return float(((top2[:, 0] - top2[:, 1]) > 2 * error).float().mean())


def agreement(
    model: Any, kernel: str, reference: Any = None, inputs: CheckInputs | None = None
) -> Agreement:
    """Teacher-forced agreement of ``model``'s LM computed by ``kernel`` with the LM as it is
    now (float32) — the loaded model, so real weights when the user has them; the LM is
    left as it was."""
    from engines.music.fast import restore, set_kernel

    inputs = inputs if inputs is not None else check_inputs(model)
    if reference is None:
        reference = teacher_forced(model.lm, inputs)
    replaced = set_kernel(model.lm, kernel)
    try:
        logits = teacher_forced(model.lm, inputs)
    finally:
        restore(replaced)
    return compare(kernel, reference, logits, inputs.cfg_coef)


def pick_reduced(
    model: Any, choice: Choice, model_id: str, check: Callable[..., Agreement] = agreement
) -> tuple[str | None, list[Agreement]]:
    """The fastest reduced kernel of ``choice`` that keeps the music (agreement at or above
    its threshold), checked once per model and kernel and cached; and every result seen."""
    data = load_cache()
    seen: list[Agreement] = []
    inputs = reference = None
    for kernel in choice.reduced:
        key = f"{model_id} | {kernel}"
        record = data["agreement"].get(key)
        result = Agreement(**record) if isinstance(record, dict) else None
        if result is None:
            if inputs is None:
                inputs = check_inputs(model)
                reference = teacher_forced(model.lm, inputs)
            result = check(model, kernel, reference=reference, inputs=inputs)
            data["agreement"][key] = asdict(result)
            save_cache(data)
        seen.append(result)
        if result.accepted:
            return kernel, seen
    return None, seen


def describe() -> list[str]:
    """Lines for ``timbre devices``: the CPU, what it offers, and the cached choices."""
    import torch

    features = cpu_features()
    yes = {True: "yes", False: "no"}
    lines = [
        f"CPU: {cpu_name()} ({os.cpu_count()} cores), torch {torch.__version__}, "
        f"{features['capability']}; bf16 instructions {yes[features['bf16 instructions']]}, "
        f"AMX {yes[features['amx']]}, VNNI {yes[features['vnni']]}"
    ]
    data = load_cache()
    if not data["choices"]:
        lines.append("music kernels: not measured yet (timed on the first MusicGen/AudioGen use)")
    for key, record in sorted(data["choices"].items()):
        step = record.get("step_ms", {})
        timings = ", ".join(f"{k} {v:.1f}" for k, v in sorted(step.items(), key=lambda kv: kv[1]))
        reduced = record.get("reduced") or []
        lines.append(f"music kernels for {key}:")
        lines.append(f"  --speed fast: {record['exact']} linears, {record['attention']} attention")
        lines.append(
            "  --speed reduced: "
            + (", then ".join(reduced) if reduced else "none faster than float32 here")
            + " (first one that keeps ≥ 98 % agreement, 97 % for 4-bit)"
        )
        lines.append(f"  ms per step (linear layers): {timings}")
    for key, record in sorted(data["agreement"].items()):
        verdict = "kept" if Agreement(**record).accepted else "refused"
        lines.append(
            f"agreement {key}: {record['agreement']:.1%} of "
            f"{record.get('positions') or '?'} argmaxes, max |Δlogit| "
            f"{record['max_logit_error']:.3g}, mean {record['mean_logit_error']:.3g} — {verdict}"
        )
    return lines
