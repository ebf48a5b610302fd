"""pyvi's Vietnamese word segmentation, reimplemented for speed, offsets and fork safety.

The output is identical to ``pyvi.ViTokenizer.tokenize`` (pyvi 0.1.1) on any
NFC text: the same syllable tokens (same regex, same order), the same CRF model
fed the same features, the same joining rule.  What differs:

* **Offsets.**  :func:`syllable_spans` and :func:`segment` return ``(start,
  end)`` spans into the input instead of a rendered string.
* **Linear time.**  pyvi renders its output by repeated ``str`` concatenation
  (quadratic on long documents); nothing here is worse than linear.
* **Speed.**  The CRF tagger (``pycrfsuite.Tagger``) is called directly with
  pyvi's features, prepared the cheap way:

  - each item is a list of attribute names, all of value 1.0, instead of
    pyvi's dict: a string feature ``{'k': 'v'}`` is the name ``k:v`` (exactly
    what python-crfsuite builds from the dict), a ``True`` boolean is its bare
    key (value 1.0), a ``False`` boolean (value 0.0) is left out, and so is
    any name the model does not know (the tagger drops those anyway);
  - per-token features are computed once per distinct token (cached), and
    each bigram/trigram dictionary lookup once, shared by the neighbours that
    use it; items are generated lazily as crfsuite consumes them;
  - the model is opened with every attribute renamed to a 3-byte name (a new
    attribute table appended to the in-memory model; ids, features, weights
    untouched, checked against the original at import), so passing an
    attribute costs no UTF-8 encode, no heap-allocated string and a short hash.

  The attributes that remain keep pyvi's order, so crfsuite adds the same
  weights in the same order: every score, hence the Viterbi path, is
  bit-for-bit the one pyvi gets.
* **No temp file, fork safe.**  pyvi unpickles a ``sklearn_crfsuite.CRF`` whose
  ``FileResource`` writes the model to a temp file and deletes it from its
  finalizer -- in a forked child too, breaking the parent and its siblings.
  Here the pickle is read with a restricted unpickler that maps the few classes
  it names to inert stand-ins; the model bytes are kept in memory and opened
  with ``Tagger.open_inmemory``.  Neither ``pyvi`` nor ``sklearn_crfsuite`` is
  imported (pyvi's package directory is only located, to read its model files).
* **Thread safe.**  A crfsuite tagger holds per-sequence state, so each thread
  gets its own tagger (``threading.local``), all opened from the same bytes.
  No lock is involved, so a fork from a multi-threaded process cannot inherit a
  held lock.

Model and dictionary are loaded once, at import.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import re
import string
import struct
import threading
import unicodedata
from typing import Iterable, Sequence

import pycrfsuite

__all__ = [
    "syllable_spans",
    "syllables",
    "segment",
    "segment_tokens",
    "tag",
    "to_pyvi_string",
    "tokenize",
    "MODEL_PATH",
    "WORDS_PATH",
]

Span = tuple[int, int]

# --------------------------------------------------------------------------
# Locating pyvi's model files without importing pyvi.ViTokenizer
# --------------------------------------------------------------------------


def _pyvi_dir() -> str:
    spec = importlib.util.find_spec("pyvi")  # locates the package, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pyvi is not installed: its model files are needed")
    for location in spec.submodule_search_locations:
        if os.path.isfile(os.path.join(location, "models", "pyvi3.pkl")):
            return location
    raise ImportError("pyvi's models/pyvi3.pkl was not found")


_PYVI_DIR = _pyvi_dir()
MODEL_PATH = os.path.join(_PYVI_DIR, "models", "pyvi3.pkl")  # read once, never written
WORDS_PATH = os.path.join(_PYVI_DIR, "models", "words.txt")

# --------------------------------------------------------------------------
# Model: the crfsuite bytes inside pyvi's pickled sklearn_crfsuite.CRF
# --------------------------------------------------------------------------


class _Inert:
    """Stand-in for every class the pickle names: records state, does nothing."""

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        self.state = state


def _inert_function(*args, **kwargs):
    return None


class _ModelUnpickler(pickle.Unpickler):
    """Resolves only the globals pyvi3.pkl names; nothing is imported or run.

    ``_codecs.encode`` is needed for real: protocol-2 pickles store ``bytes`` as
    ``_codecs.encode(latin1_text, 'latin1')``.
    """

    _ALLOWED = {
        ("sklearn_crfsuite.estimator", "CRF"): _Inert,
        ("sklearn_crfsuite._fileresource", "FileResource"): _Inert,
        ("pycrfsuite._logparser", "TrainLogParser"): _Inert,
        ("numpy", "dtype"): _Inert,
        ("numpy.core.multiarray", "scalar"): _inert_function,
        ("numpy._core.multiarray", "scalar"): _inert_function,
    }

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            import codecs

            return codecs.encode
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"unexpected global {module}.{name} in pyvi's model pickle"
            ) from None


def _load_model_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        crf = _ModelUnpickler(f).load()
    try:
        data = crf.state["modelfile"].state["__FILE_RESOURCE_DATA__"]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: no crfsuite model inside the pickle") from exc
    if not isinstance(data, bytes) or data[:4] != b"lCRF":
        raise ValueError(f"{path}: the embedded model is not a crfsuite model")
    return data


_HEADER = struct.Struct("<4sI4sIIIIIIIII")  # crf1d_model.c header_t (48 bytes)
_OFF_ATTRS_FIELD = 36                         # byte offset of header_t.off_attrs
_CQDB_HEADER = struct.Struct("<4sIIIII")      # cqdb.c header_t (24 bytes)
_CQDB_BYTEORDER = 0x62445371
_CQDB_TABLES = 256
_CQDB_DATA = _CQDB_HEADER.size + 8 * _CQDB_TABLES


def _attribute_names(model: bytes) -> list[str] | None:
    """The model's attribute names by id, read from its attribute CQDB (the
    backward array: record offsets by id; a record is ``id, ksize, key\\0``).
    None if the layout is not the expected one."""
    try:
        fields = _HEADER.unpack_from(model, 0)
        magic, num_attrs, off_attrs = fields[0], fields[6], fields[9]
        chunk, _size, _flag, byteorder, bwd_size, bwd_off = _CQDB_HEADER.unpack_from(
            model, off_attrs)
        if (magic != b"lCRF" or chunk != b"CQDB" or byteorder != _CQDB_BYTEORDER
                or bwd_off == 0 or bwd_size < num_attrs):
            return None
        names = []
        for aid in range(num_attrs):
            (rec,) = struct.unpack_from("<I", model, off_attrs + bwd_off + 4 * aid)
            rid, ksize = struct.unpack_from("<II", model, off_attrs + rec)
            key = model[off_attrs + rec + 8:off_attrs + rec + 8 + ksize]
            if rid != aid or not key.endswith(b"\0") or b"\0" in key[:-1]:
                return None
            names.append(key[:-1].decode("utf-8"))
        return names
    except (struct.error, UnicodeDecodeError):
        return None


_M32 = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def _hashlittle(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 ``hashlittle``, the hash CQDB uses (little-endian)."""
    n = len(data)
    a = b = c = (0xDEADBEEF + n + initval) & _M32
    i = 0
    while n - i > 12:
        x, y, z = struct.unpack_from("<III", data, i)
        a = (a + x) & _M32
        b = (b + y) & _M32
        c = (c + z) & _M32
        a = (a - c) & _M32; a ^= _rot(c, 4);  c = (c + b) & _M32  # noqa: E702
        b = (b - a) & _M32; b ^= _rot(a, 6);  a = (a + c) & _M32  # noqa: E702
        c = (c - b) & _M32; c ^= _rot(b, 8);  b = (b + a) & _M32  # noqa: E702
        a = (a - c) & _M32; a ^= _rot(c, 16); c = (c + b) & _M32  # noqa: E702
        b = (b - a) & _M32; b ^= _rot(a, 19); a = (a + c) & _M32  # noqa: E702
        c = (c - b) & _M32; c ^= _rot(b, 4);  b = (b + a) & _M32  # noqa: E702
        i += 12
    if n == i:
        return c
    x, y, z = struct.unpack("<III", data[i:].ljust(12, b"\0"))
    a = (a + x) & _M32
    b = (b + y) & _M32
    c = (c + z) & _M32
    c ^= b; c = (c - _rot(b, 14)) & _M32  # noqa: E702
    a ^= c; a = (a - _rot(c, 11)) & _M32  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _M32  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _M32  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _M32   # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _M32  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _M32  # noqa: E702
    return c


