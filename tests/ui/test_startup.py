"""Start-up as a user runs it: ``timbre --screenshot`` in a fresh process."""

from __future__ import annotations

import re

from PySide6.QtGui import QImage


def test_screenshot_renders_demo_window_without_torch(timbre_cli, tmp_path):
    out = tmp_path / "shot.png"
    result = timbre_cli("--screenshot", out, env={"TIMBRE_REPORT_STARTUP": "1"}, timeout=120)
    assert result.returncode == 0, result.stderr
    line = re.search(r"first paint ([0-9.]+) s after process start \((torch \w+ ?\w*)\)", result.stderr)
    assert line, result.stderr
    assert line.group(2) == "torch not loaded"
    assert float(line.group(1)) < 15.0  # measured ~1.2 s on an idle 2-core machine
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 860)  # it must fit a common laptop screen
    # the spectrogram (bottom left) is a colour image, not an empty plot
    colours = {image.pixel(x, y) for x in range(100, 800, 7) for y in range(660, 800, 5)}
    assert len(colours) > 50
    # the timeline (centre) shows clips with waveforms on the track backgrounds: no single
    # colour covers most of it (a stray brush once painted it all over)
    from collections import Counter

    centre = Counter(image.pixel(x, y) for x in range(520, 1100, 3) for y in range(110, 360, 3))
    assert centre.most_common(1)[0][1] < 0.6 * sum(centre.values()) and len(centre) > 20
