"""Default settings of the newsites Scrapy project, grouped by prefix, one comment each."""

from __future__ import annotations

BOT_NAME = "newsites"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Our `crawl` checks site files and -a arguments before starting (clean errors).
COMMANDS_MODULE = "crawler.commands"

# --- Sites ---------------------------------------------------------------
# Folder of site files (*.toml). Empty: the files shipped in crawler/sites/.
SITES_DIR = ""

# --- Fixtures (offline replay / recording) -------------------------------
# "" (live crawl), "replay" (answer every request from FIXTURES_DIR, never touch
# the network) or "record" (crawl live and save every response to FIXTURES_DIR).
FIXTURES_MODE = ""
# Folder of saved pages. Empty: "fixtures/" beside scrapy.cfg (or the cwd).
FIXTURES_DIR = ""

# --- Politeness ----------------------------------------------------------
# A user agent that names the project; NEWSITES_CONTACT_URL is appended when set.
NEWSITES_CONTACT_URL = ""
USER_AGENT = "newsites/0.1 (+https://github.com/newsites/newsites)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
# Breadth-first: a deep calendar or pagination trap cannot starve articles.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# --- Download limits -----------------------------------------------------
# Scrapy's 180 s timeout and 1 GiB size limit are far too generous for news pages.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10
# The cookie middleware would fetch the public suffix list on start-up; news
# articles do not need cookies.
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# --- Extraction ----------------------------------------------------------
# Put reader comments in the item's `comments` field (never in `text`).
EXTRACT_COMMENTS = False
# Pages whose body has fewer words are not articles (counted, not emitted).
EXTRACT_MIN_WORDS = 40

# --- Output --------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {
    "jsonlines": "crawler.exporters.LineJsonLinesExporter",
    "jsonl": "crawler.exporters.LineJsonLinesExporter",
}
FEED_STORE_EMPTY = True

ITEM_PIPELINES = {
    "crawler.pipelines.NormalizePipeline": 100,
    "crawler.pipelines.ValidatePipeline": 200,
    "crawler.pipelines.DuplicateUrlPipeline": 300,
}

DOWNLOADER_MIDDLEWARES: dict[str, int] = {}
EXTENSIONS: dict[str, int] = {
    "crawler.extensions.statsfile.StatsFile": 900,
}
# Write the final stats of a run as JSON to this path (off when empty).
STATS_FILE = ""

# Offline-safe defaults for components we do not use.
DOWNLOAD_HANDLERS = {
    "ftp": None,
    "s3": None,
    "file": None,
    "data": None,
}

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
