"""A random-weight Chatterbox, written exactly as ``ResembleAI/chatterbox`` is on disk.

Chatterbox's weights cannot be had offline, and a full-size random model takes minutes a
sentence on two cores and never stops (random weights never sample the stop token), so
tests and ``--model debug`` use a tiny one built here from the package's own classes and
saved in the release's layout, which ``ChatterboxTTS.from_local`` reads:

- ``ve.safetensors``: the VoiceEncoder at its released size (it is small: 1.4 M weights);
- ``t3_cfg.safetensors``: T3 on a 2-layer, 64-wide Llama (registered in the package's own
  ``LLAMA_CONFIGS`` under :data:`TINY_LLAMA`), without the 1024-wide perceiver resampler;
- ``s3gen.safetensors``: S3Gen with the released interfaces (80 mel bins, 24 kHz, 192-wide
  x-vector, 512-wide token encoder whose upsampler is fixed at 512) but one block where the
  release has six and narrow decoders: :class:`TinyS3Gen`;
- ``tokenizer.json``: a character-level WordLevel vocabulary with Chatterbox's special
  tokens at the ids T3 expects (``[STOP]`` 0, ``[START]`` 255);
- ``conds.pt``: a built-in voice (the conditionals of a synthetic reference), saved with
  ``Conditionals.save`` and read back with ``torch.load(weights_only=True)``.

Only the sizes differ from the release, and ``from_local`` builds full-size networks, so
the folder also holds :data:`CONFIG_FILE` naming the tiny sizes; :func:`tiny_classes`
makes ``from_local`` build those while it loads. Built once per :data:`BUILD_VERSION` into
the model store's cache (``TIMBRE_MODELS_DIR``) and reused; its audio is noise.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from engines.paths import models_dir

DEBUG_NAME = "debug"
DEBUG_REPO = "timbre/chatterbox-debug"
BUILD_VERSION = "1"  # bump when the tiny model changes, so old builds are replaced
CONFIG_FILE = "timbre-tiny.json"
TINY_LLAMA = "timbre_tiny_llama"
MAX_NEW_TOKENS = 40  # its speech-token cap per chunk: 1.6 s of audio (25 tokens a second)
SEED = 1234
_lock = threading.Lock()  # tiny_classes swaps module attributes: one load at a time

TINY: dict[str, Any] = {
    "llama": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "num_key_value_heads": 4, "head_dim": 16},
    "encoder": {"linear_units": 64, "num_blocks": 1, "attention_heads": 2},
    "decoder": {"channels": [64], "n_blocks": 1, "num_mid_blocks": 1, "num_heads": 2,
                "attention_head_dim": 16},
    "tokenizer": {"n_audio_state": 128, "n_audio_head": 2, "n_audio_layer": 1},  # 64 per head: fixed rotary table,
    "campplus": {"init_channels": 32, "growth_rate": 8},
    "hift": {"base_channels": 32, "f0_cond_channels": 32},
    "max_new_tokens": MAX_NEW_TOKENS,
}
# Multilingual T3 runs the package's AlignmentStreamAnalyzer, which spies on attention
# heads (12, 15), (13, 11) and (9, 2): its backbone needs 14 layers of 16 heads (4 wide).
MTL_BUILD_VERSION = "1"
TINY_MTL: dict[str, Any] = {
    **TINY,
    "llama_name": "timbre_tiny_llama_mtl",
    "llama": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 14,
              "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 4},
    "max_new_tokens": 16,  # 0.64 s a chunk: its 14 eager-attention layers cost more a token
}
# Turbo's T3 is a GPT-2 (the package's "GPT2_medium", 1024 wide, 24 layers) with GPT-2's
# 50,276-token text vocabulary; its S3Gen decodes with meanflow in 2 steps.
TURBO_BUILD_VERSION = "1"
TINY_TURBO: dict[str, Any] = {
    **TINY,
    "base": "GPT2_medium",
    "llama_name": "timbre_tiny_gpt2",
    "llama": {"n_embd": 64, "hidden_size": 64, "n_head": 2, "n_layer": 2, "n_ctx": 1024,
              "n_positions": 1024},
    "max_new_tokens": 16,
}


def debug_folder(variant: str = "english") -> Path:
    """Where a tiny checkpoint lives in the model store's cache (never as the real repo)."""
    name, version, _build = VARIANTS[variant]
    return models_dir() / name / f"v{version}"


