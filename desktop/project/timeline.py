"""Timeline edits with undo/redo, as commands over the project store.

Decision: undo lives here, Qt-free, not in the GUI. Every edit is recorded as row changes
``(table, id, before, after)`` and written through ``Project.apply_changes`` in one
transaction, so each edit is autosaved the moment it is made, the GUI and tests share one
implementation, and undo is the same write with the changes reversed. The history is
per-session (as in Audacity, closing the project ends it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop.project.errors import ProjectError
from desktop.project.store import CLIP_FIELDS, TRACK_FIELDS, Project

Change = tuple[str, int, dict[str, Any] | None, dict[str, Any] | None]
FAR = 1 << 62  # a frame beyond any timeline: "to the end" when slicing a clip


def slice_clip(row: dict[str, Any], a: int, b: int) -> dict[str, Any] | None:
    """The part of a clip row inside timeline frames [a, b), where it already lies.

    Range edits never rewrite audio: a piece of a clip is the same take with another
    offset and length. A fade survives only on an edge the piece keeps (cut at 0 else), so a
    piece of a faded clip does not fade where the original played at full level.
    """
    start, end = row["start_frame"], row["start_frame"] + row["length_frames"]
    lo, hi = max(a, start), min(b, end)
    if lo >= hi:
        return None
    return {**row, "start_frame": lo, "offset_frame": row["offset_frame"] + lo - start,
            "length_frames": hi - lo,
            "fade_in_frames": min(row["fade_in_frames"], hi - lo) if lo == start else 0,
            "fade_out_frames": min(row["fade_out_frames"], hi - lo) if hi == end else 0}


@dataclass(frozen=True)
class Piece:
    """One clip piece on the clipboard, placed relative to the copied range's start."""

    lane: int  # 0 = the first copied track (in track order), 1 = the next, ...
    take_id: int
    start: int
    offset: int
    length: int
    gain_db: float = 0.0
    fade_in: int = 0
    fade_out: int = 0


@dataclass(frozen=True)
class Clipboard:
    """What Copy/Cut keep (per session, as in Audacity): clip pieces, never audio."""

    length: int
    pieces: tuple[Piece, ...] = ()


@dataclass
class Edit:
    label: str
    changes: list[Change] = field(default_factory=list)

    def inverse(self) -> list[Change]:
        return [(t, i, after, before) for t, i, before, after in reversed(self.changes)]


