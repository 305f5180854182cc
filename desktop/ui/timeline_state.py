"""The timeline's view state, and what the canvas may ask of the view that hosts it.

Kept apart from both widgets so the canvas depends on a declared surface
(:class:`TimelineHost`), not on the view class: the canvas draws and turns gestures into
intents (select, move, trim, zoom); only the view edits the timeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from desktop.project.models import Clip, Marker, Track


@dataclass
class ViewState:
    """What reopening a project restores besides the edits themselves."""

    pps: float = 100.0  # pixels per second
    scroll: float = 0.0  # seconds at the left edge of the canvas
    playhead: int = 0  # frames
    track: int | None = None  # selected track id
    snapping: bool = True
    clip: int | None = None  # selected clip id
    selection: list[int] | None = None  # selected time range [start, end) in frames
    all_tracks: bool = False  # Select all: range edits act on every track, not the selected one

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ViewState:
        if not isinstance(data, dict):
            return cls()
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


class TimelineHost(Protocol):
    """What :class:`desktop.ui.timeline_canvas.TimelineCanvas` reads from and asks of its
    view (``desktop.ui.timeline_view.TimelineView`` implements it)."""

    rate: int
    state: ViewState
    tracks: list[Track]
    clips: list[Clip]
    markers: list[Marker]
    selected_clip: int | None
    selection: tuple[int, int] | None
    take_names: dict[int, str]
    hovered: Any  # Signal(int): the frame under the mouse
    told: Any  # Signal(str): something the user should know about an edit

    def peaks_for(self, take_id: int) -> Any: ...
    def track_row(self, track_id: int | None) -> int: ...
    def snap(self, frame: int, ignore: int | None = None) -> int: ...
    def select_track(self, track_id: int | None) -> None: ...
    def select_clip(self, clip_id: int | None) -> None: ...
    def set_playhead(self, frame: int) -> None: ...
    def set_selection(self, selection: tuple[int, int] | None) -> None: ...
    def scroll_to(self, seconds: float) -> None: ...
    def zoom(self, factor: float, anchor_x: float | None = None) -> None: ...
    def dragged(self, clip: Clip, mode: str, delta: int, track: Track | None) -> Clip: ...
    def commit_move(self, clip: Clip, start: int, track_id: int) -> str: ...
    def commit_trim(self, clip_id: int, left: int | None = None,
                    right: int | None = None) -> None: ...
    def split_selected(self) -> None: ...
    def delete_selected(self) -> None: ...
    def nudge_selected(self, frames: int) -> None: ...
    def set_clip_fades(self, fade_in: float | None = None,
                       fade_out: float | None = None) -> None: ...
    def rename_marker_asked(self, marker_id: int) -> None: ...
    def move_marker_to_playhead(self, marker_id: int) -> None: ...
    def remove_marker(self, marker_id: int) -> None: ...
