"""The timeline's drawing surface: ruler, clips with waveforms and fades, selection and
playhead, and the mouse and keyboard gestures on them.

It only draws what its host view holds and turns gestures into intents the view carries
out (:class:`desktop.ui.timeline_state.TimelineHost`: select, move, trim, zoom) — it never
edits the timeline itself. Geometry constants and time formatting live here because the
ruler, the headers beside it and the spectrogram's time axis share them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from desktop.project.models import Clip, Marker, Track
from desktop.ui.theme import colors

if TYPE_CHECKING:
    from desktop.ui.timeline_state import TimelineHost

RULER_H = 26
TRACK_H = 88
HEADER_W = 200
EDGE_PX = 7  # how close to a clip edge a press trims instead of moving
SNAP_PX = 8
EDGE_SCROLL_PX = 30  # dragging this close to the canvas edge scrolls the timeline
MIN_PPS, MAX_PPS = 0.05, 20_000.0
TICK_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60,
              120, 300, 600, 900, 1800, 3600)


def format_time(seconds: float, precise: bool = True) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    body = f"{int(m):02d}:{s:06.3f}" if precise else f"{int(m):02d}:{int(s):02d}"
    return f"{sign}{int(h)}:{body}" if h else f"{sign}{body}"


@dataclass
class _Drag:
    clip: Clip
    mode: str  # move | left | right | range
    press_x: float
    press_frame: int


class TimelineCanvas(QWidget):
    """Paints ruler, clips (with waveforms and fades), selection and playhead; takes gestures."""

    def __init__(self, view: TimelineHost) -> None:
        super().__init__()
        self.view = view
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Timeline clips")
        self.setAccessibleDescription(
            "Click to place the playhead, drag a clip to move it, drag its edges to trim. "
            "Tab selects the next clip, Delete removes it, Left and Right move the playhead."
        )
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.drag: _Drag | None = None
        self.preview: Clip | None = None
        self._last_pos = QPointF()
        self._edge_timer = QTimer(self)
        self._edge_timer.setInterval(30)
        self._edge_timer.timeout.connect(self._edge_scroll)

    # ---- geometry ------------------------------------------------------------------
    def x_of(self, frame: float) -> float:
        v = self.view
        return (frame / v.rate - v.state.scroll) * v.state.pps

    def frame_at(self, x: float) -> int:
        v = self.view
        return max(0, int(round((x / v.state.pps + v.state.scroll) * v.rate)))

    def track_at(self, y: float) -> Track | None:
        i = int((y - RULER_H) // TRACK_H)
        tracks = self.view.tracks
        return tracks[i] if y >= RULER_H and 0 <= i < len(tracks) else None

    def clip_rect(self, clip: Clip) -> QRectF:
        row = self.view.track_row(clip.track_id)
        x0, x1 = self.x_of(clip.start_frame), self.x_of(clip.end_frame)
        return QRectF(x0, RULER_H + row * TRACK_H + 3, max(2.0, x1 - x0), TRACK_H - 6)

    def clip_at(self, pos: QPointF) -> Clip | None:
        for clip in reversed(self.view.clips):
            if self.clip_rect(clip).contains(pos):
                return clip
        return None

    # ---- painting ------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        c = colors()
        v = self.view
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        w = self.width()
        for i, _track in enumerate(v.tracks):
            bg = c.track_alt_bg if i % 2 else c.track_bg
            p.fillRect(QRectF(0, RULER_H + i * TRACK_H, w, TRACK_H), QColor(bg))
            if v.tracks[i].id == v.state.track:
                selected = QColor(c.highlight)
                selected.setAlpha(45)  # a tint of the highlight over the row's own background
                p.fillRect(QRectF(0, RULER_H + i * TRACK_H, w, TRACK_H), selected)
        self._paint_grid(p, w)
        if v.selection is not None:
            a, b = v.selection
            p.fillRect(QRectF(self.x_of(a), RULER_H, self.x_of(b) - self.x_of(a), self.height()),
                       QColor(c.selection))
        for clip in v.clips:
            if self.preview is not None and clip.id == self.preview.id:
                continue
            self._paint_clip(p, clip)
        if self.preview is not None:
            self._paint_clip(p, self.preview)
        if v.selection is not None:
            self._paint_selection_over(p)
        self._paint_markers(p)
        x = self.x_of(v.state.playhead)
        p.setPen(QPen(QColor(c.playhead), 2))
        p.drawLine(QLineF(x, 0, x, self.height()))
        if not v.tracks:
            p.setPen(QColor(c.dim_text))
            p.drawText(QRectF(0, RULER_H, w, 3 * TRACK_H), Qt.AlignmentFlag.AlignCenter,
                       "No tracks yet. Drop audio files here, press Ctrl+Shift+I to import,\n"
                       "or generate music, sound effects or speech in the panels on the right.")
        p.end()

    def _paint_selection_over(self, p: QPainter) -> None:
        """The time selection stays visible over the clips (it was drawn only behind them,
        so it vanished wherever there was audio): a tint, a band in the ruler, 2 px edges."""
        c = colors()
        a, b = self.view.selection
        x0, x1 = self.x_of(a), self.x_of(b)
        tint = QColor(c.highlight)
        tint.setAlpha(70)
        p.fillRect(QRectF(x0, RULER_H, x1 - x0, self.height() - RULER_H), tint)
        p.fillRect(QRectF(x0, RULER_H - 6, x1 - x0, 6), QColor(c.highlight))
        p.setPen(QPen(QColor(c.highlight), 2))
        for x in (x0, x1):
            p.drawLine(QLineF(x, 0, x, self.height()))

    def _paint_grid(self, p: QPainter, w: int) -> None:
        c = colors()
        v = self.view
        p.fillRect(QRectF(0, 0, w, RULER_H), QColor(c.ruler))
        step = next((s for s in TICK_STEPS if s * v.state.pps >= 90), TICK_STEPS[-1])
        first = math.floor(v.state.scroll / step)
        last = math.ceil((v.state.scroll + w / v.state.pps) / step)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        for k in range(first, last + 1):
            t = k * step
            x = (t - v.state.scroll) * v.state.pps
            p.setPen(QColor(c.grid))
            p.drawLine(QLineF(x, RULER_H, x, self.height()))
            p.setPen(QColor(c.dim_text))
            p.drawLine(QLineF(x, RULER_H - 8, x, RULER_H))
            p.drawText(QPointF(x + 3, RULER_H - 10), format_time(t, precise=step < 1))
            for m in range(1, 5):
                xm = x + m * step * v.state.pps / 5
                p.drawLine(QLineF(xm, RULER_H - 4, xm, RULER_H))

    def _paint_markers(self, p: QPainter) -> None:
        """Markers on the ruler: a flag and its name (chapters in the highlight colour), and a
        dotted line down the tracks so an edit can be lined up with one."""
        c = colors()
        for m in self.view.markers:
            x = self.x_of(m.frame)
            if not -200 <= x <= self.width():
                continue
            colour = QColor(c.highlight if m.kind == "chapter" else c.playhead)
            p.setPen(QPen(colour, 1, Qt.PenStyle.DotLine))
            p.drawLine(QLineF(x, RULER_H, x, self.height()))
            p.fillRect(QRectF(x, 2, 4, RULER_H - 4), colour)
            p.setPen(QColor(c.text))
            p.drawText(QPointF(x + 6, 11), m.label)

    def marker_at(self, x: float) -> Marker | None:
        """The marker whose flag is within a few pixels of ``x`` (on the ruler)."""
        near = [m for m in self.view.markers if abs(self.x_of(m.frame) - x) <= EDGE_PX]
        return min(near, key=lambda m: abs(self.x_of(m.frame) - x)) if near else None

    def _paint_clip(self, p: QPainter, clip: Clip) -> None:
        c = colors()
        v = self.view
        r = self.clip_rect(clip)
        if r.right() < 0 or r.left() > self.width():
            return
        selected = clip.id == v.selected_clip
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(c.highlight_text if selected else c.grid), 2 if selected else 1))
        p.setBrush(QColor(c.clip_selected if selected else c.clip))
        p.drawRoundedRect(r, 4, 4)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_wave(p, clip, r)
        # fades as lines from the corner to the top edge
        p.setPen(QPen(QColor(c.wave), 1.5))
        if clip.fade_in_frames:
            p.drawLine(QLineF(r.left(), r.bottom(), self.x_of(clip.start_frame + clip.fade_in_frames), r.top()))
        if clip.fade_out_frames:
            p.drawLine(QLineF(self.x_of(clip.end_frame - clip.fade_out_frames), r.top(), r.right(), r.bottom()))
        take = v.take_names.get(clip.take_id, "")
        label = take + (f"  {clip.gain_db:+.1f} dB" if clip.gain_db else "")
        p.setPen(QColor(c.highlight_text if selected else c.text))
        p.drawText(r.adjusted(6, 2, -4, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, label)

    def _paint_wave(self, p: QPainter, clip: Clip, r: QRectF) -> None:
        v = self.view
        peaks = v.peaks_for(clip.take_id)
        if peaks is None:
            return
        x0 = max(0, int(r.left()))
        x1 = min(self.width(), int(r.right()))
        if x1 - x0 < 2:
            return
        xs = np.arange(x0, x1, dtype=np.float64)
        ratio = peaks.sample_rate / v.rate  # take frames per project frame
        offset = clip.offset_frame * ratio
        starts = offset + ((xs - r.left()) / v.state.pps) * peaks.sample_rate
        ends = starts + peaks.sample_rate / v.state.pps
        inside = (starts < peaks.frames) & (ends > 0)
        if not inside.any():
            return
        xs, starts, ends = xs[inside], np.maximum(starts[inside], 0), np.maximum(ends[inside], 1)
        lo, hi = peaks.envelope(starts, ends)
        gain = 10 ** (clip.gain_db / 20)
        mid, half = r.center().y() + 6, (r.height() - 18) / 2
        top = mid - np.clip(hi * gain, -1, 1) * half
        bottom = mid - np.clip(lo * gain, -1, 1) * half
        p.setPen(QPen(QColor(colors().wave), 1))
        p.drawLines([QLineF(x, t, x, b + 0.5) for x, t, b in zip(xs, top, bottom, strict=True)])

    # ---- mouse ---------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        v = self.view
        pos = event.position()
        self.setFocus()
        if event.button() != Qt.MouseButton.LeftButton:
            return
        track = self.track_at(pos.y())
        if track is not None:
            v.select_track(track.id)
        clip = self.clip_at(pos)
        frame = self.frame_at(pos.x())
        if clip is None:
            v.select_clip(None)
            v.set_playhead(v.snap(frame, ignore=None) if pos.y() > RULER_H else frame)
            v.set_selection(None)
            self.drag = _Drag(Clip(0, 0, 0, 0, 0, 1), "range", pos.x(), v.state.playhead)
            return
        v.select_clip(clip.id)
        r = self.clip_rect(clip)
        mode = "move"
        if pos.x() - r.left() <= EDGE_PX:
            mode = "left"
        elif r.right() - pos.x() <= EDGE_PX:
            mode = "right"
        self.drag = _Drag(clip, mode, pos.x(), frame)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        pos = event.position()
        v = self.view
        if self.drag is None:
            clip = self.clip_at(pos)
            near_edge = False
            if clip is not None:
                r = self.clip_rect(clip)
                near_edge = pos.x() - r.left() <= EDGE_PX or r.right() - pos.x() <= EDGE_PX
            self.setCursor(Qt.CursorShape.SizeHorCursor if near_edge else
                           Qt.CursorShape.OpenHandCursor if clip else Qt.CursorShape.IBeamCursor)
            v.hovered.emit(self.frame_at(pos.x()))
            return
        self._drag_to(pos)
        if not self._edge_timer.isActive():
            self._edge_timer.start()

    def _drag_to(self, pos: QPointF) -> None:
        v, d = self.view, self.drag
        if d is None:
            return
        self._last_pos = pos
        frame = self.frame_at(pos.x())
        if d.mode == "range":
            a, b = sorted((d.press_frame, v.snap(frame, ignore=None)))
            v.set_selection((a, b) if b > a else None)
            return
        self.preview = v.dragged(d.clip, d.mode, frame - d.press_frame, self.track_at(pos.y()))
        self.update()

    def _edge_scroll(self) -> None:
        """While dragging near the left or right edge, scroll and keep dragging."""
        if self.drag is None:
            self._edge_timer.stop()
            return
        x, w = self._last_pos.x(), self.width()
        depth = x - (w - EDGE_SCROLL_PX) if x > w - EDGE_SCROLL_PX else min(0.0, x - EDGE_SCROLL_PX)
        if depth:
            v = self.view
            v.scroll_to(v.state.scroll + depth * 0.5 / v.state.pps)
            self._drag_to(self._last_pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self._edge_timer.stop()
        d, preview = self.drag, self.preview
        self.drag, self.preview = None, None
        if d is None or d.mode == "range" or preview is None:
            self.update()
            return
        v = self.view
        if d.mode == "move":  # never over another clip: a free track or a free spot instead
            said = v.commit_move(d.clip, preview.start_frame, preview.track_id)
            if said:
                v.told.emit(said)
        elif d.mode == "left":
            v.commit_trim(d.clip.id, left=preview.start_frame)
        else:
            v.commit_trim(d.clip.id, right=preview.end_frame)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        clip = self.clip_at(event.position())
        if clip is not None:  # Audacity: double-click selects the clip's extent
            self.view.set_selection((clip.start_frame, clip.end_frame))

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt API
        v = self.view
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            v.zoom(1.25 if delta > 0 else 0.8, anchor_x=event.position().x())
        elif event.modifiers() & Qt.KeyboardModifier.ShiftModifier or event.angleDelta().x():
            v.scroll_to(v.state.scroll - delta / 120 * 60 / v.state.pps)
        else:
            event.ignore()
            return
        event.accept()

    def contextMenuEvent(self, event) -> None:  # noqa: N802 - Qt API
        v = self.view
        marker = self.marker_at(event.pos().x()) if event.pos().y() <= RULER_H else None
        if marker is not None:
            menu = QMenu(self)
            menu.addAction(f"Rename marker {marker.label}…", lambda: v.rename_marker_asked(marker.id))
            menu.addAction("Move marker to playhead", lambda: v.move_marker_to_playhead(marker.id))
            menu.addAction("Delete marker", lambda: v.remove_marker(marker.id))
            menu.exec(event.globalPos())
            return
        clip = self.clip_at(QPointF(event.pos()))
        if clip is None:
            return
        v.select_clip(clip.id)
        menu = QMenu(self)
        menu.addAction("Split at playhead", v.split_selected)
        menu.addAction("Delete clip", v.delete_selected)
        menu.addSeparator()
        menu.addAction("Fade in 0.5 s", lambda: v.set_clip_fades(fade_in=0.5))
        menu.addAction("Fade out 0.5 s", lambda: v.set_clip_fades(fade_out=0.5))
        menu.addAction("Remove fades", lambda: v.set_clip_fades(fade_in=0.0, fade_out=0.0))
        extra = getattr(v, "extra_clip_actions", ())  # the window's Separate stems…, Denoise…
        if extra:
            menu.addSeparator()
            menu.addActions(list(extra))
        menu.exec(event.globalPos())

    # ---- keyboard ------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        v = self.view
        key = event.key()
        step = v.rate if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier else v.rate // 10
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            v.delete_selected()
        elif key == Qt.Key.Key_Left:
            v.set_playhead(v.state.playhead - step)
        elif key == Qt.Key.Key_Right:
            v.set_playhead(v.state.playhead + step)
        elif key == Qt.Key.Key_Comma and v.selected_clip:
            v.nudge_selected(-step)
        elif key == Qt.Key.Key_Period and v.selected_clip:
            v.nudge_selected(step)
        else:
            super().keyPressEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802 - Qt API
        """Tab walks through the clips first, then leaves the canvas."""
        clips = self.view.clips
        ids = [c.id for c in clips]
        cur = ids.index(self.view.selected_clip) if self.view.selected_clip in ids else -1
        nxt = cur + (1 if forward else -1)
        if self.hasFocus() and 0 <= nxt < len(ids) and (cur >= 0 or forward):
            self.view.select_clip(ids[nxt])
            return True
        return super().focusNextPrevChild(forward)
