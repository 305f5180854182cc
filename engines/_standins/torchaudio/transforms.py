"""torchaudio.transforms as far as audiocraft and resemble-perth use them.

- ``Spectrogram`` / ``InverseSpectrogram``: torch.stft / torch.istft with torchaudio's
  padding and "window" normalisation (melody chroma, perth's watermark network).
- ``MelSpectrogram``: Spectrogram then an HTK or Slaney mel filterbank (audiocraft's losses).
- ``TimeStretch``: phase-vocoder time stretch of a complex spectrogram (perth builds one).
- ``Resample``: torchaudio's windowed-sinc resampler (Chatterbox, s3tokenizer).
- ``Loudness``: ITU-R BS.1770 integrated loudness, measured with pyloudnorm through
  :func:`engines.loudness.integrated_lufs` (audiocraft's loudness normalisation).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn


def _norm_flags(normalized: bool | str) -> tuple[bool, bool]:
    """(window normalisation, frame-length normalisation) as torchaudio reads ``normalized``."""
    if isinstance(normalized, str):
        if normalized not in ("window", "frame_length"):
            raise ValueError(
                f"normalized must be a bool, 'window' or 'frame_length', not {normalized!r}"
            )
        return normalized == "window", normalized == "frame_length"
    return bool(normalized), False


def _window(
    window_fn: Callable[..., torch.Tensor], length: int, wkwargs: dict | None
) -> torch.Tensor:
    return window_fn(length) if wkwargs is None else window_fn(length, **wkwargs)


class Spectrogram(nn.Module):
    """Magnitude (``power`` set) or complex (``power=None``) STFT of ``(..., time)``."""

    def __init__(
        self,
        n_fft: int = 400,
        win_length: int | None = None,
        hop_length: int | None = None,
        pad: int = 0,
        window_fn: Callable[..., torch.Tensor] = torch.hann_window,
        power: float | None = 2.0,
        normalized: bool | str = False,
        wkwargs: dict | None = None,
        center: bool = True,
        pad_mode: str = "reflect",
        onesided: bool = True,
        return_complex: bool | None = None,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs))
        self.pad = pad
        self.power = power
        self.normalized = normalized
        self.center = center
        self.pad_mode = pad_mode
        self.onesided = onesided

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        window_norm, frame_norm = _norm_flags(self.normalized)
        if self.pad > 0:
            waveform = nn.functional.pad(waveform, (self.pad, self.pad), "constant")
        shape = waveform.size()
        spec = torch.stft(
            waveform.reshape(-1, shape[-1]),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=self.center,
            pad_mode=self.pad_mode,
            normalized=frame_norm,
            onesided=self.onesided,
            return_complex=True,
        )
        spec = spec.reshape(shape[:-1] + spec.shape[-2:])
        if window_norm:
            spec = spec / self.window.pow(2.0).sum().sqrt()
        if self.power is None:
            return spec
        if self.power == 1.0:
            return spec.abs()
        return spec.abs().pow(self.power)


class InverseSpectrogram(nn.Module):
    """Complex spectrogram ``(..., freq, frames)`` back to a waveform."""

    def __init__(
        self,
        n_fft: int = 400,
        win_length: int | None = None,
        hop_length: int | None = None,
        pad: int = 0,
        window_fn: Callable[..., torch.Tensor] = torch.hann_window,
        normalized: bool | str = False,
        wkwargs: dict | None = None,
        center: bool = True,
        pad_mode: str = "reflect",
        onesided: bool = True,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs))
        self.pad = pad
        self.normalized = normalized
        self.center = center
        self.onesided = onesided

    def forward(self, spectrogram: torch.Tensor, length: int | None = None) -> torch.Tensor:
        if not spectrogram.is_complex():
            raise ValueError("InverseSpectrogram expects a complex spectrogram.")
        window_norm, frame_norm = _norm_flags(self.normalized)
        if window_norm:
            spectrogram = spectrogram * self.window.pow(2.0).sum().sqrt()
        shape = spectrogram.size()
        wave = torch.istft(
            spectrogram.reshape(-1, shape[-2], shape[-1]),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=self.center,
            normalized=frame_norm,
            onesided=self.onesided,
            length=length + 2 * self.pad if length is not None else None,
            return_complex=False,
        )
        if length is not None and self.pad > 0:
            wave = wave[:, self.pad : -self.pad]
        return wave.reshape(shape[:-2] + wave.shape[-1:])


def _hz_to_mel(freq: float, mel_scale: str) -> float:
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + freq / 700.0)
    f_sp, min_log_hz, min_log_mel = 200.0 / 3, 1000.0, 15.0
    if freq < min_log_hz:
        return freq / f_sp
    return min_log_mel + math.log(freq / min_log_hz) / (math.log(6.4) / 27.0)


def _mel_to_hz(mels: torch.Tensor, mel_scale: str) -> torch.Tensor:
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz, min_log_mel = 200.0 / 3, 1000.0, 15.0
    freqs = f_sp * mels
    logstep = math.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * torch.exp(logstep * (mels[log_t] - min_log_mel))
    return freqs


def melscale_fbanks(
    n_freqs: int,
    f_min: float,
    f_max: float,
    n_mels: int,
    sample_rate: int,
    norm: str | None = None,
    mel_scale: str = "htk",
) -> torch.Tensor:
    """Triangular mel filters, shape ``(n_freqs, n_mels)``."""
    if mel_scale not in ("htk", "slaney"):
        raise ValueError("mel_scale must be 'htk' or 'slaney'.")
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_pts = torch.linspace(_hz_to_mel(f_min, mel_scale), _hz_to_mel(f_max, mel_scale), n_mels + 2)
    f_pts = _mel_to_hz(m_pts, mel_scale)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = torch.clamp(torch.minimum(down, up), min=0.0)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2 : n_mels + 2] - f_pts[:n_mels])).unsqueeze(0)
    return fb


class MelSpectrogram(nn.Module):
    """Power spectrogram projected on a mel filterbank: ``(..., n_mels, frames)``."""

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 400,
        win_length: int | None = None,
        hop_length: int | None = None,
        f_min: float = 0.0,
        f_max: float | None = None,
        pad: int = 0,
        n_mels: int = 128,
        window_fn: Callable[..., torch.Tensor] = torch.hann_window,
        power: float = 2.0,
        normalized: bool | str = False,
        wkwargs: dict | None = None,
        center: bool = True,
        pad_mode: str = "reflect",
        onesided: bool | None = None,
        norm: str | None = None,
        mel_scale: str = "htk",
    ) -> None:
        super().__init__()
        self.spectrogram = Spectrogram(
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            pad=pad,
            window_fn=window_fn,
            power=power,
            normalized=normalized,
            wkwargs=wkwargs,
            center=center,
            pad_mode=pad_mode,
            onesided=True,
        )
        f_max = f_max if f_max is not None else float(sample_rate // 2)
        fb = melscale_fbanks(n_fft // 2 + 1, f_min, f_max, n_mels, sample_rate, norm, mel_scale)
        self.register_buffer("fb", fb)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        spec = self.spectrogram(waveform)
        return torch.matmul(spec.transpose(-1, -2), self.fb).transpose(-1, -2)


class TimeStretch(nn.Module):
    """Phase-vocoder stretch of a complex spectrogram ``(..., freq, frames)`` by ``rate``."""

    def __init__(
        self, hop_length: int | None = None, n_freq: int = 201, fixed_rate: float | None = None
    ):
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        self.register_buffer(
            "phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None]
        )

    def forward(self, spec: torch.Tensor, overriding_rate: float | None = None) -> torch.Tensor:
        rate = overriding_rate if overriding_rate is not None else self.fixed_rate
        if rate is None:
            raise ValueError("TimeStretch needs a rate: give fixed_rate or overriding_rate.")
        if rate == 1.0:
            return spec
        shape = spec.size()
        spec = spec.reshape([-1, *shape[-2:]])
        steps = torch.arange(0, spec.size(-1), rate, device=spec.device, dtype=spec.real.dtype)
        alphas = steps % 1.0
        phase_0 = spec[..., :1].angle()
        spec = nn.functional.pad(spec, [0, 2])
        spec_0 = spec.index_select(-1, steps.long())
        spec_1 = spec.index_select(-1, (steps + 1).long())
        phase = spec_1.angle() - spec_0.angle() - self.phase_advance
        phase = phase - 2 * math.pi * torch.round(phase / (2 * math.pi))
        phase = torch.cat([phase_0, (phase + self.phase_advance)[..., :-1]], dim=-1)
        mag = alphas * spec_1.abs() + (1 - alphas) * spec_0.abs()
        out = torch.polar(mag, torch.cumsum(phase, -1))
        return out.reshape(shape[:-2] + out.shape[1:])


class Loudness(nn.Module):
    """Integrated loudness (LUFS, ITU-R BS.1770-4) of ``(..., channels, time)`` audio."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        from engines.audio import AudioClip
        from engines.loudness import integrated_lufs

        if wav.size(-2) > 5:
            raise ValueError("Loudness supports up to 5 channels (BS.1770).")
        flat = wav.detach().to(torch.float64).cpu().reshape(-1, wav.size(-2), wav.size(-1))
        values = [integrated_lufs(AudioClip(x.numpy(), self.sample_rate)) for x in flat]
        return torch.tensor(values, dtype=wav.dtype).reshape(wav.shape[:-2])


