"""Export bit rates: ``--bitrate``/``--vbr``/``--cbr`` change what the encoder writes (read
back by mutagen from the frames and the LAME/Xing header), and tags and chapters stay."""

from __future__ import annotations

import pytest

from engines.audio_io import Encoding, parse_bitrate
from engines.errors import BadInput

RATE = 48_000


@pytest.fixture
def marked(project, make_wav):
    from desktop.project.timeline import Timeline

    project.import_file(make_wav("take.wav", seconds=6.0))
    Timeline(project).add_marker(2 * RATE, "Middle", "chapter")
    return project


def mp3_info(path):
    from mutagen.mp3 import MP3

    return MP3(path).info


def test_mp3_bitrate_and_mode_reach_the_file_with_tags_and_chapters(marked, tmp_path):
    from mutagen.mp3 import BitrateMode

    from desktop.project.export import export_project
    from engines.chapters import read_chapters
    from engines.tags import read_tags

    cbr = export_project(marked, tmp_path / "cbr.mp3", encoding=Encoding(320_000))
    info = mp3_info(cbr.path)  # a bare bit rate is constant, as LAME's -b
    assert info.bitrate_mode == BitrateMode.CBR and abs(info.bitrate - 320_000) < 1000
    assert "320 kbps CBR" in cbr.summary()

    vbr = export_project(marked, tmp_path / "vbr.mp3", encoding=Encoding(192_000, True))
    info = mp3_info(vbr.path)
    assert info.bitrate_mode == BitrateMode.VBR and info.encoder_settings == "-V 2"
    head = vbr.path.read_bytes()[:64 << 10]
    assert b"Xing" in head and b"LAME" in head  # the VBR header players seek with
    for result in (cbr, vbr):
        assert read_tags(result.path).provenance is not None
        assert [(round(c.start, 2), c.title) for c in read_chapters(result.path)] == [(2.0, "Middle")]


def test_opus_and_m4a_bitrates(marked, tmp_path):
    import mutagen

    from desktop.project.export import export_project

    sizes = {}
    for rate in (48_000, 160_000):
        for fmt in ("opus", "m4a"):
            out = export_project(marked, tmp_path / f"{rate}.{fmt}", encoding=Encoding(rate)).path
            sizes[fmt, rate] = out.stat().st_size
            if fmt == "m4a":
                assert abs(mutagen.File(out).info.bitrate - rate) < 0.15 * rate
    assert sizes["opus", 160_000] > 2 * sizes["opus", 48_000]
    assert sizes["m4a", 160_000] > 2 * sizes["m4a", 48_000]


def test_bad_bitrates_are_one_line(marked, tmp_path):
    from desktop.project.export import export_project

    assert parse_bitrate("192k") == parse_bitrate("192") == parse_bitrate("192000") == 192_000
    with pytest.raises(BadInput, match="not a bit rate"):
        parse_bitrate("fast")
    with pytest.raises(BadInput, match="outside what MP3"):
        export_project(marked, tmp_path / "x.mp3", encoding=Encoding(999_000))
    with pytest.raises(BadInput, match="lossless"):
        export_project(marked, tmp_path / "x.flac", encoding=Encoding(192_000))
    assert not (tmp_path / "x.mp3").exists()


def test_cli_export_bitrate_flags(marked, tmp_path, timbre_cli):
    from mutagen.mp3 import BitrateMode

    path = marked.path
    marked.close()
    out = tmp_path / "cli.mp3"
    r = timbre_cli("export", path, "-o", out, "--bitrate", "96k", "--vbr")
    assert r.returncode == 0, r.stderr
    info = mp3_info(out)
    assert info.bitrate_mode == BitrateMode.VBR and info.encoder_settings == "-V 7"
    assert "96 kbps VBR" in r.stdout
    assert info.bitrate < 0.7 * mp3_info(export_default(path, tmp_path)).bitrate


def export_default(project_path, tmp_path):
    from desktop.project.export import export_project
    from desktop.project.store import Project

    with Project.open(project_path) as p:
        return export_project(p, tmp_path / "default.mp3").path  # 192k VBR (-V 2)