def read_config(folder: Path) -> dict[str, Any] | None:
    """The tiny sizes a debug checkpoint declares, or None for a released checkpoint."""
    path = folder / CONFIG_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _register_llama(config: dict[str, Any]) -> str:
    """Add the tiny Llama to the package's table of backbones (T3 looks its name up there)."""
    from chatterbox.models.t3.llama_configs import LLAMA_520M_CONFIG_DICT, LLAMA_CONFIGS

    name = config.get("llama_name", TINY_LLAMA)
    base = LLAMA_CONFIGS[config["base"]] if "base" in config else LLAMA_520M_CONFIG_DICT
    LLAMA_CONFIGS[name] = {**base, **config["llama"]}
    return name


def tiny_t3_config(config: dict[str, Any], hp: Any = None) -> Any:
    """T3's hyper-parameters (``hp``, by default English's) on the tiny backbone: the text
    vocabulary and every other setting stay the released model's."""
    from chatterbox.models.t3.modules.t3_config import T3Config

    hp = hp if hp is not None else T3Config.english_only()
    hp.llama_config_name = _register_llama(config)
    hp.use_perceiver_resampler = False  # the package's perceiver is fixed at 1024 wide
    return hp


def _tiny_s3gen_class(config: dict[str, Any]) -> type:
    """S3Gen's class with :data:`TINY` sizes (``S3Token2Mel``/``S3Token2Wav.__init__`` with
    smaller numbers: the package builds them with fixed sizes, so this mirrors them)."""
    import torch
    from chatterbox.models.s3gen import s3gen as pkg
    from s3tokenizer.model_v2 import ModelConfig, S3TokenizerV2

    class TinyS3Tokenizer(pkg.S3Tokenizer):
        def __init__(self) -> None:
            S3TokenizerV2.__init__(
                self, "speech_tokenizer_v2_25hz", ModelConfig(**config["tokenizer"])
            )
            self.n_fft = 400
            import librosa

            mel = librosa.filters.mel(sr=pkg.S3_SR, n_fft=self.n_fft, n_mels=self.config.n_mels)
            self.register_buffer("_mel_filters", torch.FloatTensor(mel))
            self.register_buffer("window", torch.hann_window(self.n_fft))

    class TinyS3Gen(pkg.S3Token2Wav):
        def __init__(self, meanflow: bool = False) -> None:  # Turbo's S3Gen is meanflow
            torch.nn.Module.__init__(self)
            self.tokenizer = TinyS3Tokenizer()
            self.mel_extractor = pkg.mel_spectrogram
            self.speaker_encoder = pkg.CAMPPlus(memory_efficient=False, **config["campplus"])
            self.meanflow = meanflow
            encoder = pkg.UpsampleConformerEncoder(
                output_size=512, input_size=512, dropout_rate=0.1, positional_dropout_rate=0.1,
                attention_dropout_rate=0.1, normalize_before=True, input_layer="linear",
                pos_enc_layer_type="rel_pos_espnet", selfattention_layer_type="rel_selfattn",
                use_cnn_module=False, macaron_style=False, **config["encoder"],
            )
            estimator = pkg.ConditionalDecoder(
                in_channels=320, out_channels=80, causal=True, dropout=0.0, act_fn="gelu",
                meanflow=meanflow, **config["decoder"],
            )
            decoder = pkg.CausalConditionalCFM(
                spk_emb_dim=80, cfm_params=pkg.CFM_PARAMS, estimator=estimator
            )
            self.flow = pkg.CausalMaskedDiffWithXvec(encoder=encoder, decoder=decoder)
            self.resamplers = {}
            hift = dict(config["hift"])
            f0 = pkg.ConvRNNF0Predictor(cond_channels=hift.pop("f0_cond_channels"))
            self.mel2wav = pkg.HiFTGenerator(
                sampling_rate=pkg.S3GEN_SR, upsample_rates=[8, 5, 3],
                upsample_kernel_sizes=[16, 11, 7], source_resblock_kernel_sizes=[7, 7, 11],
                source_resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]],
                f0_predictor=f0, **hift,
            )
            n_trim = pkg.S3GEN_SR // 50
            trim_fade = torch.zeros(2 * n_trim)
            trim_fade[n_trim:] = (torch.cos(torch.linspace(torch.pi, 0, n_trim)) + 1) / 2
            self.register_buffer("trim_fade", trim_fade, persistent=False)
            self.estimator_dtype = "fp32"

    return TinyS3Gen