class Timeline:
    """Edits on one open project. Each method is one undoable, autosaved step."""

    def __init__(self, project: Project, limit: int = 500) -> None:
        self.project = project
        self.limit = limit
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self.listeners: list[Any] = []  # callables(edit_label) told after every change
        # Copy/Cut keep clip pieces for this project's session only: they name its takes,
        # so a clipboard pasted into another project would point at audio it lacks.
        self.clipboard: Clipboard | None = None

    # ---- history -------------------------------------------------------------------
    def _commit(self, edit: Edit) -> None:
        if not edit.changes:
            return
        self.project.apply_changes(edit.changes)
        self._undo.append(edit)
        del self._undo[: -self.limit]
        self._redo.clear()
        self._notify(edit.label)

    def _notify(self, label: str) -> None:
        for listener in list(self.listeners):
            listener(label)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str:
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def undo(self) -> str | None:
        if not self._undo:
            return None
        edit = self._undo.pop()
        self.project.apply_changes(edit.inverse())
        self._redo.append(edit)
        self._notify(f"Undo {edit.label}")
        return edit.label

    def redo(self) -> str | None:
        if not self._redo:
            return None
        edit = self._redo.pop()
        self.project.apply_changes(edit.changes)
        self._undo.append(edit)
        self._notify(f"Redo {edit.label}")
        return edit.label

    # ---- helpers -------------------------------------------------------------------
    def _row(self, table: str, row_id: int) -> dict[str, Any]:
        row = self.project.row(table, row_id)
        if row is None:
            raise ProjectError(f"That {table[:-1]} no longer exists (id {row_id}).")
        return row

    def _update(self, table: str, row_id: int, label: str, /, **values: Any) -> None:
        before = self._row(table, row_id)
        after = {**before, **values}
        if after != before:
            self._commit(Edit(label, [(table, row_id, before, after)]))

    # ---- tracks --------------------------------------------------------------------
    def add_track(self, name: str | None = None) -> int:
        track_id = self.project.next_id("tracks")
        position = 1 + max((t.position for t in self.project.tracks()), default=-1)
        row = {"id": track_id, "name": name or f"Track {track_id}", "position": position,
               "gain_db": 0.0, "pan": 0.0, "mute": 0, "solo": 0}
        self._commit(Edit("Add track", [("tracks", track_id, None, row)]))
        return track_id

    def remove_track(self, track_id: int) -> None:
        before = self._row("tracks", track_id)
        changes: list[Change] = [
            ("clips", c.id, self._row("clips", c.id), None) for c in self.project.clips(track_id)
        ]
        changes.append(("tracks", track_id, before, None))
        self._commit(Edit(f"Remove track {before['name']}", changes))

    def rename_track(self, track_id: int, name: str) -> None:
        self._update("tracks", track_id, "Rename track", name=name.strip() or "Track")

    def set_track(self, track_id: int, **values: Any) -> None:
        bad = set(values) - set(TRACK_FIELDS)
        if bad:
            raise ProjectError(f"Tracks have no {', '.join(sorted(bad))}.")
        values = {k: int(v) if k in ("mute", "solo") else v for k, v in values.items()}
        label = "Change track " + ", ".join(sorted(values))
        self._update("tracks", track_id, label, **values)

    # ---- clips ---------------------------------------------------------------------
    def add_clip(
        self, track_id: int, take_id: int, start: int, offset: int = 0, length: int | None = None
    ) -> int:
        self._row("tracks", track_id)
        take = self.project.take(take_id)
        total = self.project.take_frames(take)
        length = total - offset if length is None else length
        if length <= 0 or offset < 0 or offset + length > total:
            raise ProjectError("That clip would lie outside its take's audio.")
        clip_id = self.project.next_id("clips")
        row = {"id": clip_id, "track_id": track_id, "take_id": take_id, "start_frame": max(0, start),
               "offset_frame": offset, "length_frames": length, "gain_db": 0.0,
               "fade_in_frames": 0, "fade_out_frames": 0}
        self._commit(Edit(f"Add clip {take.name}", [("clips", clip_id, None, row)]))
        return clip_id

    def move_clip(self, clip_id: int, start: int, track_id: int | None = None) -> None:
        values: dict[str, Any] = {"start_frame": max(0, int(start))}
        if track_id is not None:
            self._row("tracks", track_id)
            values["track_id"] = track_id
        self._update("clips", clip_id, "Move clip", **values)

    def trim_clip(self, clip_id: int, left: int | None = None, right: int | None = None) -> None:
        """Move the left and/or right edge to the given timeline frames."""
        c = self._row("clips", clip_id)
        take = self.project.take(c["take_id"])
        total = self.project.take_frames(take)
        start, offset, end = c["start_frame"], c["offset_frame"], c["start_frame"] + c["length_frames"]
        if left is not None:
            left = max(left, start - offset, 0)  # cannot reveal audio before the take starts
            left = min(left, end - 1)
            offset += left - start
            start = left
        if right is not None:
            right = min(right, start - offset + total)
            end = max(right, start + 1)
        self._update("clips", clip_id, "Trim clip", start_frame=start, offset_frame=offset,
                     length_frames=end - start)

    def split_clip(self, clip_id: int, at: int) -> int:
        c = self._row("clips", clip_id)
        start, end = c["start_frame"], c["start_frame"] + c["length_frames"]
        if not start < at < end:
            raise ProjectError("The playhead is not inside that clip; nothing to split.")
        left = {**c, "length_frames": at - start, "fade_out_frames": 0}
        new_id = self.project.next_id("clips")
        right = {**c, "id": new_id, "start_frame": at, "offset_frame": c["offset_frame"] + at - start,
                 "length_frames": end - at, "fade_in_frames": 0}
        self._commit(Edit("Split clip", [("clips", clip_id, c, left), ("clips", new_id, None, right)]))
        return new_id

    def delete_clip(self, clip_id: int) -> None:
        self._commit(Edit("Delete clip", [("clips", clip_id, self._row("clips", clip_id), None)]))

    def set_clip(self, clip_id: int, **values: Any) -> None:
        bad = set(values) - {"gain_db", "fade_in_frames", "fade_out_frames"}
        if bad or set(values) - set(CLIP_FIELDS):
            raise ProjectError(f"Use move/trim for {', '.join(sorted(bad))}.")
        c = self._row("clips", clip_id)
        for key in ("fade_in_frames", "fade_out_frames"):
            if key in values:
                values[key] = max(0, min(int(values[key]), c["length_frames"]))
        self._update("clips", clip_id, "Change clip " + ", ".join(sorted(values)), **values)

    # ---- range edits ---------------------------------------------------------------
    # Each is one Edit with all its row changes, so one Undo takes back the whole range
    # edit on every track it touched.
    def range_tracks(self, track_ids: list[int] | None = None) -> list[int]:
        """The tracks a range edit acts on, in track order; ``None`` means every track."""
        order = [t.id for t in self.project.tracks()]
        if track_ids is None:
            return order
        for tid in track_ids:
            if tid not in order:
                raise ProjectError(f"There is no track {tid} in {self.project.name}.")
        return [tid for tid in order if tid in track_ids]

    @staticmethod
    def _check_range(start: int, end: int) -> tuple[int, int]:
        start, end = max(0, int(start)), int(end)
        if end <= start:
            raise ProjectError("Select a stretch of time first (drag across the timeline).")
        return start, end

    def _cut_changes(self, start: int, end: int, tracks: list[int], ripple: bool) -> list[Change]:
        """Row changes that empty [start, end) on the tracks; with ``ripple`` the audio after
        it moves left to close the gap."""
        shift = end - start if ripple else 0
        changes: list[Change] = []
        for tid in tracks:
            for clip in self.project.clips(tid):
                row = self._row("clips", clip.id)
                if clip.end_frame <= start:
                    continue
                if clip.start_frame >= end:
                    if shift:
                        changes.append(("clips", clip.id, row, {**row, "start_frame": clip.start_frame - shift}))
                    continue
                left, right = slice_clip(row, 0, start), slice_clip(row, end, FAR)
                if right is not None:
                    right["start_frame"] -= shift
                if left is None and right is None:
                    changes.append(("clips", clip.id, row, None))
                elif left is None or right is None:
                    changes.append(("clips", clip.id, row, left or right))
                else:
                    new_id = self.project.next_id("clips")
                    changes.append(("clips", clip.id, row, left))
                    changes.append(("clips", new_id, None, {**right, "id": new_id}))
        if ripple and tracks == self.range_tracks():  # markers follow a delete on every track
            for m in self.project.markers():
                if m.frame > start:
                    before = self._row("markers", m.id)
                    after = {**before, "frame": max(start, m.frame - shift)}
                    changes.append(("markers", m.id, before, after))
        return changes

    def delete_range(self, start: int, end: int, track_ids: list[int] | None = None) -> None:
        """Remove [start, end) and close the gap (ripple), as Audacity's Delete does."""
        start, end = self._check_range(start, end)
        self._commit(Edit("Delete selection", self._cut_changes(start, end, self.range_tracks(track_ids), True)))

    def delete_ranges(self, ranges: list[tuple[int, int]], track_ids: list[int] | None = None,
                      label: str = "Delete selection") -> None:
        """Several ripple deletes as one undo step (deleting scattered words, removing every
        filler). Done last range first, so each range's frames are still the ones asked for;
        each step is written as it is worked out (it reads the rows the previous one left) and
        all of them are taken back if one fails."""
        spans: list[tuple[int, int]] = []
        for a, b in sorted(self._check_range(a, b) for a, b in ranges):
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
        if not spans:
            raise ProjectError("Nothing to delete.")
        tracks = self.range_tracks(track_ids)
        done: list[Change] = []
        try:
            for a, b in reversed(spans):
                step = self._cut_changes(a, b, tracks, True)
                self.project.apply_changes(step)
                done += step
        except BaseException:
            if done:
                self.project.apply_changes(Edit(label, done).inverse())
            raise
        if done:
            self._undo.append(Edit(label, done))
            del self._undo[: -self.limit]
            self._redo.clear()
            self._notify(label)

    def silence_range(self, start: int, end: int, track_ids: list[int] | None = None) -> None:
        """Make [start, end) a gap; nothing after it moves."""
        start, end = self._check_range(start, end)
        self._commit(Edit("Silence selection", self._cut_changes(start, end, self.range_tracks(track_ids), False)))

    def copy_range(self, start: int, end: int, track_ids: list[int] | None = None) -> Clipboard:
        """The clip pieces inside [start, end), one lane per track; changes nothing."""
        start, end = self._check_range(start, end)
        pieces = []
        for lane, tid in enumerate(self.range_tracks(track_ids)):
            for clip in self.project.clips(tid):
                part = slice_clip(self._row("clips", clip.id), start, end)
                if part is not None:
                    pieces.append(Piece(lane, part["take_id"], part["start_frame"] - start, part["offset_frame"],
                                        part["length_frames"], part["gain_db"], part["fade_in_frames"],
                                        part["fade_out_frames"]))
        return Clipboard(end - start, tuple(pieces))

    def cut_range(self, start: int, end: int, track_ids: list[int] | None = None) -> Clipboard:
        """Copy, then delete with ripple: one undo step."""
        board = self.copy_range(start, end, track_ids)
        start, end = self._check_range(start, end)
        self._commit(Edit("Cut", self._cut_changes(start, end, self.range_tracks(track_ids), True)))
        return board

    def trim_range(self, start: int, end: int, track_ids: list[int] | None = None) -> None:
        """Keep only [start, end) on the tracks (Audacity's Trim Audio); it stays where it is."""
        start, end = self._check_range(start, end)
        changes: list[Change] = []
        for tid in self.range_tracks(track_ids):
            for clip in self.project.clips(tid):
                row = self._row("clips", clip.id)
                part = slice_clip(row, start, end)
                if part != row:
                    changes.append(("clips", clip.id, row, part))
        self._commit(Edit("Trim to selection", changes))

    def paste(self, board: Clipboard, at: int, track_id: int | None = None, label: str = "Paste") -> list[int]:
        """Place the clipboard at ``at`` from ``track_id`` down; returns the new clip ids.

        Pasted clips never cover a clip: a lane that would goes to the first free track
        below, else to a new track (created in the same undo step), as Place does.
        """
        if not board.pieces:
            raise ProjectError("The clipboard is empty: copy or cut a selection first.")
        at = max(0, int(at))
        tracks = self.range_tracks()
        first = tracks.index(track_id) if track_id in tracks else 0
        taken: dict[int, list[tuple[int, int]]] = {
            tid: [(c.start_frame, c.end_frame) for c in self.project.clips(tid)] for tid in tracks}
        changes: list[Change] = []
        new_ids: list[int] = []
        position = 1 + max((t.position for t in self.project.tracks()), default=-1)
        for lane in sorted({p.lane for p in board.pieces}):
            spans = [(at + p.start, at + p.start + p.length) for p in board.pieces if p.lane == lane]
            free = next((tid for tid in tracks[first + lane:]
                         if not any(a < e and s < b for a, b in spans for s, e in taken[tid])), None)
            if free is None:
                free = self.project.next_id("tracks")
                changes.append(("tracks", free, None, {"id": free, "name": f"Track {free}", "position": position,
                                                      "gain_db": 0.0, "pan": 0.0, "mute": 0, "solo": 0}))
                position += 1
                tracks.append(free)
                taken[free] = []
            taken[free] += spans
            for p in (p for p in board.pieces if p.lane == lane):
                clip_id = self.project.next_id("clips")
                new_ids.append(clip_id)
                changes.append(("clips", clip_id, None, {
                    "id": clip_id, "track_id": free, "take_id": p.take_id, "start_frame": at + p.start,
                    "offset_frame": p.offset, "length_frames": p.length, "gain_db": p.gain_db,
                    "fade_in_frames": p.fade_in, "fade_out_frames": p.fade_out}))
        self._commit(Edit(label, changes))
        return new_ids

    def duplicate_range(self, start: int, end: int, track_ids: list[int] | None = None) -> list[int]:
        """A copy of the range at the same time, on free tracks below (Audacity's Duplicate)."""
        board = self.copy_range(start, end, track_ids)
        if not board.pieces:
            raise ProjectError("There is no audio in the selection to duplicate.")
        return self.paste(board, start, self.range_tracks(track_ids)[0], label="Duplicate")

    # ---- markers -------------------------------------------------------------------
    def add_marker(self, frame: int, label: str = "", kind: str = "marker") -> int:
        if kind not in ("marker", "chapter"):
            raise ProjectError(f"A marker is a 'marker' or a 'chapter', not {kind!r}.")
        marker_id = self.project.next_id("markers")
        label = label.strip() or f"Marker {marker_id}"
        row = {"id": marker_id, "frame": max(0, int(frame)), "label": label, "kind": kind}
        self._commit(Edit("Add marker", [("markers", marker_id, None, row)]))
        return marker_id

    def rename_marker(self, marker_id: int, label: str) -> None:
        self._update("markers", marker_id, "Rename marker", label=label.strip() or "Marker")

    def move_marker(self, marker_id: int, frame: int) -> None:
        self._update("markers", marker_id, "Move marker", frame=max(0, int(frame)))

    def remove_marker(self, marker_id: int) -> None:
        self._commit(Edit("Remove marker", [("markers", marker_id, self._row("markers", marker_id), None)]))

    def find_marker(self, label: str) -> int:
        """The id of the marker with that name (the first, in time order)."""
        for m in self.project.markers():
            if m.label == label:
                return m.id
        raise ProjectError(f"There is no marker named {label!r}.")

    def next_marker(self, frame: int, forward: bool = True) -> int | None:
        """The frame of the nearest marker after (or before) ``frame``, for jumping."""
        frames = [m.frame for m in self.project.markers()]
        if forward:
            return min((f for f in frames if f > frame), default=None)
        return max((f for f in frames if f < frame), default=None)

    # ---- whole-take results (stems, denoise) ------------------------------------------
    def add_tracks_with_takes(self, items: list[tuple[str, int, int]], label: str,
                              after_track: int | None = None) -> list[int]:
        """New tracks, each holding one take from ``start`` — ``items`` is
        ``(track name, take id, start frame)`` — as ONE undoable, saved edit (the stems of a
        separation come and go together). They go below ``after_track`` (else at the end);
        the tracks under it move down. Returns the new tracks' ids."""
        tracks = self.project.tracks()
        order = [t.id for t in tracks]
        at = order.index(after_track) + 1 if after_track in order else len(order)
        changes: list[Change] = []
        for i, t in enumerate(tracks[at:]):  # make room: positions become 0..n-1 in order
            row = self._row("tracks", t.id)
            if row["position"] != at + len(items) + i:
                changes.append(("tracks", t.id, row, {**row, "position": at + len(items) + i}))
        for i, t in enumerate(tracks[:at]):
            row = self._row("tracks", t.id)
            if row["position"] != i:
                changes.append(("tracks", t.id, row, {**row, "position": i}))
        new_tracks = []
        for i, (name, take_id, start) in enumerate(items):
            take = self.project.take(take_id)
            track_id = self.project.next_id("tracks")
            clip_id = self.project.next_id("clips")
            changes.append(("tracks", track_id, None, {
                "id": track_id, "name": name[:60] or f"Track {track_id}", "position": at + i,
                "gain_db": 0.0, "pan": 0.0, "mute": 0, "solo": 0}))
            changes.append(("clips", clip_id, None, {
                "id": clip_id, "track_id": track_id, "take_id": take_id,
                "start_frame": max(0, int(start)), "offset_frame": 0,
                "length_frames": self.project.take_frames(take), "gain_db": 0.0,
                "fade_in_frames": 0, "fade_out_frames": 0}))
            new_tracks.append(track_id)
        self._commit(Edit(label, changes))
        return new_tracks

    def replace_clip_audio(self, replacements: dict[int, int], label: str) -> None:
        """Each clip (id → take id) now plays the new take from its start, in place and at
        its length (a processed copy of exactly what the clip played: denoise), as one
        undoable, saved edit; fades and gain are kept."""
        changes: list[Change] = []
        for clip_id, take_id in replacements.items():
            row = self._row("clips", clip_id)
            frames = self.project.take_frames(self.project.take(take_id))
            changes.append(("clips", clip_id, row, {
                **row, "take_id": take_id, "offset_frame": 0,
                "length_frames": min(row["length_frames"], frames)}))
        self._commit(Edit(label, changes))
