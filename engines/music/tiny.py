"""Random-weight MusicGen and AudioGen, written exactly as the released checkpoints are.

No MusicGen or AudioGen weights can be had offline, so tests, ``--model debug`` and the
benchmark use models built here through audiocraft's own builders and saved in the same
on-disk form as ``facebook/musicgen-*`` and ``facebook/audiogen-medium``:

- ``state_dict.bin``: ``{'xp.cfg': <YAML>, 'best_state': <LM weights>}`` (audiocraft's
  ``export_lm`` format), loaded by ``audiocraft.models.loaders.load_lm_model``;
- ``compression_state_dict.bin``: for MusicGen a reference to an EnCodec in transformers'
  format (``{'pretrained': ...}``, like the release's ``facebook/encodec_32khz``), for
  AudioGen a full audiocraft EnCodec (``export_encodec`` format);
- the text encoder as ``t5-base`` in transformers' format (random weights, a sentencepiece
  vocabulary trained here), because audiocraft only accepts T5 names from its list.

They live in their own hub cache (``debug_hub()``), never in the user's model store, so a
tiny ``t5-base`` can never shadow the real one. Their audio is noise: they test plumbing.

For the melody checkpoints there is also a tiny musicgen-melody (``self_wav`` chroma-stem
conditioner prepended with the text, as in audiocraft's ``chroma2music`` config) and a tiny
random HTDemucs built with demucs' own class and saved in demucs' format
(``serialize_model``) as the ``955717e8-8726e21a.th`` that ``htdemucs`` resolves to — see
:func:`build_tiny_melody` (and :func:`engines.htdemucs.save_tiny_htdemucs` for its demucs).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from engines.paths import models_dir

MUSICGEN_DEBUG = "timbre/musicgen-debug"
AUDIOGEN_DEBUG = "timbre/audiogen-debug"
DEBUG_ENCODEC = "timbre/encodec-32khz-debug"
TEXT_ENCODER = "t5-base"  # audiocraft's T5Conditioner accepts only its listed names
T5_DIM = 768  # t5-base's width, which audiocraft assumes for that name
BUILD_VERSION = "2"  # bump when the tiny models change, so old builds are replaced

_PROMPTS = [
    "calm piano with soft strings",
    "upbeat electronic dance beat with heavy bass",
    "lofi hip hop with vinyl crackle",
    "a jazz trio playing a slow ballad",
    "dog barking in the rain",
    "footsteps on gravel",
    "thunder and heavy rain on a tin roof",
    "birds chirping in a morning forest",
]


def debug_hub() -> Path:
    """The hub-layout cache holding the tiny models and their tiny dependencies."""
    return models_dir() / "debug-hub"


def lm_config(
    *,
    dim: int,
    num_heads: int,
    num_layers: int,
    n_q: int,
    card: int,
    segment_duration: float,
    text_encoder: str = TEXT_ENCODER,
) -> dict[str, Any]:
    """An audiocraft ``xp.cfg`` for a MusicGen/AudioGen-style LM (delay pattern, T5 text
    conditioning by cross-attention), with the released models' transformer settings."""
    return {
        "lm_model": "transformer_lm",
        "device": "cpu",
        "dtype": "float32",
        "dataset": {"segment_duration": segment_duration},
        "transformer_lm": {
            "dim": dim,
            "num_heads": num_heads,
            "num_layers": num_layers,
            "hidden_scale": 4,
            "n_q": n_q,
            "card": card,
            "dropout": 0.0,
            "emb_lr": None,
            "activation": "gelu",
            "norm_first": True,
            "bias_ff": False,
            "bias_attn": False,
            "bias_proj": False,
            "past_context": None,
            "causal": True,
            "custom": False,
            "memory_efficient": True,
            "attention_as_float32": False,
            "layer_scale": None,
            "positional_embedding": "sin",
            "xpos": False,
            "checkpointing": "none",
            "weight_init": "gaussian",
            "depthwise_init": "current",
            "zero_bias_init": True,
            "norm": "layer_norm",
            "cross_attention": False,
            "qk_layer_norm": False,
            "qk_layer_norm_cross": False,
            "attention_dropout": None,
            "kv_repeat": 1,
            "two_step_cfg": False,
        },
        "codebooks_pattern": {
            "modeling": "delay",
            "delay": {"delays": list(range(n_q)), "flatten_first": 0, "empty_initial": 0},
        },
        "attribute_dropout": {},
        "classifier_free_guidance": {"training_dropout": 0.2, "inference_coef": 3.0},
        "fuser": {
            "cross_attention_pos_emb": False,
            "cross_attention_pos_emb_scale": 1,
            "sum": [],
            "prepend": [],
            "cross": ["description"],
            "input_interpolate": [],
        },
        "conditioners": {
            "description": {
                "model": "t5",
                "t5": {
                    "name": text_encoder,
                    "finetune": False,
                    "word_dropout": 0.0,
                    "normalize_text": False,
                },
            }
        },
    }