@contextlib.contextmanager
def tiny_classes(config: dict[str, Any], module: str = "chatterbox.tts") -> Iterator[None]:
    """Within this block the ``from_local`` of ``module`` builds the tiny networks.

    ``ChatterboxTTS.from_local`` (``chatterbox.tts``) and ``ChatterboxMultilingualTTS.
    from_local`` (``chatterbox.mtl_tts``) call ``T3(...)`` and ``S3Gen()`` by their names in
    their module; those are pointed at the tiny builders for the duration (and restored),
    so the package's own loading code — ``load_file``/``torch.load(weights_only=True)``,
    ``load_state_dict``, its tokenizer, ``Conditionals.load`` — runs unchanged. T3 keeps
    the hyper-parameters ``from_local`` asks for (English or multilingual vocabulary) on
    the tiny backbone.
    """
    import importlib

    tts = importlib.import_module(module)
    s3gen_class = _tiny_s3gen_class(config)
    with _lock:
        saved = tts.T3, tts.S3Gen
        real_t3 = tts.T3
        tts.T3 = lambda hp=None: real_t3(tiny_t3_config(config, hp))  # type: ignore[assignment]
        tts.S3Gen = s3gen_class  # type: ignore[assignment]
        try:
            yield
        finally:
            tts.T3, tts.S3Gen = saved


@contextlib.contextmanager
def tiny_vc_classes(config: dict[str, Any]) -> Iterator[None]:
    """Within this block ``ChatterboxVC.from_local`` builds the tiny S3Gen.

    Voice conversion needs only S3Gen (its speech tokenizer, flow decoder and vocoder), so
    it reads the same ``s3gen.safetensors`` (and ``conds.pt``) as the TTS checkpoint; only
    the ``S3Gen`` name in ``chatterbox.vc`` is swapped, as :func:`tiny_classes` does.
    """
    import chatterbox.vc as vc

    s3gen_class = _tiny_s3gen_class(config)
    with _lock:
        saved = vc.S3Gen
        vc.S3Gen = s3gen_class  # type: ignore[assignment,misc]
        try:
            yield
        finally:
            vc.S3Gen = saved  # type: ignore[misc]


def _tokenizer_json(path: Path, chars: list[str] | None = None, specials: tuple[str, ...] = (),
                    size: int = 700) -> None:
    """Character-level vocabulary (ids below ``size``, T3's text vocabulary) with the special
    tokens where T3 expects them, and ``specials`` (e.g. language tags) matched whole."""
    from tokenizers import Regex, Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel

    vocab = {"[STOP]": 0, "[UNK]": 1, "[SPACE]": 2, "[PAD]": 3, "[SEP]": 4, "[CLS]": 5,
             "[MASK]": 6, "[START]": 255}
    if chars is None:
        chars = [chr(c) for c in range(33, 127)] + list("àâçéèêëîïôûùüÿñæœ’“”—–…")
    free = (i for i in range(7, size) if i != 255)
    vocab.update({tok: next(free) for tok in (*specials, *chars) if tok not in vocab})
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.add_special_tokens([k for k in vocab if k.startswith("[")])  # matched before splitting
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), "isolated")
    tok.save(str(path))


