"""``torchaudio.compliance.kaldi.fbank``: Kaldi's log mel filterbank, written on torch.

Chatterbox's CAM++ speaker encoder (``chatterbox/models/s3gen/xvector.py``) computes 80 Kaldi
fbank bins of the 16 kHz reference. Its weights were trained on exactly these features, so
the numerics follow Kaldi's ``compute-fbank-feats`` (povey window, pre-emphasis, DC removal,
power-of-two FFT, mel = 1127 ln(1 + f/700)); the tests compare against kaldi-native-fbank.
Only ``snip_edges=True`` framing (Kaldi's and torchaudio's default) and no VTLN warping are
provided: nothing the studio runs asks for the others, and they fail loudly if asked.
"""

from __future__ import annotations

import math

import torch

EPSILON = torch.finfo(torch.float32).eps  # torchaudio's floor before the log
WINDOWS = ("hamming", "hanning", "povey", "rectangular", "blackman")


def _window(kind: str, size: int, blackman_coeff: float, dtype: torch.dtype) -> torch.Tensor:
    if kind == "hanning":
        return torch.hann_window(size, periodic=False, dtype=dtype)
    if kind == "hamming":
        return torch.hamming_window(size, periodic=False, alpha=0.54, beta=0.46, dtype=dtype)
    if kind == "povey":  # Kaldi's own: a Hann window raised to 0.85
        return torch.hann_window(size, periodic=False, dtype=dtype).pow(0.85)
    if kind == "rectangular":
        return torch.ones(size, dtype=dtype)
    if kind == "blackman":
        n = torch.arange(size, dtype=dtype)
        a = 2 * math.pi / (size - 1)
        return blackman_coeff - 0.5 * torch.cos(a * n) + (0.5 - blackman_coeff) * torch.cos(2 * a * n)
    raise ValueError(f"window_type must be one of {WINDOWS}, not {kind!r}")


def _mel(freq: torch.Tensor | float) -> torch.Tensor:
    return 1127.0 * torch.log1p(torch.as_tensor(freq, dtype=torch.float64) / 700.0)


def get_mel_banks(
    num_bins: int, window_length_padded: int, sample_freq: float, low_freq: float, high_freq: float
) -> torch.Tensor:
    """Triangular filters on Kaldi's mel scale, shape ``(num_bins, window_length_padded // 2)``."""
    num_fft_bins = window_length_padded // 2
    nyquist = 0.5 * sample_freq
    if high_freq <= 0.0:
        high_freq += nyquist
    if not 0.0 <= low_freq < nyquist or not 0.0 < high_freq <= nyquist or low_freq >= high_freq:
        raise ValueError(f"bad frequency range {low_freq}..{high_freq} Hz for {sample_freq} Hz")
    mel_low, mel_high = _mel(low_freq), _mel(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    index = torch.arange(num_bins, dtype=torch.float64).unsqueeze(1)
    left = mel_low + index * delta
    center = mel_low + (index + 1.0) * delta
    right = mel_low + (index + 2.0) * delta
    mel = _mel(sample_freq / window_length_padded * torch.arange(num_fft_bins, dtype=torch.float64))
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    return torch.clamp(torch.minimum(up, down), min=0.0)


def fbank(
    waveform: torch.Tensor,
    blackman_coeff: float = 0.42,
    channel: int = -1,
    dither: float = 0.0,
    energy_floor: float = 1.0,
    frame_length: float = 25.0,
    frame_shift: float = 10.0,
    high_freq: float = 0.0,
    htk_compat: bool = False,
    low_freq: float = 20.0,
    min_duration: float = 0.0,
    num_mel_bins: int = 23,
    preemphasis_coefficient: float = 0.97,
    raw_energy: bool = True,
    remove_dc_offset: bool = True,
    round_to_power_of_two: bool = True,
    sample_frequency: float = 16000.0,
    snip_edges: bool = True,
    subtract_mean: bool = False,
    use_energy: bool = False,
    use_log_fbank: bool = True,
    use_power: bool = True,
    vtln_high: float = -500.0,
    vtln_low: float = 100.0,
    vtln_warp: float = 1.0,
    window_type: str = "povey",
) -> torch.Tensor:
    """Kaldi filterbank features of ``(channels, time)`` audio: ``(frames, num_mel_bins)``.

    ``use_energy`` adds the frame's log energy as the first column (last with ``htk_compat``).
    """
    if not snip_edges:
        raise NotImplementedError("the torchaudio stand-in frames with snip_edges=True only")
    if vtln_warp != 1.0:
        raise NotImplementedError("the torchaudio stand-in has no VTLN warping")
    dtype = waveform.dtype if waveform.is_floating_point() else torch.float32
    signal = waveform.to(dtype)
    signal = signal[max(channel, 0)] if signal.dim() > 1 else signal
    shift = int(sample_frequency * frame_shift * 0.001)
    size = int(sample_frequency * frame_length * 0.001)
    padded = 1 << (size - 1).bit_length() if round_to_power_of_two else size
    if size < 2 or size > signal.numel() or signal.numel() < min_duration * sample_frequency:
        return torch.empty(0, num_mel_bins + int(use_energy), dtype=dtype)
    frames = signal.unfold(0, size, shift)  # snip_edges: only whole frames
    if dither != 0.0:
        frames = frames + dither * torch.randn_like(frames)
    if remove_dc_offset:
        frames = frames - frames.mean(dim=1, keepdim=True)
    floor = torch.tensor(EPSILON, dtype=dtype)
    if raw_energy:
        log_energy = torch.maximum(frames.pow(2).sum(1), floor).log()
    if preemphasis_coefficient != 0.0:
        previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
        frames = frames - preemphasis_coefficient * previous
    frames = frames * _window(window_type, size, blackman_coeff, dtype)
    if padded > size:
        frames = torch.nn.functional.pad(frames, (0, padded - size))
    if not raw_energy:
        log_energy = torch.maximum(frames.pow(2).sum(1), floor).log()
    spectrum = torch.fft.rfft(frames).abs()
    if use_power:
        spectrum = spectrum.pow(2.0)
    banks = get_mel_banks(num_mel_bins, padded, sample_frequency, low_freq, high_freq)
    banks = torch.nn.functional.pad(banks, (0, 1)).to(dtype)  # the Nyquist bin gets no weight
    features = spectrum @ banks.T
    if use_log_fbank:
        features = torch.maximum(features, floor).log()
    if use_energy:
        if energy_floor > 0.0:
            log_energy = torch.clamp(log_energy, min=math.log(energy_floor))
        column = log_energy.unsqueeze(1)
        features = torch.cat([features, column] if htk_compat else [column, features], dim=1)
    if subtract_mean:
        features = features - features.mean(dim=0, keepdim=True)
    return features
