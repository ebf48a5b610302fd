"""Vietnamese text analysis, the same at index and query time.

The pipeline, in order (the charabia split: lossless stages first, lossy last):

=========  ========  =====================================================
stage      kind      module
=========  ========  =====================================================
normalize  lossless  :mod:`~indexer.analysis.normalization`: NFC, ``Ð``→``Đ``,
                     one canonical tone placement (``ủy``→``uỷ``)
segment    lossless  :mod:`~indexer.analysis.segment`: pyvi's syllables and
                     words, on the normalized text with its case
lowercase  lossy     :class:`whoosh.analysis.LowercaseFilter`
fold       lossy     :mod:`~indexer.analysis.folding`: every diacritic removed,
                     ``đ``→``d`` (folded fields only)
=========  ========  =====================================================

:mod:`~indexer.analysis.pipeline` runs the lossless stages with an offset map
into the original text; :mod:`~indexer.analysis.tokenizer` turns its result
into Whoosh token streams, the lossy stages declared as data (``FILTERS``).
"""

from indexer.analysis.folding import fold, has_diacritics
from indexer.analysis.normalization import normalize
from indexer.analysis.pipeline import WORD_JOINER, Analysis, Syllable, Word, analyze, exact_form, folded_form
from indexer.analysis.tokenizer import (FILTERS, FoldFilter, VietnameseTokenizer, analyzer_kind,
                                        exact_analyzer, folded_analyzer)

__all__ = ["FILTERS", "WORD_JOINER", "Analysis", "FoldFilter", "Syllable", "VietnameseTokenizer", "Word",
           "analyze", "analyzer_kind", "exact_analyzer", "exact_form", "fold", "folded_analyzer",
           "folded_form", "has_diacritics", "normalize"]