def _build_cqdb(keys: list[bytes]) -> bytes:
    """A CQDB chunk mapping ``keys[i]`` (no NUL inside) to id i, laid out as
    cqdb.c's writer does: header, 256 table refs, records, tables, backward array."""
    records = bytearray()
    tables: list[list[tuple[int, int]]] = [[] for _ in range(_CQDB_TABLES)]
    backward = []
    cur = _CQDB_DATA
    for aid, key in enumerate(keys):
        k = key + b"\0"
        hv = _hashlittle(k)
        records += struct.pack("<II", aid, len(k)) + k
        tables[hv % _CQDB_TABLES].append((hv, cur))
        backward.append(cur)
        cur += 8 + len(k)
    refs = bytearray()
    buckets = bytearray()
    for entries in tables:
        if not entries:
            refs += struct.pack("<II", 0, 0)
            continue
        n = 2 * len(entries)
        slots = [(0, 0)] * n
        for hv, off in entries:  # open addressing, as cqdb_writer_close
            k = (hv >> 8) % n
            while slots[k][1] != 0:
                k = (k + 1) % n
            slots[k] = (hv, off)
        refs += struct.pack("<II", cur, n)
        for slot in slots:
            buckets += struct.pack("<II", *slot)
        cur += 8 * n
    body = bytes(records) + bytes(buckets) + struct.pack(f"<{len(backward)}I", *backward)
    header = _CQDB_HEADER.pack(b"CQDB", _CQDB_DATA + len(body), 0, _CQDB_BYTEORDER,
                               len(keys), cur)
    return header + bytes(refs) + body