def melody_lm_config(**kwargs: Any) -> dict[str, Any]:
    """:func:`lm_config` with musicgen-melody's conditioning (audiocraft's ``chroma2music``):
    the melody's chroma (demucs stems → 12 bins, argmax) and the T5 text both prepended."""
    cfg = lm_config(**kwargs)
    description = cfg["conditioners"]["description"]
    cfg["conditioners"] = {
        "args": {"merge_text_conditions_p": 0.25, "drop_desc_p": 0.5},  # training-only
        "self_wav": {
            "model": "chroma_stem",
            "chroma_stem": {
                "sample_rate": 32_000,
                "n_chroma": 12,
                "radix2_exp": 14,
                "argmax": True,
                "match_len_on_eval": False,
                "eval_wavs": None,
                "n_eval_wavs": 100,
                "cache_path": None,
            },
        },
        "description": description,
    }
    cfg["fuser"].update(prepend=["self_wav", "description"], cross=[])
    cfg["attribute_dropout"] = {
        "args": {"active_on_eval": False},
        "text": {},
        "wav": {"self_wav": 0.5},
    }
    return cfg


def _encodec_config(sample_rate: int, ratios: list[int], n_q: int, bins: int) -> dict[str, Any]:
    """An audiocraft EnCodec ``xp.cfg`` (SEANet + residual VQ), tiny widths."""
    return {
        "device": "cpu",
        "compression_model": "encodec",
        "encodec": {
            "autoencoder": "seanet",
            "quantizer": "rvq",
            "sample_rate": sample_rate,
            "channels": 1,
            "causal": False,
            "renormalize": False,
        },
        "seanet": {
            "dimension": 16,
            "channels": 1,
            "causal": False,
            "n_filters": 4,
            "n_residual_layers": 1,
            "ratios": ratios,
            "activation": "ELU",
            "activation_params": {"alpha": 1.0},
            "norm": "weight_norm",
            "norm_params": {},
            "kernel_size": 7,
            "residual_kernel_size": 3,
            "last_kernel_size": 7,
            "dilation_base": 2,
            "pad_mode": "constant",
            "true_skip": True,
            "compress": 2,
            "lstm": 1,
            "disable_norm_outer_blocks": 0,
            "encoder": {},
            "decoder": {"trim_right_ratio": 1.0, "final_activation": None},
        },
        "rvq": {
            "n_q": n_q,
            "q_dropout": False,
            "bins": bins,
            "decay": 0.99,
            "kmeans_init": True,
            "kmeans_iters": 10,
            "threshold_ema_dead_code": 2,
            "orthogonal_reg_weight": 0.0,
            "orthogonal_reg_active_codes_only": False,
        },
    }


