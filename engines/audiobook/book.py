"""A book as chapters of plain text: from an EPUB's table of contents, or a text's headings.

EPUB (ebooklib): the table of contents (NCX or nav) says where each chapter starts — a
document, or an anchor inside one; a chapter runs to where the next entry starts, in the
spine's reading order, so chapters that share a file and chapters spread over several
files both come out whole. Front matter before the first entry (cover, title page) is not
read. Without a table of contents, each spine document with text is a chapter.

Markdown (``.md``): ``#`` headings; when there is one ``#`` and several ``##``, the ``#`` is
the book's title and the ``##`` are its chapters. Plain text (``.txt``): lines such as
"Chapter 3", "CHAPTER III: The Storm", "Prologue", "Part Two" between blank lines, or
Markdown-style ``#`` lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from engines.errors import BadInput

MAX_BOOK_BYTES = 64 << 20  # an EPUB of a long novel with images is a few MB
PART_CHARS = 5_000  # one narration row: ~6 minutes of speech, a unit that parallelises well


@dataclass
class BookChapter:
    title: str
    text: str

    def parts(self, limit: int = PART_CHARS) -> list[str]:
        """The text in pieces of at most ``limit`` characters, cut between paragraphs (or
        sentences, in a paragraph longer than that), so each piece is one narration row."""
        pieces: list[str] = []
        current = ""
        for para in _paragraphs(self.text, limit):
            if current and len(current) + 2 + len(para) > limit:
                pieces.append(current)
                current = para
            else:
                current = f"{current}\n\n{para}" if current else para
        if current:
            pieces.append(current)
        return pieces


def _paragraphs(text: str, limit: int) -> list[str]:
    out = []
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not para:
            continue
        while len(para) > limit:
            cut = max(para.rfind(". ", 0, limit), para.rfind("? ", 0, limit),
                      para.rfind("! ", 0, limit))
            cut = cut + 1 if cut > 0 else para.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            out.append(para[:cut].strip())
            para = para[cut:].strip()
        if para:
            out.append(para)
    return out


@dataclass
class Book:
    title: str
    author: str = ""
    chapters: list[BookChapter] = field(default_factory=list)
    cover: bytes | None = None  # JPEG or PNG bytes
    language: str = ""


def read_book(path: str | Path) -> Book:
    """Chapters, title, author and cover of an ``.epub``, ``.md`` or ``.txt`` file."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path} does not exist. Check the path and try again.")
    if path.stat().st_size > MAX_BOOK_BYTES:
        raise BadInput(f"{path.name} is larger than {MAX_BOOK_BYTES >> 20} MB; that is not a book "
                       "this app can read.")
    suffix = path.suffix.lower()
    if suffix == ".epub":
        book = _read_epub(path)
    elif suffix in (".md", ".markdown", ".txt", ".text"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path.name} is not UTF-8 text; save it as UTF-8 and try again.") from exc
        book = read_text_book(text, path.stem, markdown=suffix in (".md", ".markdown"))
    else:
        raise BadInput(f"{path.name} is not a book this app reads: use .epub, .md or .txt.")
    book.chapters = [c for c in book.chapters if c.text.strip()]
    if not book.chapters:
        raise BadInput(f"{path.name} has no text to narrate.")
    return book


# ---- text and Markdown ----------------------------------------------------------------------
_TXT_HEADING = re.compile(
    r"^(#{1,6}\s+.+|(chapter|part|book)\s+([0-9]+|[ivxlcdm]+|[a-z]+)\b.*|prologue|epilogue|"
    r"preface|introduction|afterword)\s*$", re.IGNORECASE)


def read_text_book(text: str, default_title: str, markdown: bool = True) -> Book:
    lines = text.splitlines()
    headings: list[tuple[int, int, str]] = []  # (line, level, title)
    for i, line in enumerate(lines):
        stripped = line.strip()
        blank_around = (i == 0 or not lines[i - 1].strip()) and \
            (i + 1 >= len(lines) or not lines[i + 1].strip() or markdown)
        m = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", stripped)
        if m:
            headings.append((i, len(m.group(1)), m.group(2).strip()))
        elif not markdown and blank_around and len(stripped) < 80 and _TXT_HEADING.match(stripped):
            headings.append((i, 2, stripped))
    title = default_title
    levels = [h[1] for h in headings]
    if levels.count(1) == 1 and levels.count(2) >= 1:
        line, _level, title = next(h for h in headings if h[1] == 1)
        lines[line] = ""  # the book's title is not read as part of the foreword
        headings = [h for h in headings if h[1] != 1]
    if headings:
        top = min(h[1] for h in headings)
        headings = [h for h in headings if h[1] == top]
    chapters = []
    starts = [h[0] for h in headings] + [len(lines)]
    front = "\n".join(lines[: starts[0]]).strip() if headings else ""
    if front:
        chapters.append(BookChapter(title, _plain(front)))
    for (line, _level, name), end in zip(headings, starts[1:], strict=True):
        chapters.append(BookChapter(_plain(name), _plain("\n".join(lines[line + 1 : end]))))
    if not headings:
        chapters = [BookChapter(title, _plain(text))]
    return Book(title=title, chapters=chapters)


