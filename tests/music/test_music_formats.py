"""``timbre music/sfx --format opus|m4a``: takes written through the same export writers
as the project export (PyAV's Opus and AAC), tagged with their provenance."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("kind", "fmt"), [("music", "m4a"), ("sfx", "opus")])
def test_generated_takes_as_opus_and_m4a(debug_hub, tmp_path, capsys, kind, fmt):
    from desktop.cli.main import main
    from engines.audio_io import read_audio
    from engines.tags import read_tags

    code = main([kind, "rain on a roof", "--model", "debug", "--duration", "1", "--seed", "3",
                 "--no-watermark", "--format", fmt, "-o", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    (path,) = tmp_path.glob(f"{kind}-rain-on-a-roof-3-1.{fmt}")
    assert abs(read_audio(path).duration - 1.0) < 0.05
    take = read_tags(path).provenance["takes"][0]
    assert take["seed"] == 3 and take["engine"] in ("musicgen", "audiogen")
