"""Default settings of the newsites project, grouped by prefix, one comment each."""

from __future__ import annotations

BOT_NAME = "newsites"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Our `crawl` checks site files and -a arguments before starting (clean errors).
COMMANDS_MODULE = "crawler.commands"

# --- Sites ---------------------------------------------------------------
# Folder of site files (*.toml). Empty: the files shipped in crawler/sites/.
SITES_DIR = ""

# Articles fetched and extracted per site by `newsites check --live` / `scrapy check`
# (entry points are all read; this caps the article pages downloaded).
CHECK_SAMPLE_ARTICLES = 3

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
# Scheduled requests wait on disk even without JOBDIR, in a private folder removed at
# the end, so a 20,000-article sitemap does not keep 20,000 Requests in memory
# (crawler/scheduler.py). SCHEDULER_SPILL_DIR: where ("" = $TMPDIR, else /var/tmp).
SCHEDULER = "crawler.scheduler.SpillingScheduler"
SCHEDULER_SPILL = True
SCHEDULER_SPILL_DIR = ""

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
# Put the page's dek (standfirst) back as `text`'s first paragraph when the page
# shows it apart from the body and the extractors left it out: trafilatura's and
# fundus's reference texts count it as body (docs/extraction.md). It is in
# `description` either way. False: `text` holds it only where the extractors took
# it as body.
EXTRACT_RESTORE_DEK = True
# Pages whose body has fewer words (script-aware: two CJK/Thai characters a word)
# are not articles (counted, not emitted). Low, so that a short real post still gets
# a record (at 40, 5 of trafilatura's 884 eval pages with text lost theirs); a site
# file's `min_words` raises it for its site.
EXTRACT_MIN_WORDS = 15

# --- Site templates (docs/extraction.md) ---------------------------------
# SQLite file of per-site paragraph counts, kept across runs; a paragraph found in
# many articles of one site is dropped as that site's boilerplate. Empty: off.
TEMPLATE_DB = ""
# A paragraph found in this many articles of one site is its boilerplate.
TEMPLATE_MIN_ARTICLES = 5
# Paragraphs seen in a single article are forgotten after this many days (0: never).
TEMPLATE_FORGET_DAYS = 30

# --- Extraction workers (docs/performance.md) ------------------------------
# Worker processes that run extraction off the reactor; -1: one per CPU this process
# may use; 0: extract in the spider's callback (no pool).
EXTRACT_WORKERS = -1
# Seconds one page may take in a worker; past it the worker is killed and replaced
# and the page is counted `extract/timeout` (0: no limit).
EXTRACT_TIMEOUT = 30.0
# Pages handed to the pool and not yet answered; when full the callback waits, which
# makes Scrapy stop taking new requests (0: three per worker).
EXTRACT_MAX_PENDING = 0
# Memory one page may take: a worker's address space is capped (RLIMIT_AS) at its
# size after start-up plus this many MiB; a page that needs more ends its worker and
# is counted `extract/crashed` (the biggest page kept, 3 MB, needs ~500). 0: no cap.
EXTRACT_WORKER_MEMORY_MB = 1024
# Replace a worker after this many pages, so slow leaks in C libraries stay bounded
# (0: never).
EXTRACT_WORKER_MAX_TASKS = 2000
# Share of a worker's CPU time it may spend giving freed heap pages back to the OS
# (glibc's malloc_trim; see HeapTrimmer in crawler/extraction/pool.py): higher trims
# more often, for a lower peak RSS at some CPU (0.01: a trim every ~5 real pages;
# N = 20,000 peak RSS 356 -> 345 MB, throughput the same within noise). 0: never.
EXTRACT_WORKER_TRIM_BUDGET = 0.01
# "spawn" (each worker a fresh interpreter: the smallest summed RSS) or "forkserver"
# (workers fork from a warm server process: ~20 MB less real memory, as pages are
# shared, and a replacement in milliseconds instead of ~0.5 s of CPU); see
# docs/performance.md. Never a plain fork of the process that runs the reactor.
EXTRACT_START_METHOD = "spawn"
# Scrapy 2.19 starts this many asyncio tasks for every callback's output, even an
# empty one (scrapy/utils/asyncio.py, _parallel_asyncio): 100 cost ~1.5 ms of reactor
# CPU per article, and made half the time of an incremental run whose articles are
# mostly skipped (bench/crawl.py). Our pipelines are synchronous: nothing to overlap.
CONCURRENT_ITEMS = 8

