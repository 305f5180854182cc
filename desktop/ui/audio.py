"""Playback and recording through sounddevice (PortAudio), with levels for the meters.

Why the probe is separate and lazy: importing sounddevice loads PortAudio, which scans the
sound system; that happens after the window is painted, and a machine without a sound card
(or without libportaudio) gets a banner and a studio that works for everything else.
The audio callback only copies arrays and stores levels; the GUI reads them on a timer.

Playback streams: a producer thread renders the audio (the timeline's mix, block by block)
into a small bounded queue just ahead of the callback, which only copies from it. So sound
starts after one block is rendered, memory stays a few blocks whatever the project's length,
and mixing never runs on PortAudio's real-time thread.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.ui.theme import colors
from engines.audio import AudioClip
from engines.stream import AudioStream

BLOCK = 1024
AHEAD_BLOCKS = 8  # rendered blocks waiting for the callback: ~1.6 s of the timeline's mix
# The device starts once the first block is rendered (usually milliseconds), so playback
# does not open with a period of silence; past this wait it starts anyway.
FIRST_BLOCK_WAIT_S = 1.0
TAP_BLOCKS = 240  # blocks kept for the loudness meter (~5 s): it catches up after a GUI stall


class _End:
    """Queued after the last block; carries the producer's error, if it failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Producer:
    """Renders blocks into a bounded queue on its own thread until they end or ``stop``.

    ``put`` waits while the queue is full, so at most :data:`AHEAD_BLOCKS` blocks exist
    at once; it wakes every 50 ms to notice ``stop``, so stopping never waits on a full queue.
    """

    def __init__(self, blocks: Iterable[np.ndarray], channels: int) -> None:
        self.queue: queue.Queue[np.ndarray | _End] = queue.Queue(AHEAD_BLOCKS)
        self._blocks, self._channels = blocks, channels
        self._stop = threading.Event()
        self.ready = threading.Event()  # the first block (or the end) is queued
        self._thread = threading.Thread(target=self._run, name="playback-producer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        end = _End()
        try:
            for block in self._blocks:
                # (frames, channels) and contiguous: the callback's copy is then one memcpy
                frames = np.ascontiguousarray(block[: self._channels].T, np.float32)
                if not self._put(frames):
                    return
        except Exception as exc:  # noqa: BLE001 - a failed render ends playback with a message
            end = _End(exc)
        self._put(end)

    def _put(self, item: np.ndarray | _End) -> bool:
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                self.ready.set()
                return True
            except queue.Full:
                continue
        return False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class AudioIO(QObject):
    finished = Signal()  # playback reached the end or was stopped
    failed = Signal(str)  # rendering what was playing failed (it stopped)
    recorded = Signal(object)  # AudioClip
    told = Signal(str)  # a sentence for the user (the chosen device is not connected)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = False
        self.has_input = False  # a microphone (default input device) was found
        self.reason = "Audio has not been checked yet."
        self._sd = None
        self._stream = None
        self._lock = threading.Lock()
        self._producer: _Producer | None = None
        self._block: np.ndarray | None = None  # (frames, channels), the one being played
        self._block_pos = 0
        self._error: BaseException | None = None
        self._pos = 0
        self.rate = 48_000
        self.level = 0.0  # peak of the last block, 0..1
        self._recorded: list[np.ndarray] = []
        self.recording = False
        # What the device played, (frames, channels) copies, for the loudness
        # meter (desktop.ui.meter), which drains it on the GUI thread; the callback only appends.
        # Bounded to ~5 s of blocks: only a GUI stalled longer, or a device far faster than
        # real time (a file, a network sink), loses meter readings.
        self.tap: deque[np.ndarray] = deque(maxlen=TAP_BLOCKS)
        self.channels = 2
        self.serial = 0  # counts streams started: the meter starts afresh on a new one
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check_done)

    def probe(self) -> bool:
        """Find an output device; on failure keep the reason for the banner."""
        from engines.sound_devices import NO_PORTAUDIO

        try:
            import sounddevice as sd
        except OSError as exc:
            self.reason = NO_PORTAUDIO.format(error=exc)
            return False
        self._sd = sd
        devices = self.devices()
        if not devices.of("output"):
            self.reason = ("No audio output device was found, so playback and recording are "
                           "off. Everything else works; export to hear your mix.")
            return False
        self.has_input = bool(devices.of("input"))  # no microphone: playback still works
        self.available, self.reason = True, ""
        return True

    def devices(self):
        """The sound devices now (engines.sound_devices.DeviceList)."""
        from engines.sound_devices import list_devices

        return list_devices()

    def device_for(self, kind: str) -> int | None:
        """The device Preferences chose for ``kind`` ("input"/"output"), found by name;
        one not connected falls back to the default, and ``told`` says so."""
        from engines.settings import get_setting
        from engines.sound_devices import resolve

        index, note = resolve(kind, get_setting(f"audio/{kind}_device"))  # type: ignore[arg-type]
        if note:
            self.told.emit(note)
        return index

    # ---- playback ------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._stream is not None and not self.recording

    @property
    def position(self) -> int:
        """Frames played since ``play`` started."""
        return self._pos

    def play(self, clip: AudioClip) -> None:
        """Play a clip held in memory (a take's audition): streamed like the mix."""
        self.play_stream(AudioStream.from_clip(clip.with_channels(min(2, clip.channels))))

    def play_stream(self, stream: AudioStream) -> None:
        """Play ``stream`` (at most stereo) rendered block by block just ahead of the device."""
        self.stop()
        if not self.available or self._sd is None:
            raise RuntimeError(self.reason)
        channels = min(2, stream.channels)
        producer = _Producer(stream.blocks(), channels)
        with self._lock:
            self._producer = producer
            self._block, self._block_pos, self._error = None, 0, None
        producer.ready.wait(FIRST_BLOCK_WAIT_S)
        self._pos = 0
        self.rate, self.channels = stream.sample_rate, channels
        self.tap.clear()
        self.serial += 1
        try:
            self._stream = self._sd.OutputStream(
                samplerate=stream.sample_rate, channels=channels, blocksize=BLOCK,
                dtype="float32", callback=self._out_callback, device=self.device_for("output"),
            )
            self._stream.start()
        except Exception:
            self._stop_producer()
            raise
        self._poll.start()

    def _next_block(self, wait: float) -> np.ndarray | None:
        """The next rendered block, waiting up to ``wait`` s; None at the end or if late."""
        producer = self._producer
        if producer is None:
            return None
        try:
            item = producer.queue.get(timeout=wait)
        except queue.Empty:
            return None  # an underrun: the producer is late, this period gets silence
        if isinstance(item, _End):
            self._error, self._producer = item.error, None
            return None
        return item

    def _out_callback(self, outdata, frames, _time, _status) -> None:
        """Copy ``frames`` frames from the queue. Waits at most one period for a late block
        (then that period is silence): the device would miss its deadline anyway, and
        a file or network device that is not paced in real time gets every sample."""
        with self._lock:
            filled = 0
            while filled < frames:
                if self._block is None or self._block_pos >= len(self._block):
                    self._block, self._block_pos = self._next_block(frames / self.rate), 0
                    if self._block is None:
                        break
                n = min(frames - filled, len(self._block) - self._block_pos)
                outdata[filled : filled + n] = self._block[self._block_pos : self._block_pos + n]
                self._block_pos += n
                filled += n
            outdata[filled:] = 0
            self._pos += filled
            if filled:
                self.tap.append(outdata[:filled].copy())
            self.level = float(np.abs(outdata[:filled]).max()) if filled else 0.0
            if self._producer is None and self._block is None:
                raise self._sd.CallbackStop

    def _stop_producer(self) -> None:
        with self._lock:
            producer, self._producer, self._block = self._producer, None, None
        if producer is not None:
            producer.stop()

    def _check_done(self) -> None:
        if self._stream is not None and not self._stream.active:
            error, self._error = self._error, None
            self.stop()
            if error is not None:
                self.failed.emit(f"Playback stopped: {error}")

    def stop(self) -> None:
        self._poll.stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - a vanished device must not break stopping
                pass
        self._stop_producer()
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
            callback=self._in_callback, device=self.device_for("input"),
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