def _short_name(aid: int) -> bytes:
    # 3 printable ASCII bytes + NUL: 4-byte records keep the tables aligned,
    # and a 3-byte std::string stays in its small-string buffer (no malloc).
    d0, rest = aid % 94, aid // 94
    d1, d2 = rest % 94, rest // 94
    return bytes((33 + d2, 33 + d1, 33 + d0))


def _renamed_model(model: bytes, names: list[str]) -> tuple[bytes, dict[str, bytes]] | None:
    """The same model with every attribute renamed to a 3-byte name.

    Passing attribute names costs python-crfsuite and crfsuite a UTF-8 encode,
    string copies (a heap allocation each when longer than 15 bytes) and a
    hash of the whole name, per attribute per item; pyvi's names are 15-40
    bytes.  Only the attribute CQDB (name -> id) changes: a new one is appended
    to the model and ``off_attrs`` points to it.  Attribute ids, features,
    weights and labels are untouched, so every score is computed exactly as
    before.  Checked below against the original model before use.
    """
    if len(names) > 94 ** 3:
        return None
    short = [_short_name(aid) for aid in range(len(names))]
    cqdb = _build_cqdb(short)
    offset = len(model) + (-len(model)) % 16
    out = bytearray(model)
    out += b"\0" * (offset - len(model))
    out += cqdb
    struct.pack_into("<I", out, 4, len(out))                # header_t.size
    struct.pack_into("<I", out, _OFF_ATTRS_FIELD, offset)   # header_t.off_attrs
    return bytes(out), dict(zip(names, short))


def _same_scores(model_a: bytes, names_a: list[bytes],
                 model_b: bytes, names_b: list[bytes]) -> bool:
    """Do attribute ``names_a[i]`` in ``model_a`` and ``names_b[i]`` in
    ``model_b`` weigh exactly the same, for every i?

    Short sequences of one-attribute items: same Viterbi labels, and the same
    (non-zero) probability for the Viterbi path and for two fixed paths -- a
    missing or mis-mapped attribute changes them.
    """
    ta, tb = pycrfsuite.Tagger(), pycrfsuite.Tagger()
    ta.open_inmemory(model_a)
    tb.open_inmemory(model_b)
    try:
        labels = ta.labels()
        for lo in range(0, len(names_a), 8):
            seq_a = [[n] for n in names_a[lo:lo + 8]]
            seq_b = [[n] for n in names_b[lo:lo + 8]]
            best = ta.tag(seq_a)
            if tb.tag(seq_b) != best:
                return False
            paths = (best, [labels[0]] * len(best),
                     [labels[i % len(labels)] for i in range(len(best))])
            for path in paths:
                p = ta.probability(path)
                if not p > 0.0 or tb.probability(path) != p:
                    return False
        return True
    finally:
        ta.close()
        tb.close()


def _prepare_model(model: bytes) -> tuple[bytes, dict[str, bytes] | None]:
    """(model bytes to open, attribute name -> name to pass); the mapping is
    None when the model's attributes could not be read (pass names as is)."""
    names = _attribute_names(model)
    if names is None:  # pragma: no cover - not pyvi 0.1.1's model
        return model, None
    identity = {n: n.encode("utf-8") for n in names}
    renamed = _renamed_model(model, names)
    if renamed is not None:
        new_model, mapping = renamed
        try:
            if _same_scores(model, [identity[n] for n in names],
                            new_model, [mapping[n] for n in names]):
                return new_model, mapping
        except Exception:  # pragma: no cover - fall back to the original model
            pass
    return model, identity  # pragma: no cover


