"""A sound system for tests, faked at the sounddevice boundary only: its device list and
its two stream classes. Everything above (engines.sound_devices, AudioIO, the meter, the
Preferences dialog) is the real code. The streams run the real callbacks on a thread,
faster than real time (output paced at SPEED×, as a device paces it); an output stream
keeps what it was given."""

from __future__ import annotations

import threading

import numpy as np

HOSTAPIS = ({"name": "ALSA"},)
SPEED = 2  # an output stream plays this many times faster than real time


def device(index: int, name: str, inputs: int = 0, outputs: int = 0) -> dict:
    return {"index": index, "name": name, "hostapi": 0, "max_input_channels": inputs,
            "max_output_channels": outputs, "default_samplerate": 48000.0}


# A laptop's own card, HDMI out and a USB microphone with a long name, as PortAudio lists them.
LAPTOP = [
    device(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", inputs=2, outputs=2),
    device(1, "HDA Intel PCH: HDMI 0 (hw:0,3)", outputs=8),
    device(2, "Blue Yeti Stereo Microphone USB Audio Class 2.0 Device: Audio (hw:2,0)", inputs=2, outputs=2),
    device(3, "default", inputs=32, outputs=32),
]


class FakeStream:
    """sounddevice's InputStream/OutputStream as AudioIO uses them."""

    opened: list[FakeStream] = []
    signal = 0.25  # the recorded sine's amplitude

    def __init__(self, output: bool, **kw) -> None:
        self.output, self.kw = output, kw
        self.played: list[np.ndarray] = []
        self.active = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        FakeStream.opened.append(self)

    def start(self) -> None:
        self.active = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import sounddevice as sd

        n, channels, callback = self.kw["blocksize"], self.kw["channels"], self.kw["callback"]
        pos = 0
        try:
            while not self._stop.is_set():
                if self.output:
                    buf = np.zeros((n, channels), np.float32)
                    try:
                        callback(buf, n, None, None)
                    finally:
                        self.played.append(buf)
                    self._stop.wait(n / self.kw["samplerate"] / SPEED)  # paced, as a device is
                else:
                    t = (pos + np.arange(n)) / self.kw["samplerate"]
                    block = (self.signal * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
                    callback(np.repeat(block[:, None], channels, axis=1), n, None, None)
                    pos += n
                    self._stop.wait(0.002)
        except sd.CallbackStop:
            pass
        self.active = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def close(self) -> None:
        pass


def install(monkeypatch, devices: list[dict], default: tuple[int, int] = (3, 3)) -> type[FakeStream]:
    """Make ``devices`` the machine's sound devices (``default``: PortAudio's default
    input and output numbers, −1 for none)."""
    import sounddevice as sd

    FakeStream.opened = []
    def query_devices(device=None, kind=None):
        if kind is None and device is None:
            return [dict(d) for d in devices]
        wanted = device if device is not None else default[0 if kind == "input" else 1]
        found = [dict(d) for d in devices if d["index"] == wanted]
        if not found:
            raise sd.PortAudioError(f"Error querying device {wanted}")
        return found[0]

    monkeypatch.setattr(sd, "query_devices", query_devices)
    monkeypatch.setattr(sd, "query_hostapis", lambda *a, **k: HOSTAPIS)
    monkeypatch.setattr(sd.default, "device", [-1, -1])  # as PortAudio starts: it decides
    monkeypatch.setattr(sd, "OutputStream", lambda **kw: FakeStream(True, **kw))
    monkeypatch.setattr(sd, "InputStream", lambda **kw: FakeStream(False, **kw))
    return FakeStream
