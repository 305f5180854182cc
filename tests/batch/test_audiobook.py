"""``timbre audiobook``: a book's chapters narrated as batch rows, checked for ACX, written
as an M4B with one chapter mark per chapter at the right time and the cover."""

from __future__ import annotations

import io

import numpy as np
import pytest

from desktop.session.audiobook import make_audiobook
from engines.audio import AudioClip
from engines.audiobook import acx
from engines.audiobook.book import BookChapter, read_book, read_text_book
from engines.chapters import read_chapters
from engines.settings import set_setting


def make_epub(path, chapters: list[tuple[str, str]]):
    from ebooklib import epub
    from PIL import Image

    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("The Little Test")
    book.set_language("en")
    book.add_author("Ada Writer")
    cover = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(cover, "JPEG")
    book.set_cover("cover.jpg", cover.getvalue())
    docs = []
    for i, (title, text) in enumerate(chapters, start=1):
        doc = epub.EpubHtml(title=title, file_name=f"c{i}.xhtml", lang="en")
        doc.content = f"<h2>{title}</h2><p>{text}</p>"
        book.add_item(doc)
        docs.append(doc)
    book.toc = [epub.Link(f"c{i}.xhtml", t, f"c{i}") for i, (t, _) in enumerate(chapters, 1)]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *docs]
    epub.write_epub(str(path), book)
    return cover.getvalue()


def test_an_epub_becomes_an_m4b_with_its_chapters_and_cover(tmp_path):
    set_setting("watermark", False)
    cover = make_epub(tmp_path / "book.epub", [("Morning", "The sun rose."),
                                              ("Rain", "It rained all day."),
                                              ("Night", "Then it was dark.")])
    book = read_book(tmp_path / "book.epub")
    assert [c.title for c in book.chapters] == ["Morning", "Rain", "Night"]
    assert book.author == "Ada Writer" and book.cover == cover

    out = tmp_path / "book.m4b"
    result = make_audiobook(tmp_path / "book.epub", out, voice="joe", workers=1)
    marks = read_chapters(out)
    assert [c.title for c in marks] == ["Morning", "Rain", "Night"]
    import soundfile as sf

    lengths = [sf.info(str(result.work_dir / f"chapter-{i:03d}.wav")).duration for i in (1, 2, 3)]
    assert marks[1].start == pytest.approx(lengths[0], abs=0.01)
    assert marks[2].start == pytest.approx(lengths[0] + lengths[1], abs=0.01)
    assert all(r.passed for r in result.reports), [r.problems for r in result.reports]
    assert not any(r.passed for r in result.before)  # Piper's takes had no room tone
    from mutagen.mp4 import MP4

    tags = MP4(out).tags
    assert bytes(tags["covr"][0]) == cover and tags["\xa9ART"] == ["Ada Writer"]
    assert MP4(out).info.length == pytest.approx(sum(lengths), abs=0.1)

    again = make_audiobook(tmp_path / "book.epub", out, voice="joe", workers=1)
    assert again.narrated == 0  # resumed: every part was already narrated

    from mutagen.id3 import ID3

    from engines.audiobook.export import write_book

    files = [result.work_dir / f"chapter-{i:03d}.wav" for i in (1, 2, 3)]
    write_book(tmp_path / "book.mp3", files, ["Morning", "Rain", "Night"], {"takes": []},
               title="The Little Test", author="Ada Writer", cover=cover)
    mp3_marks = read_chapters(tmp_path / "book.mp3")
    assert [c.title for c in mp3_marks] == ["Morning", "Rain", "Night"]
    assert mp3_marks[2].start == pytest.approx(lengths[0] + lengths[1], abs=0.03)
    assert ID3(tmp_path / "book.mp3").getall("APIC")[0].data == cover


def test_text_and_markdown_books_split_at_their_headings():
    md = "# The Book\n\nA short foreword.\n\n## One\n\nFirst *words*.\n\n## Two\n\nSecond [link](x)."
    book = read_text_book(md, "file", markdown=True)
    assert book.title == "The Book"
    assert [(c.title, c.text) for c in book.chapters] == [
        ("The Book", "A short foreword."), ("One", "First words."), ("Two", "Second link.")]
    txt = "Title page\n\nChapter 1\n\nIt began.\n\nCHAPTER II: The Storm\n\nWind.\n"
    chapters = read_text_book(txt, "tale", markdown=False).chapters
    assert [c.title for c in chapters] == ["tale", "Chapter 1", "CHAPTER II: The Storm"]
    parts = BookChapter("x", "\n\n".join(["word " * 300] * 5)).parts(limit=3000)
    assert len(parts) == 3 and all(len(p) <= 3000 for p in parts)


def test_acx_fix_sets_levels_and_room_tone_but_reports_a_noisy_floor():
    rate = 44100
    t = np.arange(5 * rate) / rate  # a "word" each second, a second of pause between
    speech = (0.9 * np.sin(2 * np.pi * 220 * t) * (np.sin(np.pi * t) > 0)).astype(np.float32)
    clip = AudioClip(speech, rate)
    before = acx.check(clip, "tone")
    assert not before.passed and any("peak" in p for p in before.problems)
    fixed = acx.check(acx.fix(clip), "tone")
    assert fixed.passed, fixed.problems
    assert -23 <= fixed.rms_db <= -18 and fixed.peak_db <= -3 and 0.5 <= fixed.head_s <= 1.0
    noisy = AudioClip(speech + np.random.default_rng(0).normal(0, 0.01, speech.size)
                      .astype(np.float32), rate)
    report = acx.check(acx.fix(noisy), "noisy")
    assert [p for p in report.problems if "noise floor" in p]
