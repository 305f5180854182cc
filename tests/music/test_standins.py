"""The import stand-ins match what audiocraft and perth expect from the real packages.

Numerics are checked against librosa (an independent STFT/mel implementation) and the
BS.1770 reference level, since real torchaudio cannot be installed here.
"""

from __future__ import annotations

import numpy as np
import pytest

import engines._standins as standins

standins.install()

torch = pytest.importorskip("torch")
librosa = pytest.importorskip("librosa")


def test_install_shadows_real_packages_first_on_path():
    import torchaudio
    import xformers.ops

    assert standins.installed()
    assert torchaudio.__file__.startswith(str(standins.HERE))
    assert xformers.ops.unbind(torch.zeros(2, 3), 0)[1].shape == (3,)


def _tone(rate: int = 16000, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(0)
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32
    )


def test_spectrogram_matches_librosa_stft():
    from torchaudio.transforms import Spectrogram

    x = _tone()
    ours = Spectrogram(n_fft=512, hop_length=128, power=2)(torch.from_numpy(x)).numpy()
    ref = np.abs(librosa.stft(x, n_fft=512, hop_length=128, pad_mode="reflect")) ** 2
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * ref.max())


def test_window_normalised_spectrogram_as_audiocraft_chroma_uses_it():
    from torchaudio.transforms import Spectrogram

    x = torch.from_numpy(_tone())[None, None]  # (batch, channels, time) like audiocraft
    plain = Spectrogram(n_fft=1024, hop_length=256, power=2)(x)
    normed = Spectrogram(n_fft=1024, hop_length=256, power=2, normalized=True)(x)
    energy = torch.hann_window(1024).pow(2).sum()
    assert normed.shape == (1, 1, 513, 63)
    torch.testing.assert_close(normed * energy, plain, rtol=1e-5, atol=1e-3)


def test_inverse_spectrogram_round_trips():
    from torchaudio.transforms import InverseSpectrogram, Spectrogram

    x = torch.from_numpy(_tone())[None]
    spec = Spectrogram(n_fft=1024, hop_length=256, power=None, normalized=True)(x)
    assert spec.is_complex()
    back = InverseSpectrogram(n_fft=1024, hop_length=256, normalized=True)(spec, length=x.shape[-1])
    torch.testing.assert_close(back, x, atol=1e-5, rtol=0)


def test_mel_spectrogram_matches_librosa_htk():
    from torchaudio.transforms import MelSpectrogram

    x = _tone()
    ours = MelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160, n_mels=40)(
        torch.from_numpy(x)
    )
    ref = librosa.feature.melspectrogram(
        y=x, sr=16000, n_fft=512, hop_length=160, n_mels=40, htk=True, norm=None, pad_mode="reflect"
    )
    np.testing.assert_allclose(ours.numpy(), ref, rtol=2e-3, atol=1e-3 * ref.max())


def test_time_stretch_changes_length_and_keeps_identity_at_rate_one():
    from torchaudio.transforms import Spectrogram, TimeStretch

    spec = Spectrogram(n_fft=512, hop_length=128, power=None)(torch.from_numpy(_tone()))
    stretch = TimeStretch(hop_length=128, n_freq=257)
    assert stretch(spec, 1.0) is spec
    faster = stretch(spec, 2.0)
    assert faster.shape == (257, (spec.shape[-1] + 1) // 2)
    # the tone's bin keeps its magnitude
    peak = int(spec.abs().mean(-1).argmax())
    assert abs(float(faster.abs()[peak].mean() / spec.abs()[peak].mean()) - 1) < 0.05


def test_loudness_full_scale_sine_reads_minus_3_lkfs():
    """BS.1770-4: a 0 dBFS 997 Hz sine in one channel of a stereo pair reads −3.01 LKFS."""
    from torchaudio.transforms import Loudness

    rate = 48000
    t = torch.arange(rate * 3) / rate
    wav = torch.stack([torch.sin(2 * torch.pi * 997 * t), torch.zeros_like(t)])
    assert abs(float(Loudness(rate)(wav)) - (-3.01)) < 0.05


def test_xformers_attention_refuses_clearly_and_spacy_load_explains():
    import spacy
    import xformers.ops

    with pytest.raises(RuntimeError, match="torch"):
        xformers.ops.memory_efficient_attention(None, None, None)
    with pytest.raises(RuntimeError, match="spaCy"):
        spacy.load("en_core_web_sm")


def test_audiocraft_and_perth_import_with_the_standins():
    import audiocraft.losses.specloss  # noqa: F401 - module-level MelSpectrogram import
    import audiocraft.models  # noqa: F401
    from audiocraft.modules.chroma import ChromaExtractor

    chroma = ChromaExtractor(32000, radix2_exp=12)(torch.from_numpy(_tone(32000))[None, None])
    assert chroma.shape[-1] == 12 and torch.isfinite(chroma).all()
