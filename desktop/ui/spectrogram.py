"""The spectrogram panel: a pyqtgraph image with time and frequency axes and a dB colour map.

Why tiles at several resolutions: a view never needs more columns than it has pixels, so
each zoom level ``L`` uses a hop of ``BASE_HOP * 2**L`` frames and the file is cut into
tiles of ``TILE_COLS`` columns per level. A 2-hour file seen whole needs a handful of coarse
tiles (one FFT per column, read by seeking), zoomed in it needs a handful of fine ones; tiles
are computed in the thread pool, kept in an LRU cache, and the GUI thread only copies ready
tiles into the image, so scrolling and zooming stay smooth at any length.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRectF, QThreadPool, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.bridge import run_task
from desktop.ui.widgets import ElidedLabel

N_FFT = 2048
BASE_HOP = 256
TILE_COLS = 256
ROWS = 384  # display rows of the frequency axis
FLOOR_DB, TOP_DB = -110.0, -10.0
SCALES = ("linear", "log", "mel")
MAX_TILES = 160  # ~80 MB of float16 tiles
SPARSE_WINDOWS = 4  # FFT windows averaged per column when columns are far apart


class AudioSource:
    """Mono frames by position; ``key`` names it in the cache."""

    key: str
    sample_rate: int
    frames: int

    def read(self, start: int, count: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class FileSource(AudioSource):
    """Reads a file by seeking, so a 2-hour file is never loaded whole."""

    def __init__(self, path: str | Path) -> None:
        import soundfile as sf

        self.path = str(path)
        info = sf.info(self.path)
        self.key, self.sample_rate, self.frames = self.path, int(info.samplerate), int(info.frames)
        self._local = threading.local()

    def read(self, start: int, count: int) -> np.ndarray:
        import soundfile as sf

        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._local.handle = sf.SoundFile(self.path)
        handle.seek(max(0, start))
        data = handle.read(count, dtype="float32", always_2d=True)
        return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]


class ArraySource(AudioSource):
    def __init__(self, samples: np.ndarray, sample_rate: int, key: str) -> None:
        mono = samples.mean(axis=0) if samples.ndim == 2 else samples
        self.samples = np.asarray(mono, dtype=np.float32)
        self.key, self.sample_rate, self.frames = key, int(sample_rate), len(self.samples)

    def read(self, start: int, count: int) -> np.ndarray:
        return self.samples[max(0, start) : max(0, start) + count]


class GrowingSource(AudioSource):
    """Audio that is still arriving (a recording): appended on the GUI thread, read by tiles."""

    def __init__(self, sample_rate: int, key: str) -> None:
        self.key, self.sample_rate, self.frames = key, int(sample_rate), 0
        self._buffer = np.zeros(sample_rate * 10, np.float32)
        self._blocks = 0  # how many of the recorder's blocks are in already

    def pull(self, audio: Any, cache: Any) -> float | None:
        """Take what ``audio`` (desktop.ui.audio.AudioIO) recorded since the last pull and
        drop the cache's now-stale last tiles; returns the recorded seconds, or None when
        nothing new arrived. The main window and the banking panel both follow recordings
        with this, on a GUI-thread timer."""
        blocks = audio.recorded_blocks(self._blocks)
        if not blocks:
            return None
        self._blocks += len(blocks)
        before = self.frames
        self.append(np.concatenate(blocks))
        cache.forget(self.key, before)
        return self.frames / self.sample_rate

    def append(self, samples: np.ndarray) -> None:
        mono = samples.mean(axis=1) if samples.ndim == 2 else samples
        end = self.frames + len(mono)
        if end > len(self._buffer):
            grown = np.zeros(max(end, 2 * len(self._buffer)), np.float32)
            grown[: self.frames] = self._buffer[: self.frames]
            self._buffer = grown  # tiles still reading the old buffer see the same frames
        self._buffer[self.frames : end] = mono
        self.frames = end

    def read(self, start: int, count: int) -> np.ndarray:
        stop = min(self.frames, max(0, start) + count)
        return self._buffer[max(0, start) : stop].copy()


_WINDOW = np.hanning(N_FFT).astype(np.float32)
_NORM = 2.0 / float(_WINDOW.sum())


def hop_for(level: int) -> int:
    return BASE_HOP << level


def level_for(seconds: float, sample_rate: int, pixels: int) -> int:
    """The coarsest level whose columns are still at least as fine as the pixels."""
    hop = seconds * sample_rate / max(1, pixels)
    return max(0, int(math.floor(math.log2(max(hop, 1) / BASE_HOP)))) if hop > BASE_HOP else 0


def _spectrum(frames: np.ndarray) -> np.ndarray:
    return np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) * _NORM


def _frames_at(source: AudioSource, starts: np.ndarray) -> np.ndarray:
    """One N_FFT window per start frame, read by seeking (zeros outside the audio)."""
    frames = np.zeros((len(starts), N_FFT), np.float32)
    for i, start in enumerate(int(s) for s in starts):
        if start >= source.frames:
            break
        if start <= -N_FFT:  # wholly before the audio: silence
            continue
        chunk = source.read(max(0, start), N_FFT + min(0, start))
        frames[i, max(0, -start) :][: len(chunk)] = chunk
    return frames


def compute_tile(source: AudioSource, level: int, tile: int) -> np.ndarray:
    """dB magnitudes, shape (TILE_COLS, N_FFT//2+1); column c is centred on frame c*hop."""
    hop = hop_for(level)
    centres = (tile * TILE_COLS + np.arange(TILE_COLS)) * hop
    if hop <= 4 * N_FFT:  # dense: one read, strided frames
        start = int(centres[0]) - N_FFT // 2
        block = source.read(max(0, start), TILE_COLS * hop + N_FFT)
        block = np.concatenate([np.zeros(max(0, -start), np.float32), block])
        need = (TILE_COLS - 1) * hop + N_FFT
        if len(block) < need:
            block = np.pad(block, (0, need - len(block)))
        spectrum = _spectrum(np.lib.stride_tricks.sliding_window_view(block, N_FFT)[::hop][:TILE_COLS])
    else:  # sparse: average the power of a few windows spread over each column's span
        offsets = (np.arange(SPARSE_WINDOWS) - (SPARSE_WINDOWS - 1) / 2) * hop / SPARSE_WINDOWS
        power = sum(_spectrum(_frames_at(source, centres + off - N_FFT // 2)) ** 2 for off in offsets)
        spectrum = np.sqrt(power / SPARSE_WINDOWS)
    db = 20.0 * np.log10(np.maximum(spectrum, 1e-7))
    db[centres >= source.frames] = np.nan
    return db.astype(np.float16)


def row_frequencies(scale: str, sample_rate: int) -> np.ndarray:
    nyquist = sample_rate / 2
    if scale == "log":
        return np.geomspace(20.0, nyquist, ROWS)
    if scale == "mel":
        mel = np.linspace(0.0, 2595 * np.log10(1 + nyquist / 700), ROWS)
        return 700 * (10 ** (mel / 2595) - 1)
    return np.linspace(0.0, nyquist, ROWS)


class TileCache(QObject):
    """LRU cache of tiles, filled by the thread pool; ``tile_ready`` when one arrives."""

    tile_ready = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tiles: OrderedDict[tuple, np.ndarray | None] = OrderedDict()
        self.pending: set[tuple] = set()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.wanted: set[tuple] = set()

    def get(self, source: AudioSource, level: int, tile: int) -> np.ndarray | None:
        key = (source.key, level, tile)
        if key in self.tiles:
            self.tiles.move_to_end(key)
            return self.tiles[key]
        if key not in self.pending:
            self.pending.add(key)
            # an unreadable region stays blank
            run_task(lambda: compute_tile(source, level, tile),
                     lambda data, key=key: self._store(key, data),
                     lambda _exc, _details, key=key: self._store(key, None),
                     pool=self.pool, owner=self)
        return None

    def _store(self, key: tuple, data: object) -> None:
        self.pending.discard(key)
        self.tiles[key] = data  # type: ignore[assignment]
        while len(self.tiles) > MAX_TILES:
            self.tiles.popitem(last=False)
        self.tile_ready.emit()

    @property
    def busy(self) -> bool:
        return bool(self.pending)

    def forget(self, source_key: str, from_frame: int) -> None:
        """Drop tiles that reach ``from_frame`` or later (the source grew there)."""
        for key in [k for k in self.tiles if k[0] == source_key]:
            _key, level, tile = key
            if (tile + 1) * TILE_COLS * hop_for(level) + N_FFT // 2 >= from_frame:
                del self.tiles[key]


@dataclass
class Placement:
    """Where a source sits on the timeline: source time = timeline time - start + offset."""

    source: AudioSource
    start_s: float = 0.0
    offset_s: float = 0.0
    length_s: float | None = None
    title: str = ""


def assemble(cache: TileCache, source: AudioSource, t0: float, t1: float, pixels: int,
             scale: str) -> tuple[np.ndarray, float, float, bool]:
    """The image for source seconds [t0, t1): (cols, ROWS) dB, its true time span, complete."""
    level = level_for(t1 - t0, source.sample_rate, pixels)
    hop = hop_for(level)
    total_cols = max(1, math.ceil(source.frames / hop))
    c0 = max(0, int(t0 * source.sample_rate / hop))
    c1 = min(total_cols, int(math.ceil(t1 * source.sample_rate / hop)) + 1)
    c1 = max(c1, c0 + 1)
    freqs = row_frequencies(scale, source.sample_rate)
    bins = np.clip(np.round(freqs / (source.sample_rate / N_FFT)).astype(int), 0, N_FFT // 2)
    image = np.full((c1 - c0, ROWS), FLOOR_DB, np.float32)
    complete = True
    for tile in range(c0 // TILE_COLS, (c1 - 1) // TILE_COLS + 1):
        data = cache.get(source, level, tile)
        if data is None:
            complete = complete and (source.key, level, tile) not in cache.pending
            continue
        a = max(c0, tile * TILE_COLS)
        b = min(c1, (tile + 1) * TILE_COLS)
        part = data[a - tile * TILE_COLS : b - tile * TILE_COLS][:, bins].astype(np.float32)
        image[a - c0 : b - c0] = np.nan_to_num(part, nan=FLOOR_DB)
    return image, c0 * hop / source.sample_rate, c1 * hop / source.sample_rate, complete


class SpectrogramPanel(QWidget):
    """Scale picker, hover readout and the plot (built after the window's first paint)."""

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Spectrogram")
        self.cache = TileCache(self)
        self.cache.tile_ready.connect(self.redraw)
        self.scale_box = QComboBox()
        self.scale_box.addItems(["Linear", "Log", "Mel"])
        self.scale_box.setCurrentIndex(1)
        self.scale_box.setAccessibleName("Frequency scale")
        self.scale_box.setToolTip("Frequency axis: linear, logarithmic or mel")
        self.scale_box.currentIndexChanged.connect(lambda _i: self.redraw(axes=True))
        self.title = ElidedLabel("Select a clip to see its spectrogram")
        self.readout = ElidedLabel("")
        self.readout.setAccessibleName("Spectrogram readout")
        top = QHBoxLayout()
        top.setContentsMargins(6, 2, 6, 2)
        top.addWidget(self.title, 1)
        top.addWidget(self.readout)
        top.addWidget(QLabel("Scale"))
        top.addWidget(self.scale_box)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addLayout(top)
        self.placement: Placement | None = None
        self.view_range: tuple[float, float] = (0.0, 10.0)
        self.playhead_s = 0.0
        self.plot = None
        self._image = None
        self._shown: tuple = ()
        self.complete = False

    @property
    def scale(self) -> str:
        return SCALES[self.scale_box.currentIndex()]

    def ensure_plot(self) -> None:
        """Create the pyqtgraph widgets (importing pyqtgraph costs ~0.5 s, so not at start-up)."""
        if self.plot is not None:
            return
        import pyqtgraph as pg

        from desktop.ui.theme import colors

        c = colors()
        pg.setConfigOptions(imageAxisOrder="col-major", antialias=False)
        self.plot = pg.PlotWidget(background=c.base, axisItems={"bottom": _time_axis()})
        self.plot.setAccessibleName("Spectrogram plot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "Time")
        item.setLabel("left", "Frequency")
        self._image = pg.ImageItem()
        cmap = pg.colormap.get("inferno")
        self._image.setColorMap(cmap)
        item.addItem(self._image)
        self._playhead = pg.InfiniteLine(angle=90, pen=pg.mkPen(c.playhead, width=2))
        item.addItem(self._playhead)
        self.colorbar = pg.ColorBarItem(values=(FLOOR_DB, TOP_DB), colorMap=cmap, label="dB",
                                        interactive=False, width=12)
        self.colorbar.setImageItem(self._image, insert_in=item)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.box.addWidget(self.plot, 1)
        self.apply_theme()
        self.redraw(axes=True)

    def apply_theme(self) -> None:
        """Follow the app's theme (pyqtgraph does not read the Qt palette)."""
        if self.plot is None:
            return
        from desktop.ui.theme import colors

        c = colors()
        self.plot.setBackground(c.base)
        for name in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setPen(c.dim_text)
            axis.setTextPen(c.text)
        self.colorbar.axis.setPen(c.dim_text)
        self.colorbar.axis.setTextPen(c.text)
        self._playhead.setPen(c.playhead, width=2)

    def set_placement(self, placement: Placement | None) -> None:
        self.placement = placement
        self.title.setText(placement.title if placement else "Select a clip to see its spectrogram")
        self.redraw(axes=True)

    def set_view(self, t0: float, t1: float) -> None:
        if t1 - t0 < 1e-3:
            t1 = t0 + 1e-3
        if (t0, t1) != self.view_range:
            self.view_range = (t0, t1)
            self.redraw()

    def set_playhead(self, seconds: float, follow: bool = False) -> None:
        self.playhead_s = seconds
        t0, t1 = self.view_range
        if follow and not t0 <= seconds <= t1:
            span = t1 - t0
            self.set_view(seconds - 0.1 * span, seconds + 0.9 * span)
        if self.plot is not None:
            self._playhead.setPos(seconds)

    def redraw(self, axes: bool = False) -> None:
        if self.plot is None:
            return
        p = self.placement
        t0, t1 = self.view_range
        item = self.plot.getPlotItem()
        if axes:
            self._frequency_ticks()
        item.setXRange(t0, t1, padding=0)
        item.setYRange(0, ROWS, padding=0)
        self._playhead.setPos(self.playhead_s)
        if p is None:
            self._image.clear()
            self.complete = True
            return
        # the part of the view that shows this source, in source seconds
        end_s = p.start_s + (p.length_s if p.length_s is not None else p.source.frames / p.source.sample_rate - p.offset_s)
        v0, v1 = max(t0, p.start_s), min(t1, end_s)
        if v1 <= v0:
            self._image.clear()
            self.complete = True
            return
        pixels = max(50, int(self.plot.width() * (v1 - v0) / (t1 - t0)))
        s0, s1 = v0 - p.start_s + p.offset_s, v1 - p.start_s + p.offset_s
        image, a, b, self.complete = assemble(self.cache, p.source, s0, s1, pixels, self.scale)
        self._image.setImage(image, levels=(FLOOR_DB, TOP_DB), autoLevels=False)
        # never draw beyond the clip's own edges
        x0 = a + p.start_s - p.offset_s
        x1 = b + p.start_s - p.offset_s
        self._image.setRect(QRectF(x0, 0, x1 - x0, ROWS))
        self._shown = (a, b, image)

    def _frequency_ticks(self) -> None:
        rate = self.placement.source.sample_rate if self.placement else 48_000
        freqs = row_frequencies(self.scale, rate)
        ticks = []
        for f in (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000):
            if freqs[0] <= f <= freqs[-1]:
                row = float(np.interp(f, freqs, np.arange(ROWS)))
                ticks.append((row, f"{f // 1000}k" if f >= 1000 else str(f)))
        # keep labels at least 18 px apart
        if self.plot is not None:
            min_gap = 18 * ROWS / max(100, self.plot.height())
            kept: list[tuple[float, str]] = []
            for t in ticks:
                if not kept or t[0] - kept[-1][0] >= min_gap:
                    kept.append(t)
            self.plot.getPlotItem().getAxis("left").setTicks([kept, []])

    def readout_at(self, t: float, row: float) -> str:
        """'time, frequency, level' under a point of the plot, as the hover label says."""
        if not self._shown or self.placement is None:
            return ""
        a, b, image = self._shown
        p = self.placement
        s = t - p.start_s + p.offset_s
        if not a <= s < b or not 0 <= row < ROWS:
            return ""
        col = int((s - a) / (b - a) * image.shape[0])
        freq = float(row_frequencies(self.scale, p.source.sample_rate)[int(row)])
        db = float(image[min(col, image.shape[0] - 1), int(row)])
        return f"{t:.3f} s · {freq:,.0f} Hz · {db:.0f} dB"

    def _hover(self, pos) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        point = vb.mapSceneToView(pos)
        self.readout.setText(self.readout_at(point.x(), point.y()))


def _time_axis():
    """A bottom axis labelled like the timeline ruler (m:ss, h:mm:ss), not in kiloseconds."""
    import pyqtgraph as pg

    from desktop.ui.timeline_canvas import format_time

    class TimeAxis(pg.AxisItem):
        def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
            return [format_time(v * scale, precise=spacing * scale < 1) for v in values]

    return TimeAxis(orientation="bottom")


def placement_for_clip(project, clip, name: str) -> Placement:
    """A timeline clip as a spectrogram placement, reading the take's file by seeking."""
    take = project.take(clip.take_id)
    rate = project.sample_rate
    source = FileSource(project.audio_path(take.audio_sha256))
    return Placement(source, clip.start_frame / rate, clip.offset_frame / rate,
                     clip.length_frames / rate, f"Spectrogram · {name}")
