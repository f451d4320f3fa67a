"""The index in a Sphinx 2.2 (or Manticore) cluster: ``--engine sphinx://HOST:PORT,.../INDEX``.

Same Spanish semantics as the embedded engine *by construction*: searchnews analyses the text
itself (:mod:`searchnews.analysis`) and gives Sphinx only the resulting terms, so Sphinx does
no stemming, folding or stopwords of its own. Each paragraph is one RT row (layout in
:mod:`.conf`): fields ``title``/``text`` hold the stemmed terms, ``words``
the folded unstemmed words (to find prefix candidates), ``source`` one token naming the
outlet; attributes hold the raw text and metadata a hit shows.

Searching is the embedded engine's pipeline (:mod:`searchnews.pipeline`: the same parsing,
tiers, re-ranking, grouping, duplicate folding and highlights); :class:`SphinxBackend`
answers it, translating the Whoosh query trees into Sphinx's extended syntax over the same
terms (:func:`to_match`) and a :class:`~searchnews.filters.Filter` into SQL. The BM25 scores
come from Sphinx.

Indexing reuses :func:`searchnews.ingest.ingest` with a :class:`_Writer` that routes each
article to shard ``crc32(article_id) % N`` (and to every mirror of that shard); the manifest
lives in the server, in the RT index ``<name>_files`` on node 0.

URL: ``sphinx://H0:P0,H1:P1|H1b:P1b/noticias`` -- one comma-separated SphinxQL address per
shard (``|`` between mirrors of a shard). The first is node 0: queries go to its distributed
index. Reading needs only node 0; writing needs every shard.

Modules: :mod:`.sphinxql` (ids, tokens, and Whoosh query trees and filters in SphinxQL),
:mod:`.nodes` (connections), :mod:`.backend` (the pipeline's questions answered),
:mod:`.engine` (the engine's surface), :mod:`.writer` (rows written to the shards),
:mod:`.conf` (configs and processes of a local cluster).
"""

from .engine import SphinxEngine

__all__ = ["SphinxEngine"]
