"""The index on disk: schema, generations, builds and the storage formats.

* :mod:`~indexer.index.schema`: the Whoosh schema and its field names;
* :mod:`~indexer.index.generations`: generations, atomic publishing, the build lock;
* :mod:`~indexer.index.durable`: the one durable-write helper (fsync, rename);
* :mod:`~indexer.index.build`: full and incremental builds, adding one article;
* :mod:`~indexer.index.parallel`: builds shared by worker processes;
* :mod:`~indexer.index.inverter`: the workers' in-memory inverted index, written as a segment;
* :mod:`~indexer.index.codec`: the segment format (vnsearch's Whoosh codec: postings stored once);
* :mod:`~indexer.index.columns`: the per-document columns (dates, topics, sources, tags);
* :mod:`~indexer.index.postings`: postings and field lengths as numpy arrays;
* :mod:`~indexer.index.whoosh_internals`: the one module that touches Whoosh's private API.
"""