_ORIGINAL_MODEL: bytes = _load_model_bytes(MODEL_PATH)
# Kept alive for the life of the process: crfsuite reads an in-memory model in place.
_MODEL_BYTES, _ATTRIBUTE_NAMES = _prepare_model(_ORIGINAL_MODEL)
MODEL_RENAMED = _MODEL_BYTES is not _ORIGINAL_MODEL


def _new_tagger() -> pycrfsuite.Tagger:
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(_MODEL_BYTES)
    return tagger


class _PerThreadTagger(threading.local):
    def __init__(self):
        self.tagger = _new_tagger()


_local = _PerThreadTagger()  # the importing thread's tagger is opened right now

# --------------------------------------------------------------------------
# Dictionary: pyvi's bigram / trigram sets, read exactly as pyvi reads them
# --------------------------------------------------------------------------


def _load_ngrams(path: str) -> tuple[frozenset[str], frozenset[str]]:
    # pyvi: codecs.open(..., 'r', 'utf-8').read().split('\n') -- codecs.open
    # reads in binary mode, so no newline translation: decode the raw bytes.
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8").split("\n")
    bi, tri = set(), set()
    for line in lines:
        n = len(line.split(" "))
        if n == 2:
            bi.add(line)
        elif n == 3:
            tri.add(line)
    return frozenset(bi), frozenset(tri)


_BI_GRAMS, _TRI_GRAMS = _load_ngrams(WORDS_PATH)
# "a b" prefixes of trigrams: a trigram lookup is only needed after a hit here.
_TRI_PREFIXES = frozenset(t.rsplit(" ", 1)[0] for t in _TRI_GRAMS)

# --------------------------------------------------------------------------
# Syllabelization: ViTokenizer.sylabelize's regex, same alternatives, same order
# --------------------------------------------------------------------------

