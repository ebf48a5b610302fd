"""Accent-exact highlighting: in a document holding the exact form, only it is marked."""

import re

import pytest

from indexer import SearchEngine, build

MARKED = re.compile(r"<mark>(.*?)</mark>")

ARTICLES = {
    "gia-vang.txt": "Giá vàng tăng\n\nGiá vàng hôm nay tăng. Vàng giả bị thu giữ. Gia đình mua vàng.\n",
    "vang-gia.txt": "Vàng giả\n\nPhát hiện vàng giả tại chợ.\n",
    "hang-gia.txt": "Hàng giả\n\nGiá vàng ổn định trong tuần.\n",
}


@pytest.fixture(scope="module")
def hits(tmp_path_factory):
    root = tmp_path_factory.mktemp("highlight")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        result = engine.search("giá vàng")
    return {h["id"]: (MARKED.findall(h["_formatted"]["title"]), MARKED.findall(h["_formatted"]["body"]))
            for h in result["hits"]}


def test_only_the_exact_form_is_marked_where_the_document_holds_it(hits):
    title, body = hits["gia-vang"]
    assert set(title + body) == {"Giá", "vàng", "Vàng"}          # not giả, not Gia


def test_the_exact_form_anywhere_in_the_document_rules_every_field(hits):
    title, body = hits["hang-gia"]
    assert title == []                                           # "Hàng giả": giá is in the body
    assert set(body) == {"Giá", "vàng"}


def test_a_document_without_the_exact_form_marks_the_folded_matches(hits):
    title, body = hits["vang-gia"]
    assert "giả" in title + body and "vàng" in body