def _plain(text: str) -> str:
    """Markdown's marks taken out of what is read aloud (links keep their words)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*([-*+]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"^\s*>\s?", "", text, flags=re.MULTILINE)
    text = re.sub(r"[*_`~]{1,3}", "", text)
    return text.strip()


# ---- EPUB -------------------------------------------------------------------------------------
_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt",
           "figcaption", "td", "th", "div", "section"}


def _read_epub(path: Path) -> Book:
    try:
        import ebooklib
        from ebooklib import epub
    except ImportError as exc:
        raise BadInput("Reading EPUB needs ebooklib (pip install EbookLib==0.20).") from exc
    try:
        doc = epub.read_epub(str(path), options={"ignore_ncx": False})
    except Exception as exc:  # noqa: BLE001 - a broken zip or XML: one line for the user
        raise BadInput(f"{path.name} is not a readable EPUB ({exc}).") from exc

    def meta(name: str) -> str:
        found = doc.get_metadata("DC", name)
        return str(found[0][0]).strip() if found else ""

    spine = [doc.get_item_with_id(idref) for idref, _ in doc.spine]
    spine = [i for i in spine if i is not None and i.get_type() == ebooklib.ITEM_DOCUMENT]
    paragraphs = [_doc_paragraphs(item.get_content()) for item in spine]
    index = {_href(item.get_name()): n for n, item in enumerate(spine)}
    entries = []
    for title, href in _toc_links(doc.toc):
        name, _, anchor = href.partition("#")
        n = index.get(_href(name))
        if n is None:
            continue
        at = 0
        if anchor:
            at = next((k for k, (ids, _t) in enumerate(paragraphs[n]) if anchor in ids), 0)
        entries.append(((n, at), title))
    entries = sorted(dict(entries[::-1]).items())  # one entry per start, in reading order
    chapters = []
    if entries:
        ends = [pos for pos, _ in entries[1:]] + [(len(spine), 0)]
        for ((n, at), title), (end_n, end_at) in zip(entries, ends, strict=True):
            texts = []
            for d in range(n, min(end_n, len(spine) - 1) + 1):
                first = at if d == n else 0
                last = end_at if d == end_n else len(paragraphs[d])
                texts.extend(t for _ids, t in paragraphs[d][first:last])
            chapters.append(BookChapter(title.strip() or f"Chapter {len(chapters) + 1}",
                                        "\n\n".join(texts)))
    else:
        for n, paras in enumerate(paragraphs):
            if paras:
                chapters.append(BookChapter(paras[0][1][:80] or f"Chapter {n + 1}",
                                            "\n\n".join(t for _i, t in paras[1:]) or paras[0][1]))
    return Book(title=meta("title") or path.stem, author=meta("creator"), chapters=chapters,
                cover=_cover(doc, ebooklib), language=meta("language"))


def _href(name: str) -> str:
    return name.split("/")[-1]


def _toc_links(toc: object) -> list[tuple[str, str]]:
    """(title, href) of every TOC entry, sections' own links included, depth first."""
    from ebooklib import epub

    out: list[tuple[str, str]] = []
    for entry in toc if isinstance(toc, list | tuple) else [toc]:
        if isinstance(entry, tuple) and len(entry) == 2:
            section, children = entry
            if getattr(section, "href", None):
                out.append((section.title, section.href))
            out.extend(_toc_links(children))
        elif isinstance(entry, epub.Link | epub.Section) and getattr(entry, "href", None):
            out.append((entry.title, entry.href))
        elif isinstance(entry, list):
            out.extend(_toc_links(entry))
    return out


def _doc_paragraphs(content: bytes) -> list[tuple[set[str], str]]:
    """The text blocks of an XHTML document in order, each with the ids that start at or
    before it (anchors the table of contents points at)."""
    from lxml import etree
    from lxml import html as lhtml

    try:
        root = lhtml.fromstring(content)
    except (etree.ParserError, ValueError):
        return []
    out: list[tuple[set[str], str]] = []
    ids: set[str] = set()
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = etree.QName(el).localname.lower()
        if tag in ("script", "style", "head", "title"):
            continue
        if el.get("id"):
            ids.add(el.get("id"))
        if el.get("name") and tag == "a":
            ids.add(el.get("name"))
        if tag not in _BLOCKS:
            continue
        if any(isinstance(c.tag, str) and etree.QName(c).localname.lower() in _BLOCKS
               for c in el.iterdescendants()):
            continue  # a container: its blocks are read one by one
        text = " ".join(el.text_content().split())
        if text:
            out.append((ids, text))
            ids = set()
    return out


def _cover(doc: object, ebooklib: object) -> bytes | None:
    for item in doc.get_items():  # type: ignore[attr-defined]
        if item.get_type() == ebooklib.ITEM_COVER:  # type: ignore[attr-defined]
            return item.get_content()
    found = doc.get_metadata("OPF", "cover")  # type: ignore[attr-defined]
    if found:
        cover_id = found[0][1].get("content") if isinstance(found[0][1], dict) else None
        item = doc.get_item_with_id(cover_id) if cover_id else None  # type: ignore[attr-defined]
        if item is not None:
            return item.get_content()
    for item in doc.get_items_of_type(ebooklib.ITEM_IMAGE):  # type: ignore[attr-defined]
        if "cover" in item.get_name().lower():
            return item.get_content()
    return None
