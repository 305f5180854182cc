"""The studio's main window: timeline in the centre, dockable panels around it.

Layout: takes and voice library on the left, generation panels (Music, Sound effects,
Speech) on the right, spectrogram and jobs at the bottom. Shortcuts follow Audacity. Every
edit goes through the project's :class:`Timeline` (autosaved, undoable); anything that takes
time runs in the thread pool or an engine host thread, never on the GUI thread.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop.project.store import Project
from desktop.project.timeline import Timeline
from desktop.ui import window_everyday
from desktop.ui.audio import AudioIO, LevelMeter
from desktop.ui.batch_dialog import install as install_batch_actions
from desktop.ui.clean_actions import CleanActions
from desktop.ui.generation import GenerationPanel
from desktop.ui.jobs_dock import JobsPanel
from desktop.ui.notifications import Banner, NotificationBar
from desktop.ui.spectrogram import SpectrogramPanel, placement_for_clip
from desktop.ui.takes_dock import TakesPanel
from desktop.ui.theme import THEMES, apply_theme
from desktop.ui.timeline_view import OVERLAP_MODES, TimelineView, overlap_mode
from desktop.ui.voices_dock import VoicesPanel
from desktop.ui.waveforms import PeakCache
from desktop.ui.widgets import ElidedLabel
from desktop.ui.window_generation import GenerationController
from desktop.ui.window_project import ProjectController
from desktop.ui.window_transport import TransportController
from desktop.ui.workers import JobManager
from engines.errors import EngineError
from engines.settings import get_setting, set_setting

DOCK_LAYOUT_VERSION = 2  # bump when panels are added or renamed: old layouts are then ignored


SPACE_WIDGETS = (QAbstractButton, QComboBox, QAbstractItemView)  # Space works these itself
UNDO_CHARS = 40  # an undo label longer than this is cut with "…" in the Edit menu
EDIT_FIELDS = {"fade_in_frames": "fade-in", "fade_out_frames": "fade-out", "gain_db": "gain"}


def edit_words(label: str) -> str:
    """An edit's label in the user's words: the store's column names ("Change clip
    fade_in_frames") become what the inspector calls them ("Change clip fade-in")."""
    if label.startswith("Change "):
        for column, words in EDIT_FIELDS.items():
            label = label.replace(column, words)
    return label


def elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def memory_in_use() -> int | None:
    """Resident memory of this process in bytes (no psutil needed)."""
    try:
        with open("/proc/self/statm") as handle:
            import os

            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        try:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return peak if sys.platform == "darwin" else peak * 1024
        except ImportError:
            return None


def devices_present() -> dict[str, bool]:
    """Whether this computer has an NVIDIA GPU (driver) or Apple silicon, without importing
    torch (seconds); when torch is already loaded, its own answer."""
    import platform
    import shutil

    torch = sys.modules.get("torch")
    if torch is not None:
        mps = getattr(getattr(torch, "backends", None), "mps", None)
        return {"cuda": bool(torch.cuda.is_available()), "mps": bool(mps and mps.is_available())}
    cuda = Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None
    return {"cuda": cuda, "mps": sys.platform == "darwin" and platform.machine() == "arm64"}


def device_text() -> str:
    """The compute device, without importing torch just to say it (that would cost seconds)."""
    from engines.devices import choose_device, requested_device

    wish = requested_device()
    if "torch" not in sys.modules:
        return f"Device: {wish} (decided when an engine loads)"
    try:
        return f"Device: {choose_device()}"
    except EngineError as exc:
        return f"Device: {wish} — {exc}"


