"""The loudness panel: momentary, short-term and integrated LUFS and true peak, live while
the studio plays, and for the selection (or the whole mix) on demand.

Numbers come from :class:`engines.loudness.LiveLoudness`, the same K-weighting and gating
that export and mastering use, so what the panel says is what an export to that target
does. Live: the audio callback only copies what the device played into
``AudioIO.tap``; a 100 ms timer here drains it on the GUI thread (a filter pass over
100 ms of audio is well under a millisecond). On demand: the selection's mix is rendered
block by block in the background (:func:`desktop.bridge.run_task`), with progress and
cancel, never held whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.bridge import run_task
from desktop.ui.audio import AudioIO
from desktop.ui.theme import colors
from desktop.ui.widgets import ElidedLabel
from engines.cancel import Progress
from engines.loudness import LiveLoudness

TICK_MS = 100
FEED_BLOCKS = 48  # device blocks fed to the meter per tick at most (~1 s of audio)
FLOOR = -60.0  # the bars' left end, LUFS or dBTP


def words(value: float, unit: str = "LUFS") -> str:
    """A reading as people write it: "−16.2 LUFS", or "—" for silence."""
    if not math.isfinite(value) or value <= FLOOR - 10:
        return "—"
    return f"{value:.1f} {unit}".replace("-", "−")


def clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


class MeterBar(QWidget):
    """One horizontal bar from −60 to 0 with its reading written on it; a target line
    (the export preset's LUFS) where one is set."""

    def __init__(self, name: str, unit: str = "LUFS") -> None:
        super().__init__()
        self.name, self.unit = name, unit
        self.value = float("-inf")
        self.target: float | None = None
        self.setMinimumSize(110, 16)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(f"{name} loudness" if unit == "LUFS" else name)

    def set_value(self, value: float) -> None:
        if value != self.value:
            self.value = value
            self.setAccessibleDescription(words(value, self.unit))
            self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        c = colors()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(c.base))
        # the reading in a column of its own, on the background: legible over any bar colour
        text_w = self.fontMetrics().horizontalAdvance("−99.9 LUFS") + 6
        bar_w = max(10, self.width() - text_w)
        if math.isfinite(self.value):
            frac = min(1.0, max(0.0, (self.value - FLOOR) / -FLOOR))
            hot = -1.0 if self.unit == "dBTP" else -9.0
            colour = "#3cb371" if self.value < hot - 6 else "#e0b000" if self.value < hot else "#e04040"
            p.fillRect(QRectF(0, 0, bar_w * frac, self.height()), QColor(colour))
        if self.target is not None:
            x = bar_w * (self.target - FLOOR) / -FLOOR
            p.setPen(QColor(c.text))
            p.drawLine(int(x), 0, int(x), self.height())
        p.setPen(QColor(c.grid))
        p.drawRect(QRectF(0, 0, bar_w - 1, self.height() - 1))
        p.setPen(QColor(c.text))
        p.drawText(self.rect().adjusted(bar_w, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                   words(self.value, self.unit))
        p.end()


class LoudnessPanel(QWidget):
    """The Loudness dock. ``selection()`` gives ``(stream, what)`` for the selection's mix
    (or the whole mix) to measure, or a sentence saying why there is nothing to measure."""

    def __init__(self, audio: AudioIO, selection: Callable[[], tuple[object, str] | str]) -> None:
        super().__init__()
        self.audio = audio
        self.selection = selection
        self.meter: LiveLoudness | None = None
        self._serial = -1
        self.task = None  # the selection measure running, if any
        self.result: dict[str, float] | None = None  # the last selection measure

        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        self.bars: dict[str, MeterBar] = {}
        for row, (key, name, unit, tip) in enumerate((
            ("momentary", "Momentary", "LUFS", "Loudness of the last 0.4 s"),
            ("short_term", "Short-term", "LUFS", "Loudness of the last 3 s"),
            ("integrated", "Integrated", "LUFS", "Loudness of everything since play started (gated, as export measures it)"),
            ("true_peak", "True peak", "dBTP", "Highest peak between samples since play started; keep it under −1 dBTP"),
        )):
            label = QLabel(name)
            label.setToolTip(tip)
            bar = MeterBar(name, unit)
            bar.setToolTip(tip)
            grid.addWidget(label, row, 0)
            grid.addWidget(bar, row, 1)
            self.bars[key] = bar
        grid.setColumnStretch(1, 1)

        self.state = ElidedLabel("Play, or measure the selection.")
        self.state.setAccessibleName("Loudness meter state")
        self.measure_button = QPushButton("Measure selection")
        self.measure_button.setAccessibleName("Measure the selection's loudness")
        self.measure_button.setToolTip("Integrated and loudest momentary and short-term loudness, "
                                       "and true peak, of the selection's mix (the whole mix when "
                                       "nothing is selected)")
        self.measure_button.clicked.connect(self.measure)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Clear the readings (a new playback clears them too)")
        self.reset_button.clicked.connect(self.reset)
        buttons = QHBoxLayout()
        buttons.addWidget(self.measure_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)  # tight: the panel shares the bottom row with the spectrogram
        column.setContentsMargins(6, 4, 6, 4)
        column.setSpacing(4)
        column.addLayout(grid)
        column.addWidget(self.state)
        column.addLayout(buttons)
        column.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # ---- live ----------------------------------------------------------------------
    def tick(self) -> None:
        """Feed what the device played since the last tick; show the readings."""
        audio = self.audio
        if audio.serial != self._serial and audio.tap:
            self._serial = audio.serial
            self.meter = LiveLoudness(audio.rate, audio.channels)
            self.show_target()
        blocks = []
        # what is there now (the callback keeps appending), at most ~1 s a tick: after a stall
        # the meter catches up over a few ticks instead of stalling the GUI in turn
        for _ in range(min(len(audio.tap), FEED_BLOCKS)):
            try:
                blocks.append(audio.tap.popleft())
            except IndexError:
                break
        meter = self.meter
        blocks = [b for b in blocks if meter is not None and b.shape[1] == meter.channels]
        fed = bool(blocks)
        if meter is not None and fed:  # one feed per tick: the true-peak filter runs 10× a second
            meter.feed(np.concatenate(blocks).T)
        if fed:
            self.show_live()
        if self.meter is not None and not audio.playing and not audio.tap and self._serial == audio.serial:
            stopped = f"Stopped · {clock(self.meter.seconds)} measured"
            if self.state.text() != stopped:  # not every tick: the readings stay until the next play
                self.state.setText(stopped)

    def show_live(self) -> None:
        meter = self.meter
        if meter is None:
            return
        self.bars["momentary"].set_value(meter.momentary())
        self.bars["short_term"].set_value(meter.short_term())
        self.bars["integrated"].set_value(meter.integrated())
        self.bars["true_peak"].set_value(meter.true_peak_so_far())
        self.state.setText(f"Playing · {clock(meter.seconds)} measured")

    def show_target(self) -> None:
        """A line on the loudness bars at the export loudness chosen in Preferences."""
        from engines.podcast.presets import PRESETS
        from engines.settings import get_setting

        preset = PRESETS.get(str(get_setting("export/loudness_preset")))
        for key in ("momentary", "short_term", "integrated"):
            self.bars[key].target = preset.lufs if preset is not None else None
            self.bars[key].setToolTip(self.bars[key].toolTip().split(" · target")[0]
                                      + (f" · target {words(preset.lufs)} ({preset.label})" if preset else ""))
            self.bars[key].update()

    def reset(self) -> None:
        self.meter = None
        self._serial = -1  # the next block played starts a fresh meter
        for bar in self.bars.values():
            bar.set_value(float("-inf"))
        self.state.setText("Play, or measure the selection.")

    # ---- the selection, on demand --------------------------------------------------
    def measure(self) -> None:
        """Measure the selection's mix in the background; the button cancels it."""
        if self.task is not None:
            self.task.cancel()
            return
        got = self.selection()
        if isinstance(got, str):
            self.state.setText(got)
            return
        stream, what = got

        def work(progress, cancel) -> dict[str, float]:
            meter = LiveLoudness(stream.sample_rate, stream.channels)
            done = 0
            for block in stream.blocks():
                cancel.check()
                meter.feed(block)
                done += block.shape[1]
                progress(Progress(done, stream.frames, "measuring"))
            return meter.summary()

        def finished(result: dict[str, float]) -> None:
            self.task = None
            self.measure_button.setText("Measure selection")
            self.show_result(what, result)

        def failed(exc: BaseException, _details: str) -> None:
            from engines.errors import Cancelled

            self.task = None
            self.measure_button.setText("Measure selection")
            self.state.setText("Measuring cancelled." if isinstance(exc, Cancelled)
                               else f"Could not measure: {exc}")

        def moved(p: Progress) -> None:
            self.state.setText(f"Measuring {what}… {p.fraction:.0%}")

        self.measure_button.setText("Cancel measuring")
        self.state.setText(f"Measuring {what}…")
        self.task = run_task(work, finished, failed, progress=moved, owner=self)

    def show_result(self, what: str, result: dict[str, float]) -> None:
        """The selection's numbers in the bars (momentary and short-term: the loudest
        moments), until playback measures again."""
        self.result = result
        self.meter, self._serial = None, self.audio.serial
        self.show_target()
        self.bars["momentary"].set_value(result["momentary_max"])
        self.bars["short_term"].set_value(result["short_term_max"])
        self.bars["integrated"].set_value(result["integrated"])
        self.bars["true_peak"].set_value(result["true_peak"])
        self.state.setText(f"{what}: {words(result['integrated'])}; momentary and short-term "
                           "show the loudest moments")
        self.state.setToolTip(
            f"{what}: {words(result['integrated'])} integrated · loudest momentary "
            f"{words(result['momentary_max'])} · loudest short-term {words(result['short_term_max'])} · "
            f"true peak {words(result['true_peak'], 'dBTP')}")


def selection_measure(project, view) -> tuple[object, str] | str:
    """The selection's mix as a stream (the whole mix when nothing is selected), and
    words for it; or why there is nothing to measure."""
    from engines.mixing import mix_stream

    if project is None or view is None:
        return "Open a project to measure its loudness."
    if not project.clips():
        return "There is nothing on the timeline to measure yet."
    rate = project.sample_rate
    if view.selection is not None:
        start, end = view.selection
        what = f"Selection {clock(start / rate)}–{clock(end / rate)}"
    else:
        start, end, what = 0, None, "Whole mix"
    stream = mix_stream(project.mix_tracks(), rate, project.channels, start=start, end=end)
    return stream, what
