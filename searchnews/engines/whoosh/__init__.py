"""The embedded engine: an index in a folder, held by Whoosh 2.7.4.

Whoosh's internals stay behind this package: its files and writer's private fields
(:mod:`.writer`), the arrays beside each segment (:mod:`.columnar` postings, :mod:`.forward`
words in order), the mmap fix applied on the release it was written for (:mod:`.patches`),
the checksums of each generation (:mod:`.integrity`), and the pipeline's questions
answered (:mod:`.backend`). :class:`Index` is the engine's surface.
"""

from .index import Index

__all__ = ["Index"]