# --- Output --------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {
    "jsonlines": "crawler.output.exporters.LineJsonLinesExporter",
    "jsonl": "crawler.output.exporters.LineJsonLinesExporter",
    # lists and dicts (authors, images...) as JSON, not Python reprs
    "csv": "crawler.output.exporters.JsonFieldsCsvExporter",
}
FEED_STORE_EMPTY = True

ITEM_PIPELINES = {
    "crawler.pipelines.ValidatePipeline": 200,
    "crawler.pipelines.DuplicateUrlPipeline": 300,
}
# Site templates: before validating (off unless TEMPLATE_DB is set).
ITEM_PIPELINES["crawler.extraction.template.TemplatePipeline"] = 150

DOWNLOADER_MIDDLEWARES: dict[str, int] = {}

# --- Safety (docs/safety.md) ---------------------------------------------
# Refuse http(s) requests to loopback, private, link-local and reserved addresses
# (names resolved first), and every other scheme, before connecting.
SAFETY_BLOCK_PRIVATE_ADDRESSES = True
# Hosts, IPs or networks (CIDR) exempt from that check, besides the hosts named in
# the site files (home, feeds, sitemaps, sections). E.g. ["10.0.0.0/8", "intranet"].
SAFETY_ALLOW_PRIVATE_HOSTS: list[str] = []
# Let file:// URLs through (and Scrapy's file download handler on): only
# `scrapy shell ./page.html` turns it on, for the local file it was given.
SAFETY_ALLOW_FILE_URLS = False
# Drop redirects (and meta refreshes) to a host outside the request's site.
SAFETY_BLOCK_OFFSITE_REDIRECTS = True
# Treat a binary body (PDF, image, zip...) served as text/html as not HTML.
SAFETY_SNIFF_BINARY = True
# Retry, then drop, an HTML body cut before </html> on a close-delimited response.
SAFETY_CHECK_TRUNCATION = True
# Re-encode every non-UTF-8 HTML body as UTF-8, choosing the charset by BOM, valid
# UTF-8, header, <meta>, then windows-1252 or a guess (lying declarations overruled).
SAFETY_NORMALIZE_CHARSET = True
# Read at most this much of a robots.txt (RFC 9309 asks for at least 500 KiB).
ROBOTSTXT_MAX_BYTES = 512 * 1024
# Drop an article whose text is under this share of word tokens (an entity flood)...
SAFETY_MIN_WORD_SHARE = 0.25
# ...or over this share of URLs (a sitemap shown as HTML). 0 and 0: check off.
SAFETY_MAX_URL_SHARE = 0.3
ITEM_PIPELINES["crawler.safety.junk.JunkTextPipeline"] = 250
# Registered here, next to what they replace (Scrapy's robots and compression).
SAFETY_DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    "crawler.safety.addresses.AddressPolicyMiddleware": 40,
    "crawler.safety.redirects.OffsiteRedirectMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.safety.robots.SafeRobotsTxtMiddleware": 100,
    "crawler.safety.truncation.TruncatedBodyMiddleware": 560,
    "crawler.safety.charset.CharsetMiddleware": 565,
    "crawler.safety.nesting.DeepNestingMiddleware": 563,
    "crawler.safety.sniffing.BinaryBodyMiddleware": 570,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.safety.compression.BoundedCompressionMiddleware": 590,
    "crawler.safety.limits.DownloadLimitsMiddleware": 950,
}
DOWNLOADER_MIDDLEWARES.update(SAFETY_DOWNLOADER_MIDDLEWARES)  # type: ignore[arg-type]

