"""The text front-end: pauses, SSML breaks, sentences, paragraphs, numbers read out."""

from __future__ import annotations

import pytest

from engines.errors import BadInput
from engines.speech.numbers import spell_out_numbers
from engines.speech.text import (
    CLAUSE_GAP_S,
    MAX_CHUNK_CHARS,
    PARAGRAPH_GAP_S,
    SENTENCE_GAP_S,
    Pause,
    Say,
    segments,
)


def test_pause_markers_and_ssml_breaks_become_exact_pauses():
    segs = segments(
        'One. [pause 500ms] Two. <break time="1.5s"/> Three [pause 2s] four '
        '<break strength="strong"/> five.'
    )
    pauses = [s.seconds for s in segs if isinstance(s, Pause)]
    assert pauses == [0.5, 1.5, 2.0, 0.75]
    says = [s for s in segs if isinstance(s, Say)]
    assert [s.text for s in says] == ["One.", "Two.", "Three", "four", "five."]
    # The writer's pause replaces the natural gap before it.
    assert all(s.gap_after == 0.0 for s in says)


def test_sentences_paragraphs_and_abbreviations():
    segs = segments("Dr. Smith arrived. He sat down!\n\nNext paragraph? Yes.")
    assert [(s.text, s.gap_after) for s in segs] == [
        ("Dr. Smith arrived.", SENTENCE_GAP_S),
        ("He sat down!", PARAGRAPH_GAP_S),
        ("Next paragraph?", SENTENCE_GAP_S),
        ("Yes.", 0.0),
    ]


def test_closing_quotes_stay_with_their_sentence():
    segs = segments('He said "Hi." Then he left! (Quietly.) Fine?')
    assert [s.text for s in segs] == ['He said "Hi."', "Then he left!", "(Quietly.)", "Fine?"]


def test_ssml_document_keeps_words_and_paragraphs():
    segs = segments(
        "<speak><p>Hello &amp; welcome.</p><p><emphasis>Second</emphasis> one.</p></speak>"
    )
    assert [s.text for s in segs] == ["Hello & welcome.", "Second one."]
    assert segs[0].gap_after == PARAGRAPH_GAP_S


def test_long_sentence_is_cut_at_clauses_under_the_limit():
    sentence = ", ".join(["this clause has a handful of words in it"] * 30) + "."
    segs = segments(sentence)
    assert len(segs) > 3
    assert all(len(s.text) <= MAX_CHUNK_CHARS for s in segs)
    assert all(s.gap_after == CLAUSE_GAP_S for s in segs[:-1])
    assert " ".join(s.text for s in segs) == sentence


def test_first_chunk_is_cut_short_at_a_clause_mark_only():
    text = (
        "When the library opens at nine in the morning, visitors can borrow books, "
        "and on weekends volunteers read stories to children. The second sentence stays whole, "
        "even with its comma."
    )
    says = [s for s in segments(text, first_limit=80) if isinstance(s, Say)]
    assert says[0].text == "When the library opens at nine in the morning, visitors can borrow books,"
    assert says[0].gap_after == CLAUSE_GAP_S
    assert says[1].text == "and on weekends volunteers read stories to children."
    assert says[2].text.startswith("The second sentence") and len(says) == 3
    assert [s.text for s in segments(text)][0].startswith("When") and len(segments(text)) == 2
    # a first clause already longer than the limit is never cut between words
    long_clause = "Visitors who arrive before the doors open may wait in the covered garden area"
    assert [s.text for s in segments(long_clause + ", please.", first_limit=40)] == [
        long_clause + ", please."
    ]


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("On 2024-03-15 we met.", "On March fifteenth, twenty twenty-four we met."),
        ("Due 12/25/2023.", "Due December twenty-fifth, twenty twenty-three."),
        ("Born March 5th, 1999.", "Born March fifth, nineteen ninety-nine."),
        ("At 9:05 pm.", "At nine oh five P M."),
        (
            "It costs $1,250.50 now.",
            "It costs one thousand, two hundred and fifty dollars and fifty cents now.",
        ),
        ("Up 50% on the 21st.", "Up fifty percent on the twenty-first."),
        ("Pi is 3.14, not -3.", "Pi is three point one four, not minus three."),
        ("Wir sind 42.", "Wir sind zweiundvierzig."),
    ],
)
def test_numbers_dates_times_and_money_are_read_out(text, spoken):
    language = "de" if text.startswith("Wir") else "en-us"
    assert spell_out_numbers(text, language) == spoken


def test_bad_text_is_refused_with_a_reason():
    with pytest.raises(BadInput, match="nothing to say"):
        segments("  [pause 1s] ")
    with pytest.raises(BadInput, match="too long"):
        segments("Hi [pause 90s] there")
    with pytest.raises(BadInput, match="strength"):
        segments('Hi <break strength="huge"/> there')
