"""Feed exporters: JSON lines flushed one by one, so readers never see half a line;
CSV whose list and dict fields are JSON, so a spreadsheet or ``csv`` reader gets
them back whole."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scrapy.exporters import CsvItemExporter, JsonLinesItemExporter


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


class JsonFieldsCsvExporter(CsvItemExporter):
    """Scrapy's CSV exporter with list and dict fields (``authors``, ``tags``,
    ``images``, ``comments``) written as JSON.

    Scrapy joins a list of strings with commas (an author "Smith, Jr." then reads as
    two) and writes any other list as its Python repr (``[{'url': ...}]``), which no
    CSV consumer can parse back. A field with its own ``serializer`` keeps it.
    """

    def serialize_field(self, field: Mapping[str, Any], name: str, value: Any) -> Any:
        if "serializer" not in field and isinstance(value, list | tuple | dict):
            return json.dumps(value, ensure_ascii=False)
        return super().serialize_field(field, name, value)
