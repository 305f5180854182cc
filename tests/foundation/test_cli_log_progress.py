"""The command line's log file and progress line: what a user sees on a terminal (rate and
time left), nothing in a pipe, and every command with its outcome in a rotating log."""

from __future__ import annotations

import io
import logging

from desktop.cli.common import ProgressBar
from engines.cancel import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_rate_and_time_left_on_a_terminal_only(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")  # what engines set for library bars: not ours
    screen = Terminal()
    bar = ProgressBar("mixing", screen)
    for done in range(0, 480_001, 48_000):
        bar(Progress(done, 480_000, "mixing"))
    bar(Progress(0, 12, "writing"))  # a new stage in other units starts its own timing
    bar(Progress(12, 12, "writing"))
    bar.close()
    lines = screen.getvalue().replace("\r", "\n").split("\n")
    assert any(line.startswith("mixing:") and "/480k [" in line for line in lines)  # frames, scaled
    last = [line for line in lines if line.strip()][-1]
    assert last.startswith("mixing (writing): 100%") and "| 12/12 [00:00<00:00, " in last
    assert last.rstrip().endswith("/s]")  # time spent < time left, rate
    assert screen.getvalue().endswith("\n")

    piped = io.StringIO()  # not a terminal: a log or `| tee` gets no bar
    bar = ProgressBar("mixing", piped)
    bar(Progress(1, 2))
    bar.close()
    assert piped.getvalue() == ""


def test_each_command_and_its_failure_go_to_the_cli_log(timbre_cli, tmp_path):
    logs = tmp_path / "logs"
    result = timbre_cli("project", "info", str(tmp_path / "nowhere"), env={"TIMBRE_LOG_DIR": str(logs)})
    assert result.returncode == 1 and result.stderr.startswith("timbre: ")
    text = (logs / "cli.log").read_text(encoding="utf-8")
    assert f"INFO timbre: timbre project info {tmp_path / 'nowhere'}" in text
    assert "WARNING timbre: failed: " + result.stderr.removeprefix("timbre: ").strip() in text


def test_the_log_rotates_and_keeps_a_few_old_files(monkeypatch, tmp_path):
    from engines import logs

    monkeypatch.setenv("TIMBRE_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = logs.setup_logging("cli")
    try:
        assert path == tmp_path / "cli.log"
        for i in range(200):
            logging.getLogger("engines.test").info("line %d of a long session", i)
        logging.getLogger("some.library").info("a library's chatter stays out")
    finally:
        logs.close_logging()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["cli.log", "cli.log.1", "cli.log.2", "cli.log.3"]
    assert all((tmp_path / f).stat().st_size <= 2_000 for f in files)
    newest = (tmp_path / "cli.log").read_text(encoding="utf-8")
    assert "line 199 of a long session" in newest and "chatter" not in newest
