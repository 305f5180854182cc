"""Playback and recording through sounddevice (PortAudio), with levels for the meters.

Why the probe is separate and lazy: importing sounddevice loads PortAudio, which scans the
sound system; that happens after the window is painted, and a machine without a sound card
(or without libportaudio) gets a banner and a studio that works for everything else.
The audio callback only copies arrays and stores levels; the GUI reads them on a timer.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.ui.theme import colors
from engines.audio import AudioClip

BLOCK = 1024


class AudioIO(QObject):
    finished = Signal()  # playback reached the end or was stopped
    recorded = Signal(object)  # AudioClip

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = False
        self.has_input = False  # a microphone (default input device) was found
        self.reason = "Audio has not been checked yet."
        self._sd = None
        self._stream = None
        self._lock = threading.Lock()
        self._play: np.ndarray | None = None  # (frames, channels)
        self._pos = 0
        self.rate = 48_000
        self.level = 0.0  # peak of the last block, 0..1
        self._recorded: list[np.ndarray] = []
        self.recording = False
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check_done)

    def probe(self) -> bool:
        """Find a default output device; on failure keep the reason for the banner."""
        try:
            import sounddevice as sd
        except OSError as exc:
            self.reason = (f"No audio: the PortAudio library could not be loaded ({exc}). "
                           "Install libportaudio2 to play and record; everything else works.")
            return False
        self._sd = sd
        try:
            sd.query_devices(kind="output")
        except Exception:  # noqa: BLE001 - PortAudio raises plain errors for "no device"
            self.reason = ("No audio output device was found, so playback and recording are "
                           "off. Everything else works; export to hear your mix.")
            return False
        try:
            sd.query_devices(kind="input")
            self.has_input = True
        except Exception:  # noqa: BLE001 - no microphone: playback still works
            self.has_input = False
        self.available, self.reason = True, ""
        return True

    # ---- playback ------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._stream is not None and not self.recording

    @property
    def position(self) -> int:
        """Frames played since ``play`` started."""
        return self._pos

    def play(self, clip: AudioClip) -> None:
        self.stop()
        if not self.available or self._sd is None:
            raise RuntimeError(self.reason)
        channels = min(2, clip.channels)
        self._play = np.ascontiguousarray(clip.with_channels(channels).samples.T)
        self._pos = 0
        self.rate = clip.sample_rate
        self._stream = self._sd.OutputStream(
            samplerate=clip.sample_rate, channels=channels, blocksize=BLOCK,
            dtype="float32", callback=self._out_callback,
        )
        self._stream.start()
        self._poll.start()

    def _out_callback(self, outdata, frames, _time, _status) -> None:
        with self._lock:
            data = self._play
            if data is None:
                outdata.fill(0)
                raise self._sd.CallbackStop
            chunk = data[self._pos : self._pos + frames]
            outdata[: len(chunk)] = chunk
            outdata[len(chunk):] = 0
            self._pos += len(chunk)
            self.level = float(np.abs(chunk).max()) if len(chunk) else 0.0
            if len(chunk) < frames:
                raise self._sd.CallbackStop

    def _check_done(self) -> None:
        if self._stream is not None and not self._stream.active:
            self.stop()

    def stop(self) -> None:
        self._poll.stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - a vanished device must not break stopping
                pass
        with self._lock:
            self._play = None
        self.level = 0.0
        if self.recording:
            self.recording = False
            if self._recorded:
                data = np.concatenate(self._recorded)
                self._recorded = []
                self.recorded.emit(AudioClip(data.T, self.rate))
        elif stream is not None:
            self.finished.emit()

    # ---- recording -----------------------------------------------------------------
    def record(self, rate: int = 48_000, channels: int = 1) -> None:
        self.stop()
        if not self.available or self._sd is None:
            raise RuntimeError(self.reason)
        self._recorded, self.recording, self.rate, self._pos = [], True, rate, 0
        self._stream = self._sd.InputStream(
            samplerate=rate, channels=channels, blocksize=BLOCK, dtype="float32",
            callback=self._in_callback,
        )
        self._stream.start()

    def recorded_blocks(self, since: int) -> list[np.ndarray]:
        """Blocks captured after the first ``since`` ones (the list only grows while recording)."""
        return self._recorded[since:]

    def _in_callback(self, indata, frames, _time, _status) -> None:
        self._recorded.append(indata.copy())
        self._pos += frames
        self.level = float(np.abs(indata).max()) if frames else 0.0


class LevelMeter(QWidget):
    """A horizontal peak meter in dBFS (−60…0), read from ``AudioIO.level`` on a timer."""

    def __init__(self, audio: AudioIO) -> None:
        super().__init__()
        self.audio = audio
        self.setAccessibleName("Level meter")
        self.setToolTip("Peak level of what is playing or recording")
        self.setFixedSize(140, 14)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.db = -60.0
        timer = QTimer(self)
        timer.setInterval(50)
        timer.timeout.connect(self._tick)
        timer.start()

    def _tick(self) -> None:
        level = self.audio.level
        db = 20 * np.log10(level) if level > 1e-6 else -60.0
        new = max(db, self.db - 1.5)  # fall slowly, rise at once
        if abs(new - self.db) > 0.05:
            self.db = max(-60.0, new)
            self.setAccessibleDescription(f"{self.db:.0f} dB")
            self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        c = colors()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(c.base))
        frac = (self.db + 60) / 60
        w = self.width() * frac
        colour = "#3cb371" if self.db < -12 else "#e0b000" if self.db < -3 else "#e04040"
        p.fillRect(QRectF(0, 0, w, self.height()), QColor(colour))
        p.setPen(QColor(c.grid))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.setPen(QColor(c.text))
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "" if self.db <= -59.9 else f"{self.db:.0f} dB")
        p.end()
