"""Piper's voice catalog against a local stand-in for the hub (the real one cannot be reached).

The stand-in serves a ``voices.json`` in Piper's published layout and the files it lists: a
real voice (the shipped joe, under a catalog key of its own) and a tiny second one whose
bytes are not a model, for listing, filtering, checksums and resuming. The app's download
code runs unchanged through ``HF_ENDPOINT``.
"""

from __future__ import annotations

import pytest

from engines import modelstore
from engines.errors import Cancelled, EngineError
from tests.music.fake_hub import cancel_after, hub_and_store
from tests.speech.piper_hub import JOE_KEY, REPO, TINY_KEY, piper_hub


@pytest.fixture
def hub(tmp_path, monkeypatch):
    fake = piper_hub()
    with hub_and_store(fake, tmp_path / "store", monkeypatch):
        yield fake


def test_catalog_lists_filters_and_is_cached_for_offline_use(hub, monkeypatch, capsys):
    from desktop.cli.main import main
    from engines.speech import piper_catalog as cat

    voices, source = cat.catalog()
    assert source == "built-in" and "en_US-lessac-medium" in [v.key for v in voices]
    assert all(v.size_bytes == 0 for v in voices)  # no sizes or checksums typed in

    assert main(["models", "list", "--kind", "voice", "--refresh"]) == 0
    out = capsys.readouterr().out
    assert "2 of 2, fetched from the hub" in out and JOE_KEY in out and TINY_KEY in out
    assert out.index(JOE_KEY) < out.index(TINY_KEY)  # English first
    assert "licence: see model card" in out  # the catalog itself names no licence

    assert main(["models", "list", "--kind", "voice", "--language", "de"]) == 0
    out = capsys.readouterr().out
    assert "1 of 2, cached copy" in out and TINY_KEY in out and JOE_KEY not in out
    assert "German (Germany)" in out and "0.3 MB" in out
    voices, _ = cat.catalog()
    assert [v.key for v in voices if v.matches(search="testjoe")] == [JOE_KEY]
    assert [v.key for v in voices if v.matches(language="en-us")] == [JOE_KEY]
    assert [v.key for v in voices if v.matches(language="German", search="low")] == [TINY_KEY]
    assert cat.find(voices, "de-de-tiny-low").key == TINY_KEY  # an alias

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # offline now: the cache answers
    assert [v.key for v in cat.catalog()[0]] == [JOE_KEY, TINY_KEY]
    with pytest.raises(EngineError, match="Cannot reach the Hugging Face hub"):
        cat.catalog(refresh=True)


def test_corrupt_file_is_refused_and_an_interrupted_download_resumes(hub, monkeypatch):
    from engines import download as downloading
    from engines.speech import piper_catalog as cat

    cat.refresh_catalog()
    onnx_path = next(p for p in hub.repos[REPO] if p.endswith(f"{TINY_KEY}.onnx"))
    hub.corrupt.add(f"{REPO}/{onnx_path}")
    with pytest.raises(EngineError, match="corrupt"):
        cat.download(TINY_KEY, lambda _m: None)
    assert not cat.is_installed(TINY_KEY)
    hub.corrupt.clear()

    monkeypatch.setattr(downloading, "CHUNK_BYTES", 64 * 1024)
    cancel, progress, seen = cancel_after(128 * 1024)

    with pytest.raises(Cancelled):
        cat.download(TINY_KEY, lambda _m: None, progress=progress, cancel=cancel)
    assert not cat.is_installed(TINY_KEY)
    hub.ranges.clear()
    resumed = []
    onnx = cat.download(TINY_KEY, lambda _m: None, progress=lambda p: resumed.append(p))
    size = len(hub.repos[REPO][onnx_path])
    starts = [start for path, start in hub.ranges if path == f"{REPO}/{onnx_path}"]
    assert len(starts) == 1 and 0 < starts[0] < size  # asked only for the rest
    assert resumed[0].done >= 128 * 1024 and resumed[-1].done == resumed[-1].total
    assert onnx.read_bytes() == hub.repos[REPO][onnx_path]
    assert cat.licence(TINY_KEY) == "CC-BY-4.0"  # from the MODEL_CARD downloaded with it


def test_downloaded_voice_is_listed_and_speaks_by_its_key(hub, capsys):
    from desktop.cli.main import main
    from engines.speech import piper_catalog as cat
    from engines.speech.voices import imported_piper_voices, resolve

    assert main(["models", "download", f"piper:{JOE_KEY}"]) == 0
    out = capsys.readouterr().out
    assert f"Piper voice {JOE_KEY}: licence CC0" in out  # before the voice's bytes
    assert out.index("licence CC0") < out.index("downloading")
    assert f"installed piper:{JOE_KEY}" in out and "A rainbow is" in out  # a sample sentence
    assert JOE_KEY in imported_piper_voices() and resolve(JOE_KEY).engine == "piper"
    assert cat.installed_by_language(imported_piper_voices()) == [(JOE_KEY, f"en_US — {JOE_KEY}")]
    from engines.licences import installed_models

    assert (f"piper-voices/{JOE_KEY}", "CC0 (from its MODEL_CARD)") in installed_models()

    assert main(["speak-voices", "--engine", "piper"]) == 0
    assert JOE_KEY in capsys.readouterr().out
    wav = modelstore.hub_cache().parent / "said.wav"
    assert main(["speak", "Hello there.", "--engine", "piper", "--voice", JOE_KEY, "-o", str(wav)]) == 0
    assert wav.stat().st_size > 10_000
    assert main(["models", "download", f"piper:{JOE_KEY}"]) == 0
    assert f"{JOE_KEY} is already installed" in capsys.readouterr().out
    assert main(["models", "remove", f"piper:{JOE_KEY}"]) == 0
    assert JOE_KEY not in imported_piper_voices()
