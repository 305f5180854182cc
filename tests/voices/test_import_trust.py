"""A voice file is untrusted input: forged consent, crafted fields, zip bombs, huge audio.

Every file here is a real export (the session's ``exported`` voice, with a genuine consent)
edited the way an attacker would edit it; nothing is mocked.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from desktop.cli.main import main
from engines.audio_io import write_audio
from engines.errors import BadInput
from engines.voices import transcribe
from engines.voices.exchange import MAX_MEMBER_BYTES, MAX_TOTAL_BYTES, import_voice
from engines.voices.library import open_library
from engines.voices.prepare import MAX_REFERENCE_S
from tests.long_audio import long_flac
from tests.voices import material as m
from tests.voices.voicefile import rewrite

needs_whisper = pytest.mark.skipif(
    transcribe.unavailable_reason() is not None, reason="Whisper-base is not installed"
)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _flac_member(tmp_path: Path, clip, folder: str = "clips") -> tuple[str, bytes]:
    data = write_audio(tmp_path / "member.flac", clip, "flac").read_bytes()
    return f"{folder}/{hashlib.sha256(data).hexdigest()}.flac", data


def _consent_file(manifest: dict) -> str:
    return manifest["consent"]["file"]


def _forge(exported, tmp_path: Path, recording) -> Path:
    """The exported voice with its consent recording swapped and made-up scores claimed."""
    _lib, path, _style = exported
    entry, data = _flac_member(tmp_path, recording)

    def forge(manifest):
        manifest["consent"].update(file=entry, similarity=0.99, threshold=0.0)

    return rewrite(path, tmp_path / "forged.timbrevoice", forge, {entry: data}, _consent_file)


# -- 1. consent cannot be forged ------------------------------------------------------


@pytest.mark.parametrize("who", ["another speaker", "the same voice, not reading the statement"])
def test_forged_consent_is_dropped_and_the_voice_cannot_be_cloned(
    exported, tmp_path, capsys, who
):
    lib, _path, _style = exported
    statement = lib.get("Joe").consent.statement
    if who == "another speaker":  # refused on the speaker check alone, recogniser or not
        recording = m.espeak(statement, "en-us+f2")
    else:
        if transcribe.unavailable_reason() is not None:
            pytest.skip("the phrase check needs Whisper-base")
        recording = m.joe(m.SENTENCES[4])  # Joe, but saying something else
    forged = _forge(exported, tmp_path, recording)

    code, out, err = run(capsys, "voice", "import", forged)
    assert code == 0, err
    assert "imported voice 'Joe'" in out and "consent no" in out
    assert err.count("\n") == 1 and "did not pass this app's consent check" in err
    assert "forged.timbrevoice" in err and "timbre voice statement" in err
    voice = open_library().get("Joe")
    assert voice.consent is None and voice.clone_kinds == ()  # clones left with the consent

    code, _out, err = run(capsys, "voice", "clone", "Joe", "--budget", "5")
    assert code == 1 and "no consent recording" in err and err.count("\n") == 1
    code, _out, err = run(capsys, "speak", "--voice", "Joe", "hello", "-o", tmp_path / "x.wav")
    assert code == 1 and "no consent recording" in err


def test_a_reference_clip_is_not_accepted_as_its_own_consent(exported, tmp_path):
    _lib, path, _style = exported
    notes: list[str] = []

    def point_at_reference(manifest):
        manifest["consent"]["file"] = manifest["clips"][0]["file"]

    out = rewrite(path, tmp_path / "b.timbrevoice", point_at_reference, drop=_consent_file)
    voice = import_voice(open_library(tmp_path / "lib"), out, notice=notes.append)
    assert voice.consent is None and len(notes) == 1 and "reference clips" in notes[0]


# -- 2. reports and clones are checked before they are stored --------------------------


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _npy_claiming(count: int) -> bytes:
    """An .npy header announcing ``count`` float32 numbers, followed by none of them."""
    buf = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (count,)}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


SHORT_STYLE = _npy(np.ones(3, np.float32))
HUGE_STYLE = _npy_claiming(10**12)  # numpy would allocate 4 TB before reading


def _style_clone_is(data: bytes):
    entry = f"clones/{hashlib.sha256(data).hexdigest()}.npy"

    def edit(manifest):
        clone = next(c for c in manifest["clones"] if c["kind"] == "kokoro-style")
        clone["file"] = entry

    return edit, {entry: data}


def _set(path: list, value):
    def edit(manifest):
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "extra", "says"),
    [
        (_set(["clips", 0, "report", "snr_db"], "loud"), {}, "snr_db must be a number"),
        (_set(["clips", 0, "report", "peak_dbfs"], float("nan")), {}, "peak_dbfs must be"),
        (_set(["clips", 0, "report", "speech_spans"], [[1, "x"]]), {}, "speech_spans"),
        (_set(["clips", 0, "report", "sample_rate"], 1e300), {}, "sample_rate must be"),
        (_set(["clips", 0, "report", "warnings"], [{"a": 1}]), {}, "warnings must be"),
        (_set(["clips", 0, "report"], "not a report"), {}, "must be an object"),
        (_set(["clips", 0, "duration"], 1e12), {}, "duration must be a number"),
        (_set(["consent", "similarity"], "0.99"), {}, "similarity must be a number"),
        (_set(["voice", "tags"], ["x"] * 1000), {}, "voice.tags"),
        (*_style_clone_is(SHORT_STYLE), "510×256"),
        (*_style_clone_is(HUGE_STYLE), "does not match the shape in its header"),
        (_set(["clones", 0, "meta", "world"], {"pitch": "high", "warp": 1}), {}, "pitch"),
        (_set(["clones", 0, "meta", "eq"], {"hz": [100, 200], "db": [0, 99]}), {}, "meta.eq.db"),
        (_set(["clones", 0, "meta", "pitch_offset"], 1e9), {}, "pitch_offset"),
    ],
)
def test_crafted_report_and_clone_fields_refuse_the_file(exported, tmp_path, edit, extra, says):
    _lib, path, _style = exported
    bad = rewrite(path, tmp_path / "crafted.timbrevoice", edit, extra)
    other = open_library(tmp_path / "lib")
    with pytest.raises(BadInput) as caught:
        import_voice(other, bad)
    message = str(caught.value)
    assert message.startswith("crafted.timbrevoice is not a voice file this app can import")
    assert says in message and "\n" not in message and "new export" in message
    assert other.names() == []


@pytest.mark.parametrize("text", ['{"version": ' + "1" * 5000 + "}", "[" * 100_000])
def test_a_manifest_that_breaks_the_json_parser_is_one_line(tmp_path, text):
    path = tmp_path / "odd.timbrevoice"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", text)
    with pytest.raises(BadInput, match="odd.timbrevoice .* its manifest is not valid JSON"):
        import_voice(open_library(tmp_path / "lib"), path)


def test_bad_rows_already_stored_give_one_line_not_a_traceback(exported, tmp_path, capsys):
    _lib, path, _style = exported
    lib = open_library()
    import_voice(lib, path)

    def store(sql: str, value) -> None:
        db = sqlite3.connect(lib.db_path)
        with db:
            db.execute(sql, (value,))
        db.close()

    store("UPDATE clones SET data = ? WHERE kind = 'kokoro-style'", SHORT_STYLE)
    code, _out, err = run(capsys, "speak", "--voice", "Joe", "hello", "-o", tmp_path / "x.wav")
    assert code == 1 and err.count("\n") == 1
    assert "'kokoro-style' clone of the voice 'Joe' is damaged (a Kokoro style must be" in err
    assert "timbre voice clone 'Joe'" in err

    store("UPDATE clips SET report = ? WHERE position = 0", '{"snr_db": "x"}')
    for args in (("voice", "show", "Joe"), ("voice", "list")):
        code, _out, err = run(capsys, *args)
        assert code == 1 and err.count("\n") == 1
        assert "voice 'Joe' in the library is damaged (a clip's report is not valid" in err
        assert "timbre voice remove 'Joe'" in err


# -- 3. size limits, checked before anything is inflated or decoded -------------------


@pytest.fixture(scope="module")
def bomb(exported, tmp_path_factory) -> Path:
    """A real voice file plus a valid WAV original that inflates to 2 GB (8 MB on disk)."""
    _lib, path, _style = exported
    size = 2_000_000_000
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
        + b"data"
        + struct.pack("<I", size)
    )
    entry = "originals/" + "0" * 64 + ".wav"
    out = rewrite(
        path,
        tmp_path_factory.mktemp("bomb") / "bomb.timbrevoice",
        _set(["clips", 0, "original"], entry),
        drop=lambda manifest: manifest["clips"][0]["original"],
    )
    zero = bytes(16 << 20)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(entry, "w", force_zip64=True) as member:
            member.write(header)
            for _ in range(size // len(zero)):
                member.write(zero)
            member.write(zero[: size % len(zero)])
    return out


def test_a_zip_bomb_is_refused_from_the_directory_without_inflating(bomb, tmp_path):
    assert bomb.stat().st_size < 20 << 20
    with zipfile.ZipFile(bomb) as zf:
        assert max(i.file_size for i in zf.infolist()) > MAX_MEMBER_BYTES
    assert MAX_MEMBER_BYTES < MAX_TOTAL_BYTES < 2 << 30
    other = open_library(tmp_path / "lib")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(BadInput) as caught:
            import_voice(other, bomb)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert "would unpack to 1,907 MB (at most 256 MB per file)" in message and "\n" not in message
    assert seconds < 1.0 and peak < 16 << 20  # inflating it would take 2 GB and seconds
    assert other.names() == []


def test_a_ten_hour_reference_is_refused_from_its_header(tmp_path, capsys):
    long = long_flac(tmp_path / "ten-hours.flac", 10)
    started = time.perf_counter()
    code, _out, err = run(capsys, "voice", "add", "Long", long)
    assert time.perf_counter() - started < 2.0
    assert code == 1 and err.count("\n") == 1
    assert "ten-hours.flac is 10.0 h long" in err
    assert f"at most {MAX_REFERENCE_S / 60:.0f} min" in err
    assert open_library().names() == []


def test_a_long_clip_inside_a_voice_file_is_refused_from_its_header(exported, tmp_path):
    _lib, path, _style = exported
    data = long_flac(tmp_path / "long.flac", 10).read_bytes()
    entry = f"clips/{hashlib.sha256(data).hexdigest()}.flac"
    bad = rewrite(
        path,
        tmp_path / "long.timbrevoice",
        _set(["clips", 0, "file"], entry),
        {entry: data},
        lambda manifest: manifest["clips"][0]["file"],
    )
    with pytest.raises(BadInput, match=r"is 600 min long \(a voice recording may be at most 15"):
        import_voice(open_library(tmp_path / "lib"), bad)
