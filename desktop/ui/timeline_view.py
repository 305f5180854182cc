"""The timeline: track headers on the left, a custom-painted canvas of clips on the right.

Every edit goes through :class:`desktop.project.timeline.Timeline`, which writes it to the
project store at once (autosave) and keeps the undo history; this widget only draws the
store and turns mouse and keyboard gestures into those calls. View state (zoom, scroll,
playhead, selected track) is saved in the project with ``set_state`` so reopening restores it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QScrollBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.project.errors import ProjectError
from desktop.project.models import Clip, Marker, Track
from desktop.project.store import Project
from desktop.project.timeline import Timeline
from desktop.ui.theme import colors
from desktop.ui.timeline_canvas import (
    HEADER_W,
    MAX_PPS,
    MIN_PPS,
    RULER_H,
    SNAP_PX,
    TRACK_H,
    TimelineCanvas,
    format_time,
)
from desktop.ui.timeline_state import ViewState
from desktop.ui.waveforms import PeakCache, peaks_from_file
from desktop.ui.widgets import ElidedLabel

OVERLAP_MODES = {  # what happens to a placed or dragged clip that would cover another
    "track": "Put it on a free track",
    "fit": "Fit it into the free space",
}
MIN_GAP_S = 0.1  # "fit" skips gaps shorter than this: a sliver of a clip helps nobody


def overlap_mode() -> str:
    """The user's choice (Settings › When clips would overlap); a new track by default, as
    Descript and Audacity never hide one clip under another."""
    from engines.settings import get_setting

    mode = get_setting("clip_overlap")
    return mode if mode in OVERLAP_MODES else "track"


@dataclass(frozen=True)
class Spot:
    """Where a clip can go without covering another: ``track`` None means a new track."""

    track: int | None
    start: int
    length: int


def spot_words(view: TimelineView, spot: Spot, track: int, asked_track: int, asked_start: int,
               length: int) -> str:
    """What to tell the user when a clip did not land where asked (empty when it did)."""
    when = format_time(asked_start / view.rate)
    if track != asked_track:
        return (f"Put on track {view.track_name(track) or 'new'}: {view.track_name(asked_track)} "
                f"already has audio at {when}.")
    if spot.length < length:
        return (f"Fitted in at {format_time(spot.start / view.rate)}, shortened to "
                f"{format_time(spot.length / view.rate)} so it covers no other clip.")
    if spot.start != asked_start:
        return f"Moved to {format_time(spot.start / view.rate)} so it covers no other clip."
    return ""


class TrackHeader(QFrame):
    """Name, mute, solo, gain and remove for one track, all keyboard-reachable and named."""

    def __init__(self, view: TimelineView, track: Track) -> None:
        super().__init__()
        self.view, self.track_id = view, track.id
        self.setObjectName("trackHeader")
        self.setFixedHeight(TRACK_H)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = QLineEdit(track.name)
        self.name.setAccessibleName(f"Name of track {track.name}")
        self.name.setToolTip("Track name (press Enter to rename)")
        self.name.editingFinished.connect(self._rename)
        self.mute = self._toggle("M", f"Mute track {track.name}", "Mute: silence this track", track.mute)
        self.solo = self._toggle("S", f"Solo track {track.name}", "Solo: hear only soloed tracks", track.solo)
        self.mute.toggled.connect(lambda on: view.timeline.set_track(self.track_id, mute=on))
        self.solo.toggled.connect(lambda on: view.timeline.set_track(self.track_id, solo=on))
        self.gain = QDoubleSpinBox()
        self.gain.setRange(-60.0, 12.0)
        self.gain.setSingleStep(0.5)
        self.gain.setDecimals(1)
        self.gain.setSuffix(" dB")
        self.gain.setValue(track.gain_db)
        self.gain.setKeyboardTracking(False)
        self.gain.setAccessibleName(f"Gain of track {track.name}")
        self.gain.setToolTip("Track gain in decibels")
        self.gain.valueChanged.connect(lambda v: view.timeline.set_track(self.track_id, gain_db=v))
        self.remove = remove = QToolButton()
        remove.setText("✕")
        remove.setAccessibleName(f"Remove track {track.name}")
        remove.setToolTip("Remove this track and its clips (undo brings them back)")
        remove.clicked.connect(lambda: view.timeline.remove_track(self.track_id))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.name, 1)
        top.addWidget(remove)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.mute)
        row.addWidget(self.solo)
        row.addWidget(self.gain, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 4, 6, 4)
        box.setSpacing(4)
        box.addLayout(top)
        box.addLayout(row)
        box.addStretch(1)

    def show_track(self, track: Track) -> None:
        """Show the stored values (after an edit or an undo) without re-emitting them."""
        for w, setter, value in ((self.name, self.name.setText, track.name),
                                 (self.mute, self.mute.setChecked, track.mute),
                                 (self.solo, self.solo.setChecked, track.solo),
                                 (self.gain, self.gain.setValue, track.gain_db)):
            w.blockSignals(True)
            if not (w is self.name and self.name.hasFocus()):
                setter(value)
            w.blockSignals(False)
        for w, what in ((self.name, "Name of"), (self.mute, "Mute"), (self.solo, "Solo"),
                        (self.gain, "Gain of"), (self.remove, "Remove")):
            w.setAccessibleName(f"{what} track {track.name}")

    def _toggle(self, text: str, name: str, tip: str, on: bool) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setChecked(on)
        b.setAccessibleName(name)
        b.setToolTip(tip)
        b.setMinimumWidth(28)
        return b

    def _rename(self) -> None:
        if self.name.text().strip() != self.view.track_name(self.track_id):
            self.view.timeline.rename_track(self.track_id, self.name.text())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.view.select_track(self.track_id)
        super().mousePressEvent(event)

    def set_selected(self, on: bool) -> None:
        c = colors()
        self.setStyleSheet(f"#trackHeader {{ border: 1px solid {c.grid}; border-left: 4px solid {c.highlight};"
                           f" background: {c.alt_base}; }}" if on else
                           f"#trackHeader {{ border: 1px solid {c.grid}; border-left: 4px solid transparent; }}")


class TimelineView(QWidget):
    """Track headers + canvas + horizontal scroll bar + clip inspector, over one project."""

    clip_selected = Signal(object)  # clip id or None
    track_selected = Signal(object)
    playhead_moved = Signal(int)
    selection_changed = Signal(object)  # (start, end) frames or None
    hovered = Signal(int)  # the frame under the mouse
    told = Signal(str)  # something the user should know about an edit (where a clip went)

    def __init__(self, project: Project, timeline: Timeline, peaks: PeakCache | None = None) -> None:
        super().__init__()
        self.setAccessibleName("Timeline")
        self.project, self.timeline = project, timeline
        self.rate = project.sample_rate
        self.peak_cache = peaks or PeakCache(self)
        # A method, not a lambda: Qt drops the connection when this view is destroyed, while
        # the shared peak cache lives on (a lambda would repaint a deleted canvas).
        self.peak_cache.ready.connect(self._waveforms_ready)
        self.state = ViewState.from_dict(project.get_state("view"))
        self.tracks: list[Track] = []
        self.clips: list[Clip] = []
        self.markers: list[Marker] = []
        self.take_names: dict[int, str] = {}
        self._take_sha: dict[int, str] = {}
        self._headers: dict[int, TrackHeader] = {}
        self._header_key: list[int] = []

        self.canvas = TimelineCanvas(self)
        self.header_box = QWidget()
        self.header_box.setFixedWidth(HEADER_W)
        self.header_layout = QVBoxLayout(self.header_box)
        self.header_layout.setContentsMargins(0, RULER_H, 0, 0)
        self.header_layout.setSpacing(0)
        self.header_layout.addStretch(1)
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.header_box, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.canvas, 1, Qt.AlignmentFlag.AlignTop)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(body)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.hbar.setAccessibleName("Scroll timeline")
        self.hbar.valueChanged.connect(lambda value: self.scroll_to(value / self.state.pps, from_bar=True))
        self.inspector = self._build_inspector()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.hbar)
        layout.addWidget(self.inspector)

        self.hovered.connect(self._show_cursor)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(400)
        self._save_timer.timeout.connect(self.save_view)
        timeline.listeners.append(self._on_edit)
        self.reload()

    def _waveforms_ready(self, _key: str) -> None:
        self.canvas.update()

    # ---- inspector -----------------------------------------------------------------

    def _spin(self, name: str, tip: str, lo: float, hi: float, suffix: str, step: float) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setSingleStep(step)
        s.setDecimals(2)
        s.setSuffix(suffix)
        s.setKeyboardTracking(False)
        s.setAccessibleName(name)
        s.setToolTip(tip)
        s.setEnabled(False)
        s.setMinimumWidth(s.fontMetrics().averageCharWidth() * 9)  # not the width of "-60.00 dB"+
        return s

    def _build_inspector(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(6, 2, 6, 2)
        self.clip_label = ElidedLabel("No clip selected")
        self.clip_gain = self._spin("Clip gain", "Gain of the selected clip", -60, 24, " dB", 0.5)
        self.fade_in = self._spin("Fade in", "Fade-in length of the selected clip", 0, 600, " s", 0.1)
        self.fade_out = self._spin("Fade out", "Fade-out length of the selected clip", 0, 600, " s", 0.1)
        self.clip_gain.valueChanged.connect(self._inspector_gain)
        self.fade_in.valueChanged.connect(lambda s: self._inspector_fade("fade_in_frames", s))
        self.fade_out.valueChanged.connect(lambda s: self._inspector_fade("fade_out_frames", s))
        self.position_label = ElidedLabel()
        self.position_label.setAccessibleName("Playhead position")
        row.addWidget(self.clip_label, 1)
        for label, w in (("Gain", self.clip_gain), ("Fade in", self.fade_in), ("Fade out", self.fade_out)):
            lab = QLabel(label)
            lab.setBuddy(w)
            row.addWidget(lab)
            row.addWidget(w)
        row.addWidget(self.position_label)
        return box

    def _sync_inspector(self) -> None:
        clip = self.clip(self.selected_clip)
        self.canvas.setAccessibleDescription(self._describe(clip))
        for w in (self.clip_gain, self.fade_in, self.fade_out):
            w.blockSignals(True)
            w.setEnabled(clip is not None)
        if clip is None:
            self.clip_label.setText("No clip selected")
            for w in (self.clip_gain, self.fade_in, self.fade_out):
                w.setValue(0)
        else:
            self.clip_label.setText(f"{self.take_names.get(clip.take_id, 'Clip')}: "
                                    f"{format_time(clip.start_frame / self.rate)} – "
                                    f"{format_time(clip.end_frame / self.rate)}")
            self.clip_gain.setValue(clip.gain_db)
            self.fade_in.setValue(clip.fade_in_frames / self.rate)
            self.fade_out.setValue(clip.fade_out_frames / self.rate)
        for w in (self.clip_gain, self.fade_in, self.fade_out):
            w.blockSignals(False)
        self.position_label.setText(f"Playhead {format_time(self.state.playhead / self.rate)}")

    def _describe(self, clip: Clip | None) -> str:
        """What a screen reader says about the canvas: the selection, then how to use it."""
        where = f"Playhead at {format_time(self.state.playhead / self.rate)}. "
        if clip is not None:
            where += (f"Selected clip {self.take_names.get(clip.take_id, '')} on track "
                      f"{self.track_name(clip.track_id)}, {format_time(clip.start_frame / self.rate)} to "
                      f"{format_time(clip.end_frame / self.rate)}. ")
        return where + ("Tab selects the next clip, Delete removes it, comma and period nudge it, "
                        "Left and Right move the playhead; drag clips to move them, their edges to trim.")

    def _show_cursor(self, frame: int) -> None:
        self.position_label.setText(f"Playhead {format_time(self.state.playhead / self.rate)}"
                                    f"   ·   mouse {format_time(frame / self.rate)}")

    def _inspector_gain(self, value: float) -> None:
        if self.selected_clip is not None:
            self.timeline.set_clip(self.selected_clip, gain_db=value)

    def _inspector_fade(self, key: str, seconds: float) -> None:
        if self.selected_clip is not None:
            self.timeline.set_clip(self.selected_clip, **{key: int(round(seconds * self.rate))})

    # ---- model ---------------------------------------------------------------------
    def _on_edit(self, _label: str) -> None:
        self.reload()

    def reload(self) -> None:
        """Re-read tracks, clips and take names from the store (cheap SQL) and redraw."""
        self.tracks = self.project.tracks()
        self.clips = self.project.clips()
        self.markers = self.project.markers()
        takes = self.project.takes()
        self.take_names = {t.id: t.name for t in takes}
        self._take_sha = {t.id: t.audio_sha256 for t in takes}
        ids = {t.id for t in self.tracks}
        if self.state.track not in ids:
            self.state.track = self.tracks[0].id if self.tracks else None
        if self.selected_clip is not None and self.clip(self.selected_clip) is None:
            self.state.clip = None
            self.clip_selected.emit(None)
        self._rebuild_headers()
        self._fit_canvas_height()
        self._update_hbar()
        self._sync_inspector()
        self.canvas.update()

    def _rebuild_headers(self) -> None:
        """Keep one header per track, edited in place so keyboard focus stays where it is."""
        key = [t.id for t in self.tracks]
        if key != self._header_key:
            self._header_key = key
            had_focus = False
            for tid in set(self._headers) - set(key):
                h = self._headers.pop(tid)
                had_focus = had_focus or h.isAncestorOf(self.focusWidget() or h)
                self.header_layout.removeWidget(h)
                h.hide()
                h.deleteLater()
            for h in self._headers.values():
                self.header_layout.removeWidget(h)
            for i, t in enumerate(self.tracks):
                if t.id not in self._headers:
                    self._headers[t.id] = TrackHeader(self, t)
                self.header_layout.insertWidget(i, self._headers[t.id])
            if had_focus:
                self.canvas.setFocus()
        for t in self.tracks:
            self._headers[t.id].show_track(t)
            self._headers[t.id].set_selected(t.id == self.state.track)

    def header(self, track_id: int) -> TrackHeader:
        return self._headers[track_id]

    def clip(self, clip_id: int | None) -> Clip | None:
        return next((c for c in self.clips if c.id == clip_id), None)

    def track_row(self, track_id: int) -> int:
        return next((i for i, t in enumerate(self.tracks) if t.id == track_id), 0)

    def track_name(self, track_id: int) -> str:
        return next((t.name for t in self.tracks if t.id == track_id), "")

    def peaks_for(self, take_id: int):
        sha = self._take_sha.get(take_id)
        if sha is None:
            return None
        path = str(self.project.audio_path(sha))
        return self.peak_cache.get(sha, lambda: peaks_from_file(path))

    @property
    def length_frames(self) -> int:
        return max((c.end_frame for c in self.clips), default=0)

    # ---- selection and playhead ----------------------------------------------------
    def select_clip(self, clip_id: int | None) -> None:
        if clip_id != self.selected_clip:
            self.state.clip = clip_id
            self._view_changed()
            clip = self.clip(clip_id)
            if clip is not None:
                self.select_track(clip.track_id)
            self._sync_inspector()
            self.clip_selected.emit(clip_id)
            self.canvas.update()

    def select_track(self, track_id: int | None) -> None:
        self.state.all_tracks = False  # picking one track ends Select all
        if track_id != self.state.track:
            self.state.track = track_id
            for tid, h in self._headers.items():
                h.set_selected(tid == track_id)
            self.track_selected.emit(track_id)
            self._view_changed()

    @property
    def selected_clip(self) -> int | None:
        return self.state.clip

    @property
    def selection(self) -> tuple[int, int] | None:
        return tuple(self.state.selection) if self.state.selection else None  # type: ignore[return-value]

    def set_selection(self, sel: tuple[int, int] | None) -> None:
        self.state.selection = list(sel) if sel else None
        self.selection_changed.emit(sel)
        self._view_changed()

    def set_playhead(self, frame: int, follow: bool = False) -> None:
        frame = max(0, int(frame))
        if frame == self.state.playhead:
            return
        self.state.playhead = frame
        if follow:
            x = self.canvas.x_of(frame)
            if x > self.canvas.width() * 0.9 or x < 0:
                self.scroll_to(frame / self.rate - 0.1 * self.canvas.width() / self.state.pps)
        self.position_label.setText(f"Playhead {format_time(frame / self.rate)}")
        self.playhead_moved.emit(frame)
        self._view_changed()

    def snap(self, frame: int, ignore: int | None) -> int:
        """The nearest edge, the playhead or 0 within a few pixels, when snapping is on."""
        if not self.state.snapping:
            return frame
        targets = [0, self.state.playhead]
        for c in self.clips:
            if c.id != ignore:
                targets += [c.start_frame, c.end_frame]
        best = min(targets, key=lambda t: abs(t - frame))
        return best if abs(best - frame) / self.rate * self.state.pps <= SNAP_PX else frame

    def dragged(self, clip: Clip, mode: str, delta: int, track: Track | None) -> Clip:
        """Where a clip would be if the drag ended now (snapped), for preview and commit."""
        if mode == "move":
            start = max(0, clip.start_frame + delta)
            snapped = self.snap(start, clip.id)
            if snapped == start:  # try snapping the right edge instead
                end = self.snap(start + clip.length_frames, clip.id)
                snapped = end - clip.length_frames
            return replace(clip, start_frame=max(0, snapped), track_id=track.id if track else clip.track_id)
        take_frames = self.project.take_frames(self.project.take(clip.take_id))
        same_track = [c for c in self.clips if c.track_id == clip.track_id and c.id != clip.id]
        if mode == "left":  # an edge stops at the neighbouring clip: trimming never covers one
            left = self.snap(clip.start_frame + delta, clip.id)
            before = max((c.end_frame for c in same_track if c.end_frame <= clip.start_frame), default=0)
            left = min(max(left, clip.start_frame - clip.offset_frame, before, 0), clip.end_frame - 1)
            return replace(clip, start_frame=left, offset_frame=clip.offset_frame + left - clip.start_frame,
                           length_frames=clip.end_frame - left)
        right = self.snap(clip.end_frame + delta, clip.id)
        after = min((c.start_frame for c in same_track if c.start_frame >= clip.end_frame), default=right)
        right = max(clip.start_frame + 1, min(right, after, clip.start_frame - clip.offset_frame + take_frames))
        return replace(clip, length_frames=right - clip.start_frame)

    # ---- overlaps ------------------------------------------------------------------
    def covers(self, track_id: int | None, start: int, end: int, ignore: int | None = None) -> bool:
        """True when [start, end) on the track would lie over another clip."""
        return any(c.track_id == track_id and c.id != ignore and c.start_frame < end and start < c.end_frame
                   for c in self.clips)

    def free_spot(self, track_id: int, start: int, length: int, ignore: int | None = None,
                  mode: str | None = None) -> Spot:
        """Where a clip of ``length`` frames asked for at ``start`` on ``track_id`` goes so
        that it covers nothing. "track": the first track from this one down that is free
        there, else a new one. "fit": this track, from the end of any clip under ``start``,
        shortened to end where the next clip begins."""
        start = max(0, start)
        if not self.covers(track_id, start, start + length, ignore):
            return Spot(track_id, start, length)
        if (mode or overlap_mode()) == "fit":
            pos = start
            for c in sorted((c for c in self.clips if c.track_id == track_id and c.id != ignore),
                            key=lambda c: c.start_frame):
                if c.end_frame <= pos:
                    continue
                if c.start_frame - pos >= MIN_GAP_S * self.rate:
                    return Spot(track_id, pos, min(length, c.start_frame - pos))
                pos = max(pos, c.end_frame)
            return Spot(track_id, pos, length)
        below = [t.id for t in self.tracks[self.track_row(track_id):]]
        free = next((t for t in below if not self.covers(t, start, start + length, ignore)), None)
        return Spot(free, start, length)

    def commit_move(self, clip: Clip, start: int, track_id: int) -> str:
        """Move a clip (a drag's end) where it covers nothing; says where it went if that is
        not where it was dropped ("" otherwise)."""
        spot = self.free_spot(track_id, start, clip.length_frames, ignore=clip.id)
        track = spot.track if spot.track is not None else self.timeline.add_track()
        self.timeline.move_clip(clip.id, spot.start, track if track != clip.track_id else None)
        if spot.length < clip.length_frames:
            self.timeline.trim_clip(clip.id, right=spot.start + spot.length)
        return spot_words(self, spot, track, track_id, start, clip.length_frames)

    def commit_trim(self, clip_id: int, left: int | None = None, right: int | None = None) -> None:
        """An edge drag's end: trim the clip (the canvas asks; the view edits)."""
        self.timeline.trim_clip(clip_id, left=left, right=right)

    # ---- edits ---------------------------------------------------------------------
    def split_selected(self) -> None:
        if self.selected_clip is not None:
            self.timeline.split_clip(self.selected_clip, self.state.playhead)
            return
        under = [c for c in self.clips if c.track_id == self.state.track
                 and c.start_frame < self.state.playhead < c.end_frame]
        if not under:
            raise ProjectError("The playhead is not inside a clip on the selected track; nothing to split.")
        self.timeline.split_clip(under[0].id, self.state.playhead)

    def delete_selected(self) -> None:
        """Delete: the time selection (ripple) if there is one, else the selected clip."""
        if self.selection is not None:
            self.delete_selection()
        elif self.selected_clip is not None:
            self.timeline.delete_clip(self.selected_clip)

    # ---- range edits (Audacity's Edit menu) -------------------------------------------
    def range_tracks(self) -> list[int] | None:
        """The tracks a range edit acts on: all after Select all, else the selected one."""
        if self.state.all_tracks or self.state.track is None:
            return None
        return [self.state.track]

    def _range(self) -> tuple[int, int]:
        if self.selection is None:
            raise ProjectError("Select a stretch of time first: drag across the timeline, or Ctrl+A.")
        return self.selection

    def delete_selection(self) -> None:
        a, b = self._range()
        self.timeline.delete_range(a, b, self.range_tracks())
        self._collapse_to(a)

    def cut_selection(self) -> None:
        a, b = self._range()
        self.timeline.clipboard = self.timeline.cut_range(a, b, self.range_tracks())
        self._collapse_to(a)

    def copy_selection(self) -> None:
        a, b = self._range()
        self.timeline.clipboard = self.timeline.copy_range(a, b, self.range_tracks())
        self.told.emit(f"Copied {format_time((b - a) / self.rate)}.")

    def paste_clipboard(self) -> None:
        """Paste at the playhead on the selected track (a free track below if it would cover audio)."""
        board = self.timeline.clipboard
        if board is None:
            raise ProjectError("The clipboard is empty: copy or cut a selection first.")
        at = self.state.playhead
        self.timeline.paste(board, at, self.state.track)
        self.set_selection((at, at + board.length))

    def silence_selection(self) -> None:
        a, b = self._range()
        self.timeline.silence_range(a, b, self.range_tracks())

    def duplicate_selection(self) -> None:
        a, b = self._range()
        self.timeline.duplicate_range(a, b, self.range_tracks())

    def trim_selection(self) -> None:
        a, b = self._range()
        self.timeline.trim_range(a, b, self.range_tracks())

    def select_all(self) -> None:
        """The whole project on every track, so the next range edit acts on all of it."""
        self.select_clip(None)
        self.state.all_tracks = True
        end = self.length_frames
        self.set_selection((0, end) if end > 0 else None)
        self.canvas.update()

    def _collapse_to(self, frame: int) -> None:
        """After a ripple the selected stretch is gone: the playhead marks where it was."""
        self.set_selection(None)
        self.state.playhead = -1  # force the move (and its signal) even if it was already there
        self.set_playhead(frame)

    # ---- markers -------------------------------------------------------------------
    def add_marker_here(self) -> int:
        """A marker at the selection's start, else at the playhead (Ctrl+B)."""
        frame = self.selection[0] if self.selection else self.state.playhead
        return self.timeline.add_marker(frame)

    def jump_marker(self, forward: bool = True) -> None:
        frame = self.timeline.next_marker(self.state.playhead, forward)
        if frame is None:
            raise ProjectError("No marker " + ("after" if forward else "before") + " the playhead.")
        self.set_playhead(frame, follow=True)

    def rename_marker_asked(self, marker_id: int) -> None:
        from PySide6.QtWidgets import QInputDialog

        old = next((m.label for m in self.markers if m.id == marker_id), "")
        name, ok = QInputDialog.getText(self, "Rename marker", "Marker name:", text=old)
        if ok:
            self.timeline.rename_marker(marker_id, name)

    def move_marker_to_playhead(self, marker_id: int) -> None:
        self.timeline.move_marker(marker_id, self.state.playhead)

    def remove_marker(self, marker_id: int) -> None:
        self.timeline.remove_marker(marker_id)

    def nudge_selected(self, frames: int) -> None:
        """Nudge the selected clip; it stops against a neighbour instead of covering it."""
        clip = self.clip(self.selected_clip)
        if clip is None:
            return
        start = max(0, clip.start_frame + frames)
        others = [c for c in self.clips if c.track_id == clip.track_id and c.id != clip.id]
        if frames > 0:
            start = min([start, *(c.start_frame - clip.length_frames for c in others
                                  if c.start_frame >= clip.end_frame)])
        else:
            start = max([start, *(c.end_frame for c in others if c.end_frame <= clip.start_frame)])
        if start != clip.start_frame:
            self.timeline.move_clip(clip.id, start)

    def set_clip_fades(self, fade_in: float | None = None, fade_out: float | None = None) -> None:
        values = {}
        if fade_in is not None:
            values["fade_in_frames"] = int(fade_in * self.rate)
        if fade_out is not None:
            values["fade_out_frames"] = int(fade_out * self.rate)
        if self.selected_clip is not None:
            self.timeline.set_clip(self.selected_clip, **values)

    # ---- zoom and scroll -----------------------------------------------------------
    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        anchor_x = self.canvas.x_of(self.state.playhead) if anchor_x is None else anchor_x
        if not 0 <= anchor_x <= self.canvas.width():
            anchor_x = self.canvas.width() / 2
        t = self.state.scroll + anchor_x / self.state.pps
        self.state.pps = min(MAX_PPS, max(MIN_PPS, self.state.pps * factor))
        self.scroll_to(t - anchor_x / self.state.pps)

    def zoom_fit(self) -> None:
        seconds = max(self.length_frames / self.rate, 1.0)
        width = max(200, self.canvas.width() - 20)
        self.state.pps = min(MAX_PPS, max(MIN_PPS, width / seconds))
        self.scroll_to(0.0)

    def zoom_to_selection(self) -> None:
        """The time selection, else the selected clip, fills the visible width."""
        clip = self.clip(self.selected_clip)
        span = self.selection or ((clip.start_frame, clip.end_frame) if clip else None)
        if span is None:
            return
        seconds = max((span[1] - span[0]) / self.rate, 0.01)
        self.state.pps = min(MAX_PPS, max(MIN_PPS, max(200, self.canvas.width() - 20) / seconds))
        self.scroll_to(span[0] / self.rate - 10 / self.state.pps)

    def scroll_to(self, seconds: float, from_bar: bool = False) -> None:
        seconds = max(0.0, seconds)
        if abs(seconds - self.state.scroll) < 1e-9 and from_bar:
            return
        self.state.scroll = seconds
        if not from_bar:
            self._update_hbar()
        self.canvas.update()
        self._view_changed()

    def _update_hbar(self) -> None:
        total = (self.length_frames / self.rate + 30) * self.state.pps
        self.hbar.blockSignals(True)
        self.hbar.setRange(0, int(max(0, total - self.canvas.width() * 0.5, self.state.scroll * self.state.pps)))
        self.hbar.setPageStep(max(1, self.canvas.width()))
        self.hbar.setSingleStep(40)
        self.hbar.setValue(int(self.state.scroll * self.state.pps))
        self.hbar.blockSignals(False)

    def set_snapping(self, on: bool) -> None:
        self.state.snapping = bool(on)
        self._view_changed()

    def _fit_canvas_height(self) -> None:
        """Tall enough for every track, and never shorter than the visible area."""
        needed = RULER_H + max(3, len(self.tracks)) * TRACK_H + 8
        self.canvas.setFixedHeight(max(needed, self.scroll_area.viewport().height()))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_canvas_height()
        self._update_hbar()

    # ---- persistence ---------------------------------------------------------------
    def _view_changed(self) -> None:
        self.canvas.update()
        self._save_timer.start()

    def save_view(self) -> None:
        self._save_timer.stop()
        self.project.set_state("view", self.state.to_dict())

    def detach(self) -> None:
        """Stop listening to the timeline (the project is being closed)."""
        self.save_view()
        if self._on_edit in self.timeline.listeners:
            self.timeline.listeners.remove(self._on_edit)
