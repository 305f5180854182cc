"""Kokoro's full voice set against a local stand-in for the hub (the real one cannot be reached).

The stand-in serves the ONNX export's layout: ``voices/<name>.bin``, raw float32 510×256
style tables. One is a real style (the shipped jf_alpha's numbers under an English name),
so a downloaded voice is spoken by the real Kokoro model.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines import modelstore
from engines.errors import BadInput, EngineError
from tests.music.fake_hub import FakeHub, hub_and_store


@pytest.fixture
def hub(tmp_path, monkeypatch):
    from engines.speech import kokoro_assets
    from engines.speech.kokoro_catalog import HUB_REPO

    style = np.asarray(kokoro_assets.shipped_styles()["jf_alpha"], "<f4").tobytes()
    fake = FakeHub()
    fake.repos[HUB_REPO] = {"config.json": b"{}", "voices/af_testy.bin": style,
                            "voices/bm_other.bin": style[::-1], "voices/ef_short.bin": b"\0" * 64}
    with hub_and_store(fake, tmp_path / "store", monkeypatch):
        yield fake


def test_voice_set_lists_filters_downloads_verified_and_speaks(hub, capsys):
    from desktop.cli.main import main
    from engines.speech import kokoro_catalog as kc
    from engines.speech.voices import resolve

    assert main(["models", "list", "--kind", "voice", "--refresh", "--language", "en"]) == 0
    out = capsys.readouterr().out
    assert "Kokoro-82M voices (2 of 3, fetched from the hub" in out
    assert out.index("af_testy") < out.index("bm_other") and "ef_short" not in out
    assert "English (UK)" in out and "0.5 MB" in out
    assert [v.name for v in kc.catalog()[0] if v.matches(search="spanish")] == ["ef_short"]
    assert [v.name for v in kc.catalog()[0] if v.matches(search="male")] == ["bm_other"]

    hub.corrupt.add(f"{kc.HUB_REPO}/voices/af_testy.bin")
    with pytest.raises(EngineError, match="corrupt"):
        kc.download("af_testy", lambda _m: None)
    hub.corrupt.clear()
    with pytest.raises(BadInput, match="not a Kokoro voice"):  # checksum fine, shape wrong
        kc.download("ef_short", lambda _m: None)
    assert not kc.is_installed("ef_short")

    assert main(["models", "download", "kokoro:af_testy"]) == 0
    out = capsys.readouterr().out
    assert out.index("Apache-2.0") < out.index("downloading Kokoro voice af_testy")
    resolved = resolve("af_testy")
    assert resolved.engine == "kokoro" and resolved.fields["language"] == "en-us"
    wav = modelstore.hub_cache().parent / "said.wav"
    assert main(["speak", "Hello there.", "--voice", "af_testy", "-o", str(wav)]) == 0
    assert wav.stat().st_size > 10_000
    assert main(["models", "remove", "kokoro:af_testy"]) == 0
    assert "af_testy" not in kc.installed()
