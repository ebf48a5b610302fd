"""BM25F (Robertson & Zaragoza, 2009) as small pure functions over numpy arrays.

For a term t and a document d with fields f (title, body)::

    B_f(d)   = 1 - b_f + b_f * len_f(d) / avglen_f          length normalisation
    tf~(t,d) = sum_f  w_f * tf_f(t,d) / B_f(d)               one pseudo-frequency
    score    = idf(t) * tf~ * (k1 + 1) / (tf~ + k1)          one saturation

    idf(t)   = log(1 + (N - df + 0.5) / (df + 0.5))          Robertson's, never negative

with N the live documents and df those holding t in any field. The fields'
frequencies are combined *before* the saturation: a short title holding a
query word adds ``w_title / B_title`` occurrences, not a whole BM25 term of
its own (what Lucene's ``combined_fields`` does).
"""

from __future__ import annotations

import numpy as np


def idf(df: int, n: int) -> float:
    """Robertson's idf of a term in ``df`` of ``n`` documents."""
    return float(np.log1p((n - df + 0.5) / (df + 0.5)))


def length_norm(lengths: np.ndarray, average: float, b: float) -> np.ndarray:
    """``B_f``: BM25's per-field length normalisation of every document."""
    return (1.0 - b) + b * lengths.astype(np.float64) / max(average, 1.0)


def field_scale(norm: np.ndarray, weight: float) -> np.ndarray:
    """``w_f / B_f``: what one occurrence in the field adds to ``tf~``, per document."""
    return weight / norm


def pseudo_frequency(tf: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """One field's share of ``tf~``: ``tf * w_f / B_f`` (``scale`` from :func:`field_scale`)."""
    return tf * scale


def saturate(pseudo_tf: np.ndarray, k1: float) -> np.ndarray:
    """``tf~ (k1 + 1) / (tf~ + k1)``: 0 at 0, 1 at ``tf~ = 1``, below ``k1 + 1``."""
    return pseudo_tf * (k1 + 1.0) / (pseudo_tf + k1)


def bm25f(pseudo_tf: np.ndarray, term_idf: float, k1: float) -> np.ndarray:
    """The BM25F score of one term in each document, from its ``tf~``."""
    return term_idf * saturate(pseudo_tf, k1)
