"""Sound devices found by name (engines.sound_devices), the sounddevice list faked."""

from __future__ import annotations

from engines.sound_devices import list_devices, resolve
from tests.ui import fake_sound


def test_devices_are_found_by_name_and_a_missing_one_falls_back_with_a_sentence(monkeypatch):
    fake_sound.install(monkeypatch, fake_sound.LAPTOP, default=(-1, -1))  # no default device
    devices = list_devices()
    assert [d.name for d in devices.of("input")] == [fake_sound.LAPTOP[i]["name"] for i in (0, 2, 3)]
    assert devices.of("output")[1].label == "HDA Intel PCH: HDMI 0 (hw:0,3) (ALSA)"
    assert resolve("input", fake_sound.LAPTOP[2]["name"], devices) == (2, "")
    assert resolve("output", None, devices) == (0, "")  # no default: the first that plays
    index, note = resolve("input", "Old headset", devices)
    assert index == 0 and "'Old headset', is not connected; using 'HDA Intel PCH" in note

    fake_sound.install(monkeypatch, [], default=(-1, -1))
    empty = list_devices()
    assert empty.reason.startswith("No sound devices were found") and resolve("output", "x", empty)[0] is None


def test_timbre_devices_sound_lists_names_and_the_choice(monkeypatch, capsys):
    from desktop.cli.basics import sound_devices
    from engines.settings import set_setting

    fake_sound.install(monkeypatch, fake_sound.LAPTOP)
    set_setting("audio/input_device", "Old headset")
    assert sound_devices() == 0
    out = capsys.readouterr().out
    assert "outputs:\n    3  default (ALSA) (system default)\n" in out
    assert "    2  Blue Yeti Stereo Microphone" in out
    assert "chosen: system default -> 3\n" in out
    assert "chosen: Old headset -> 3 (The microphone chosen in Preferences, 'Old headset', is not connected" in out
