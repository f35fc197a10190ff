"""Fixture record / replay, plugged in behind Scrapy's HTTP cache middleware.

``FIXTURES_MODE=replay`` answers every request from saved pages and never sends one:
a request with no saved page is ignored and counted (``fixtures/miss``, plus Scrapy's
``httpcache/ignore``). ``FIXTURES_MODE=record`` crawls live and saves each response in
the same format, so a site can be frozen for tests.

Format (readable, reviewable, hand-writable): for each page a metadata file
``<name>.json`` ``{"url", "status", "headers", "body"}`` and its body file named by
``body`` (plain, or ``.gz``), anywhere under ``FIXTURES_DIR``. Pages are matched on
the canonicalized request URL.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.http.headers import Headers
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from scrapy.utils.conf import closest_scrapy_cfg
from w3lib.url import canonicalize_url

logger = logging.getLogger(__name__)

MODES = ("", "replay", "record")


def fixtures_dir(settings: BaseSettings) -> Path:
    """FIXTURES_DIR, or ``fixtures/`` beside scrapy.cfg (else the working dir)."""
    configured = settings.get("FIXTURES_DIR")
    if configured:
        return Path(configured)
    cfg = closest_scrapy_cfg()
    return (Path(cfg).parent if cfg else Path.cwd()) / "fixtures"


def fixture_key(url: str) -> str:
    """The lookup key of a URL: canonical form, without fragment."""
    return canonicalize_url(url, keep_fragments=False)


def configure_fixtures(settings: BaseSettings) -> None:
    """Turn FIXTURES_MODE into HTTP-cache settings (from update_settings)."""
    mode = (settings.get("FIXTURES_MODE") or "").strip().lower()
    if mode not in MODES:
        raise ValueError(
            f"FIXTURES_MODE must be one of 'replay', 'record' or empty, not {mode!r}"
        )
    if not mode:
        return
    settings.set("HTTPCACHE_ENABLED", True, priority="spider")
    settings.set(
        "HTTPCACHE_STORAGE", "crawler.replay.FixtureStorage", priority="spider"
    )
    settings.set(
        "HTTPCACHE_POLICY", "scrapy.extensions.httpcache.DummyPolicy", priority="spider"
    )
    settings.set("HTTPCACHE_EXPIRATION_SECS", 0, priority="spider")
    settings.set("HTTPCACHE_IGNORE_HTTP_CODES", [], priority="spider")
    settings.set("HTTPCACHE_IGNORE_MISSING", mode == "replay", priority="spider")
    if mode == "replay":
        # Nothing goes over the wire, so waiting between requests is pointless.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        settings.set("DOWNLOAD_DELAY", 0, priority="spider")


class FixtureStorage:
    """HTTPCACHE_STORAGE that reads (replay) or writes (record) fixture files."""

    def __init__(self, settings: BaseSettings) -> None:
        self.mode = (settings.get("FIXTURES_MODE") or "").strip().lower()
        self.root = fixtures_dir(settings)
        self.index: dict[str, Path] = {}
        self.stats: Any = None

    def open_spider(self, spider: Spider) -> None:
        self.stats = spider.crawler.stats
        if self.mode == "replay":
            if not self.root.is_dir():
                raise FileNotFoundError(f"FIXTURES_DIR {self.root} does not exist")
            self.index = load_index(self.root)
            logger.info("Replaying %d saved pages from %s", len(self.index), self.root)
        else:
            logger.info("Recording responses into %s", self.root)

    def close_spider(self, spider: Spider) -> None:
        pass

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        if self.mode != "replay":
            return None  # record mode always fetches live
        meta_path = self.index.get(fixture_key(request.url))
        if meta_path is None:
            self.stats.inc_value("fixtures/miss")
            logger.info("No saved page for %s: skipped", request.url)
            return None
        self.stats.inc_value("fixtures/hit")
        return read_fixture(meta_path, request.url)

    def store_response(
        self, spider: Spider, request: Request, response: Response
    ) -> None:
        if self.mode != "record":
            return
        folder = self.root / _safe(
            request.meta.get("site") or urlparse(request.url).hostname or "misc"
        )
        meta_path = write_fixture(folder, request.url, response)
        self.stats.inc_value("fixtures/recorded")
        logger.debug("Recorded %s into %s", request.url, meta_path)


def load_index(root: Path) -> dict[str, Path]:
    """Map canonical URL -> metadata file, for every ``*.json`` page under ``root``."""
    index: dict[str, Path] = {}
    for meta_path in sorted(root.rglob("*.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"{meta_path}: not a readable fixture metadata file: {exc}"
            ) from exc
        if not isinstance(meta, dict) or "url" not in meta or "body" not in meta:
            continue  # expectations and other JSON files live beside the pages
        index[fixture_key(meta["url"])] = meta_path
    return index


def read_fixture(meta_path: Path, request_url: str) -> Response:
    """Build the Response a saved page stands for."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    body_path = meta_path.parent / meta["body"]
    body = body_path.read_bytes()
    if body_path.suffix == ".gz" and not meta.get("raw_gzip", False):
        body = gzip.decompress(body)
    headers = Headers(meta.get("headers") or {})
    url = meta.get("response_url") or request_url
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url=url, status=int(meta.get("status", 200)), headers=headers, body=body)


_EXT_BY_TYPE = {
    "html": ".html",
    "xml": ".xml",
    "rss": ".xml",
    "atom": ".xml",
    "json": ".json.body",
    "plain": ".txt",
}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:60] or "page"


def write_fixture(folder: Path, url: str, response: Response) -> Path:
    """Save one response as ``<slug>.json`` + body; returns the metadata path."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = urlparse(url)
    digest = hashlib.sha1(fixture_key(url).encode()).hexdigest()[:8]
    slug = _safe(
        (parts.path.strip("/") or "home").replace("/", "_")
        + ("_" + parts.query if parts.query else "")
    )
    name = f"{slug[:50]}-{digest}"
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    ext = next((e for k, e in _EXT_BY_TYPE.items() if k in ctype), ".bin")
    body_name = name + ext
    (folder / body_name).write_bytes(response.body)
    headers = {
        k.decode("latin-1"): [v.decode("latin-1") for v in vs]
        for k, vs in response.headers.items()
        # Content-Encoding stays: the body is saved as received (the cache sits
        # below the decompression middleware) and is decoded again on replay.
        if k.lower()
        not in (b"content-length", b"transfer-encoding", b"set-cookie", b"date")
    }
    meta: dict[str, Any] = {
        "url": url,
        "status": response.status,
        "headers": headers,
        "body": body_name,
    }
    if response.url != url:
        meta["response_url"] = response.url
    meta_path = folder / f"{name}.json"
    meta_path.write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return meta_path
