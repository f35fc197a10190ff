"""Plain-text output: one ``NNN_<id>.txt`` per article (title, date, body), an index.

A feed format for users who feed text corpora. Give the feed the path of the index
file; the article files go beside it::

    scrapy crawl newsites -o out/texts/index.tsv:text
    newsites run --text

Each article file is UTF-8::

    <title>
    (blank line)
    <date, ISO 8601; an empty line when the page gives none>
    (blank line)
    <body: paragraphs separated by one blank line>

``NNN`` counts up from ``000`` in the folder (continuing after the highest number
already there), ``<id>`` is the item's ``id``. Each file is written to a temporary
name, fsynced and renamed, so a reader never sees half an article. Only then is its
line appended to ``index.tsv`` (``file<TAB>id<TAB>url<TAB>title``), so an article in
the index has its file, and the seen store checks the index when it recovers from a
killed run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter

_NUMBERED = re.compile(r"^(\d+)_[^/]+\.txt$")


def article_text(item: Any) -> str:
    """The text file of one article: title, blank, date, blank, body."""
    adapter = ItemAdapter(item)
    title = " ".join(str(adapter.get("title") or "").split())
    date = str(adapter.get("date") or "")
    body = str(adapter.get("text") or "").strip()
    return f"{title}\n\n{date}\n\n{body}\n"


def next_number(folder: Path) -> int:
    """One more than the highest ``NNN`` of the ``NNN_*.txt`` files in ``folder``."""
    numbers = [
        int(m.group(1))
        for p in folder.glob("*_*.txt")
        if (m := _NUMBERED.match(p.name))
    ]
    return max(numbers, default=-1) + 1


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


class TextFilesExporter(BaseItemExporter):
    """Feed exporter writing ``NNN_<id>.txt`` files beside the feed's index file."""

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        name = getattr(file, "name", None)
        if not isinstance(name, str):
            raise ValueError(
                "The text feed format writes files into a local folder: give it a "
                "local path such as out/texts/index.tsv"
            )
        self.file = file
        self.folder = Path(name).resolve().parent
        self.number = next_number(self.folder)

    def export_item(self, item: Any) -> None:
        adapter = ItemAdapter(item)
        article_id = _clean(adapter.get("id")) or "noid"
        name = f"{self.number:03d}_{article_id}.txt"
        target = self.folder / name
        tmp = self.folder / f".{name}.tmp"
        with tmp.open("wb") as out:
            out.write(article_text(item).encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        self.number += 1
        row = "\t".join(
            (name, article_id, _clean(adapter.get("url")), _clean(adapter.get("title")))
        )
        self.file.write(f"{row}\n".encode())
        self.file.flush()
