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

    def _update(self, table: str, row_id: int, label: str, **values: Any) -> None:
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

    # ---- markers -------------------------------------------------------------------
    def add_marker(self, frame: int, label: str = "", kind: str = "marker") -> int:
        marker_id = self.project.next_id("markers")
        row = {"id": marker_id, "frame": max(0, frame), "label": label, "kind": kind}
        self._commit(Edit("Add marker", [("markers", marker_id, None, row)]))
        return marker_id

    def remove_marker(self, marker_id: int) -> None:
        self._commit(Edit("Remove marker", [("markers", marker_id, self._row("markers", marker_id), None)]))