# --- Crawl policy: retries and delays (docs/discovery.md) ----------------
# Wait before retrying 429/503 as the server's Retry-After says (off: retry at once,
# as Scrapy does).
RETRY_AFTER_ENABLED = True
# The answers that get a wait before their retry (and pause their host meanwhile):
# rate limits and server errors alike, so a failing server is not hammered.
RETRY_AFTER_HTTP_CODES = [429, 500, 502, 503, 504]
# A Retry-After longer than this (seconds) is not retried: the request is given up.
RETRY_AFTER_MAX_DELAY = 120.0
# Without Retry-After: wait this many seconds, doubled at each retry...
RETRY_AFTER_BACKOFF_BASE = 2.0
# ...up to this many.
RETRY_AFTER_BACKOFF_MAX = 60.0
# Keep the site file's crawl.download_delay and robots.txt Crawl-delay as minimum
# per-host delays (AutoThrottle would lower both).
CRAWL_DELAY_ENABLED = True
# A robots.txt Crawl-delay above this (seconds) is capped to it.
CRAWL_DELAY_MAX = 30.0
POLICY_DOWNLOADER_MIDDLEWARES: dict[str, int | None] = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry_after.RetryAfterMiddleware": 550,
    "crawler.middlewares.crawl_delay.CrawlDelayMiddleware": 555,
    # after robots.txt (100): a refused page costs nothing; before any download
    "crawler.middlewares.budget.RequestBudgetMiddleware": 540,
    # Scrapy's, in its place: the refresh read from the page's head, not its whole
    # text decoded and kept on the response (crawler/responses.py).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.meta_refresh.HeadMetaRefreshMiddleware": 580,
}
# Requests a site may send in one run when its site file sets no crawl.max_requests:
# a bound on link farms and endless calendars (0: none). A large site crawled by
# following links may need more: set max_requests in its file.
BUDGET_MAX_REQUESTS = 5_000
DOWNLOADER_MIDDLEWARES.update(POLICY_DOWNLOADER_MIDDLEWARES)  # type: ignore[arg-type]
EXTENSIONS: dict[str, int] = {
    "crawler.extensions.statsfile.StatsFile": 900,
}
# Write the final stats of a run as JSON to this path (off when empty).
STATS_FILE = ""
# Progress (pages, articles, rate, per-site counts, errors): one live stderr line
# on a terminal, else a line in the log (crawler/extensions/progress.py).
EXTENSIONS["crawler.extensions.progress.Progress"] = 500
# Before `-o out.jsonl` appends, cut a half-written last line a killed crawl left
# (crawler/output/recovery.py).
EXTENSIONS["crawler.output.recovery.FeedRecovery"] = 100
PROGRESS_ENABLED = True
# "auto" (the live line when stderr is a terminal), "always" or "never" (log lines).
PROGRESS_TERMINAL = "auto"
# Seconds between updates of the live line...
PROGRESS_INTERVAL = 1.0
# ...and between progress lines in the log (0: only the last one, at the end).
PROGRESS_LOG_INTERVAL = 60.0

# --- Seen store and scheduled runs (docs/cron.md) ------------------------
# Remember exported articles and never export or download them again. Off for a
# plain `scrapy crawl` (ad-hoc crawls and tests stay independent); `newsites run`
# turns it on.
SEEN_ENABLED = False
# The SQLite store; a relative path is taken beside scrapy.cfg (else the cwd).
SEEN_DB = "state/seen.sqlite3"
# Start over: move the store aside (<name>.reset-<UTC time>), export everything again.
SEEN_RESET = False
# fsync every output file before its article is marked, and commit with SQLite
# synchronous=FULL: a power cut, not only a killed run, loses no article.
SEEN_FSYNC = True
# An exported article whose canonical URL has no query is also found under that URL
# with any query (?from=rss, ?page=1): it is not downloaded again.
SEEN_MATCH_QUERY_VARIANTS = True
# Same story on the same site: text SimHash (64 bits, word 3-shingles) within this
# many bits. 0: only identical text is a duplicate.
SEEN_NEAR_DUPLICATE_BITS = 3
# Texts shorter than this (words) are compared exactly, never by SimHash.
SEEN_NEAR_DUPLICATE_MIN_WORDS = 50
# Fetch an exported article again when its sitemap lastmod / feed date is newer than
# its export, and emit it as `version` n+1 when its text changed.
SEEN_RECRAWL_UPDATED = False
# The run's id in the store, set by `newsites run` (0: the crawl registers its own).
SEEN_RUN_ID = 0
EXTENSIONS["crawler.store.marker.SeenMarker"] = 800
# Per-site counters of answered pages (health/<site>/entry_ok...): tells a site down.
EXTENSIONS["crawler.extensions.sitehealth.SiteHealth"] = 810
# First downloader middleware: a skipped article costs no DNS lookup or robots check.
DOWNLOADER_MIDDLEWARES["crawler.store.filter.SeenFilterMiddleware"] = 30
# Last pipeline: only what every other pipeline kept is made pending in the store.
ITEM_PIPELINES["crawler.store.filter.SeenDedupPipeline"] = 900
# `-o folder/index.tsv:text`: one NNN_<id>.txt per article (title, date, body).
FEED_EXPORTERS["text"] = "crawler.output.text.TextFilesExporter"
# `newsites run` output: a new file per run, written as <name>.part and renamed when
# the run ends. Fields: {sites} ("all" or "a+b"), {start} (UTC datetime), {run} (id
# in the store). Relative: beside scrapy.cfg (else the cwd). Log, stats and text
# output sit beside it: <stem>.log, <stem>.stats.json, <stem>-text/.
RUN_OUTPUT_TEMPLATE = "out/{sites}/{start:%Y-%m-%d}/{start:%H%M%S}-run{run}.jsonl"
# Also write the plain-text output (`newsites run --text`).
RUN_TEXT_OUTPUT = False
# Health: a run fails (exit 5) with more failed requests than this (0: no limit)...
RUN_MAX_ERRORS = 0
# ...or with more than this fraction of its requests failed (0: no limit)...
RUN_MAX_ERROR_RATIO = 0.2
# ...the fraction counting only from this many failed requests on.
RUN_MIN_ERRORS = 5
# Deadline of one `newsites run`, in seconds (Scrapy's CLOSESPIDER_TIMEOUT, unless that
# is set): a run still going is stopped there (exit 8), its output kept, the rest left
# for the next run, so a hung or trapped run never holds the lock for good. 0: none.
RUN_MAX_SECONDS = 4 * 3600
# Give each run a fresh JOBDIR (<stem>.jobdir, removed after a clean finish) for
# disk request queues; never reused: the seen store makes a killed run safe to repeat.
RUN_JOBDIR = False

