"""Identifiers as planners type them: normalised, checked for lookalikes, split from lists, and suggested.

Every id and every reference to one (activity, project, risk and resource ids, funding sources,
categories, and the items of predecessors, affects and resources lists) goes through ``normalize``,
so that an id typed with a Chinese input method's full-width letters (``ＸＩＹ``) is the same id as
``XIY``: NFKC folds compatibility forms into their plain characters. Two spellings that fold to the
same id are therefore one id (a second definition is a duplicate), never two activities.

What NFKC cannot make safe is reported (``id_problem``): characters that do not show (zero-width,
format and control characters) and ids whose letters mix alphabets that look alike (Latin with
Cyrillic or Greek, such as a Cyrillic ``Р`` in ``XIY-Р3``). Han, kana, bopomofo and hangul may stand
beside Latin letters, as in ``西延.T1``. The rules are in docs/data.md.
"""
from __future__ import annotations

import difflib
import re
import unicodedata

# Separators of list fields after normalisation: ";" and, typed by Chinese input methods, "，" and "、".
# NFKC turns "；" into ";" and "，" into ","; "、" has no compatibility form.
_LIST_SEPARATORS = re.compile(r"[;,、]")
# Signs that NFKC leaves alone but that mean + or - in a lag.
_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-"})
# Default-ignorable characters outside the categories below (variation selectors, hangul fillers).
_IGNORABLE = {0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}
# Scripts that may stand beside Latin in one id (Unicode's "highly restrictive" profile, UTS #39).
_EAST_ASIAN = {"HAN", "HIRAGANA", "KATAKANA", "BOPOMOFO", "HANGUL"}
_SCRIPT_OF_NAME = (("CJK", "HAN"), ("IDEOGRAPHIC", "HAN"), ("HALFWIDTH KATAKANA", "KATAKANA"),
                   ("HALFWIDTH HANGUL", "HANGUL"))


def describe(ch: str) -> str:
    """``U+0420 CYRILLIC CAPITAL LETTER ER``: the code point and its Unicode name."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED CHARACTER')}"


def shown(text: str) -> str:
    """``text`` with invisible characters written as <U+200B>, so that a message shows where they are."""
    return "".join(f"<U+{ord(ch):04X}>" if _invisible(ch) else ch for ch in text)


def normalize(text: str) -> str:
    """The id as compared and stored: NFKC of ``text`` without invisible characters (``id_problem`` reports
    them), typographic minus signs as "-", stripped."""
    return "".join(ch for ch in _fold(text) if not _invisible(ch)).strip()


def _fold(text: str) -> str:
    """NFKC, and typographic minus signs as "-"."""
    return unicodedata.normalize("NFKC", text).translate(_SIGNS)


def split_list(text: str) -> list[str]:
    """The non-empty items of a list field (``;``, full-width ``；``, ``，`` or ``、`` between items), folded by
    NFKC; invisible characters are kept, for ``id_problem`` to name."""
    return [item.strip() for item in _LIST_SEPARATORS.split(_fold(text)) if item.strip()]


def id_problem(raw: str) -> str | None:
    """Why ``raw`` (as typed) cannot be an id -- an invisible character or mixed alphabets -- or None."""
    for ch in raw:
        if _invisible(ch):
            return f"invisible character {describe(ch)} in \"{shown(raw)}\" (delete it and retype the id)"
    text = normalize(raw)
    letters = [(ch, _script(ch)) for ch in text if ch.isalpha()]
    counts: dict[str, int] = {}
    for _, script in letters:
        counts[script] = counts.get(script, 0) + 1
    alphabets = [s for s in counts if s not in _EAST_ASIAN]
    east_asian_with_other = any(s in _EAST_ASIAN for s in counts) and any(s != "LATIN" for s in alphabets)
    if len(alphabets) <= 1 and not east_asian_with_other:
        return None
    main = max(alphabets, key=lambda s: counts[s])  # the id's own alphabet; the odd letters are the others
    odd = next(ch for ch, script in letters if script != main and (script not in _EAST_ASIAN or main != "LATIN"))
    return (f"\"{text}\" mixes {main.title()} and {_script(odd).title()} letters ({describe(odd)}), "
            "which can look alike (retype the id in one alphabet)")


def suggestion(name: str, known) -> str:
    """``; did you mean "X"?`` for the closest known id, or "" when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ord(ch) in _IGNORABLE


def _script(ch: str) -> str:
    """The script of a letter from its Unicode name (first word; CJK ideographs are HAN)."""
    name = unicodedata.name(ch, "UNKNOWN")
    for prefix, script in _SCRIPT_OF_NAME:
        if name.startswith(prefix):
            return script
    return name.split(" ", 1)[0]
