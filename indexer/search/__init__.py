"""Searching a generation: the query model, BM25F, one executor, snippets.

* :mod:`~indexer.search.query`: query text to the project's query model;
* :mod:`~indexer.search.settings`: the ranking parameters (one frozen object);
* :mod:`~indexer.search.scoring`: BM25F as small pure functions;
* :mod:`~indexer.search.executor`: the one executor (numpy over the postings);
* :mod:`~indexer.search.phrases`: phrase verification and totals;
* :mod:`~indexer.search.highlight`: snippets from stored character offsets;
* :mod:`~indexer.search.accents`: accents restored for plain queries;
* :mod:`~indexer.search.suggest`: completions of a partly typed query;
* :mod:`~indexer.search.results`: the JSON shapes of hits and answers;
* :mod:`~indexer.search.engine`: :class:`SearchEngine`, an open index.
"""
