"""A trained checkpoint as a Piper voice: ``NAME.onnx`` and ``NAME.onnx.json``.

The export is piper's own ``piper.train.export_onnx`` (same ``infer`` forward, decoder
weight norm removed, opset 15, the same input/output names and dynamic axes), with two
differences it needs here: the checkpoint is read weights-only (piper's ``load_from_checkpoint``
unpickles), and the exporter is TorchScript-based (``dynamo=False``) — torch ≥ 2.9 defaults
to the dynamo exporter, which cannot trace VITS' data-dependent lengths. The config is the
one piper's data module wrote for this training run, so phonemes map exactly as trained.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

from engines.errors import BadInput
from engines.files import atomic_write

OPSET_VERSION = 15  # piper.train.export_onnx.OPSET_VERSION


def export_voice(checkpoint: Path, config: Path, out_dir: Path, name: str) -> Path:
    """Write ``out_dir/name.onnx`` and its ``.onnx.json``; returns the ``.onnx`` path."""
    import torch

    from engines.banking.training.bases import model_from_checkpoint

    if not config.is_file():
        raise BadInput(f"{config} is missing; train again so piper writes the voice config.")
    torch.manual_seed(1234)
    model = model_from_checkpoint(checkpoint)
    model_g = model.model_g
    model_g.eval()
    with torch.no_grad():
        model_g.dec.remove_weight_norm()

    def infer_forward(text, text_lengths, scales, sid=None):
        audio = model_g.infer(
            text,
            text_lengths,
            noise_scale=scales[0],
            length_scale=scales[1],
            noise_scale_w=scales[2],
            sid=sid,
        )[0].unsqueeze(1)
        return audio

    model_g.forward = infer_forward  # type: ignore[method-assign,assignment]
    sequences = torch.randint(low=0, high=model_g.n_vocab, size=(1, 50), dtype=torch.long)
    lengths = torch.LongTensor([sequences.size(1)])
    sid = torch.LongTensor([0]) if model_g.n_speakers > 1 else None
    scales = torch.FloatTensor([0.667, 1.0, 0.8])
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    with atomic_write(onnx_path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model=model_g,
            args=(sequences, lengths, scales, sid),
            f=str(tmp),
            verbose=False,
            opset_version=OPSET_VERSION,
            input_names=["input", "input_lengths", "scales", "sid"],
            output_names=["output"],
            dynamic_axes={
                "input": {0: "batch_size", 1: "phonemes"},
                "input_lengths": {0: "batch_size"},
                "output": {0: "batch_size", 2: "time"},
            },
            dynamo=False,
        )
    data = json.loads(config.read_text(encoding="utf-8"))
    data.setdefault("dataset", name)
    with atomic_write(Path(f"{onnx_path}.json")) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return onnx_path


def copy_voice(onnx: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / onnx.name
    shutil.copyfile(onnx, target)
    shutil.copyfile(f"{onnx}.json", f"{target}.json")
    return target