def write_snapshot(cache: Path, repo_id: str, src: Path) -> Path:
    """Move a built folder into ``cache`` as ``repo_id`` in hub layout (refs/main → snapshot)."""
    digest = hashlib.sha1()
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    revision = digest.hexdigest()
    folder = cache / ("models--" + repo_id.replace("/", "--"))
    shutil.rmtree(folder, ignore_errors=True)
    snap = folder / "snapshots" / revision
    snap.parent.mkdir(parents=True)
    shutil.move(str(src), snap)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    return snap


def _text_encoder(out: Path, workdir: Path) -> None:
    """A one-layer random T5 encoder of t5-base's width and a 100-piece vocabulary."""
    import sentencepiece as spm
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join(_PROMPTS * 20))
    prefix = workdir / "spiece"
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        vocab_size=100,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=f"{prefix}.model")
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    T5Tokenizer(vocab=vocab, extra_ids=0).save_pretrained(out)
    shutil.copy(f"{prefix}.model", out / "spiece.model")
    config = T5Config(
        vocab_size=len(vocab),
        d_model=T5_DIM,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        relative_attention_num_buckets=8,
        feed_forward_proj="relu",
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    T5EncoderModel(config).save_pretrained(out)


def _hf_encodec(out: Path, card: int) -> None:
    """transformers' EnCodec at 32 kHz and 50 Hz like ``facebook/encodec_32khz``, tiny widths."""
    from transformers import EncodecConfig, EncodecModel

    config = EncodecConfig(
        sampling_rate=32_000,
        audio_channels=1,
        target_bandwidths=[4 * 50 * (card.bit_length() - 1) / 1000],  # 4 codebooks at 50 Hz
        hidden_size=16,
        num_filters=4,
        upsampling_ratios=[8, 5, 4, 4],
        num_lstm_layers=1,
        codebook_size=card,
        use_causal_conv=False,
        normalize=False,
    )
    model = EncodecModel(config)
    for layer in model.quantizer.layers:  # codebooks start as zeros: give each code a vector
        layer.codebook.embed.normal_()
        layer.codebook.embed_avg.copy_(layer.codebook.embed)
        layer.codebook.cluster_size.fill_(1.0)
    model.save_pretrained(out)


def _save_lm(out: Path, cfg: dict[str, Any]) -> None:
    import torch
    from audiocraft.models import builders
    from omegaconf import OmegaConf

    lm = builders.get_lm_model(OmegaConf.create(cfg))
    state = {k: v for k, v in lm.state_dict().items()}
    torch.save(
        {"xp.cfg": OmegaConf.to_yaml(cfg), "best_state": state, "exported": True},
        out / "state_dict.bin",
    )


def _save_audiocraft_encodec(path: Path, cfg: dict[str, Any]) -> None:
    import torch
    from audiocraft.models import builders
    from omegaconf import OmegaConf

    model = builders.get_compression_model(OmegaConf.create(cfg))
    model.quantizer(torch.randn(8, cfg["seanet"]["dimension"], 64), 1)  # k-means init of codebooks
    model.eval()
    torch.save(
        {"xp.cfg": OmegaConf.to_yaml(cfg), "best_state": model.state_dict(), "exported": True}, path
    )


def build_tiny_melody(
    cache: Path,
    demucs_hub: Path,
    repo_id: str = "facebook/musicgen-melody",
    codec_id: str = "facebook/encodec_32khz",
    segment_duration: float = 30.0,
    stereo: bool = False,
) -> Path:
    """A tiny random musicgen-melody as ``repo_id`` in the hub cache ``cache``, with its
    ``t5-base`` and EnCodec (``codec_id``), exactly in the released checkpoint's layout.

    audiocraft builds demucs' htdemucs while it builds the melody conditioner, so a tiny
    HTDemucs is written first into the torch hub folder ``demucs_hub`` (unless one is
    there) and the LM is built reading it — the same safe route a real load takes. Meant for
    a test or throwaway store: it installs a tiny ``t5-base`` there.

    ``stereo`` makes it like musicgen-stereo-melody: the mono EnCodec applied per channel,
    the two channels' codebooks interleaved (8 streams, delays 0,0,1,1,2,2,3,3).
    """
    from engines.htdemucs import HTDEMUCS_FILE, save_tiny_htdemucs
    from engines.music.loading import hub_cache
    from engines.music.melody import demucs_loading
    from engines.safe_load import prepare_imports

    prepare_imports()
    import torch

    weights = demucs_hub / "checkpoints" / HTDEMUCS_FILE
    if not weights.is_file():
        save_tiny_htdemucs(weights)
    card = 64
    cache.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=cache) as tmp,
        torch.random.fork_rng(),
        hub_cache(cache),
        demucs_loading(demucs_hub),
    ):
        torch.manual_seed(4321)
        work = Path(tmp)
        for name, build in (
            (TEXT_ENCODER, lambda out: _text_encoder(out, work)),
            (codec_id, lambda out: _hf_encodec(out, card)),
        ):
            if (cache / ("models--" + name.replace("/", "--")) / "refs" / "main").is_file():
                continue  # already built into this cache (a second tiny melody model)
            out = work / name.replace("/", "--")
            out.mkdir()
            build(out)
            write_snapshot(cache, name, out)
        music = work / "melody"
        music.mkdir()
        cfg = melody_lm_config(
            dim=32,
            num_heads=2,
            num_layers=2,
            n_q=8 if stereo else 4,
            card=card,
            segment_duration=segment_duration,
        )
        if stereo:
            cfg["codebooks_pattern"]["delay"]["delays"] = [0, 0, 1, 1, 2, 2, 3, 3]
            cfg["interleave_stereo_codebooks"] = {"use": True, "per_timestep": False}
        _save_lm(music, cfg)
        torch.save({"pretrained": codec_id, "exported": True}, music / "compression_state_dict.bin")
        return write_snapshot(cache, repo_id, music)