def _reference(rate: int = 16_000, seconds: float = 3.0) -> np.ndarray:
    """A voiced-sounding synthetic reference for the built-in voice (harmonics, vibrato)."""
    t = np.arange(int(rate * seconds)) / rate
    f0 = 140 + 10 * np.sin(2 * np.pi * 5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    x = x * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def _networks(config: dict[str, Any], hp: Any = None) -> tuple[Any, Any, Any]:
    """The voice encoder, T3 and S3Gen with seeded random weights (the same every build)."""
    import torch
    from chatterbox.models.t3 import T3
    from chatterbox.models.voice_encoder import VoiceEncoder

    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        return VoiceEncoder(), T3(tiny_t3_config(config, hp)), _tiny_s3gen_class(config)()


def _state(net: Any) -> dict[str, Any]:
    return {k: v.detach().contiguous() for k, v in net.state_dict().items()}


def _save_builtin_voice(folder: Path, tts_class: Any, config: dict[str, Any], module: str,
                        seconds: float = 3.0, **prepare: Any) -> None:
    """Load the written folder with the package's ``from_local`` and save the conditionals
    of a synthetic reference as its built-in voice, ``conds.pt`` (``Conditionals.save``)."""
    import torch

    from engines.audio import AudioClip
    from engines.audio_io import write_audio

    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1))
    with tiny_classes(config, module), contextlib.redirect_stdout(io.StringIO()):  # perth's banner
        model = tts_class.from_local(folder, "cpu")
    reference = folder / "reference.wav"
    write_audio(reference, AudioClip(_reference(seconds=seconds), 16_000))
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        model.prepare_conditionals(str(reference), **prepare)
    reference.unlink()
    model.conds.save(folder / "conds.pt")


def build(folder: Path) -> None:
    """Write a tiny English checkpoint (``ResembleAI/chatterbox``'s files) into ``folder``."""
    from engines._standins import install

    install()  # chatterbox imports torchaudio: the stand-in provides it
    from chatterbox.tts import ChatterboxTTS
    from safetensors.torch import save_file

    ve, t3, s3gen = _networks(TINY)
    for name, net in (("ve", ve), ("t3_cfg", t3), ("s3gen", s3gen)):
        save_file(_state(net), str(folder / f"{name}.safetensors"))
    _tokenizer_json(folder / "tokenizer.json")
    _save_builtin_voice(folder, ChatterboxTTS, TINY, "chatterbox.tts")


def _multilingual_chars() -> list[str]:
    """What the tiny multilingual vocabulary covers: after the package's lower-casing and
    NFKD (accents split off), Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, kana,
    Hangul jamo (Korean is split into them) and Cangjie code letters (Chinese)."""
    ranges = [(33, 127), (0xA1, 0x250), (0x300, 0x370), (0x370, 0x400), (0x400, 0x460),
              (0x5D0, 0x5F0), (0x600, 0x670), (0x900, 0x980), (0x1100, 0x1200),
              (0x3040, 0x3100), (0x2010, 0x2030), (0x3000, 0x3020), (0xFF01, 0xFF20)]
    chars = [chr(c) for lo, hi in ranges for c in range(lo, hi)]
    return chars + [f"[cj_{c}]" for c in "abcdefghijklmnopqrstuvwxyz."]


