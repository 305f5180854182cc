"""``timbre convert``: a recording re-spoken in a library voice by Chatterbox VC (``--model debug``).

The tiny random checkpoint's S3Gen is loaded through the package's ``ChatterboxVC.from_local``;
its audio is noise, so these tests check plumbing (consent, length, seeds, progress, cancel,
the watermark, provenance), not how it sounds.
"""

from __future__ import annotations

import numpy as np
import pytest

from engines.cancel import CancelToken
from engines.errors import BadInput, Cancelled

SOURCE_S = 2.5


@pytest.fixture(scope="module")
def converter():
    from engines.speech.chatterbox_vc import ChatterboxConverter

    vc = ChatterboxConverter("debug")
    vc.load()
    return vc


@pytest.fixture
def source(tmp_path):
    """A short spoken recording at 22.05 kHz (Piper's rate: the converter resamples)."""
    from engines.audio_io import write_audio
    from tests.voices import material

    clip = material.joe(material.SENTENCES[1]).slice_seconds(0.0, SOURCE_S)
    return write_audio(tmp_path / "source.wav", clip)


def _add_voice(tmp_path, name: str, consent: bool) -> None:
    from engines.audio_io import write_audio
    from engines.voices.library import open_library
    from tests.voices import material

    lib = open_library()
    lib.add(name, [write_audio(tmp_path / f"{name}-ref.wav", material.joe(material.SENTENCES[0]))])
    if consent:
        said = write_audio(tmp_path / f"{name}-consent.wav",
                           material.joe(lib.statement(name).text, 1.1))
        lib.record_consent(name, said, check_phrase=False)


def test_converts_into_a_consented_voice_with_the_input_length(converter, source, tmp_path,
                                                               monkeypatch):
    import engines.watermark as wm
    from engines.speech.chatterbox_vc import SAMPLE_RATE, convert_request

    _add_voice(tmp_path, "Sam", consent=True)
    monkeypatch.setattr(converter._vc.watermarker, "apply_watermark",
                        lambda *_a, **_k: pytest.fail("ChatterboxVC's own watermark ran"))
    embeds = []
    real = wm.embed
    monkeypatch.setattr(wm, "embed", lambda clip: embeds.append(1) or real(clip))
    reports = []
    take = converter.generate(convert_request(source, "Sam", seed=3), progress=reports.append)[0]
    assert take.clip.sample_rate == SAMPLE_RATE
    assert take.clip.duration == pytest.approx(SOURCE_S, abs=0.05)
    assert np.all(np.isfinite(take.clip.samples)) and take.clip.peak > 0
    prov = take.provenance
    assert prov.engine == "chatterbox-vc" and prov.model_id == "timbre/chatterbox-debug"
    assert prov.voice == "Sam" and prov.consent and prov.consent["path"] and prov.seed == 3
    assert prov.params["source"] == "source.wav"
    assert len(embeds) == 1 and prov.watermarked and wm.detect(take.clip).present
    done = [p.done for p in reports]
    assert len(reports) >= 10 and done == sorted(done)  # every flow-matching step
    assert done[-1] == reports[-1].total == pytest.approx(SOURCE_S, abs=0.05)


def test_same_seed_same_audio(converter, source, tmp_path):
    from engines.speech.chatterbox_vc import convert_request

    _add_voice(tmp_path, "Sam", consent=True)
    request = convert_request(source, "Sam", seed=7)
    first = converter.convert(request.source, request.reference, seed=7)
    again = converter.convert(request.source, request.reference, seed=7)
    other = converter.convert(request.source, request.reference, seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_cancel_stops_at_the_next_step(converter, source, tmp_path):
    from engines.speech.chatterbox_vc import convert_request

    _add_voice(tmp_path, "Sam", consent=True)
    request = convert_request(source, "Sam", seed=1)
    cancel = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if len(seen) == 3:
            cancel.cancel()

    with pytest.raises(Cancelled):
        converter.convert(request.source, request.reference, 1, progress, cancel)
    assert len(seen) == 3


def test_refused_without_consent_and_for_a_missing_file(source, tmp_path, capsys):
    from desktop.cli.main import main
    from engines.speech.chatterbox_vc import convert_request
    from engines.voices.consent import ConsentRequired

    _add_voice(tmp_path, "Kim", consent=False)
    with pytest.raises(ConsentRequired, match="consent"):
        convert_request(source, "Kim")
    out = tmp_path / "out.wav"
    assert main(["convert", str(source), "--voice", "Kim", "--model", "debug", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "consent" in err and not out.exists()

    _add_voice(tmp_path, "Sam", consent=True)
    missing = tmp_path / "nowhere.wav"
    with pytest.raises(BadInput, match="does not exist"):
        convert_request(missing, "Sam")
    assert main(["convert", str(missing), "--voice", "Sam", "--model", "debug", "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err and not out.exists()

    assert main(["convert", str(source), "--voice", "Nobody", "-o", str(out)]) == 1
    assert "no library voice called 'Nobody'" in capsys.readouterr().err


def test_timbre_convert_writes_a_watermarked_take_that_detect_confirms(timbre_cli, source,
                                                                      tmp_path):
    from engines.audio_io import read_audio
    from engines.tags import read_tags

    _add_voice(tmp_path, "Sam", consent=True)
    out = tmp_path / "sam.wav"
    done = timbre_cli("convert", source, "--voice", "Sam", "--model", "debug", "--seed", "2",
                      "-o", out, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out}"  # nothing else (perth prints a banner)
    clip = read_audio(out)
    assert clip.sample_rate == 24_000 and clip.duration == pytest.approx(SOURCE_S, abs=0.05)
    prov = read_tags(out).provenance["takes"][0]
    assert prov["engine"] == "chatterbox-vc" and prov["voice"] == "Sam" and prov["consent"]
    assert prov["watermarked"] and prov["seed"] == 2
    detected = timbre_cli("detect", out, timeout=120)
    assert detected.returncode == 0, detected.stdout + detected.stderr
