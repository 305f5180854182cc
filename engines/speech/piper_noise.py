"""Reproducible Piper noise without a new onnxruntime session per take.

A Piper (VITS) voice draws its noise inside the ONNX graph with ``RandomNormalLike``
nodes, from a generator onnxruntime seeds once, when the session is created, and that
then runs on from call to call. Re-creating the session with the take's seed made takes
reproducible but cost ~0.35 s per request. Here the graph is rewritten once, at load: each
``RandomNormalLike(X)`` becomes a slice of a fixed table of standard-normal numbers, at an
offset given as a graph input, reshaped like ``X``. The engine draws the offsets from the
take's seed, so the same seed gives the same audio (bit for bit) from one session.

The table is drawn once (a fixed seed) and is large enough for a chunk of a minute and a
half; each random node gets its own disjoint part of the window an offset opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TABLE_SIZE = 1 << 22  # 4 M float32 (16 MB) standard normals
WINDOW = 1 << 21  # numbers one chunk may use, across all its random nodes
_DURATION_SLOT = 1 << 14  # the duration predictor's noise (2 × phonemes) comes first
TABLE_INPUT = "timbre_noise_table"
OFFSET_INPUT = "timbre_noise_offset"
_TABLE_SEED = 20_240_601


def rewrite(model_bytes: bytes) -> bytes | None:
    """The model with its random nodes fed from the table, or None if it has none.

    Needs the ``onnx`` package (None without it, and the caller falls back to seeding a
    fresh session per take).
    """
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        return None
    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    random_nodes = [n for n in graph.node if n.op_type == "RandomNormalLike"]
    if not random_nodes or any(
        a.name in ("mean", "scale") for n in random_nodes for a in n.attribute
    ):
        return None  # nothing to do, or a node this rewrite does not reproduce exactly
    graph.input.append(helper.make_tensor_value_info(TABLE_INPUT, TensorProto.FLOAT, [TABLE_SIZE]))
    graph.input.append(helper.make_tensor_value_info(OFFSET_INPUT, TensorProto.INT64, [1]))
    nodes = list(graph.node)
    del graph.node[:]
    # Duration noise first (small), then the rest, each from its own part of the window.
    random_nodes.sort(key=lambda n: 0 if n.name.startswith("/dp/") else 1)
    starts = {id(n): (0 if i == 0 else _DURATION_SLOT * i) for i, n in enumerate(random_nodes)}
    for node in nodes:
        if node.op_type != "RandomNormalLike":
            graph.node.append(node)
            continue
        p = f"timbre_noise{len(graph.node)}"
        x, y = node.input[0], node.output[0]
        graph.node.extend([
            helper.make_node("Shape", [x], [f"{p}_shape"]),
            helper.make_node("ReduceProd", [f"{p}_shape"], [f"{p}_size"], keepdims=1),
            helper.make_node("Constant", [], [f"{p}_slot"], value=helper.make_tensor(
                f"{p}_slot_v", TensorProto.INT64, [1], [starts[id(node)]])),
            helper.make_node("Add", [OFFSET_INPUT, f"{p}_slot"], [f"{p}_start"]),
            helper.make_node("Add", [f"{p}_start", f"{p}_size"], [f"{p}_end"]),
            helper.make_node("Slice", [TABLE_INPUT, f"{p}_start", f"{p}_end"], [f"{p}_flat"]),
            helper.make_node("Reshape", [f"{p}_flat", f"{p}_shape"], [y]),
        ])
    return model.SerializeToString()


_TABLE: np.ndarray | None = None


def table() -> np.ndarray:
    """The fixed table of standard normals (drawn once per process, ~40 ms)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = np.random.default_rng(_TABLE_SEED).standard_normal(TABLE_SIZE, dtype=np.float32)
    return _TABLE


@dataclass
class SeededSession:
    """Stands in for a Piper voice's ``session``: adds the noise inputs to every run.

    ``rng`` is set from the take's seed before its first chunk; each run (one sentence)
    takes the next offset from it.
    """

    session: object
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def run(self, output_names, feeds, *args, **kwargs):
        offset = int(self.rng.integers(0, TABLE_SIZE - WINDOW))
        feeds = {**feeds, TABLE_INPUT: table(), OFFSET_INPUT: np.array([offset], np.int64)}
        return self.session.run(output_names, feeds, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.session, name)