def build_debug_models(cache: Path | None = None, segment_duration: float = 30.0) -> Path:
    """Build the tiny MusicGen and AudioGen (and their T5 and EnCodec) into ``cache``.

    Idempotent: a finished build is marked and reused. Takes a few seconds.
    """
    from engines.music.loading import hub_cache
    from engines.safe_load import prepare_imports

    prepare_imports()
    import torch

    cache = cache or debug_hub()
    marker = cache / f".built-{BUILD_VERSION}-{segment_duration:g}"
    if marker.exists():
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    card = 64
    tiny = dict(dim=32, num_heads=2, num_layers=2, n_q=4, card=card)
    with (
        tempfile.TemporaryDirectory(dir=cache) as tmp,
        torch.random.fork_rng(),
        hub_cache(cache),  # the LM builder loads the T5 written first
    ):
        torch.manual_seed(1234)
        work = Path(tmp)

        def folder(repo_id: str) -> Path:
            path = work / repo_id.replace("/", "--")
            path.mkdir()
            return path

        t5 = folder(TEXT_ENCODER)
        _text_encoder(t5, work)
        write_snapshot(cache, TEXT_ENCODER, t5)
        codec = folder(DEBUG_ENCODEC)
        _hf_encodec(codec, card)
        write_snapshot(cache, DEBUG_ENCODEC, codec)

        music = folder(MUSICGEN_DEBUG)
        _save_lm(music, lm_config(**tiny, segment_duration=segment_duration))
        torch.save(
            {"pretrained": DEBUG_ENCODEC, "exported": True}, music / "compression_state_dict.bin"
        )
        write_snapshot(cache, MUSICGEN_DEBUG, music)

        sfx = folder(AUDIOGEN_DEBUG)
        _save_lm(sfx, lm_config(**tiny, segment_duration=segment_duration / 3))
        _save_audiocraft_encodec(
            sfx / "compression_state_dict.bin",
            _encodec_config(16_000, [8, 5, 4, 2], n_q=4, bins=card),
        )
        write_snapshot(cache, AUDIOGEN_DEBUG, sfx)
    marker.write_text("ok")
    return cache
