"""The main window's everyday features, added to it in one call: Preferences (Ctrl+,),
File › Open recent, Help › Show log file, and the Loudness panel.

Kept out of ``main_window.py`` so that file only gains a call: each feature lives in its
own module (:mod:`desktop.ui.preferences`, :mod:`desktop.ui.recent`, :mod:`engines.logs`,
:mod:`desktop.ui.meter`) and this one wires them to the window's menus and panels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QApplication, QFrame, QMenu, QScrollArea

from desktop.ui.meter import LoudnessPanel, selection_measure
from desktop.ui.recent import RecentMenu, remember
from engines.settings import get_setting

# desktop.ui.main_window.MainWindow, not imported: that module imports this one.
MainWindow = Any


def _menu(window: MainWindow, title: str) -> QMenu | None:
    for menu in window.menuBar().findChildren(QMenu):
        if menu.title().replace("&", "") == title:
            return menu
    return None


def install(window: MainWindow) -> None:
    """Add the actions, menus and the Loudness dock (before the window restores its layout)."""
    window.audio.told.connect(lambda words: window.notice.notify(words))

    prefs = window._action("&Preferences…", lambda: show_preferences(window), "Ctrl+,",
                           "Sound devices, export defaults, model folder, theme and text size")
    prefs.setMenuRole(QAction.MenuRole.PreferencesRole)
    window.act_preferences = prefs
    edit = _menu(window, "Edit")
    if edit is not None:
        edit.addSeparator()
        edit.addAction(prefs)
    settings = _menu(window, "Settings")
    if settings is not None:
        settings.insertAction(settings.actions()[0] if settings.actions() else None, prefs)
        settings.insertSeparator(settings.actions()[1])

    window.recent_menu = RecentMenu(window, lambda path: open_recent(window, path),
                                    lambda: window.project.path if window.project else None,
                                    lambda words: window.notice.notify(words))
    window.recent_menu.setAccessibleName("Open recent")
    window.file_menu.insertMenu(window.act_import, window.recent_menu)
    window.file_menu.insertSeparator(window.act_import)

    window.act_show_log = window._action("Show &log file", lambda: show_log(window), None,
                                         "Open the folder of the studio's log (for a bug report)")
    window.help_menu.addAction(window.act_show_log)

    window.loudness = LoudnessPanel(window.audio, lambda: selection_measure(window.project, window.view))
    # Beside Jobs, not tabbed with it: a second tab group in the window leaves a stray
    # copy of its tab bar drawn over the spectrogram (Qt 6.10, seen offscreen).
    scroll = QScrollArea()  # scrolls when squeezed, rather than making the window taller
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the bars shrink instead
    scroll.setWidget(window.loudness)
    dock = window._add_dock("loudness", "Loudness", scroll, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.splitDockWidget(window.docks["jobs"], dock, Qt.Orientation.Horizontal)
    window.resizeDocks([window.docks["spectrogram"], window.docks["jobs"], dock], [900, 300, 300],
                       Qt.Orientation.Horizontal)
    window.panels_menu.addAction(dock.toggleViewAction())
    window.act_loudness = window._action("Loudness meter", lambda: show_loudness(window), "Ctrl+Shift+L",
                                         "Momentary, short-term and integrated loudness and true peak")
    window.view_menu.insertAction(window.panels_menu.menuAction(), window.act_loudness)


def project_opened(window: MainWindow) -> None:
    """Every project the window opens goes to the top of Open recent."""
    if window.project is not None:
        remember(window.project.path)


def open_recent(window: MainWindow, path: Path) -> None:
    from desktop.project.store import Project

    project = window.projects.guard(Project.open, str(path))
    if project is not None:
        window.projects.open_project(project)


def show_preferences(window: MainWindow):
    from desktop.ui.preferences import PreferencesDialog

    def appearance() -> None:
        window.set_theme(str(get_setting("theme")))

    def devices(rescan: bool):
        from engines.sound_devices import list_devices

        streams = [window.audio] + ([window.banking.audio] if window.banking is not None else [])
        busy = any(a.playing or a.recording for a in streams)  # a restart would cut them off
        return list_devices(rescan=rescan and not busy)

    dialog = PreferencesDialog(window, list_sound_devices=devices, appearance_changed=appearance)
    dialog.accepted.connect(lambda: devices_found(window))
    dialog.open()
    window.preferences_dialog = dialog
    return dialog


def devices_found(window: MainWindow) -> None:
    """After Preferences (where Refresh may have found a device plugged in since the studio
    started): audio that was off comes on, and Record follows the microphone."""
    audio = window.audio
    if audio.playing or audio.recording:
        return
    was = audio.available
    if audio.probe() and not was and audio.reason == "":
        window.banner.hide()
        window.notice.notify("Sound devices found: playback is on.")
    window.act_record.setEnabled(window.transport.can_record())


def log_target() -> Path:
    """What Help › Show log file opens: the log folder (studio.log and cli.log are there)."""
    from engines.logs import log_file

    return log_file("studio").parent


def show_log(window: MainWindow) -> bool:
    folder = log_target()
    folder.mkdir(parents=True, exist_ok=True)
    opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
    if not opened:  # no file manager (a bare desktop, a remote session): say where it is
        QApplication.clipboard().setText(str(folder))
        window.notice.notify(f"The log is in {folder} (studio.log); the path is copied to the clipboard.")
    return opened


def show_loudness(window: MainWindow) -> None:
    dock = window.docks["loudness"]
    dock.show()
    dock.raise_()

