"""Hostile web pieces for the safety tests: bombs, drips, loops and lies, on 127.0.0.1.

Everything here is bounded: a bomb is a few hundred KiB on the wire, a drip stops after
``limit`` seconds, a redirect chain ends after 1,000 hops. The server is
``tests.support.server.SiteServer``; hostile answers are raw handlers added with
``on(server, path, answer)``.

``crawl()`` runs a real ``scrapy crawl newsites`` (``tests.support.crawl.run_crawl``)
with the network guard of ``tests/support/netguard/sitecustomize.py`` loaded in the
subprocess, and returns the result with the guard's log and the crawl's peak memory.
The ``netguard`` fixture (autouse in every hostile test module) fails a test whose
crawl tried to reach anything but 127.0.0.1.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import socket
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawl import CrawlResult, run_crawl
from tests.support.server import SiteServer

NETGUARD_DIR = Path(__file__).resolve().parent / "netguard"

# Settings every hostile crawl uses: no politeness waits, short timeouts (Scrapy's own
# limits are exercised at these lower values; docs/safety.md lists the defaults).
FAST: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_TIMEOUT": 4,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}

MiB = 1024 * 1024

# --- pages --------------------------------------------------------------------------

WORDS = (
    "council river budget harbour morning market winter station museum library "
    "bridge teacher festival garden railway weather village doctor ferry summit "
    "mayor farmer tunnel orchestra hospital election airport novel harvest bakery "
    "court senate tram vineyard glacier canal fisherman clinic stadium lighthouse "
    "quarry printer mill choir forest castle engineer nurse archive opera meadow"
).split()


def sentence(seed: int, length: int = 14) -> str:
    """A deterministic sentence, different for each seed (texts of different seeds
    are not near-duplicates of each other)."""
    import random

    rng = random.Random(seed)
    return f"Report {seed} says the " + " ".join(rng.choices(WORDS, k=length)) + "."


def article_html(
    title: str, seed: int = 1, paragraphs: int = 4, extra: str = ""
) -> str:
    """A plain article page that the extractor accepts (well over 40 words)."""
    first = seed * 10_000
    body = "\n".join(
        f"<p>{sentence(first + 2 * i)} {sentence(first + 2 * i + 1)}</p>"
        for i in range(paragraphs)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><article><h1>{title}</h1>"
        f'<time datetime="2024-05-02">2 May 2024</time>{body}{extra}</article>'
        f"</body></html>"
    )


def links_page(hrefs: list[str], title: str = "Index") -> str:
    items = "".join(
        f'<li><a href="{h}">Story {i}</a></li>' for i, h in enumerate(hrefs)
    )
    return (
        f"<html><head><title>{title}</title></head><body><ul>{items}</ul></body></html>"
    )


# --- site files ---------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def write_site(folder: Path, site_id: str, home: str, **tables: Any) -> Path:
    """Write ``<folder>/<site_id>.toml``; keyword tables become ``[name]`` sections
    (``domains=[...]`` and other plain values stay top-level keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"id = {_toml_value(site_id)}", f"home = {_toml_value(home)}"]
    sections = []
    for key, value in tables.items():
        if isinstance(value, dict):
            sections.append(f"\n[{key}]")
            sections += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    path = folder / f"{site_id}.toml"
    path.write_text("\n".join(lines + sections) + "\n", encoding="utf-8")
    return path


# --- raw answers ----------------------------------------------------------------------

Answer = Callable[[Any], None]


def on(server: SiteServer, path: str, answer: Answer, *, prefix: bool = False) -> None:
    """Answer requests for ``path`` (or every path starting with it) with ``answer``."""

    def handler(req: Any) -> bool:
        if req.path == path or (prefix and req.path.startswith(path)):
            answer(req)
            return True
        return False

    server.handlers.append(handler)


