"""Edit › Preferences (Ctrl+,): sound devices, export defaults, the model folder, appearance.

Every value is a typed setting (``engines.settings``; the studio's declared in
``desktop.ui.settings``), written when the user presses OK or Apply and read where it
is used: the devices each time playback or recording starts (:class:`desktop.ui.audio.AudioIO`,
so the voice banking window uses them too), the export defaults by the export dialog,
the model folder by :func:`engines.paths.models_dir`, the theme and text size at once.

Devices are listed by name (see :mod:`engines.sound_devices`); a machine with no sound
device, or without PortAudio, shows why in place of the lists.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.settings import EXPORT_FORMATS, LOUDNESS_CHOICES, MP3_BITRATES
from desktop.ui.theme import THEMES
from engines.settings import get_setting, set_setting
from engines.sound_devices import DeviceList, list_devices

FORMAT_NAMES = {"wav": "WAV (lossless)", "flac": "FLAC (lossless, smaller)", "ogg": "Ogg Vorbis",
                "mp3": "MP3", "opus": "Opus", "m4a": "AAC (M4A)"}
THEME_NAMES = {"dark": "Dark", "light": "Light", "high-contrast": "High contrast"}
DEFAULT_DEVICE = "System default"
COMBO_CHARS = 28  # a combo asks for this many characters; longer names show in full in its list


def loudness_label(name: str) -> str:
    from engines.podcast.presets import PRESETS

    return "Keep the mix's levels" if name == "keep" else PRESETS[name].label


def _combo(name: str) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(COMBO_CHARS)
    return box


def _select(box: QComboBox, value: Any) -> None:
    index = box.findData(value)
    box.setCurrentIndex(max(0, index))


class PreferencesDialog(QDialog):
    """``list_sound_devices(rescan)`` is asked when the dialog opens, and with ``rescan``
    True on Refresh (the window's lister rescans only when no stream is open);
    ``appearance_changed()`` re-themes the window after the theme or text size changed."""

    def __init__(self, parent: QWidget | None = None,
                 list_sound_devices: Callable[[bool], DeviceList] = list_devices,
                 appearance_changed: Callable[[], None] = lambda: None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setAccessibleName("Preferences")
        self.list_sound_devices = list_sound_devices
        self.appearance_changed = appearance_changed
        self.tabs = QTabWidget()
        self.tabs.addTab(self._audio_tab(), "&Audio")
        self.tabs.addTab(self._export_tab(), "&Export")
        self.tabs.addTab(self._models_tab(), "&Models")
        self.tabs.addTab(self._appearance_tab(), "A&ppearance")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.Apply)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        self.buttons = buttons
        column = QVBoxLayout(self)
        column.addWidget(self.tabs)
        column.addWidget(buttons)
        self.load()
        self.resize(560, 380)

    # ---- tabs ----------------------------------------------------------------------
    def _audio_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.output_box = _combo("Output device")
        self.output_box.setToolTip("Where playback goes")
        self.input_box = _combo("Input device")
        self.input_box.setToolTip("What R records from, in the studio and in voice banking")
        self.devices_note = QLabel("")
        self.devices_note.setWordWrap(True)
        self.devices_note.setAccessibleName("Sound devices state")
        self.refresh_button = QPushButton("Refresh list")
        self.refresh_button.setToolTip("Look again (after plugging in a USB microphone or headset)")
        self.refresh_button.clicked.connect(lambda: self.refresh_devices(rescan=True))
        form.addRow("&Output (playback):", self.output_box)
        form.addRow("&Input (recording):", self.input_box)
        row = QHBoxLayout()
        row.addWidget(self.refresh_button)
        row.addStretch(1)
        form.addRow("", row)
        form.addRow(self.devices_note)
        return tab

    def _export_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.format_box = _combo("Default export format")
        for fmt in EXPORT_FORMATS:
            self.format_box.addItem(FORMAT_NAMES[fmt], fmt)
        self.bitrate_box = _combo("MP3 bit rate")
        for rate in MP3_BITRATES:
            self.bitrate_box.addItem(f"{rate} kbit/s", rate)
        self.bitrate_box.setToolTip("192 kbit/s suits speech and most music; 320 for the most detail")
        self.loudness_box = _combo("Default export loudness")
        for name in LOUDNESS_CHOICES:
            self.loudness_box.addItem(loudness_label(name), name)
        form.addRow("&Format:", self.format_box)
        form.addRow("MP3 &bit rate:", self.bitrate_box)
        form.addRow("&Loudness:", self.loudness_box)
        note = QLabel("File › Export mix starts with these; you can still change them there.")
        note.setWordWrap(True)
        form.addRow(note)
        return tab

    def _models_tab(self) -> QWidget:
        from engines.paths import data_dir

        tab = QWidget()
        form = QFormLayout(tab)
        self.models_edit = QLineEdit()
        self.models_edit.setAccessibleName("Model folder")
        self.models_edit.setPlaceholderText(str(data_dir() / "models"))
        self.models_edit.setToolTip("Where downloaded and imported models are kept (they can be large)")
        browse = QPushButton("Choose…")
        browse.setAccessibleName("Choose the model folder")
        browse.clicked.connect(self.choose_models_dir)
        default = QPushButton("Default")
        default.setToolTip("Use the app's data folder")
        default.clicked.connect(self.models_edit.clear)
        row = QHBoxLayout()
        row.addWidget(self.models_edit, 1)
        row.addWidget(browse)
        row.addWidget(default)
        label = QLabel("Model &folder:")
        label.setBuddy(self.models_edit)
        form.addRow(label, row)
        self.models_note = QLabel("Applies to models loaded from now on. Models already in the old "
                                  "folder are not moved: move them yourself, or import them with "
                                  "File › Models.")
        self.models_note.setWordWrap(True)
        if os.environ.get("TIMBRE_MODELS_DIR"):
            self.models_edit.setEnabled(False)
            browse.setEnabled(False)
            default.setEnabled(False)
            self.models_note.setText(f"TIMBRE_MODELS_DIR is set ({os.environ['TIMBRE_MODELS_DIR']}), "
                                     "so it decides the model folder.")
        form.addRow(self.models_note)
        self.speed_box = _combo("Music and sound effects speed")
        self.speed_box.addItem("Exact: the same audio as the original model", "fast")
        self.speed_box.addItem("Faster: reduced precision, where checked to keep the music", "reduced")
        self.speed_box.setToolTip(
            "Faster runs MusicGen and AudioGen on fewer bytes per weight (half precision or "
            "8-bit, whichever is fastest on this computer), and only if the model's predictions "
            "agree with full precision at least 98 % of the time; otherwise it stays exact. "
            "Each take records the kernel it used; the command timbre devices lists the choices.")
        speed_label = QLabel("Music &speed:")
        speed_label.setBuddy(self.speed_box)
        form.addRow(speed_label, self.speed_box)
        return tab

    def _appearance_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.theme_box = _combo("Theme")
        for name in THEMES:
            self.theme_box.addItem(THEME_NAMES.get(name, name.capitalize()), name)
        self.text_size = QSpinBox()
        self.text_size.setAccessibleName("Text size")
        self.text_size.setRange(60, 250)
        self.text_size.setSingleStep(10)
        self.text_size.setSuffix(" %")
        self.text_size.setToolTip("Also Ctrl+= and Ctrl+- anywhere in the studio")
        form.addRow("&Theme:", self.theme_box)
        form.addRow("Text &size:", self.text_size)
        return tab

    # ---- values --------------------------------------------------------------------
    def load(self) -> None:
        """Show the stored values."""
        self.refresh_devices()
        _select(self.format_box, get_setting("export/format"))
        _select(self.bitrate_box, get_setting("export/mp3_bitrate"))
        _select(self.loudness_box, get_setting("export/loudness_preset"))
        self.models_edit.setText(get_setting("models_dir") or "")
        _select(self.speed_box, get_setting("music/speed"))
        _select(self.theme_box, get_setting("theme"))
        self.text_size.setValue(round(float(get_setting("font_scale")) * 100))

    def refresh_devices(self, rescan: bool = False) -> None:
        """List the devices now, keeping what is chosen in each box (or stored)."""
        devices = self.list_sound_devices(rescan)
        for kind, box in (("output", self.output_box), ("input", self.input_box)):
            chosen = box.currentData() if box.count() else get_setting(f"audio/{kind}_device")
            box.clear()
            found = devices.of(kind)  # type: ignore[arg-type]
            box.addItem(DEFAULT_DEVICE, None)
            for d in found:
                box.addItem(d.label + ("  (system default)" if d.default else ""), d.name)
                box.setItemData(box.count() - 1, d.label, Qt.ItemDataRole.ToolTipRole)
            if chosen and box.findData(chosen) < 0:  # stored, but not connected now
                box.addItem(f"{chosen} — not connected", chosen)
            _select(box, chosen)
            box.setEnabled(bool(found) or box.count() > 1)
        none_out, none_in = not devices.of("output"), not devices.of("input")
        gone = [(kind, box.currentData()) for kind, box in (("output", self.output_box), ("input", self.input_box))
                if box.currentData() and box.currentText().endswith("— not connected")]
        if gone and not devices.reason:
            kind, name = gone[0]
            use = "playback" if kind == "output" else "recording"
            self.devices_note.setText(f"'{name}' is not connected: {use} uses the system default "
                                      "until it is. Plug it in and press Refresh list, or choose another.")
        elif devices.reason:
            self.devices_note.setText(f"{devices.reason} Playback and recording are off; "
                                      "everything else works.")
        elif none_out or none_in:
            missing = "output" if none_out else "input (microphone)"
            self.devices_note.setText(f"No {missing} device was found. Plug one in and press Refresh list.")
        else:
            self.devices_note.setText("A device that is unplugged later falls back to the system "
                                      "default, and the studio says so.")

    def values(self) -> dict[str, Any]:
        models = self.models_edit.text().strip()
        return {
            "audio/output_device": self.output_box.currentData(),
            "audio/input_device": self.input_box.currentData(),
            "export/format": self.format_box.currentData(),
            "export/mp3_bitrate": self.bitrate_box.currentData(),
            "export/loudness_preset": self.loudness_box.currentData(),
            "models_dir": str(Path(models).expanduser().absolute()) if models else None,
            "music/speed": self.speed_box.currentData(),
            "theme": self.theme_box.currentData(),
            "font_scale": round(self.text_size.value() / 100, 3),
        }

    def apply(self) -> list[str]:
        """Store what changed; the keys changed."""
        values = self.values()
        changed = [k for k, v in values.items() if get_setting(k) != v]
        for key in changed:
            set_setting(key, values[key])
        if {"theme", "font_scale"} & set(changed):
            self.appearance_changed()
        return changed

    def accept(self) -> None:
        self.apply()
        super().accept()

    def choose_models_dir(self) -> None:
        start = self.models_edit.text() or self.models_edit.placeholderText()
        folder = QFileDialog.getExistingDirectory(self, "Model folder", start)
        if folder:
            self.models_edit.setText(folder)
