"""Numbers, dates, times, money and percentages written out as words (num2words).

TTS voices read digits unevenly ("1999" as "one thousand nine hundred ninety-nine" or
digit by digit, "3/4/2024" as a fraction), so the text front-end spells them out first.
English gets the full set (dates, times, currency, ordinals, years); other languages get
what num2words covers for them (cardinals, ordinals, decimals, years).
"""

from __future__ import annotations

import re
from collections.abc import Callable

MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH_RE = "|".join(MONTHS + [m[:3] for m in MONTHS])
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
             "£": ("pound", "pounds", "penny", "pence")}


def _lang(language: str) -> str | None:
    """num2words' code for a language tag like "en-us" or "de", or None if unsupported."""
    from num2words import CONVERTER_CLASSES

    tag = language.lower().replace("_", "-")
    for code in (tag.replace("-", "_"), tag.split("-")[0]):
        if code in CONVERTER_CLASSES:
            return code
    return None


def _words(n: float | int, lang: str, to: str = "cardinal") -> str:
    from num2words import num2words

    return num2words(n, lang=lang, to=to)


def _month_index(name: str) -> int:
    key = name[:3].lower()
    return [m[:3].lower() for m in MONTHS].index(key)


def _date(day: int, month: int, year: int | None) -> str:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError("not a date")
    spoken = f"{MONTHS[month - 1]} {_words(day, 'en', 'ordinal')}"
    return f"{spoken}, {_words(year, 'en', 'year')}" if year is not None else spoken


def _time(hours: int, minutes: int, suffix: str) -> str:
    if hours > 23 or minutes > 59:
        raise ValueError("not a time")
    h = _words(hours, "en")
    if minutes == 0:
        core = f"{h} o'clock" if not suffix else h
    elif minutes < 10:
        core = f"{h} oh {_words(minutes, 'en')}"
    else:
        core = f"{h} {_words(minutes, 'en')}"
    letters = " ".join(suffix.replace(".", "").upper()) if suffix else ""
    return f"{core} {letters}".strip()


def _money(symbol: str, amount: str) -> str:
    one, many, cent_one, cent_many = _CURRENCY[symbol]
    whole, _, frac = amount.replace(",", "").partition(".")
    units = int(whole or 0)
    out = f"{_words(units, 'en')} {one if units == 1 else many}"
    if frac:
        cents = int((frac + "0")[:2])
        if cents:
            out += f" and {_words(cents, 'en')} {cent_one if cents == 1 else cent_many}"
    return out


def _english_rules() -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    return [
        # 2024-03-15 (ISO)
        (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
         lambda m: _date(int(m[3]), int(m[2]), int(m[1]))),
        # 03/15/2024 (US month/day/year)
        (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"),
         lambda m: _date(int(m[2]), int(m[1]), int(m[3]))),
        # March 15, 2024 / March 15th / Mar 15
        (re.compile(rf"\b({_MONTH_RE})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?\b"),
         lambda m: _date(int(m[2]), _month_index(m[1]) + 1, int(m[3]) if m[3] else None)),
        # 15 March 2024
        (re.compile(rf"\b(\d{{1,2}}) ({_MONTH_RE})\.?(?: (\d{{4}}))?\b"),
         lambda m: _date(int(m[1]), _month_index(m[2]) + 1, int(m[3]) if m[3] else None)),
        # 10:30, 9:05 pm
        (re.compile(r"\b(\d{1,2}):(\d{2})(?:\s*([ap]\.?m)\b)?", re.IGNORECASE),
         lambda m: _time(int(m[1]), int(m[2]), (m[3] or "").lower())),
        # $5, $1,250.50, €3
        (re.compile(r"([$€£])(\d[\d,]*(?:\.\d+)?)"), lambda m: _money(m[1], m[2])),
    ]


def _generic_rules(lang: str) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    percent = {"en": "percent", "de": "Prozent", "fr": "pour cent", "es": "por ciento",
               "it": "per cento", "pt": "por cento", "nl": "procent"}.get(lang.split("_")[0], "%")
    return [
        # 50%, 12.5 %
        (re.compile(r"(\d+(?:\.\d+)?)\s?%"), lambda m: f"{_number(m[1], lang)} {percent}"),
        # 1st 2nd 3rd 4th (English suffixes only mean ordinals in English)
        (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: _words(int(m[1]), lang, "ordinal")),
        # Years read as years: 1100-2099 standing alone
        (re.compile(r"(?<![\d.,])\b(1[1-9]\d\d|20\d\d)\b(?![\d.,]\d)"),
         lambda m: _words(int(m[1]), lang, "year")),
        # 1,000,000 and 3.14 and -5
        (re.compile(r"(?<![\w.])(-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)(?![\w])"),
         lambda m: _number(m[1], lang)),
    ]


def _number(text: str, lang: str) -> str:
    text = text.replace(",", "")
    negative = text.startswith("-")
    text = text.lstrip("-")
    whole, dot, frac = text.partition(".")
    out = _words(int(whole), lang)
    if dot and frac:
        point = _words(1.5, lang).split()  # the language's word for the decimal point
        point_word = next((w for w in point if w not in _words(1, lang) and w not in _words(5, lang)), "point")
        out += f" {point_word} " + " ".join(_words(int(d), lang) for d in frac)
    if negative:
        out = ("minus " if lang.startswith("en") else "- ") + out
    return out


def spell_out_numbers(text: str, language: str = "en") -> str:
    """Replace numbers, dates, times, money and percentages with words.

    Anything a rule cannot read (an impossible date, a language num2words lacks) is left as
    written, so the voice still says something sensible.
    """
    lang = _lang(language)
    if lang is None or not re.search(r"\d", text):
        return text
    rules = (_english_rules() if lang.startswith("en") else []) + _generic_rules(lang)
    for pattern, speak in rules:
        def replace(m: re.Match[str], speak: Callable[[re.Match[str]], str] = speak) -> str:
            try:
                return speak(m)
            except (ValueError, OverflowError, NotImplementedError):
                return m[0]

        text = pattern.sub(replace, text)
    return text
