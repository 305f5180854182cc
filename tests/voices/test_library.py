"""The voice library: add, share, rename, remove, compare, clone slots, export and import."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engines.errors import BadInput
from engines.voices.consent import THRESHOLD, ConsentRequired
from engines.voices.embedding import cosine
from engines.voices.exchange import import_voice
from engines.voices.library import open_library
from engines.voices.prepare import prepare_reference
from tests.voices.voicefile import rewrite


@pytest.fixture
def lib(tmp_path):
    return open_library(tmp_path / "voices")


def _blob_files(lib) -> set[Path]:
    return {p for p in lib.blobs.rglob("*") if p.is_file()}


def test_add_share_rename_and_remove_with_refcounted_files(lib, voice_files, warm_models):
    joe = lib.add(
        "Joe", [voice_files["joe_a"], voice_files["joe_b"]], language="en", tags=["narrator"]
    )
    assert [c.source_name for c in joe.clips] == ["joe_a.wav", "joe_b.wav"]
    assert all(c.path.is_file() and c.original_path.is_file() for c in joe.clips)
    assert joe.clips[0].original_path.read_bytes() == voice_files["joe_a"].read_bytes()
    assert np.linalg.norm(joe.embedding) == pytest.approx(1.0, abs=1e-5)
    assert joe.speech_duration > 6 and joe.language == "en" and joe.tags == ("narrator",)
    assert joe.consent is None

    copy = lib.add("Joe copy", [voice_files["joe_a"]])
    shared = joe.clips[0].path
    assert copy.clips[0].path == shared  # stored once, by content
    with pytest.raises(BadInput, match="already exists"):
        lib.add("joe", [voice_files["joe_a"]])

    lib.remove("Joe")
    assert shared.exists() and copy.clips[0].original_path.exists()
    assert not joe.clips[1].path.exists() and not joe.clips[1].original_path.exists()

    lib.rename("Joe copy", "Joseph")
    assert lib.names() == ["Joseph"]
    with pytest.raises(BadInput, match="no voice called 'Joe copy'"):
        lib.get("Joe copy")
    lib.remove("Joseph")
    assert lib.names() == [] and _blob_files(lib) == set()


def test_similarity_and_closest_voices(lib, voice_files, warm_models):
    lib.add("Joe", [voice_files["joe_a"]])
    lib.add("Fiona", [voice_files["espeak_f"]])
    probe = prepare_reference(voice_files["joe_b"]).embedding
    ranked = lib.closest(probe)
    assert [name for name, _ in ranked] == ["Joe", "Fiona"]
    assert ranked[0][1] >= THRESHOLD > ranked[1][1]
    assert cosine(lib.embedding("Joe"), lib.embedding("Fiona")) < THRESHOLD
    assert [n for n, _ in lib.closest(lib.embedding("Joe"), exclude="joe")] == ["Fiona"]


def test_clone_slot_needs_consent(lib, voice_files, warm_models):
    lib.add("Joe", [voice_files["joe_a"]])
    with pytest.raises(ConsentRequired, match="no consent recording.*cannot be cloned"):
        lib.set_clone("Joe", "kokoro-style", np.zeros(256, np.float32))
    with pytest.raises(ConsentRequired):
        lib.require_consent("Joe")
    assert lib.get_clone("Joe", "kokoro-style") is None


# -- export / import ------------------------------------------------------------------


def test_export_then_import_is_identical(exported, tmp_path):
    lib, path, style = exported
    assert path.suffix == ".timbrevoice"
    before = lib.get("Joe")
    other = open_library(tmp_path / "elsewhere")
    after = import_voice(other, path)

    assert (after.name, after.language, after.notes, after.tags, after.created) == (
        before.name,
        before.language,
        before.notes,
        before.tags,
        before.created,
    )
    for a, b in zip(after.clips, before.clips, strict=True):
        assert a.sha256 == b.sha256 and a.path.read_bytes() == b.path.read_bytes()
        assert a.original_path.read_bytes() == b.original_path.read_bytes()
        # embeddings and durations are measured again from the stored audio, not copied
        assert cosine(a.embedding, b.embedding) > 0.999
        assert a.duration == pytest.approx(b.duration, abs=1e-3)
        assert a.report == b.report and a.source_name == b.source_name
    assert cosine(after.embedding, before.embedding) > 0.999
    # a genuine consent passes the consent check again on import and is kept
    assert after.has_consent
    assert after.consent.path.read_bytes() == before.consent.path.read_bytes()
    assert (after.consent.statement, after.consent.recorded) == (
        before.consent.statement,
        before.consent.recorded,
    )
    assert after.consent.similarity == pytest.approx(before.consent.similarity, abs=0.01)
    assert after.consent.similarity >= THRESHOLD
    assert after.clone_kinds == before.clone_kinds == ("kokoro-style", "notes.bin")
    clone = other.get_clone("Joe", "kokoro-style")
    assert np.array_equal(clone.data, style) and clone.data.dtype == np.float32
    assert clone.meta == {"similarity": 0.81, "sentences": 2}
    assert other.get_clone("Joe", "notes.bin").data == b"\x00\x01raw"

    with pytest.raises(BadInput, match="already exists"):
        import_voice(other, path)
    assert import_voice(other, path, name="Joe again").clips[0].path == after.clips[0].path


@pytest.mark.parametrize(
    "entry", ["../evil.flac", "/tmp/evil.flac", "clips/../../evil.flac", "run.py"]
)
def test_import_refuses_path_traversal_and_stray_files(exported, tmp_path, entry):
    _lib, path, _style = exported
    bad = rewrite(path, tmp_path / "bad.timbrevoice", extra={entry: b"x"})
    other = open_library(tmp_path / "lib")
    with pytest.raises(BadInput, match="unsafe or unexpected entry"):
        import_voice(other, bad)
    assert other.names() == [] and _blob_files(other) == set()
    assert not list(tmp_path.rglob("evil.flac")) and not Path("/tmp/evil.flac").exists()


def test_import_refuses_a_manifest_pointing_outside(exported, tmp_path):
    _lib, path, _style = exported

    def escape(manifest):
        manifest["clips"][0]["file"] = "../../../etc/passwd"

    other = open_library(tmp_path / "lib")
    with pytest.raises(BadInput, match="unsafe or unknown file"):
        import_voice(other, rewrite(path, tmp_path / "bad.timbrevoice", escape))
    assert other.names() == []


def test_import_refuses_damaged_files_and_pickles(exported, tmp_path):
    _lib, path, _style = exported
    other = open_library(tmp_path / "lib")
    with zipfile.ZipFile(path) as zf:
        clip_entry = next(n for n in zf.namelist() if n.startswith("clips/"))
        data = bytearray(zf.read(clip_entry))
    data[-1] ^= 0xFF
    damaged = tmp_path / "damaged.timbrevoice"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(damaged, "w") as zout:
        for info in zin.infolist():
            zout.writestr(
                info.filename, bytes(data) if info.filename == clip_entry else zin.read(info)
            )
    with pytest.raises(BadInput, match="damaged"):
        import_voice(other, damaged)

    buf = io.BytesIO()
    np.save(buf, np.array([{"run": "code"}], dtype=object), allow_pickle=True)
    pickled = buf.getvalue()
    entry = f"clones/{hashlib.sha256(pickled).hexdigest()}.npy"

    def add_clone(manifest):
        manifest["clones"].append({"kind": "evil", "file": entry, "meta": {}, "updated": "x"})

    with pytest.raises(BadInput, match="could not be read safely"):
        import_voice(other,
            rewrite(path, tmp_path / "pickle.timbrevoice", add_clone, {entry: pickled})
        )
    with pytest.raises(BadInput, match="not a voice export"):
        import_voice(other, voice_file_that_is_not_a_zip(tmp_path))
    assert other.names() == []


def voice_file_that_is_not_a_zip(tmp_path: Path) -> Path:
    path = tmp_path / "fake.timbrevoice"
    path.write_text("hello")
    return path


def test_a_style_clone_names_only_an_engine_and_voice_it_may_speak_through():
    """meta.engine / meta.voice of a style clone: Kokoro (or absent, as in old clones),
    Piper by an imported voice's name, espeak-ng by a voice id — anything else is refused
    with the reason (on the way in, by import, and on the way out)."""
    from engines.voices.library import check_clone

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((510, 256), np.float32))
    table = buffer.getvalue()
    for meta in ({}, {"engine": "kokoro"}, {"engine": "piper", "voice": "en_GB-alan-medium"},
                 {"engine": "piper", "voice": "joe"}, {"engine": "espeak", "voice": "en-us+m3"}):
        assert check_clone("kokoro-style", "npy", table, meta).shape == (510, 256)
    for meta, why in (({"engine": "festival"}, "meta.engine must be one of"),
                      ({"engine": ["espeak"]}, "meta.engine must be one of"),
                      ({"engine": "espeak", "voice": "-w/etc/passwd"}, "meta.voice must name"),
                      ({"engine": "espeak", "voice": "en us"}, "meta.voice must name"),
                      ({"engine": "piper", "voice": "../../x.onnx"}, "meta.voice must name"),
                      ({"engine": "piper", "voice": "/tmp/x.onnx"}, "meta.voice must name"),
                      ({"engine": "piper"}, "meta.voice must name")):
        with pytest.raises(ValueError, match=why):
            check_clone("kokoro-style", "npy", table, meta)