def _sinc_resample_kernel(
    orig_freq: int, new_freq: int, lowpass_filter_width: int, rolloff: float, dtype: torch.dtype
) -> tuple[torch.Tensor, int]:
    """torchaudio's windowed-sinc ("sinc_interp_hann") polyphase kernel and its half width."""
    base_freq = min(orig_freq, new_freq) * rolloff
    width = math.ceil(lowpass_filter_width * orig_freq / base_freq)
    idx = torch.arange(-width, width + orig_freq, dtype=torch.float64)[None, None] / orig_freq
    t = torch.arange(0, -new_freq, -1, dtype=torch.float64)[:, None, None] / new_freq + idx
    t = (t * base_freq).clamp(-lowpass_filter_width, lowpass_filter_width)
    window = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    t = t * math.pi
    kernels = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t)
    kernels = kernels * window * (base_freq / orig_freq)
    return kernels.to(dtype), width


class Resample(nn.Module):
    """Band-limited resampling of ``(..., time)`` by a windowed sinc (Chatterbox, s3tokenizer).

    Same kernel and output length (``ceil(new * n / orig)``) as torchaudio's default
    ``sinc_interp_hann`` method, so the rates Chatterbox converts between (24 kHz, 16 kHz and
    whatever the reference was recorded at) match what its networks were trained on.
    """

    def __init__(
        self,
        orig_freq: int = 16000,
        new_freq: int = 16000,
        resampling_method: str = "sinc_interp_hann",
        lowpass_filter_width: int = 6,
        rolloff: float = 0.99,
        beta: float | None = None,
        *,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if resampling_method != "sinc_interp_hann":
            raise NotImplementedError("the torchaudio stand-in resamples with sinc_interp_hann")
        gcd = math.gcd(int(orig_freq), int(new_freq))
        self.orig_freq, self.new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
        self.register_buffer("kernel", None)
        if self.orig_freq != self.new_freq:
            kernel, self.width = _sinc_resample_kernel(
                self.orig_freq,
                self.new_freq,
                lowpass_filter_width,
                rolloff,
                dtype or torch.get_default_dtype(),
            )
            self.register_buffer("kernel", kernel)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if self.kernel is None:
            return waveform
        shape = waveform.size()
        flat = waveform.reshape(-1, shape[-1])
        padded = nn.functional.pad(flat, (self.width, self.width + self.orig_freq))
        out = nn.functional.conv1d(
            padded[:, None], self.kernel.to(flat.dtype), stride=self.orig_freq
        )
        out = out.transpose(1, 2).reshape(flat.shape[0], -1)
        length = math.ceil(self.new_freq * shape[-1] / self.orig_freq)
        return out[..., :length].reshape(shape[:-1] + (length,))
