"""The torchaudio stand-in's pieces Chatterbox needs, against independent references.

Chatterbox's speaker encoder was trained on Kaldi fbank features, so the stand-in's
``compliance.kaldi.fbank`` is compared with kaldi-native-fbank (Kaldi's own feature code);
``transforms.Resample`` with the exact band-limited signal and with soxr.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import engines._standins as standins

standins.install()

torch = pytest.importorskip("torch")


def _signal(rate: int = 16000, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(0)
    tone = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1770 * t)
    return (tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def _kaldi_reference(x: np.ndarray, window: str, bins: int, use_energy: bool) -> np.ndarray:
    knf = pytest.importorskip("kaldi_native_fbank")
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.snip_edges = True
    opts.frame_opts.window_type = window
    opts.mel_opts.num_bins = bins
    opts.use_energy = use_energy
    fbank = knf.OnlineFbank(opts)
    fbank.accept_waveform(16000, x.tolist())
    fbank.input_finished()
    return np.stack([fbank.get_frame(i) for i in range(fbank.num_frames_ready)])


@pytest.mark.parametrize("window", ["povey", "hamming", "hanning", "rectangular", "blackman"])
def test_kaldi_fbank_matches_kaldi(window):
    from torchaudio.compliance import kaldi

    x = _signal()
    ours = kaldi.fbank(torch.from_numpy(x)[None], num_mel_bins=80, window_type=window).numpy()
    ref = _kaldi_reference(x, window, 80, use_energy=False)
    assert ours.shape == ref.shape == (98, 80)
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_kaldi_fbank_energy_column_and_mean_subtraction():
    from torchaudio.compliance import kaldi

    x = _signal(seconds=0.5)
    wav = torch.from_numpy(x)[None]
    ours = kaldi.fbank(wav, num_mel_bins=23, use_energy=True).numpy()
    np.testing.assert_allclose(ours, _kaldi_reference(x, "povey", 23, True), atol=2e-3)
    htk = kaldi.fbank(wav, num_mel_bins=23, use_energy=True, htk_compat=True).numpy()
    np.testing.assert_allclose(htk[:, -1], ours[:, 0])  # energy moves to the end
    centred = kaldi.fbank(wav, num_mel_bins=23, subtract_mean=True).numpy()
    np.testing.assert_allclose(centred.mean(0), 0.0, atol=1e-4)


def test_kaldi_fbank_refuses_what_it_does_not_implement():
    from torchaudio.compliance import kaldi

    wav = torch.zeros(1, 1600)
    with pytest.raises(NotImplementedError):
        kaldi.fbank(wav, snip_edges=False)
    assert kaldi.fbank(torch.zeros(1, 100), num_mel_bins=80).shape == (0, 80)  # < one frame


@pytest.mark.parametrize(("src", "dst"), [(24000, 16000), (16000, 24000), (44100, 16000)])
def test_resample_is_band_limited_and_sized_like_torchaudio(src, dst):
    import soxr
    from torchaudio.transforms import Resample

    t = np.arange(src) / src
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    ours = Resample(src, dst)(torch.from_numpy(np.stack([x, -x]))).numpy()
    assert ours.shape == (2, math.ceil(dst * len(x) / src))
    exact = np.sin(2 * np.pi * 440 * np.arange(ours.shape[1]) / dst)
    inner = slice(100, -100)  # the edges see the zero padding
    np.testing.assert_allclose(ours[0, inner], exact[inner], atol=2e-3)
    np.testing.assert_allclose(ours[1], -ours[0], atol=1e-6)
    np.testing.assert_allclose(ours[0, inner], soxr.resample(x, src, dst)[inner], atol=3e-3)


def test_resample_removes_what_the_new_rate_cannot_hold():
    from torchaudio.transforms import Resample

    t = np.arange(24000) / 24000
    above = torch.from_numpy(np.sin(2 * np.pi * 10_000 * t).astype(np.float32))
    out = Resample(24000, 16000)(above)  # 10 kHz is above 16 kHz's Nyquist
    assert float(out[200:-200].abs().max()) < 0.02
    same = torch.randn(3, 500)
    assert torch.equal(Resample(16000, 16000)(same), same)


def test_chatterbox_modules_import_on_the_standins():
    import importlib  # chatterbox-tts is installed by make setup (requirements/nodeps.txt)

    for name in ("chatterbox.tts", "chatterbox.vc", "chatterbox.mtl_tts", "chatterbox.tts_turbo"):
        importlib.import_module(name)