_specials = [r"==>", r"->", r"\.\.\.", r">>", "\n"]
_digit = r"\d+([\.,_]\d+)+"
_email = r"([a-zA-Z0-9_.+-]+@([a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)"
_web = r"\w+://[^\s]+"
_word = r"\w+"
_non_word = r"[^\w\s]"
_abbreviations = [r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
_patterns = _abbreviations + _specials + [_web, _email, _digit, _non_word, _word]
SYLLABLE_RE = re.compile("(" + "|".join(_patterns) + ")", re.UNICODE)
# The same, every group non-capturing, so findall() yields the tokens themselves.
_SYLLABLE_RE_FLAT = re.compile(SYLLABLE_RE.pattern.replace("(", "(?:"), re.UNICODE)
del _specials, _digit, _email, _web, _word, _non_word, _abbreviations, _patterns


def syllable_spans(text: str) -> list[Span]:
    """pyvi's syllabelization (same regex and token order as
    ``ViTokenizer.sylabelize``) as ``(start, end)`` spans into ``text``.

    Contract: ``text`` is already NFC (the caller normalizes); ``text[start:end]``
    is exactly pyvi's token.  The regex's outer group is the whole match, so
    the match span is the token's span.
    """
    return [m.span() for m in SYLLABLE_RE.finditer(text)]


def syllables(text: str) -> list[str]:
    """pyvi's tokens of an NFC ``text`` (``ViTokenizer.sylabelize(text)[1]``)."""
    return _SYLLABLE_RE_FLAT.findall(text)


# --------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------
#
# pyvi's word2features(sent, i) builds, in this order:
#   bias, word.lower(), word.isupper(), word.istitle(), word.isdigit(),
#   -1:word.lower(), -1:word.istitle(), -1:word.isupper(), -1:word.bi_gram(),
#   -2:word.tri_gram(),
#   +1:word.lower(), +1:word.istitle(), +1:word.isupper(), +1:word.bi_gram(),
#   +2:word.tri_gram()
# python-crfsuite turns {'k': 'v'} into attribute b'k:v' (value 1.0) and
# {'k': bool} into b'k' with value 1.0 / 0.0.  An attribute of value 0.0 adds
# w * 0.0 = +-0.0 to a score, which changes no sum, and the tagger drops names
# it does not know; leaving both out keeps every score bit-identical.  Names
# are passed as UTF-8 bytes (python-crfsuite copies bytes as they are and
# encodes str), and crfsuite reads them as C strings, so a NUL ends a name.

_PUNCTUATION = string.punctuation


def _c_name(name: str) -> str:
    return name.split("\0", 1)[0] if "\0" in name else name


def _known(names: list[str]) -> list[bytes]:
    """The names the tagger would look up, as the bytes to pass; unknown ones dropped."""
    names = [_c_name(n) for n in names]
    if _ATTRIBUTE_NAMES is None:  # pragma: no cover
        return [n.encode("utf-8") for n in names]
    get = _ATTRIBUTE_NAMES.get
    return [b for b in map(get, names) if b is not None]


_shared_lists: dict[tuple[bytes, ...], list[bytes]] = {}


def _shared(names: list[bytes]) -> list[bytes]:
    """One list object per distinct content (most tokens share the few lists
    of unknown words), so the token cache stays small.  Never mutated."""
    key = tuple(names)
    got = _shared_lists.get(key)
    if got is None:
        got = _shared_lists.setdefault(key, names)
    return got


# Flags of item i about its neighbours, indexed by a 2-bit code:
# left code  = bigram(i-1, i) | 2 * trigram(i-2, i-1, i)
# right code = bigram(i, i+1) | 2 * trigram(i, i+1, i+2)
def _flags(bi_name: str, tri_name: str) -> list[list[bytes]]:
    return [_known([bi_name] * (code & 1) + [tri_name] * (code >> 1)) for code in range(4)]


_LEFT_FLAGS = _flags("-1:word.bi_gram()", "-2:word.tri_gram()")
_RIGHT_FLAGS = _flags("+1:word.bi_gram()", "+2:word.tri_gram()")


class _Tok:
    """Everything pyvi derives from one token string, computed once per string.

    ``as_prev[code]``: the attributes token t gives the item after it
    ('-1:' ones), followed by that item's left flags for ``code``;
    ``as_next[code]``: the attributes t gives the item before it ('+1:'),
    followed by that item's right flags.  So item i is
    ``own(i) + as_prev(i-1)[left(i)] + as_next(i+1)[right(i)]``.
    """

    __slots__ = ("lower", "own", "as_prev", "as_next", "kind")

    def __init__(self, tok: str):
        low = tok.lower()
        up, title, digit = tok.isupper(), tok.istitle(), tok.isdigit()
        own = ["bias", "word.lower():" + low]
        if up:
            own.append("word.isupper()")
        if title:
            own.append("word.istitle()")
        if digit:
            own.append("word.isdigit()")
        prev = ["-1:word.lower():" + low]
        nxt = ["+1:word.lower():" + low]
        if title:
            prev.append("-1:word.istitle()")
            nxt.append("+1:word.istitle()")
        if up:
            prev.append("-1:word.isupper()")
            nxt.append("+1:word.isupper()")
        prev_b, next_b = _known(prev), _known(nxt)
        self.lower = low
        self.own = _shared(_known(own))
        self.as_prev = tuple(_shared(prev_b + f) for f in _LEFT_FLAGS)
        self.as_next = tuple(_shared(next_b + f) for f in _RIGHT_FLAGS)
        # For tokenize()'s joining rule (see _JOINABLE); `tok in
        # string.punctuation` is pyvi's substring test, kept as is.
        if tok in _PUNCTUATION or tok[0].isdigit():
            self.kind = 0
        elif tok[0].istitle():
            self.kind = 1
        else:
            self.kind = 2


_NO_NEIGHBOUR: tuple[list[bytes], ...] = ([],) * 4  # before the first / after the last token
_CACHE_LIMIT = 200_000
_cache: dict[str, _Tok] = {}


def _toks(tokens: Sequence[str]) -> list[_Tok]:
    """The _Tok of every token, from the cache (bounded: cleared when full)."""
    cache = _cache
    infos = list(map(cache.get, tokens))
    if not all(infos):  # a _Tok is always true, None is not
        missing = [i for i, info in enumerate(infos) if info is None]
        if len(cache) + len(missing) > _CACHE_LIMIT:
            cache.clear()
        for i in missing:
            tok = tokens[i]
            info = cache.get(tok)
            if info is None:
                info = cache[tok] = _Tok(tok)
            infos[i] = info
    return infos


def _ngram_codes(infos: list[_Tok]) -> list[int]:
    """code[j] = bigram(j, j+1) | 2 * trigram(j, j+1, j+2); each lookup once.

    pyvi lowercases ``' '.join(words)``; joining the lowercased words gives
    the same string (a space is neither cased nor case-ignorable, so the one
    context rule of str.lower(), Greek final sigma, cannot see across it).
    """
    lows = [x.lower for x in infos]
    pairs = [a + " " + b for a, b in zip(lows, lows[1:])]
    bi_set, tri_set, tri_prefixes = _BI_GRAMS, _TRI_GRAMS, _TRI_PREFIXES
    codes = [1 if p in bi_set else 0 for p in pairs]
    last = len(pairs) - 1
    for j, p in enumerate(pairs):
        if p in tri_prefixes and j < last and p + " " + lows[j + 2] in tri_set:
            codes[j] |= 2
    codes.append(0)
    return codes


def _items(infos: list[_Tok]):
    """pyvi's ``sent2features`` as attribute-name lists, lazily (each item is
    handed to crfsuite and freed at once), in linear time."""
    right = _ngram_codes(infos)
    left = [0] + [(b & 1) | (a & 2) for a, b in zip([0] + right, right)][:-1]
    prev = [_NO_NEIGHBOUR] + [x.as_prev for x in infos[:-1]]
    nxt = [x.as_next for x in infos[1:]] + [_NO_NEIGHBOUR]
    return (
        [*x.own, *p[lc], *q[rc]]
        for x, p, lc, q, rc in zip(infos, prev, left, nxt, right)
    )


def _tag_infos(infos: list[_Tok]) -> list[str]:
    return _local.tagger.tag(_items(infos))


def tag(tokens: Sequence[str]) -> list[str]:
    """The CRF labels ('B_W' / 'I_W') pyvi's model gives ``tokens`` as one sequence."""
    if not tokens:
        return []
    return _tag_infos(_toks(tokens))


# tokenize()'s joining rule for an 'I_W' token b after token a: neither is
# punctuation (pyvi's substring test) nor starts with a digit, and not
# (b starts titlecase and a does not).  _Tok.kind: 0 never joins, 1 titlecase
# start, 2 other; _JOINABLE[3 * a.kind + b.kind].
_JOINABLE = (False, False, False, False, True, True, False, False, True)


def _word_starts(tokens: Sequence[str]) -> list[int]:
    """Index of the first token of every pyvi word, in order (tokens non-empty)."""
    infos = _toks(tokens)
    labels = _tag_infos(infos)
    kinds = [x.kind for x in infos]
    joinable = _JOINABLE
    return [0] + [
        i
        for i, label, a, b in zip(range(1, len(kinds)), labels[1:], kinds, kinds[1:])
        if label != "I_W" or not joinable[3 * a + b]
    ]


def segment_tokens(tokens: Sequence[str]) -> list[list[str]]:
    """pyvi's word grouping of an already syllabelized token list (non-empty
    strings, e.g. :func:`syllables`), as one CRF sequence."""
    if not tokens:
        return []
    tokens = list(tokens)
    starts = _word_starts(tokens)
    return [tokens[a:b] for a, b in zip(starts, starts[1:] + [len(tokens)])]


def segment(text: str) -> list[list[Span]]:
    """pyvi words as lists of syllable spans into ``text`` (NFC), in order.

    Every pyvi token (punctuation and ``'\\n'`` included) appears exactly once;
    a word of n syllables is a list of n spans.  The whole text is one CRF
    sequence, as in pyvi.
    """
    spans = [m.span() for m in SYLLABLE_RE.finditer(text)]
    if not spans:
        return []
    starts = _word_starts([text[s:e] for s, e in spans])
    return [spans[a:b] for a, b in zip(starts, starts[1:] + [len(spans)])]


def to_pyvi_string(text: str, words: Iterable[Sequence[Span]]) -> str:
    """Render like ``ViTokenizer.tokenize``: syllables of a word joined by '_',
    words by ' '.  With no words at all, pyvi returns its input: so does this."""
    out = " ".join([
        text[w[0][0]:w[0][1]] if len(w) == 1 else "_".join([text[s:e] for s, e in w])
        for w in words
    ])
    return out if out else text


def tokenize(text: str) -> str:
    """Drop-in ``ViTokenizer.tokenize``: NFC-normalizes like pyvi, returns the
    input unchanged when it has no token."""
    norm = unicodedata.normalize("NFC", text)
    tokens = _SYLLABLE_RE_FLAT.findall(norm)
    if not tokens:
        return text
    return " ".join("_".join(w) for w in segment_tokens(tokens))
