"""Sound cards, microphones and speakers (PortAudio, through sounddevice), by name.

Why names and not PortAudio's numbers: the numbers change when a USB microphone is
plugged in or the computer restarts, so Preferences stores the device's name and it is
found again here each time a stream opens. A stored device that is not connected falls
back to the system default, with a sentence saying so, rather than failing to play.
No sound system at all (no PortAudio library, no device) is a state with a reason, not
an error: the studio works for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class SoundDevice:
    index: int  # PortAudio's number, valid until the device list changes
    name: str
    hostapi: str  # ALSA, PulseAudio, Core Audio, WASAPI, …
    inputs: int
    outputs: int
    default_rate: float
    default: bool = False  # the system default for the kind it was listed for

    def channels(self, kind: Kind) -> int:
        return self.inputs if kind == "input" else self.outputs

    @property
    def label(self) -> str:
        return f"{self.name} ({self.hostapi})" if self.hostapi else self.name


@dataclass(frozen=True)
class DeviceList:
    devices: tuple[SoundDevice, ...] = ()
    reason: str = ""  # why there are none, for the Preferences dialog and the banner
    default_input: int = -1
    default_output: int = -1

    def of(self, kind: Kind) -> list[SoundDevice]:
        """The devices that can ``kind`` (record or play), the system default first."""
        default = self.default_input if kind == "input" else self.default_output
        found = [d for d in self.devices if d.channels(kind) > 0]
        return sorted(found, key=lambda d: d.index != default)


NO_PORTAUDIO = ("No audio: the PortAudio library could not be loaded ({error}). Install "
                "libportaudio2 to play and record; everything else works.")
NO_DEVICES = "No sound devices were found (no sound card, or the sound system is not running)."


def list_devices(rescan: bool = False) -> DeviceList:
    """Every input and output device PortAudio knows. PortAudio lists the devices once, when
    it starts; ``rescan`` restarts it to find one plugged in since, which would cut off a
    stream that is open, so only ask for it when nothing plays or records."""
    try:
        import sounddevice as sd
    except OSError as exc:
        return DeviceList(reason=NO_PORTAUDIO.format(error=exc))
    if rescan:
        try:
            sd._terminate()
            sd._initialize()
        except Exception as exc:  # noqa: BLE001 - PortAudio raises plain errors
            return DeviceList(reason=f"The sound system could not be restarted: {exc}.")
    try:
        raw = list(sd.query_devices())
        hostapis = [h.get("name", "") for h in sd.query_hostapis()]
    except Exception as exc:  # noqa: BLE001 - PortAudio raises plain errors
        return DeviceList(reason=f"The sound devices could not be listed: {exc}.")
    default_in, default_out = _defaults(sd)
    devices = tuple(
        SoundDevice(
            index=int(d.get("index", i)), name=str(d.get("name", f"Device {i}")),
            hostapi=hostapis[d["hostapi"]] if 0 <= d.get("hostapi", -1) < len(hostapis) else "",
            inputs=int(d.get("max_input_channels", 0)), outputs=int(d.get("max_output_channels", 0)),
            default_rate=float(d.get("default_samplerate", 48000.0)),
            default=int(d.get("index", i)) in (default_in, default_out))
        for i, d in enumerate(raw))
    return DeviceList(devices, "" if devices else NO_DEVICES, default_in, default_out)


def _defaults(sd) -> tuple[int, int]:
    """The default input and output numbers: sounddevice's own default where a program set
    one, else PortAudio's (``-1`` in ``sd.default.device`` means "PortAudio decides")."""
    try:
        pair = [int(sd.default.device[0]), int(sd.default.device[1])]
    except (TypeError, ValueError, IndexError):
        pair = [-1, -1]
    for i, kind in enumerate(("input", "output")):
        if pair[i] < 0:
            try:
                pair[i] = int(sd.query_devices(kind=kind)["index"])
            except Exception:  # noqa: BLE001 - PortAudio raises plain errors for "no default"
                pair[i] = -1
    return pair[0], pair[1]


def resolve(kind: Kind, name: str | None, devices: DeviceList | None = None) -> tuple[int | None, str]:
    """PortAudio's number for the device named ``name`` (None: the system default, or the
    first device of the kind when there is no default), and a sentence when the named one
    is not connected (then the default is used)."""
    devices = devices if devices is not None else list_devices()
    found = devices.of(kind)
    if name:
        for d in found:
            if d.name == name:
                return d.index, ""
    default = devices.default_input if kind == "input" else devices.default_output
    index = default if default >= 0 else (found[0].index if found else None)
    if not name:
        return index, ""
    what = "microphone" if kind == "input" else "output"
    instead = "the system default" if default >= 0 else (f"'{found[0].name}'" if found else "no device")
    return index, (f"The {what} chosen in Preferences, '{name}', is not connected; using {instead}. "
                   "Plug it in, or choose another in Edit › Preferences.")