def send(
    req: Any,
    body: bytes | str = b"",
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str = "text/html; charset=utf-8",
    length: bool = True,
) -> None:
    """Write a response; ``length=False`` ends the body by closing the connection."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    req.send_response(status)
    if content_type:
        req.send_header("Content-Type", content_type)
    if length:
        req.send_header("Content-Length", str(len(data)))
    else:
        req.send_header("Connection", "close")
    for name, value in (headers or {}).items():
        req.send_header(name, value)
    try:
        req.end_headers()
    except OSError:  # the client gave up waiting (it hit its timeout)
        req.close_connection = True
        return
    if req.command != "HEAD":
        write_quietly(req, data)
    if not length:
        req.close_connection = True


def write_quietly(req: Any, data: bytes) -> bool:
    """Write, ignoring a client that hung up (it is allowed to: it hit a limit)."""
    try:
        req.wfile.write(data)
        req.wfile.flush()
        return True
    except OSError:
        req.close_connection = True
        return False


def stream(
    req: Any,
    total: int,
    *,
    length: bool,
    chunk: int = 256 * 1024,
    head: bytes = b"<html><body>",
) -> None:
    """Send ``total`` bytes of HTML made on the fly (never held in memory)."""
    req.send_response(200)
    req.send_header("Content-Type", "text/html; charset=utf-8")
    if length:
        req.send_header("Content-Length", str(total))
    else:
        req.send_header("Connection", "close")
    req.end_headers()
    filler = (b"<p>" + b"lorem ipsum " * 20 + b"</p>\n") * (chunk // 250 + 1)
    sent = 0
    piece = head
    while sent < total:
        piece = piece[: total - sent]
        if not write_quietly(req, piece):
            return
        sent += len(piece)
        piece = filler[:chunk]
    req.close_connection = True


def drip(
    req: Any, body: bytes, *, every: float, limit: float, length: bool = True
) -> None:
    """Send ``body`` one byte every ``every`` seconds, giving up after ``limit`` s."""
    req.send_response(200)
    req.send_header("Content-Type", "text/html; charset=utf-8")
    if length:
        req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    deadline = time.monotonic() + limit
    for i in range(len(body)):
        if time.monotonic() > deadline or not write_quietly(req, body[i : i + 1]):
            break
        time.sleep(every)
    req.close_connection = True


def slow_headers(req: Any, *, delay: float, body: bytes = b"late") -> None:
    """Say nothing for ``delay`` seconds, then answer (if anyone still listens)."""
    time.sleep(delay)
    send(req, body)


def hang_up(req: Any) -> None:
    """Close the connection without a word."""
    req.close_connection = True
    try:
        req.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# --- bombs ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def bomb(encoding: str, size: int = 200 * MiB) -> bytes:
    """``size`` zero bytes compressed with ``encoding`` (gzip, deflate, br, zstd)."""
    block = b"\0" * MiB
    blocks = size // MiB
    if encoding in ("gzip", "deflate"):
        comp = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
        return b"".join([*(comp.compress(block) for _ in range(blocks)), comp.flush()])
    if encoding == "br":
        import brotli

        brc = brotli.Compressor(quality=5)
        return b"".join([*(brc.process(block) for _ in range(blocks)), brc.finish()])
    if encoding == "zstd":
        from backports import zstd

        zc = zstd.ZstdCompressor(level=3)
        return b"".join([*(zc.compress(block) for _ in range(blocks)), zc.flush()])
    raise ValueError(encoding)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)


# --- crawling -------------------------------------------------------------------------


@dataclass
class HostileCrawl:
    """A crawl's result plus what the guard saw and how much memory it took."""

    result: CrawlResult
    guard: list[dict[str, Any]]
    peak_rss_mb: float
    seconds: float

    @property
    def items(self) -> list[dict[str, Any]]:
        return self.result.items

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats

    @property
    def log(self) -> str:
        return self.result.log

    def stat(self, key: str) -> int:
        return int(self.result.stats.get(key, 0))

    def failed_articles(self) -> int:
        """Article requests that ended in the spider's errback: download errors plus
        requests refused without a download (IgnoreRequest, HTTP errors)."""
        return self.stat("errors/article") + self.stat("discovery/refused/article")

    def titles(self) -> list[str]:
        return sorted(item["title"] for item in self.items)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def crawl(
    tmp_path: Path,
    sites_dir: Path,
    *,
    settings: dict[str, Any] | None = None,
    hosts: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    args: dict[str, str] | None = None,
    memory_limit_mb: int | None = None,
    timeout: float = 120,
) -> HostileCrawl:
    """Crawl ``sites_dir`` with FAST settings (overridable) under the network guard.

    ``hosts`` maps test host names to addresses for the crawl's name lookups.
    """
    run_dir = tmp_path / f"run{len(list(tmp_path.glob('run*')))}"
    run_dir.mkdir()
    guard_log = run_dir / "netguard.jsonl"
    rusage = run_dir / "rusage.jsonl"
    crawl_env = {
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
        ),
        "NEWSITES_NETGUARD_LOG": str(guard_log),
        "NEWSITES_NETGUARD_HOSTS": ",".join(
            f"{k}={v}" for k, v in (hosts or {}).items()
        ),
        "NEWSITES_RUSAGE_FILE": str(rusage),
        **(
            {"NEWSITES_MEMORY_LIMIT_MB": str(memory_limit_mb)}
            if memory_limit_mb
            else {}
        ),
        **(env or {}),
    }
    started = time.monotonic()
    result = run_crawl(
        run_dir,
        settings={**FAST, "SITES_DIR": str(sites_dir), **(settings or {})},
        args=args,
        env=crawl_env,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    usage = _read_lines(rusage)
    peak_kb = max(
        (max(u["maxrss_kb"], u["children_maxrss_kb"]) for u in usage), default=0
    )
    guard = _read_lines(guard_log)
    # Keep the guard's findings where the netguard fixture looks at teardown.
    if guard:
        with open(tmp_path / "netguard-all.jsonl", "a", encoding="utf-8") as fh:
            for entry in guard:
                fh.write(json.dumps(entry) + "\n")
    return HostileCrawl(result, guard, peak_kb / 1024, seconds)


@pytest.fixture(autouse=False)
def netguard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Load the guard in every subprocess of the test; fail it on any escape.

    A test that expects the guard to fire (its own self-test) empties the file.
    """
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(
            p for p in (str(NETGUARD_DIR), os.environ.get("PYTHONPATH")) if p
        ),
    )
    log = tmp_path / "netguard-all.jsonl"
    monkeypatch.setenv("NEWSITES_NETGUARD_LOG", str(log))
    yield log
    found = _read_lines(log)
    assert not found, (
        "the crawl tried to reach the network beyond 127.0.0.1 "
        f"(see tests/support/netguard): {[(e['kind'], e['target']) for e in found]}"
    )


def sitemap_xml(urls: list[str]) -> str:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )


def sitemap_site(
    tmp_path: Path,
    server: SiteServer,
    paths: list[str],
    site_id: str = "hostile",
    **tables: Any,
) -> Path:
    """A site on ``server`` whose sitemap lists ``paths``; returns the sites folder.

    Extra sitemaps can be given as ``discovery={"sitemaps": [...]}`` (the generated
    one is added to them).
    """
    server.add(
        "/sitemap.xml",
        sitemap_xml([server.url + p for p in paths]),
        content_type="application/xml",
    )
    discovery = dict(tables.pop("discovery", {}))
    discovery["sitemaps"] = [
        server.url + "/sitemap.xml",
        *discovery.get("sitemaps", []),
    ]
    folder = tmp_path / "sites"
    write_site(folder, site_id, server.url + "/", discovery=discovery, **tables)
    return folder


def serve_bomb(server: SiteServer, path: str, encoding: str) -> None:
    """Serve a 200 MiB ``encoding`` bomb at ``path`` as text/html."""
    payload = bomb(encoding)
    on(
        server,
        path,
        lambda req: send(req, payload, headers={"Content-Encoding": encoding}),
    )


# --- `newsites run` (the cron command) ------------------------------------------------


def guard_env(run_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of a subprocess with the network guard (its log in ``run_dir``)."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(NETGUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
        ),
        "NEWSITES_NETGUARD_LOG": str(run_dir / "netguard.jsonl"),
        **extra,
    }


def newsites_run_command(
    sites_dir: Path, seen_db: Path, output: str, settings: dict[str, Any] | None = None
) -> list[str]:
    """``newsites run`` with FAST settings, a site folder, a store and an output."""
    cmd = [sys.executable, "-m", "crawler.cli", "run", "--output", output]
    merged = {
        **FAST,
        "SITES_DIR": str(sites_dir),
        "SEEN_DB": str(seen_db),
        **(settings or {}),
    }
    for key, value in merged.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def jsonl_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, parsed; fails on a line that is not whole JSON."""
    text = path.read_text(encoding="utf-8")
    assert not text or text.endswith("\n"), f"{path}: last line is cut"
    return [json.loads(line) for line in text.splitlines()]
