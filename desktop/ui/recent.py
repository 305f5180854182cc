"""File › Open recent: the last projects opened, kept in the settings (``recent_projects``).

A project that was moved or deleted stays in the list, greyed out and saying so, until
the user removes the missing ones: a project on an unplugged drive comes back when the
drive does, so it is not dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from engines.settings import get_setting, set_setting

MAX_RECENT = 10


def recent_projects() -> list[Path]:
    """The list, most recent first (odd entries in a hand-edited file are skipped)."""
    return [Path(p) for p in get_setting("recent_projects") if isinstance(p, str) and p]


def is_project(path: Path) -> bool:
    return (path / "project.db").is_file()


def remember(path: str | Path) -> None:
    """Put ``path`` first (once), keeping at most :data:`MAX_RECENT`."""
    path = Path(path).expanduser().absolute()
    kept = [p for p in recent_projects() if p != path]
    set_setting("recent_projects", [str(p) for p in [path, *kept][:MAX_RECENT]])


def forget_missing() -> list[Path]:
    """Drop the projects that are no longer there; the ones dropped."""
    paths = recent_projects()
    missing = [p for p in paths if not is_project(p)]
    set_setting("recent_projects", [str(p) for p in paths if p not in missing])
    return missing


def clear() -> None:
    set_setting("recent_projects", [])


class RecentMenu(QMenu):
    """Rebuilt each time it opens, so it shows what is on disk now. ``open_path(path)``
    opens a project; ``current()`` is the open project's path (left out of the list);
    ``notify(text)`` says what a removal did."""

    def __init__(self, parent: QWidget, open_path: Callable[[Path], None],
                 current: Callable[[], Path | None], notify: Callable[[str], None]) -> None:
        super().__init__("Open &recent", parent)
        self.setToolTipsVisible(True)
        self.open_path, self.current, self.notify = open_path, current, notify
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        here = self.current()
        here = here.absolute() if here is not None else None
        paths = [p for p in recent_projects() if p != here]
        missing = 0
        for path in paths:
            name = path.name.removesuffix(".timbre") or str(path)
            a = QAction(f"{name} — {path.parent}", self)
            if is_project(path):
                a.setToolTip(str(path))
                a.triggered.connect(lambda _=False, p=path: self.open_path(p))
            else:
                missing += 1
                a.setText(f"{name} — missing (moved or deleted)")
                a.setToolTip(f"Not found at {path}. Move it back, or remove missing projects below.")
                a.setEnabled(False)
            self.addAction(a)
        if not paths:
            a = self.addAction("No recent projects")
            a.setEnabled(False)
            return
        self.addSeparator()
        if missing:
            self.addAction(f"Remove missing projects ({missing})", self.remove_missing)
        self.addAction("Clear the list", self.clear_list)

    def remove_missing(self) -> None:
        gone = forget_missing()
        if gone:
            names = ", ".join(p.name for p in gone)
            self.notify(f"Removed {len(gone)} missing project(s) from Open recent: {names}.")
        self.rebuild()

    def clear_list(self) -> None:
        clear()
        self.rebuild()
