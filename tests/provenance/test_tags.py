"""Provenance in exported files' tags: written, read back, readable by other tools."""

from __future__ import annotations

import numpy as np
import pytest

from engines.audio import AudioClip
from engines.errors import BadInput
from engines.provenance import Provenance
from engines.tags import PROVENANCE_KEY, provenance_document, read_tags, write_tagged, write_tags

CLONE = Provenance(
    engine="kokoro",
    model_id="kokoro-82m-int8",
    model_version="sha256:abc",
    prompt="Grüße aus Köln — «quoted» text",
    params={"rate": 1.1, "pitch": -2.0},
    seed=42,
    voice="Ada",
    consent={"statement": "I agree", "recorded": "2026-11-01", "similarity": 0.91},
    watermarked=True,
    watermark_score=1.0,
)


@pytest.fixture(scope="module")
def clip() -> AudioClip:
    rng = np.random.default_rng(0)
    return AudioClip((0.1 * rng.standard_normal((2, 24_000))).astype(np.float32), 48_000)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_provenance_round_trips_through_every_export_format(tmp_path, clip, fmt):
    path = write_tagged(tmp_path / f"take.{fmt}", clip, provenance_document([CLONE.to_dict()]))
    tags = read_tags(path)
    take = tags.provenance["takes"][0]
    assert Provenance.from_dict(take) == CLONE  # every field, consent record included
    assert tags.fields["title"] == "take"
    assert tags.fields["software"].startswith("Timbre Studio")
    assert "kokoro" in tags.fields["comment"] and "watermarked" in tags.fields["comment"]
    assert list(tmp_path.iterdir()) == [path]  # no staging file left behind


def test_other_tools_see_the_readable_fields(tmp_path, clip):
    """libsndfile reads the RIFF INFO chunk, mutagen the ID3 and Vorbis fields."""
    import mutagen
    import soundfile as sf

    doc = provenance_document([CLONE.to_dict()])
    wav = write_tagged(tmp_path / "a.wav", clip, doc, title="Ada reads")
    with sf.SoundFile(wav) as f:
        info = f.copy_metadata()
    assert info["title"] == "Ada reads" and info["software"].startswith("Timbre Studio")
    assert "seed 42" in info["comment"]
    mp3 = mutagen.File(write_tagged(tmp_path / "a.mp3", clip, doc))
    assert str(mp3["TIT2"]) == "a" and PROVENANCE_KEY in str(mp3[f"TXXX:{PROVENANCE_KEY}"].desc)
    ogg = mutagen.File(write_tagged(tmp_path / "a.ogg", clip, doc))
    assert ogg["encoder"][0].startswith("Timbre Studio")


def test_retagging_replaces_rather_than_duplicates(tmp_path, clip):
    path = write_tagged(tmp_path / "a.wav", clip, provenance_document([CLONE.to_dict()]))
    size = path.stat().st_size
    for title in ("second", "third"):
        write_tags(path, provenance_document([CLONE.to_dict()]), title)
    assert read_tags(path).fields["title"] == "third"
    assert abs(path.stat().st_size - size) < 64
    assert path.read_bytes().count(b"LIST") == 1


def test_untagged_and_damaged_files(tmp_path, clip):
    import soundfile as sf
    from mutagen.flac import FLAC

    plain = tmp_path / "plain.flac"
    sf.write(plain, clip.samples.T, clip.sample_rate)
    assert read_tags(plain).provenance is None
    audio = FLAC(plain)
    audio[PROVENANCE_KEY] = "{not json"
    audio.save()
    assert read_tags(plain).provenance is None  # reported as absent, not a crash
    text = tmp_path / "notes.wav"
    text.write_text("hello")
    with pytest.raises(BadInput, match="not a WAV, FLAC, OGG, MP3, Opus or M4A"):
        read_tags(text)
    with pytest.raises(BadInput, match="does not exist"):
        read_tags(tmp_path / "missing.wav")