# --- Cluster (docs/cluster.md; needs `pip install 'newsites[redis]'`) -----
# Redis shared by every worker of a run (redis://host:6379/0). Empty: the
# single-machine crawl, untouched (the add-on below disables itself).
CLUSTER_REDIS_URL = ""
# Name of the run, the same on every worker: its keys are "newsites:<run id>:*".
# A new run id starts a new crawl; reusing one resumes (or completes) that run.
CLUSTER_RUN_ID = ""
# This worker's name in logs and `newsites cluster status` (empty: <host>-<pid>).
CLUSTER_WORKER_ID = ""
# A request popped by a worker is leased for this long and renewed on every
# heartbeat; once a dead worker's lease expires, any worker puts it back.
CLUSTER_LEASE_SECONDS = 30.0
# How often a worker renews its leases, recovers expired ones and polls the queue.
CLUSTER_HEARTBEAT_SECONDS = 1.0
# A request put back this many times (its workers kept dying) is dropped, counted.
CLUSTER_MAX_REQUEUES = 3
# Hold each host's delay and concurrency (site file, else DOWNLOAD_DELAY and
# CONCURRENT_REQUESTS_PER_DOMAIN; robots Crawl-delay) for the whole cluster.
CLUSTER_SHARED_POLITENESS = True
# Fair leasing: a host may have at most ceil(this / its delay) requests leased
# across the run (what the cluster may fetch from it this soon), so a slow site
# never holds every worker's leases while others wait. 0: no cap.
CLUSTER_LEASE_AHEAD_SECONDS = 2.0
# Ride out a Redis outage this long: every Redis call of a worker is retried
# (exponential back-off, at most 1 s apart) before it fails. The worker waits
# meanwhile; a longer outage fails the calls (counted, and nothing is lost: a failed
# request or item goes back to the queue once its lease expires).
CLUSTER_REDIS_RETRY_SECONDS = 60.0
ADDONS: dict[str, int] = {"crawler.cluster.addon.ClusterAddon": 0}
# The owner of the crawl's seen store, shared by the marker, the filter and the
# pipeline below (crawler/store/run.py).
ADDONS["crawler.store.run.SeenStoreAddon"] = 1
# Where the seen store lives: "sqlite" (SEEN_DB, one machine) or "redis" (shared
# by every worker on every machine; crawler/store/redis.py).
SEEN_BACKEND = "sqlite"
# Redis of the shared seen store; empty: CLUSTER_REDIS_URL.
SEEN_REDIS_URL = ""
# Its key prefix: one store per prefix, kept across runs (not per CLUSTER_RUN_ID).
SEEN_REDIS_PREFIX = "newsites:seen"
# Articles left pending by a run on another machine that never finished are
# settled (looked up in its outputs if readable here, else fetched again) after
# this many hours; a run on this machine is settled as soon as its process is gone.
SEEN_REDIS_STALE_HOURS = 6.0

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
# A dropped item is logged as one line, "Dropped <url>: <reason>", not the record.
LOG_FORMATTER = "crawler.logformatter.ShortLogFormatter"
