"""What a search gives back, as plain records: the pipeline makes them, rendering and scripts
read them, and neither needs the other (nor any engine) to import them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Hit:
    """One ranked paragraph; the fields and their names are those of the JSON output."""

    rank: int
    score: float | None                       # None when sorted by date
    article_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    paragraph: int
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    n_paragraphs: int = 0
    matches: int = 1                         # paragraphs of this article that matched
    duplicates: list[dict] = field(default_factory=list)   # the same text elsewhere
    others: list["Hit"] = field(default_factory=list)      # more matching ¶ of the article
    docnum: int = -1

    def to_dict(self) -> dict:
        """The stable JSON record (see the README): corpus field names plus rank, score, spans."""
        return {"rank": self.rank,
                "score": round(self.score, 4) if self.score is not None else None,
                "article_id": self.article_id,
                "title": self.title, "date": self.date, "source": self.source, "url": self.url,
                "paragraph": self.paragraph, "text": self.text,
                "highlights": [list(span) for span in self.highlights],
                "matches": self.matches, "duplicates": self.duplicates,
                "title_highlights": [list(span) for span in self.title_highlights]}

    def place(self) -> dict:
        """Where this paragraph stands, for listing it under a duplicate."""
        return {"article_id": self.article_id, "title": self.title, "date": self.date,
                "source": self.source, "url": self.url, "paragraph": self.paragraph}


class Results(list):
    """The hits of one query, plus a "did you mean" suggestion when it found little."""

    suggestion: str | None = None
    note: str | None = None          # why a query could find nothing (only stopwords, ...)

    @classmethod
    def nothing(cls, why: str) -> "Results":
        """No hit, and why there could be none."""
        found = cls()
        found.note = why
        return found
