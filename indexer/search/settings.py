"""The ranking parameters: one frozen object, passed to the engine.

The benchmark builds variants with :func:`dataclasses.replace`; nothing reads
module globals. The defaults are the one setting chosen on all four shared
retrieval sets together (``bench/README.md``, "Relevance").
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class RankingSettings:
    #: BM25 saturation: how fast a term's pseudo-frequency stops adding score.
    k1: float = 0.9
    #: Length normalisation of the body and of the title (BM25F's per-field b).
    body_b: float = 0.6
    title_b: float = 0.6
    #: Field weights of BM25F: a title occurrence counts ``title_weight`` body ones.
    body_weight: float = 1.0
    title_weight: float = 1.0
    #: Weight of a syllable's exact (accented) form, beside its folded form's 1,
    #: when the query carries accents...
    exact_weight: float = 1.5
    #: ...and when a plain query's accents were restored (a guess, not the user's word).
    restored_weight: float = 0.5
    #: Weight of a pyvi word of the query (``đảng_viên``) where the index holds it.
    word_weight: float = 0.5
    #: Weights of another reading of a syllable the index does not hold
    #: (:mod:`indexer.search.respell`), beside the syllable as typed: its
    #: Telex/VNI keys decoded (the user's accents, keyed)...
    decoded_weight: float = 0.9
    #: ...a joined word split into the index's syllables...
    split_weight: float = 0.9
    #: ...and a letter corrected (a guess among near spellings).
    corrected_weight: float = 0.7
    #: Queries of this many syllables or more are free text: ranked by score
    #: alone (no "every word first" tier), their quotes read as words.
    free_text_syllables: int = 7
    #: Free text: syllables in more than this share of the documents are not marked in snippets.
    highlight_max_share: float = 0.2

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"RankingSettings.{f.name} must be a number ≥ 0, not {value!r}")
        if not 0 <= self.body_b <= 1 or not 0 <= self.title_b <= 1:
            raise ValueError("RankingSettings.body_b and title_b are between 0 and 1")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


DEFAULT = RankingSettings()
