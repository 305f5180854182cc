"""``timbre detect`` on files whose provenance tag was crafted: one line, exit 2, no traceback.

Each file is real marked speech written by the app, whose tag is then replaced with mutagen,
as anyone can; ``main(argv)`` runs in this process so perth is loaded once.
"""

from __future__ import annotations

import json

import pytest

from desktop.cli.main import main
from engines.file_check import check_file
from engines.tags import (
    MAX_DOCUMENT_CHARS,
    MAX_DOCUMENT_DEPTH,
    PROVENANCE_KEY,
    BadTags,
    provenance_document,
    read_tags,
    write_tagged,
)

DEEP = "[" * 100_000 + "]" * 100_000  # json.loads raised RecursionError on this


@pytest.fixture(scope="module")
def marked(tmp_path_factory, marked_speech):
    from engines.audio import AudioClip

    folder = tmp_path_factory.mktemp("crafted")
    doc = provenance_document([marked_speech.provenance.to_dict()])
    clip = marked_speech.clip
    short = AudioClip(clip.samples[:, : 3 * clip.sample_rate], clip.sample_rate)  # quick to check
    return {fmt: write_tagged(folder / f"marked.{fmt}", short, doc) for fmt in ("flac", "mp3")}


def _retag(path, payload: str) -> None:
    import mutagen
    from mutagen import id3

    audio = mutagen.File(path)
    if path.suffix == ".flac":
        audio[PROVENANCE_KEY] = payload
    else:
        audio.tags.setall(
            f"TXXX:{PROVENANCE_KEY}", [id3.TXXX(encoding=3, desc=PROVENANCE_KEY, text=payload)]
        )
    audio.save()


CRAFTED = {
    "deep": ('{"takes": ' + DEEP + "}", f"nested more than {MAX_DOCUMENT_DEPTH} levels"),
    "engine-number": (json.dumps({"takes": [{"engine": 5, "seed": 1}]}), "take 1: engine is not text"),
    "take-text": (json.dumps({"takes": ["piper"]}), "take 1 is not an object"),
    "takes-object": (json.dumps({"takes": {"engine": "piper"}}), "takes is not a list"),
    "version-list": (json.dumps({"app_version": ["x"], "takes": []}), "app_version is not text"),
    "seed-text": (json.dumps({"takes": [{"engine": "x", "seed": "7"}]}), "seed is not a whole"),
    "huge": (json.dumps({"takes": [{"prompt": "a" * MAX_DOCUMENT_CHARS}]}), "MB, at most"),
}


def _crafted(marked, tmp_path, fmt: str, case: str):
    path = tmp_path / f"crafted.{fmt}"
    path.write_bytes(marked[fmt].read_bytes())
    _retag(path, CRAFTED[case][0])
    return path


@pytest.mark.parametrize(
    ("fmt", "case"),
    [("flac", case) for case in CRAFTED] + [("mp3", "deep"), ("mp3", "engine-number")],
)
def test_a_crafted_tag_is_refused_with_the_reason(marked, tmp_path, fmt, case):
    path = _crafted(marked, tmp_path, fmt, case)
    with pytest.raises(BadTags) as caught:
        read_tags(path)
    message = str(caught.value)
    assert message.startswith(f"crafted.{fmt}: its provenance tag was refused (")
    assert CRAFTED[case][1] in message and "\n" not in message


@pytest.mark.parametrize(("fmt", "case"), [("flac", "deep"), ("mp3", "engine-number")])
def test_detect_on_a_crafted_tag_is_one_line_and_exit_2(marked, tmp_path, capsys, fmt, case):
    path = _crafted(marked, tmp_path, fmt, case)
    code = main(["detect", str(path)])
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert out.err.count("\n") == 1 and out.err.startswith(f"timbre: crafted.{fmt}: ")
    assert CRAFTED[case][1] in out.err and "Its watermark: present" in out.err


def test_the_drop_target_keeps_the_verdict_and_refuses_the_tag(marked, tmp_path):
    path = _crafted(marked, tmp_path, "flac", "deep")
    result = check_file(path)
    assert result.watermark and result.provenance is None
    assert "nested more than" in result.tags_error


def test_genuine_and_merely_damaged_tags_still_read(marked, tmp_path, capsys):
    assert main(["detect", str(marked["flac"])]) == 0
    assert "provenance: Timbre Studio" in capsys.readouterr().out
    damaged = tmp_path / "damaged.flac"
    damaged.write_bytes(marked["flac"].read_bytes())
    _retag(damaged, "{not json")
    assert read_tags(damaged).provenance is None  # damaged, not crafted: shown as absent