def build_multilingual(folder: Path) -> None:
    """Write a tiny multilingual checkpoint in the files ``ChatterboxMultilingualTTS.
    from_local`` reads: ``ve.pt`` and ``s3gen.pt`` (state dicts it opens with
    ``torch.load(weights_only=True)``), ``t3_mtl23ls_v2.safetensors`` (T3 with the released
    2,454-token multilingual text vocabulary), ``grapheme_mtl_merged_expanded_v1.json`` (the
    tokenizer, with a ``[xx]`` tag for each of the 23 languages) and ``conds.pt``."""
    from engines._standins import install

    install()
    import torch
    from chatterbox.models.t3.modules.t3_config import T3Config
    from chatterbox.mtl_tts import SUPPORTED_LANGUAGES, ChatterboxMultilingualTTS
    from safetensors.torch import save_file

    hp = T3Config.multilingual()
    ve, t3, s3gen = _networks(TINY_MTL, hp)
    torch.save(_state(ve), folder / "ve.pt")
    save_file(_state(t3), str(folder / "t3_mtl23ls_v2.safetensors"))
    torch.save(_state(s3gen), folder / "s3gen.pt")
    tags = tuple(f"[{code}]" for code in SUPPORTED_LANGUAGES)
    _tokenizer_json(folder / "grapheme_mtl_merged_expanded_v1.json", _multilingual_chars(), tags,
                    size=hp.text_tokens_dict_size)
    _save_builtin_voice(folder, ChatterboxMultilingualTTS, TINY_MTL, "chatterbox.mtl_tts")


def build_turbo(folder: Path) -> None:
    """Write a tiny Turbo checkpoint in the files ``ChatterboxTurboTTS.from_local`` reads:
    ``ve.safetensors``, ``t3_turbo_v1.safetensors`` (T3 on a tiny GPT-2 with GPT-2's text
    vocabulary size), ``s3gen_meanflow.safetensors``, a GPT-2 byte-level BPE tokenizer
    (``AutoTokenizer.from_pretrained`` reads it) and ``conds.pt`` (Turbo wants a reference
    longer than 5 s: 6 s here)."""
    from engines._standins import install

    install()
    from chatterbox.models.t3.modules.t3_config import T3Config
    from chatterbox.tts_turbo import ChatterboxTurboTTS
    from safetensors.torch import save_file
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2TokenizerFast

    hp = T3Config(text_tokens_dict_size=50276)  # the values ChatterboxTurboTTS.from_local sets
    hp.speech_tokens_dict_size = 6563
    hp.input_pos_emb = None
    hp.speech_cond_prompt_len = 375
    hp.emotion_adv = False
    ve, t3, s3gen = _networks(TINY_TURBO, hp)
    s3gen = _tiny_s3gen_class(TINY_TURBO)(meanflow=True)
    for name, net in (("ve", ve), ("t3_turbo_v1", t3), ("s3gen_meanflow", s3gen)):
        save_file(_state(net), str(folder / f"{name}.safetensors"))
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(["Hello there, this is a test of the tiny turbo model."], trainer)
    eos = "<|endoftext|>"
    GPT2TokenizerFast(tokenizer_object=bpe, eos_token=eos, bos_token=eos,
                      unk_token=eos).save_pretrained(str(folder))
    _save_builtin_voice(folder, ChatterboxTurboTTS, TINY_TURBO, "chatterbox.tts_turbo",
                        seconds=6.0, norm_loudness=False)


# variant: (folder name in the model store's cache, build version, builder)
VARIANTS: dict[str, tuple[str, str, Any]] = {
    "english": ("debug-chatterbox", BUILD_VERSION, build),
    "multilingual": ("debug-chatterbox-mtl", MTL_BUILD_VERSION, build_multilingual),
    "turbo": ("debug-chatterbox-turbo", TURBO_BUILD_VERSION, build_turbo),
}


def ensure_debug_checkpoint(variant: str = "english") -> Path:
    """A tiny checkpoint's folder, built on first use (a few seconds) and kept."""
    folder = debug_folder(variant)
    if (folder / "conds.pt").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        dir=folder.parent, prefix=".building-", ignore_cleanup_errors=True
    ) as tmp:
        VARIANTS[variant][2](Path(tmp))
        if not (folder / "conds.pt").is_file():  # another process may have won the race
            shutil.rmtree(folder, ignore_errors=True)
            Path(tmp).rename(folder)
    return folder
