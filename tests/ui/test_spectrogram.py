"""The spectrogram: correct frequencies, hover readout, scales, and smooth on 2-hour audio."""

from __future__ import annotations

import numpy as np

from desktop.ui.spectrogram import (
    N_FFT,
    ROWS,
    TILE_COLS,
    ArraySource,
    AudioSource,
    Placement,
    SpectrogramPanel,
    TileCache,
    assemble,
    compute_tile,
    level_for,
    row_frequencies,
)

RATE = 48_000


class SineSource(AudioSource):
    """A sine of any length, computed on demand (2 hours would be 1.4 GB as an array)."""

    def __init__(self, seconds: float, freq: float) -> None:
        self.key, self.sample_rate, self.frames, self.freq = f"sine-{seconds}", RATE, int(seconds * RATE), freq

    def read(self, start: int, count: int) -> np.ndarray:
        count = max(0, min(count, self.frames - start))
        t = (start + np.arange(count)) / RATE
        return (0.5 * np.sin(2 * np.pi * self.freq * t)).astype(np.float32)


def test_tile_peaks_at_the_tone_frequency_and_dbfs_level():
    source = SineSource(3.0, 1000.0)
    tile = compute_tile(source, 0, 0).astype(np.float32)
    assert tile.shape == (TILE_COLS, N_FFT // 2 + 1)
    peak_bins = tile[10:100].argmax(axis=1)
    assert np.all(np.abs(peak_bins * RATE / N_FFT - 1000.0) < RATE / N_FFT)
    assert abs(tile[50].max() - 20 * np.log10(0.5)) < 1.5  # a 0.5 sine reads about -6 dBFS


def test_panel_shows_clip_with_axes_readout_and_scales(qtbot):
    panel = SpectrogramPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.ensure_plot()
    t = np.arange(2 * RATE) / RATE
    source = ArraySource((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE, "a440")
    panel.set_placement(Placement(source, start_s=1.0, title="A 440"))
    panel.set_view(1.0, 3.0)
    qtbot.waitUntil(lambda: panel.complete, timeout=5000)
    panel.redraw()
    for scale in range(3):
        panel.scale_box.setCurrentIndex(scale)
        freqs = row_frequencies(panel.scale, RATE)
        row = int(np.argmin(np.abs(freqs - 440)))
        text = panel.readout_at(2.0, row + 0.5)
        level = float(text.split("·")[2].strip().split()[0])
        assert text.startswith("2.000 s") and level > -15, text
        top = panel.readout_at(2.0, ROWS - 1)
        assert float(top.split("·")[2].strip().split()[0]) < -60, top
    assert panel.readout_at(0.5, 10) == ""  # before the clip starts
    panel.set_playhead(2.5)
    assert panel._playhead.value() == 2.5


def test_two_hour_file_needs_few_tiles_and_redraws_fast(qtbot):
    source = SineSource(2 * 3600.0, 300.0)
    cache = TileCache()
    width = 1400
    # whole file in view: a coarse level, a handful of tiles
    level = level_for(7200.0, RATE, width)
    cols = 7200 * RATE / (256 << level)
    assert width <= cols <= 2 * width + TILE_COLS
    assemble(cache, source, 0.0, 7200.0, width, "log")
    qtbot.waitUntil(lambda: not cache.busy, timeout=60_000)
    assert len(cache.tiles) <= 12
    # once computed, a redraw on the GUI thread is a copy: no tile is computed again
    tiles = dict(cache.tiles)
    image, a, b, complete = assemble(cache, source, 0.0, 7200.0, width, "log")
    assert complete and not cache.busy and cache.tiles == tiles
    assert image.shape[0] >= width and a == 0.0 and b >= 7200.0
    # zoomed into the middle: fine tiles for just that part
    assemble(cache, source, 3600.0, 3605.0, width, "mel")
    qtbot.waitUntil(lambda: not cache.busy, timeout=10_000)
    image, a, b, complete = assemble(cache, source, 3600.0, 3605.0, width, "mel")
    assert complete and a <= 3600.0 and b >= 3605.0
    freqs = row_frequencies("mel", RATE)
    assert abs(freqs[int(image[image.shape[0] // 2].argmax())] - 300.0) < 40


def test_waveform_peaks_read_from_file_match_the_audio(tmp_path):
    from desktop.ui.waveforms import peaks_from_file
    from engines.audio import AudioClip
    from engines.audio_io import write_audio

    t = np.arange(RATE * 3) / RATE
    ramp = (np.sin(2 * np.pi * 50 * t) * t / 3).astype(np.float32)  # louder and louder
    path = write_audio(tmp_path / "ramp.flac", AudioClip(ramp, RATE))
    peaks = peaks_from_file(str(path), block=4096)
    assert peaks.frames == len(ramp) and len(peaks.levels) >= 3
    starts = np.array([0.0, RATE * 1.0, RATE * 2.5])
    lo, hi = peaks.envelope(starts, starts + RATE * 0.5)  # coarse level, half a second each
    for s, low, high in zip(starts.astype(int), lo, hi, strict=True):
        seg = ramp[s : s + RATE // 2]
        assert abs(high - seg.max()) < 0.02 and abs(low - seg.min()) < 0.02


def test_coarse_tiles_read_from_a_file_cover_its_start(tmp_path):
    """Coarse columns average windows that start before frame 0; reading a file there must
    give silence, not the whole file (soundfile reads everything for a negative count)."""
    from desktop.ui.spectrogram import FileSource, hop_for
    from engines.audio import AudioClip
    from engines.audio_io import write_audio

    rate = 8000
    t = np.arange(rate * 120) / rate
    path = write_audio(tmp_path / "tone.flac", AudioClip((0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate))
    level = 6
    assert hop_for(level) > 4 * N_FFT  # the sparse, averaged path
    tile = compute_tile(FileSource(path), level, 0).astype(np.float32)
    inside = tile[: int(len(t) / hop_for(level))]
    assert len(inside) > 20 and not np.isnan(inside).any()
    freqs = np.arange(tile.shape[1]) * rate / N_FFT
    assert np.all(np.abs(freqs[inside.argmax(axis=1)] - 300.0) <= rate / N_FFT)
