"""Feed exporters: JSON lines flushed one by one, so readers never see half a line."""

from __future__ import annotations

from typing import Any

from scrapy.exporters import JsonLinesItemExporter


class LineJsonLinesExporter(JsonLinesItemExporter):
    """Scrapy's JSON-lines exporter plus a flush after every line.

    Scrapy writes each line with one ``write()`` into a buffered file, so a killed run
    loses its last lines and can leave half a line on disk. Flushing after each item
    puts every finished line in the OS before the next item begins, which is what lets
    the seen store mark an article only once its line is written.
    """

    def export_item(self, item: Any) -> None:
        super().export_item(item)
        self.file.flush()
