"""Telex and VNI: the keys a Vietnamese IME reads, decoded back into a syllable.

A user without an input method (or with one switched off) types the keys
themselves: ``dduwowngf`` (Telex) or ``d9u7o7ng2`` (VNI) for *đường*.
:func:`decode` replays such keys the way an IME does and returns the syllable
they spell, or None when the token carries no such key.

The key tables are the standard ones of bamboo-core, the engine of
ibus-bamboo (``input_method_def.go``, definitions ``"Telex"`` and ``"VNI"``;
BoGo's are the same):

=========  =====================  =====================
action     Telex                  VNI
=========  =====================  =====================
sắc        ``s``                  ``1``
huyền      ``f``                  ``2``
hỏi        ``r``                  ``3``
ngã        ``x``                  ``4``
nặng       ``j``                  ``5``
no tone    ``z``                  ``0``
â ê ô      ``aa ee oo``           ``a6 e6 o6``
ư ơ ươ     ``uw ow uow``, ``w``   ``u7 o7 uo7``
ă          ``aw``                 ``a8``
đ          ``dd``                 ``d9``
=========  =====================  =====================

As in those engines the order is free: a tone or mark key applies to the
syllable typed so far, wherever its vowel is (``toois``, ``toosi`` and
``toios`` all give *tối*; ``vietje`` gives *việt*), and the tone lands where
the spelling rules put it (:func:`~indexer.analysis.normalization.normalize_syllable`).
A key typed twice undoes itself and is kept as a letter (``aaa`` → ``aa``,
``ass`` → ``as``). Only lowercase is decoded (query terms are lowercased).

Whether a decoding is *meant* is not decided here: the query side decodes
only a token the index does not hold, into a valid syllable it does hold
(:mod:`~indexer.analysis.syllable`, :mod:`indexer.search.respell`).
"""

from __future__ import annotations

import unicodedata

from indexer.analysis.normalization import normalize_syllable

__all__ = ["METHODS", "decode", "decodings"]

TELEX, VNI = "telex", "vni"
METHODS = (TELEX, VNI)

_SAC, _HUYEN, _HOI, _NGA, _NANG = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_TONE_KEYS = {
    TELEX: {"s": _SAC, "f": _HUYEN, "r": _HOI, "x": _NGA, "j": _NANG},
    VNI: {"1": _SAC, "2": _HUYEN, "3": _HOI, "4": _NGA, "5": _NANG},
}
_CLEAR_KEY = {TELEX: "z", VNI: "0"}
#: mark keys: key -> {plain vowel: marked vowel}
_MARK_KEYS = {
    TELEX: {"a": {"a": "â", "ă": "â"}, "e": {"e": "ê"}, "o": {"o": "ô", "ơ": "ô"},
            "w": {"u": "ư", "o": "ơ", "a": "ă"}},
    VNI: {"6": {"a": "â", "e": "ê", "o": "ô", "ă": "â", "ơ": "ô"}, "7": {"u": "ư", "o": "ơ"},
          "8": {"a": "ă", "â": "ă"}},
}
_STROKE_KEY = {TELEX: "d", VNI: "9"}
_UNMARK = {"â": "a", "ê": "e", "ô": "o", "ư": "u", "ơ": "o", "ă": "a"}
_VOWELS = frozenset("aăâeêioôơuưy")