class MainWindow(QMainWindow):
    """Builds the layout, menus and shortcuts and wires them to its controllers, each made
    with what it uses passed in: the open project and its edits, imports and exports
    (:class:`ProjectController`), play and record (:class:`TransportController`), the
    generation panels and their jobs (:class:`GenerationController`). The window shows
    what they do: title, undo labels, spectrogram, status bar."""

    first_painted = Signal(float)  # seconds since the window was built

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.setWindowTitle("Timbre Studio")
        self.setAcceptDrops(True)
        self._built_at = time.perf_counter()
        self._painted = False
        self.peaks = PeakCache(self)
        self.audio = AudioIO(self)
        self.banking = None  # the voice banking window, made on first use
        self._spectrogram_key: tuple | None = None  # the clip the spectrogram shows
        self._last_panel = "music"  # the generation panel Ctrl+Enter uses when none has focus

        self.banner = Banner()
        self.notice = NotificationBar()
        centre = QWidget()
        column = QVBoxLayout(centre)  # banner, notifications, then the timeline view
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.notice)
        self.setCentralWidget(centre)

        # The controllers, each given what it uses; the window wires menus and panels to them.
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, GenerationPanel] = {}  # filled by _build_docks
        self.projects = ProjectController(
            self, column, self.peaks, self.panels, self.notice, self.statusBar(),
            opened=self._project_opened, closing=self._project_closing, after_edit=self._after_edit,
            retire=lambda project: self.generation.retire(project))
        projects = self.projects
        self.spectrogram = SpectrogramPanel()
        self.transport = TransportController(
            self, self.audio, lambda: projects.project, lambda: projects.view, self.banner, self.notice,
            self.statusBar(), self.spectrogram, take_recorded=projects.add_recording,
            show_followed_clip=self.update_spectrogram, forget_followed_clip=self.forget_spectrogram_clip)
        self.jobs = JobManager(self)
        self.jobs.engines_changed.connect(self.refresh_status)
        self.generation = GenerationController(
            VoicesPanel(record=self.transport.record_to, can_record=self.transport.can_record),
            self.panels, self.jobs, self.notice, self.statusBar(), lambda: projects.project, lambda: projects.view,
            raise_dock=lambda key: self.docks[key].raise_(), refresh=projects.refresh, save_forms=projects.save_forms)
        self.jobs.job_finished.connect(self.generation.job_finished)
        self._build_docks()

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()
        self._build_transcript()
        window_everyday.install(self)  # Preferences, Open recent, Show log file, Loudness panel
        projects.open_project(project)
        docks = get_setting("window_docks")  # where the user put the panels last time
        if isinstance(docks, str):
            self.restoreState(QByteArray.fromBase64(docks.encode()), DOCK_LAYOUT_VERSION)
        geometry = get_setting("window_geometry")
        if isinstance(geometry, str):
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        else:  # first launch: as big as the screen allows, up to 1500×920
            screen = QApplication.primaryScreen()
            room = screen.availableGeometry() if screen is not None else None
            self.resize(min(1500, room.width()) if room else 1500, min(920, room.height()) if room else 920)
            self.resizeDocks([self.docks["spectrogram"]], [240], Qt.Orientation.Vertical)

    # ---- docks ---------------------------------------------------------------------
    def _add_dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setAccessibleName(f"{title} panel")
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.takes = TakesPanel()
        self.takes.play_requested.connect(self.transport.audition_take)
        self.takes.place_requested.connect(self.projects.place_take)
        generation = self.generation
        self.voices = generation.voices
        self.voices.play_requested.connect(lambda clip: self.transport.play_clip(clip, follow=False))
        self.voices.notify.connect(lambda m, d, e: self.notice.notify(m, details=d, error=e))
        self.voices.voices_changed.connect(generation.voices_changed)
        for kind in ("music", "sfx", "speech"):
            prepare = generation.prepare_speech if kind == "speech" else None
            panel = GenerationPanel(kind, generation.form_choices, generation.selected_clip_audio, prepare,
                                    generation.model_options)
            panel.generate_requested.connect(generation.submit_request)
            panel.refused.connect(generation.panel_refused)
            panel.watermark_default = generation.watermark_default
            self.panels[kind] = panel
        clone = QPushButton("Clone voice…")
        clone.setAccessibleName("Clone voice")
        clone.setToolTip("Speak with a cloned library voice; refused without the speaker's consent")
        clone.clicked.connect(generation.clone_voice)
        self.panels["speech"].extra_buttons.addWidget(clone)
        self.jobs_panel = JobsPanel(self.jobs)
        self._add_dock("takes", "Takes", self.takes, left)
        self._add_dock("voices", "Voice library", self.voices, left)
        self.splitDockWidget(self.docks["takes"], self.docks["voices"], Qt.Orientation.Vertical)
        for kind, panel in self.panels.items():
            self._add_dock(kind, panel.title, panel, right)
        self.tabifyDockWidget(self.docks["music"], self.docks["sfx"])
        self.tabifyDockWidget(self.docks["sfx"], self.docks["speech"])
        self.docks["music"].raise_()
        self._add_dock("spectrogram", "Spectrogram", self.spectrogram, bottom)
        self._add_dock("jobs", "Jobs", self.jobs_panel, bottom)
        self.splitDockWidget(self.docks["spectrogram"], self.docks["jobs"], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["spectrogram"], self.docks["jobs"]], [1000, 380], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["spectrogram"]], [300], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["takes"], self.docks["music"]], [250, 330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["takes"], self.docks["voices"]], [340, 360], Qt.Orientation.Vertical)

    # ---- actions -------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        label = text.replace("&", "").rstrip("…")
        a.setToolTip(f"{label} ({a.shortcut().toString()})" if a.shortcut().toString() else tip or label)
        a.setStatusTip(tip or label)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        act = self._action
        self.act_new = act("&New project…", self.projects.new_project_dialog, QKeySequence.StandardKey.New)
        self.act_open = act("&Open project…", self.projects.open_project_dialog, QKeySequence.StandardKey.Open)
        self.act_import = act("&Import audio…", self.projects.import_dialog, "Ctrl+Shift+I", "Import audio files as new tracks")
        self.act_export = act("&Export mix…", self.projects.export_dialog, "Ctrl+Shift+E", "Mix the timeline down to a file")
        self.act_master = act("&Master episode…", self.show_podcast_master, None,
                              "Master a podcast episode: voices, music bed, intro, outro, chapters")
        self.act_check = act("Check for &watermark…", self.show_watermark_check, None,
                             "Drop audio files to see if they carry the watermark, and their provenance")
        self.act_banking = act("Voice &banking…", self.show_banking, None,
                               "Record a voice bank one prompt at a time (in its own window)")
        self.act_models = act("&Models…", self.show_model_manager, "Ctrl+Shift+M",
                              "Installed models: sizes, import, download, remove, unload")
        self.act_quit = act("&Quit", self.quit_asked, QKeySequence.StandardKey.Quit)
        self.act_play = act("Play/Stop", self.transport.toggle_play, "Space", "Play from the playhead, or stop")
        self.act_record = act("Record", self.transport.toggle_record, "R", "Record a new take from the microphone")
        self.act_home = act("Go to start", lambda: self.view and self.view.set_playhead(0, follow=True), "Home")
        self.act_end = act("Go to end", lambda: self.view and self.view.set_playhead(self.view.length_frames, follow=True), "End")
        self.act_undo = act("&Undo", self.projects.undo, "Ctrl+Z")
        self.act_redo = act("&Redo", self.projects.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.act_split = act("Split at playhead", lambda: self.projects.guard(self.view.split_selected), "Ctrl+I")
        self.act_delete = act("Delete", lambda: self.projects.guard(self.view.delete_selected), None,
                              "Delete the time selection and close the gap, else the selected clip "
                              "(Delete key in the timeline)")
        self._build_range_actions()
        self.act_add_track = act("Add track", lambda: self.projects.guard(self.timeline.add_track), "Ctrl+Shift+N")
        self.act_zoom_in = act("Zoom in", lambda: self.view.zoom(2.0), "Ctrl+1")
        self.act_zoom_out = act("Zoom out", lambda: self.view.zoom(0.5), "Ctrl+3")
        self.act_fit = act("Fit project in window", lambda: self.view.zoom_fit(), "Ctrl+F")
        self.act_zoom_sel = act("Zoom to selection", lambda: self.view.zoom_to_selection(), "Ctrl+E")
        self.act_shortcuts = act("Keyboard shortcuts", self.show_shortcuts, "F1",
                                 "Every command and its keys")
        self.act_about = act("&About Timbre Studio…", self.show_about, None,
                             "Version and licences: the app's, its packages' and its models'")
        self.act_snap = act("Snapping", lambda on: self.view.set_snapping(on), None,
                            "Snap clips and edges to other clips, the playhead and zero", checkable=True)
        self.act_font_up = act("Larger text", lambda: self.scale_font(1.1), "Ctrl+=")
        self.act_font_down = act("Smaller text", lambda: self.scale_font(1 / 1.1), "Ctrl+-")
        self.act_font_reset = act("Normal text size", lambda: self.scale_font(None), "Ctrl+0")
        # The keyboard path to a take: Alt+3 puts the cursor in the Speech text, Ctrl+Enter
        # generates (as in Descript's and chat apps' "send"), Alt+0 goes back to the timeline.
        self.act_generate = act("Generate", self.generate_from_keyboard, ["Ctrl+Return", "Ctrl+Enter"],
                                "Generate with the panel you are in (or the one in front)")
        self.act_go_timeline = act("Go to the timeline", self.focus_timeline, "Alt+0")
        self.act_go_panel: dict[str, QAction] = {}
        for key, (kind, title) in enumerate((("music", "Music prompt"), ("sfx", "Sound effects prompt"),
                                             ("speech", "Speech text")), start=1):
            self.act_go_panel[kind] = act(f"Go to the {title}", lambda _=False, k=kind: self.focus_panel(k),
                                          f"Alt+{key}")
        self.act_go_takes = act("Go to the takes", lambda: self._focus_dock("takes", self.takes.list), "Alt+4")
        # Separate stems… / Denoise… on the selected clip or track (desktop.ui.clean_actions)
        self.clean = CleanActions(self, lambda: self.project, lambda: self.view, lambda: self.timeline,
                                  self.notice, self.projects.refresh)
        for a in self.clean.actions:
            self.addAction(a)

    def _build_range_actions(self) -> None:
        """Audacity's range edits and markers; each acts on the timeline view (see
        TimelineView's range edits) and is one undo step. Text fields keep Ctrl+X/C/V/A."""
        act = self._action
        edits = [("Cu&t", "cut_selection", "Ctrl+X", "Cut the selection (the audio after it moves left)"),
                 ("&Copy", "copy_selection", "Ctrl+C", "Copy the selection's clips"),
                 ("&Paste", "paste_clipboard", "Ctrl+V", "Paste at the playhead on the selected track"),
                 ("Si&lence selection", "silence_selection", "Ctrl+L", "Make the selection a gap"),
                 ("&Duplicate selection", "duplicate_selection", "Ctrl+D", "Copy the selection to a free track below"),
                 ("&Trim to selection", "trim_selection", "Ctrl+T", "Keep only the selection on its tracks"),
                 ("Select &all", "select_all", "Ctrl+A", "Select the whole project on every track"),
                 ("Add &marker", "add_marker_here", "Ctrl+B", "A marker at the selection start or playhead")]
        self.range_actions: list[QAction] = [
            act(text, lambda _=False, n=name: self.view and self.projects.guard(getattr(self.view, n)), keys, tip)
            for text, name, keys, tip in edits]
        self.act_next_marker = act("Next marker", lambda: self.view and self.projects.guard(self.view.jump_marker, True),
                                   "Ctrl+]", "Move the playhead to the next marker")
        self.act_prev_marker = act("Previous marker", lambda: self.view and self.projects.guard(self.view.jump_marker, False),
                                   "Ctrl+[", "Move the playhead to the previous marker")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        for a in (self.act_new, self.act_open, None, self.act_import, self.act_export, self.act_master, None,
                  self.act_check, self.act_banking, self.act_models, None, self.act_quit):
            m.addSeparator() if a is None else m.addAction(a)
        self.file_menu = m
        m = bar.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, None, *self.range_actions[:3], self.act_delete,
                  *self.range_actions[3:7], None, self.act_split, self.act_add_track, None,
                  self.range_actions[7], self.act_next_marker, self.act_prev_marker, None, self.act_snap):
            m.addSeparator() if a is None else m.addAction(a)
        m.addSeparator()
        for a in self.clean.actions:
            m.addAction(a)
        m = bar.addMenu("&Transport")
        for a in (self.act_play, self.act_record, self.act_home, self.act_end):
            m.addAction(a)
        m = bar.addMenu("&Go")
        for a in (self.act_go_timeline, *self.act_go_panel.values(), self.act_go_takes, None, self.act_generate):
            m.addSeparator() if a is None else m.addAction(a)
        m = bar.addMenu("&View")
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_zoom_sel, None, self.act_font_up,
                  self.act_font_down, self.act_font_reset):
            m.addSeparator() if a is None else m.addAction(a)
        themes = m.addMenu("Theme")
        group = QActionGroup(self)
        current = str(get_setting("theme"))
        self.theme_actions: dict[str, QAction] = {}
        for name in THEMES:
            a = QAction(name.replace("-", " ").capitalize(), self, checkable=True)
            a.setChecked(name == current)
            a.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(a)
            themes.addAction(a)
            self.theme_actions[name] = a
        self._build_settings_menu(bar.addMenu("&Settings"))
        self.panels_menu = m.addMenu("Panels")
        for dock in self.docks.values():
            self.panels_menu.addAction(dock.toggleViewAction())
        self.view_menu = m
        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(self.act_shortcuts)
        self.help_menu.addAction(self.act_about)
        install_batch_actions(self)  # File › Batch…, Settings › Cluster address…

    def _build_settings_menu(self, menu) -> None:
        """Device, downloads and watermarking: stored with engines.settings, read by engines."""
        devices = menu.addMenu("Compute device")
        group = QActionGroup(self)
        current = str(get_setting("device"))
        self.device_actions: dict[str, QAction] = {}
        present = devices_present()
        for name, label in (("auto", "Automatic (best available)"), ("cpu", "CPU"),
                            ("cuda", "NVIDIA GPU (CUDA)"), ("mps", "Apple GPU (Metal)")):
            found = present.get(name, True)
            a = QAction(label if found else f"{label} — not found on this computer", self, checkable=True)
            a.setEnabled(found or name == current)  # a stored choice stays visible to change it
            a.setChecked(name == current)
            a.triggered.connect(lambda _=False, n=name: self.set_device(n))
            group.addAction(a)
            devices.addAction(a)
            self.device_actions[name] = a
        overlap = menu.addMenu("When clips would overlap")
        group = QActionGroup(self)
        self.overlap_actions: dict[str, QAction] = {}
        for name, label in OVERLAP_MODES.items():
            a = QAction(label, self, checkable=True)
            a.setChecked(name == overlap_mode())
            a.setStatusTip("Where a placed or dragged clip goes when it would cover another clip")
            a.triggered.connect(lambda _=False, n=name: set_setting("clip_overlap", n))
            group.addAction(a)
            overlap.addAction(a)
            self.overlap_actions[name] = a
        for key, label, tip in (
            ("allow_downloads", "Allow model downloads", "Let the model manager fetch weights from the hub"),
            ("watermark", "Watermark generated audio", "Mark generated takes with an inaudible watermark"),
        ):
            a = QAction(label, self, checkable=True)
            a.setChecked(bool(get_setting(key)))
            a.setStatusTip(tip)
            a.toggled.connect(lambda on, k=key: self.change_setting(k, bool(on)))
            menu.addAction(a)

    def change_setting(self, key: str, on: bool) -> None:
        set_setting(key, on)
        if key == "watermark":  # the panels' Watermark boxes show what new takes will get
            for panel in self.panels.values():
                panel.sync_watermark()

    def set_device(self, name: str) -> None:
        set_setting("device", name)
        self.refresh_status()
        loaded = self.jobs.loaded_engines()
        if loaded:
            self.notice.notify(f"Device set to {name}; it applies to engines loaded from now on. "
                               "Unload engines in Models… to move them.")

    def _build_toolbar(self) -> None:
        tb = QToolBar("Transport and editing")
        tb.setObjectName("toolbar_main")
        tb.setAccessibleName("Transport and editing toolbar")
        for a in (self.act_play, self.act_record, self.act_home, self.act_end, None, self.act_undo,
                  self.act_redo, None, self.act_add_track, self.act_split, self.act_delete, None,
                  self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_snap):
            tb.addSeparator() if a is None else tb.addAction(a)
        for a in tb.actions():
            w = tb.widgetForAction(a)
            if w is not None:
                w.setAccessibleName(a.text().replace("&", ""))
        self.addToolBar(tb)
        self.toolbar = tb

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_device = ElidedLabel()
        self.status_device.setAccessibleName("Compute device")
        self.status_memory = ElidedLabel()
        self.status_memory.setAccessibleName("Memory in use")
        self.status_engines = ElidedLabel("Engines: none loaded")
        self.status_engines.setAccessibleName("Loaded engines")
        self.meter = LevelMeter(self.audio)
        for w in (self.status_device, self.status_memory, self.status_engines):
            sb.addPermanentWidget(w)
        sb.addPermanentWidget(self.meter)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(2000)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self.refresh_status()

    def loaded_engines(self) -> list[str]:
        return self.jobs.loaded_engines()

    def refresh_status(self) -> None:
        self.status_device.setText(device_text())
        mem = memory_in_use()
        self.status_memory.setText(f"Memory: {mem / 2**20:.0f} MB" if mem else "Memory: unknown")
        loaded = self.loaded_engines()
        self.status_engines.setText("Engines: " + (", ".join(loaded) if loaded else "none loaded"))

    # ---- keyboard ------------------------------------------------------------------
    def _focus_dock(self, key: str, widget: QWidget | None) -> None:
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        if widget is not None:
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_panel(self, kind: str) -> None:
        """Bring a generation panel to the front with the cursor in its text."""
        panel = self.panels[kind]
        self._focus_dock(kind, None)
        if not panel._loaded:
            panel.refresh_engines()
        target = panel.text_edit() or panel.engine_box
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._last_panel = kind

    def focus_timeline(self) -> None:
        if self.view is not None:
            self.view.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def current_panel(self) -> GenerationPanel:
        """The generation panel the keyboard is in, else the last one gone to, else the one
        in front of its tab group."""
        focus = QApplication.focusWidget()
        for panel in self.panels.values():
            if focus is not None and panel.isAncestorOf(focus):
                return panel
        visible = [k for k, p in self.panels.items() if p.isVisible() and not self.docks[k].visibleRegion().isEmpty()]
        kind = self._last_panel if self._last_panel in visible or not visible else visible[0]
        return self.panels[kind]

    def generate_from_keyboard(self) -> None:
        panel = self.current_panel()
        if not panel._loaded:
            panel.refresh_engines()
        if panel.generate_button.isEnabled():
            panel.generate_button.click()
        else:
            self.notice.notify(panel.reason.text() or f"{panel.title} cannot generate yet.", error=True)

    def event(self, event: QEvent) -> bool:
        """Space plays and stops, except on a control that Space works itself (a button,
        a check box, a list): there it presses, ticks or picks, as everywhere else. (The
        focused control's unanswered ShortcutOverride reaches its window here.)"""
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Space and not event.modifiers()
                and isinstance(QApplication.focusWidget(), SPACE_WIDGETS)):
            event.accept()
            return True
        return super().event(event)

    # ---- project -------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self.projects.project

    @property
    def timeline(self) -> Timeline | None:
        return self.projects.timeline

    @property
    def view(self) -> TimelineView | None:
        return self.projects.view

    def _project_opened(self, project: Project, view: TimelineView) -> None:
        """A new timeline view: follow its playhead and selection, and name the project."""
        view.playhead_moved.connect(self._playhead_moved)
        view.playhead_moved.connect(self.transcript.follow)
        view.told.connect(lambda words: self.notice.notify(words))
        view.clip_selected.connect(lambda _c: self.update_spectrogram())
        view.track_selected.connect(lambda _t: self.update_spectrogram())
        view.selection_changed.connect(lambda _s: self.update_spectrogram())
        view.extra_clip_actions = self.clean.actions  # in the clip's context menu too
        self.act_snap.setChecked(view.state.snapping)
        view.canvas.setFocus()  # Space and R go to the transport, not to a text field
        damaged = " (damaged, read-only)" if project.damaged else ""
        self.setWindowTitle(f"{project.name}{damaged} — Timbre Studio")
        window_everyday.project_opened(self)

    def _project_closing(self) -> None:
        """Nothing may play, nor the spectrogram show, a project that is going away."""
        self._spectrogram_key = None
        self.transport.stop()

    def _after_edit(self, label: str) -> None:
        if self.project is None or self.timeline is None:
            return
        self.transcript.refresh()  # words follow every edit (and come back on undo)
        self.takes.set_takes(self.project.takes())
        self.update_spectrogram()
        self.act_undo.setEnabled(self.timeline.can_undo)
        self.act_redo.setEnabled(self.timeline.can_redo)
        for action, verb, what in ((self.act_undo, "Undo", self.timeline.undo_label),
                                   (self.act_redo, "Redo", self.timeline.redo_label)):
            words = edit_words(what)
            # the menu says what will be undone (cut short); the toolbar button keeps one word
            action.setText(f"&{verb} {elide(words, UNDO_CHARS)}" if words else f"&{verb}")
            action.setIconText(verb)
            action.setToolTip(f"{verb} {words} ({action.shortcut().toString()})" if words else verb)
        if label:
            self.statusBar().showMessage(edit_words(label), 3000)

    def _build_transcript(self) -> None:
        """The transcript panel (tabbed with the generation panels) and File › Transcribe."""
        from desktop.ui.transcript_dock import TranscriptPanel

        self.transcript = TranscriptPanel(self.jobs, lambda: self.project, lambda: self.timeline)
        self.transcript.seek_requested.connect(lambda f: self.view and self.view.set_playhead(f, follow=True))
        self.transcript.told.connect(lambda m, e: self.notice.notify(m, error=e))
        dock = self._add_dock("transcript", "Transcript", self.transcript, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["speech"], dock)
        self.docks["music"].raise_()
        self.panels_menu.addAction(dock.toggleViewAction())
        self.act_transcribe = self._action("T&ranscribe…", self.show_transcript, "Ctrl+Shift+T",
                                           "Transcribe the mix or a track: words with times, edit by text")
        self.file_menu.insertAction(self.act_check, self.act_transcribe)

    def show_transcript(self) -> None:
        """Bring the transcript panel forward; transcribe when there is nothing to show yet."""
        self._focus_dock("transcript", self.transcript.text)
        if self.transcript.info is None and self.projects.has_audio("transcribe", "Import or record speech first."):
            self.transcript.transcribe()

    def show_podcast_master(self) -> None:
        """Open the episode mastering dialog on this project (desktop.ui.podcast_dialog)."""
        from desktop.ui.podcast_dialog import PodcastDialog

        if not self.projects.has_audio("master", "Import or record voices first."):
            return
        self.podcast_dialog = PodcastDialog(self.project, self, notify=self.notice.notify)
        self.podcast_dialog.show()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        """Files dropped on a track go there at the drop time; elsewhere, onto new tracks."""
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        track_id, at = None, 0
        if self.view is not None:
            canvas = self.view.canvas
            pos = canvas.mapFrom(self, event.position().toPoint())
            track = canvas.track_at(pos.y()) if canvas.rect().contains(pos) else None
            if track is not None:
                track_id, at = track.id, canvas.frame_at(pos.x())
        self.projects.import_files(files, track_id, at)
        event.acceptProposedAction()

    def _playhead_moved(self, frame: int) -> None:
        if self.view is None:
            return
        if self.audio.playing or self.view.selected_clip is None:
            self.update_spectrogram(playing=self.audio.playing)
        else:
            self.spectrogram.set_playhead(frame / self.view.rate)

    # ---- spectrogram ---------------------------------------------------------------
    def forget_spectrogram_clip(self) -> None:
        """The spectrogram shows something else (a recording): place the followed clip anew next time."""
        self._spectrogram_key = None

    def spectrogram_clip(self):
        """The clip the spectrogram follows: the selected one, else the one under the playhead."""
        view = self.view
        if view is None:
            return None
        clip = view.clip(view.selected_clip)
        if clip is None:
            at = view.state.playhead
            under = [c for c in view.clips if c.start_frame <= at < c.end_frame]
            clip = next((c for c in under if c.track_id == view.state.track), under[0] if under else None)
        return clip

    def update_spectrogram(self, playing: bool = False) -> None:
        """Show the followed clip; while playing, keep its placement and scroll with the playhead."""
        view, project = self.view, self.project
        clip = self.spectrogram_clip()
        if view is None or project is None or clip is None:
            if not playing:
                self._spectrogram_key = None
                self.spectrogram.set_placement(None)
            elif view is not None:
                self.spectrogram.set_playhead(view.state.playhead / view.rate, follow=True)
            return
        rate = view.rate
        key = (clip.take_id, clip.start_frame, clip.offset_frame, clip.length_frames)
        if key != self._spectrogram_key:  # opening the file only when the clip changes
            self._spectrogram_key = key
            self.spectrogram.set_placement(
                placement_for_clip(project, clip, view.take_names.get(clip.take_id, "Clip")))
        if playing:
            self.spectrogram.set_playhead(view.state.playhead / rate, follow=True)
            return
        if view.selection is not None:
            self.spectrogram.set_view(view.selection[0] / rate, view.selection[1] / rate)
        else:
            self.spectrogram.set_view(clip.start_frame / rate, clip.end_frame / rate)
        self.spectrogram.set_playhead(view.state.playhead / rate)

    def show_model_manager(self) -> None:
        from desktop.ui.model_manager import ModelManager

        dialog = ModelManager(self, self.jobs.loaded_engines, self.jobs.unload_all)
        dialog.finished.connect(lambda _r: [p.refresh_engines() for p in self.panels.values() if p._loaded])
        dialog.finished.connect(lambda _r: self.generation.voices_changed())  # voices downloaded
        dialog.open()
        self.model_manager = dialog

    def show_about(self) -> None:
        from desktop.ui.about import AboutDialog

        dialog = AboutDialog(self)
        dialog.open()
        self.about_dialog = dialog

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(command, keys) for every window action that has keys, as the Help lists them."""
        rows = []
        for a in self.actions():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
            if keys:
                rows.append((a.text().replace("&", "").rstrip("…"), keys))
        return rows

    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QDialog, QHeaderView, QTableWidget, QTableWidgetItem

        rows = self.shortcut_table()
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2, dialog)
        table.setAccessibleName("Keyboard shortcuts")
        table.setHorizontalHeaderLabels(["Command", "Keys"])
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        extra = [("Next / previous clip (timeline)", "Tab, Shift+Tab"), ("Delete selection, else clip (timeline)", "Delete"),
                 ("Move playhead (timeline)", "Left, Right (Shift: finer)"),
                 ("Nudge clip (timeline)", ", and ."), ("Zoom around the mouse", "Ctrl+wheel")]
        table.setRowCount(len(rows) + len(extra))
        for r, (name, keys) in enumerate(rows + extra):
            table.setItem(r, 0, QTableWidgetItem(name))
            table.setItem(r, 1, QTableWidgetItem(keys))
        box = QVBoxLayout(dialog)
        box.addWidget(table)
        dialog.resize(520, 560)
        dialog.open()
        self.shortcuts_dialog = dialog

    def show_banking(self) -> None:
        """The voice banking panel in its own window, with its own audio: its one-key
        controls must not meet the studio's Space/R, nor its recordings the timeline's."""
        if self.banking is None:
            from desktop.ui.banking.panel import BankingPanel

            audio = AudioIO(self)
            audio.probe()
            self.banking = BankingPanel(audio)
            self.banking.setWindowTitle("Voice banking — Timbre Studio")
            self.banking.setWindowFlag(Qt.WindowType.Window)
            self.banking.setParent(self, Qt.WindowType.Window)
            self.banking.resize(1000, 720)
        self.banking.show()
        self.banking.raise_()
        self.banking.activateWindow()

    def show_watermark_check(self) -> None:
        from desktop.ui.watermark_check import WatermarkCheckDialog

        self.watermark_check = WatermarkCheckDialog(self)
        self.watermark_check.open()

    # ---- appearance ----------------------------------------------------------------
    def set_theme(self, name: str) -> None:
        set_setting("theme", name)
        apply_theme(QApplication.instance(), name, float(get_setting("font_scale")))
        for n, a in self.theme_actions.items():
            a.setChecked(n == name)
        self.spectrogram.apply_theme()
        if self.voices.preview is not None:
            self.voices.preview.spectrogram.apply_theme()
        self.update()
        if self.view is not None:
            self.view.reload()

    def scale_font(self, factor: float | None) -> None:
        scale = 1.0 if factor is None else float(get_setting("font_scale")) * factor
        scale = max(0.6, min(2.5, scale))
        set_setting("font_scale", round(scale, 3))
        apply_theme(QApplication.instance(), str(get_setting("theme")), scale)

    # ---- lifecycle -----------------------------------------------------------------
    def quit_asked(self) -> None:
        """Ctrl+Q asks first, as Audacity does, and says what happens to the work."""
        if self.confirm_quit():
            self.close()

    def confirm_quit(self) -> bool:
        running = sum(job.active for job in self.jobs.jobs)
        where = f" Everything is saved in {self.project.path}." if self.project is not None else ""
        jobs = f" {running} running job(s) will be cancelled." if running else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Quit Timbre Studio",
                          "Quit Timbre Studio?", QMessageBox.StandardButton.NoButton, self)
        box.setInformativeText(f"Your edits are saved as you make them.{where}{jobs}")
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(quit_button)
        box.exec()
        return box.clickedButton() is quit_button

    def tell_where_saved(self) -> None:
        """At first launch the studio opens a new project on its own: say where it lives."""
        if self.project is None:
            return
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        folder = self.project.path
        self.notice.notify(
            f"Your work is saved as you go, in the new project '{self.project.name}' at {folder}. "
            "Use File › New project… to choose another place.",
            action=("Show folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder.parent)))))
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit(time.perf_counter() - self._built_at)
            QTimer.singleShot(0, self.after_first_paint)

    def after_first_paint(self) -> None:
        """Work deferred until the window is on screen: the plot widgets, the audio probe."""
        self.spectrogram.ensure_plot()
        self.update_spectrogram()
        if not self.audio.probe():
            self.banner.show_text(self.audio.reason)
        self.act_record.setEnabled(self.transport.can_record())
        if not self.transport.can_record():
            self.act_record.setToolTip("Record (no microphone was found)")
        self.voices.refresh()

    def is_settled(self) -> bool:
        """True once painted and no background drawing work is pending (for screenshots)."""
        return (self._painted and not self.peaks.busy and self.spectrogram.plot is not None
                and not self.spectrogram.cache.busy)

    def shutdown(self) -> None:
        """Stop audio, save view state and close the project (also on quit)."""
        set_setting("window_geometry", bytes(self.saveGeometry().toBase64()).decode())
        set_setting("window_docks", bytes(self.saveState(DOCK_LAYOUT_VERSION).toBase64()).decode())
        self.jobs.shutdown()
        if self.banking is not None:
            self.banking.audio.stop()
            self.banking.close()
        self.projects.close_project()
        self.generation.close_retired()
        self.peaks.wait(5000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.shutdown()
        super().closeEvent(event)