class _Syllable:
    """What an IME holds while a syllable is typed: letters and one tone."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.letters: list[str] = []
        self.tone = ""
        self.used = False     # some key acted as a key, not a letter

    def has_vowel(self) -> bool:
        return any(ch in _VOWELS for ch in self.letters)

    def key(self, k: str) -> None:
        method = self.method
        if k in _TONE_KEYS[method] and self.has_vowel():
            tone = _TONE_KEYS[method][k]
            if self.tone == tone:          # typed twice: undo, keep the letter
                self.tone = ""
                self.letters.append(k)
            else:
                self.tone, self.used = tone, True
        elif k == _CLEAR_KEY[method] and self.tone:
            self.tone, self.used = "", True
        elif k == _STROKE_KEY[method] and self.letters[:1] in (["d"], ["đ"]):
            if self.letters[0] == "đ":
                self.letters[0] = "d"
                self.letters.append(k)
            else:
                self.letters[0], self.used = "đ", True
        elif k in _MARK_KEYS[method] and self._mark(_MARK_KEYS[method][k], k):
            pass
        else:
            self.letters.append(k)

    def _mark(self, table: dict[str, str], k: str) -> bool:
        """Apply a mark key to the vowels typed so far; False if none takes it."""
        letters = self.letters
        horn = "ư" in table.values() or "ơ" in table.values()
        # "uo" + horn is "ươ" (both vowels take it): đường, người
        for i in range(len(letters) - 1):
            pair = letters[i] + letters[i + 1]
            if horn and pair in ("uo", "ưo", "uơ"):
                letters[i:i + 2], self.used = ["ư", "ơ"], True
                return True
            if horn and pair == "ươ":           # typed again: undo
                letters[i:i + 2] = ["u", "o"]
                letters.append(k)
                return True
        # "ua" + horn after an onset other than q is "ưa" (mưa), not "uă"
        if horn and "u" in table:
            for i in range(1, len(letters) - 1):
                if letters[i:i + 2] == ["u", "a"] and letters[i - 1] != "q":
                    letters[i], self.used = "ư", True
                    return True
        for i in range(len(letters) - 1, -1, -1):
            ch = letters[i]
            if ch in table and table[ch] != ch:
                letters[i], self.used = table[ch], True
                return True
            if ch in table.values() and _UNMARK.get(ch) in table and table[_UNMARK[ch]] == ch:
                letters[i] = _UNMARK[ch]         # typed again: undo, keep the letter
                letters.append(k)
                return True
        if self.method == TELEX and k == "w" and not self.has_vowel():
            letters.append("ư")                   # a lone w is ư (nhw → như)
            self.used = True
            return True
        return False

    def text(self) -> str:
        letters = "".join(self.letters)
        if not self.tone:
            return letters
        vowels = [i for i, ch in enumerate(letters) if ch in _VOWELS]
        if not vowels:
            return letters
        at = vowels[-1]
        toned = unicodedata.normalize("NFC", letters[at] + self.tone)
        return normalize_syllable(letters[:at] + toned + letters[at + 1:])


def decode(token: str, method: str) -> str | None:
    """The syllable the keys of ``token`` spell in ``method`` (``"telex"`` or
    ``"vni"``), or None when no key of that method acted in it:
    ``decode("dduwowngf", "telex") == "đường"``, ``decode("d9u7o7ng2", "vni")
    == "đường"``, ``decode("dang", "telex") is None``. The result need not be a
    valid syllable (``decode("ddos", "telex") == "đó"``, ``decode("bookj", "telex")
    == "bộk"``): check it with :func:`~indexer.analysis.syllable.is_valid`."""
    if method not in METHODS:
        raise ValueError(f"unknown input method {method!r} (one of {', '.join(METHODS)})")
    if not token or not token.isascii() or not token.isalnum() or token != token.lower():
        return None
    state = _Syllable(method)
    for k in token:
        state.key(k)
    out = state.text()
    return out if state.used and out != token else None


def decodings(token: str) -> list[str]:
    """The distinct decodings of ``token`` in Telex and VNI (Telex first)."""
    out: list[str] = []
    for method in METHODS:
        decoded = decode(token, method)
        if decoded is not None and decoded not in out:
            out.append(decoded)
    return out


_MARK_OF = {
    TELEX: {"â": ("a", "a"), "ê": ("e", "e"), "ô": ("o", "o"), "ă": ("a", "w"), "ơ": ("o", "w"),
            "ư": ("u", "w"), "đ": ("d", "d")},
    VNI: {"â": ("a", "6"), "ê": ("e", "6"), "ô": ("o", "6"), "ă": ("a", "8"), "ơ": ("o", "7"),
          "ư": ("u", "7"), "đ": ("d", "9")},
}
#: key orders :func:`encode` knows: marks right after their letter or at the
#: end of the syllable, the tone key right after the vowels or at the end.
ORDERS = ("inline", "marks-last", "tone-after-vowels", "all-last")


def encode(syllable: str, method: str, order: str = "inline") -> str:
    """The keys that type ``syllable`` (one syllable, NFC, any case) in
    ``method``: ``encode("đường", "telex") == "dduwowngf"``. ``order`` (one of
    :data:`ORDERS`) chooses where the mark and tone keys go; every order
    decodes back (:func:`decode`) for the syllables the IMEs themselves read
    unambiguously. Characters that are not Vietnamese letters are kept."""
    if order not in ORDERS:
        raise ValueError(f"unknown key order {order!r} (one of {', '.join(ORDERS)})")
    from indexer.analysis.syllable import strip_tone
    try:
        letters, tone = strip_tone(syllable)
    except ValueError:
        return syllable
    tone_key = {v: k for k, v in _TONE_KEYS[method].items()}.get(tone, "")
    marks_last = order in ("marks-last", "all-last")
    tone_last = order in ("all-last", "inline", "marks-last")
    out: list[str] = []
    pending: list[str] = []
    last_vowel = max((i for i, ch in enumerate(letters) if ch.lower() in _VOWELS), default=-1)
    for i, ch in enumerate(letters):
        low = ch.lower()
        base, key = _MARK_OF[method].get(low, (low, ""))
        out.append(base.upper() if ch != low else base)
        if key:
            if low == "đ" or not marks_last:
                # ươ: one horn key after the pair types both (uow), as IMEs expect
                if not (low == "ư" and letters[i + 1:i + 2].lower() == "ơ"):
                    out.append(key)
            elif not (low == "ư" and letters[i + 1:i + 2].lower() == "ơ"):
                pending.append(key)
        if i == last_vowel and tone_key and not tone_last:
            out.append(tone_key)
    out.extend(pending)
    if tone_key and tone_last:
        out.append(tone_key)
    return "".join(out)
