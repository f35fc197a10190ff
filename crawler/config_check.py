"""Every input of a crawl checked once, before the first request.

``check_crawl(settings, spider_args)`` checks the spider arguments (known names,
``since``, ``max_age_days``, ``sites``), every project setting and the Scrapy
settings the project relies on (``SETTING_RULES``: type by Scrapy's own getters,
then range or choices), the site files and the cluster settings. The first problem
is a ``ConfigError`` whose message is one line naming the option; ``scrapy crawl
newsites`` and ``newsites run`` print it and exit with status 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scrapy.settings import BaseSettings

from crawler.sites import SiteConfig, SiteConfigError, load_sites, select_sites
from crawler.urllist import UrlListError, check_url_list

#: The spider's ``-a`` arguments (NewsitesSpider.__init__; ``urls``: a URL list).
SPIDER_ARGUMENTS: tuple[str, ...] = ("max_age_days", "since", "sites", "urls")


class ConfigError(ValueError):
    """A bad option, setting or argument; the message is one line naming it."""


@dataclass(frozen=True)
class Rule:
    """What a setting must be: ``kind`` read with Scrapy's getter of that name
    (``int``, ``float``, ``bool``, ``str``, ``list``, ``dict``), then within
    ``low``..``high`` (numbers, or each number of a list) or one of ``choices``
    (as written, after stripping spaces)."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    any_case: bool = False  # the reader lower-cases it (FIXTURES_MODE)


INT0 = Rule("int", 0)  # a count, 0 usually meaning "no limit" / "off"
FLOAT0 = Rule("float", 0)  # seconds, days...
POSITIVE_INT = Rule("int", 1)
POSITIVE_FLOAT = Rule("float", 1e-9)
SHARE = Rule("float", 0, 1)
BOOL = Rule("bool")
TEXT = Rule("str")
HTTP_CODES = Rule("list", 100, 599)

#: Every setting of crawler/settings.py, and the Scrapy settings it relies on.
SETTING_RULES: dict[str, Rule] = {
    # sites, fixtures, politeness
    "SITES_DIR": TEXT,
    "FIXTURES_MODE": Rule("str", choices=("", "replay", "record"), any_case=True),
    "FIXTURES_DIR": TEXT,
    "NEWSITES_CONTACT_URL": TEXT,
    "USER_AGENT": TEXT,
    "ROBOTSTXT_OBEY": BOOL,
    "AUTOTHROTTLE_ENABLED": BOOL,
    "AUTOTHROTTLE_START_DELAY": FLOAT0,
    "AUTOTHROTTLE_MAX_DELAY": FLOAT0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": POSITIVE_FLOAT,
    "CONCURRENT_REQUESTS": POSITIVE_INT,
    "CONCURRENT_REQUESTS_PER_DOMAIN": POSITIVE_INT,
    "CONCURRENT_ITEMS": POSITIVE_INT,
    "DOWNLOAD_DELAY": FLOAT0,
    "RANDOMIZE_DOWNLOAD_DELAY": BOOL,
    "DEPTH_PRIORITY": Rule("int"),
    "DEPTH_LIMIT": INT0,
    "SCHEDULER_SPILL": BOOL,
    "SCHEDULER_SPILL_DIR": TEXT,
    # download limits
    "DOWNLOAD_TIMEOUT": POSITIVE_FLOAT,
    "DNS_TIMEOUT": POSITIVE_FLOAT,
    "DOWNLOAD_MAXSIZE": INT0,
    "DOWNLOAD_WARNSIZE": INT0,
    "RETRY_TIMES": INT0,
    "RETRY_HTTP_CODES": HTTP_CODES,
    "REDIRECT_MAX_TIMES": INT0,
    "COOKIES_ENABLED": BOOL,
    "CLOSESPIDER_TIMEOUT": FLOAT0,
    "CLOSESPIDER_ITEMCOUNT": INT0,
    "CLOSESPIDER_PAGECOUNT": INT0,
    "CLOSESPIDER_ERRORCOUNT": INT0,
    "LOGSTATS_INTERVAL": FLOAT0,
    # logging.setLevel takes upper-case names only ("info" is a traceback)
    "LOG_LEVEL": Rule("str", choices=("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")),
    "TELNETCONSOLE_ENABLED": BOOL,
    # progress line (crawler/extensions/progress.py), newsites check
    "PROGRESS_ENABLED": BOOL,
    "PROGRESS_TERMINAL": Rule(
        "str", choices=("auto", "always", "never"), any_case=True
    ),
    "PROGRESS_INTERVAL": POSITIVE_FLOAT,
    "PROGRESS_LOG_INTERVAL": FLOAT0,
    "CHECK_SAMPLE_ARTICLES": POSITIVE_INT,
    # extraction, templates, workers
    "EXTRACT_COMMENTS": BOOL,
    "EXTRACT_RESTORE_DEK": BOOL,
    "EXTRACT_MIN_WORDS": INT0,
    "TEMPLATE_DB": TEXT,
    "TEMPLATE_MIN_ARTICLES": Rule("int", 2),
    "TEMPLATE_FORGET_DAYS": FLOAT0,
    "EXTRACT_WORKERS": Rule("int", -1),
    "EXTRACT_TIMEOUT": FLOAT0,
    "EXTRACT_MAX_PENDING": INT0,
    "EXTRACT_WORKER_MEMORY_MB": INT0,
    "EXTRACT_WORKER_MAX_TASKS": INT0,
    "EXTRACT_WORKER_TRIM_BUDGET": Rule("float", 0, 0.99),  # a share of CPU time, < 1
    "EXTRACT_START_METHOD": Rule("str", choices=("spawn", "forkserver")),
    # output
    "FEED_EXPORT_ENCODING": TEXT,
    "FEED_STORE_EMPTY": BOOL,
    # safety
    "SAFETY_BLOCK_PRIVATE_ADDRESSES": BOOL,
    "SAFETY_ALLOW_FILE_URLS": BOOL,
    "SAFETY_ALLOW_PRIVATE_HOSTS": Rule("list"),
    "SAFETY_BLOCK_OFFSITE_REDIRECTS": BOOL,
    "SAFETY_SNIFF_BINARY": BOOL,
    "SAFETY_CHECK_TRUNCATION": BOOL,
    "SAFETY_NORMALIZE_CHARSET": BOOL,
    "ROBOTSTXT_MAX_BYTES": POSITIVE_INT,
    "SAFETY_MIN_WORD_SHARE": SHARE,
    "SAFETY_MAX_URL_SHARE": SHARE,
    # retries and delays
    "RETRY_AFTER_ENABLED": BOOL,
    "RETRY_AFTER_HTTP_CODES": HTTP_CODES,
    "RETRY_AFTER_MAX_DELAY": FLOAT0,
    "RETRY_AFTER_BACKOFF_BASE": FLOAT0,
    "RETRY_AFTER_BACKOFF_MAX": FLOAT0,
    "CRAWL_DELAY_ENABLED": BOOL,
    "CRAWL_DELAY_MAX": FLOAT0,
    "STATS_FILE": TEXT,
    # seen store and scheduled runs
    "SEEN_ENABLED": BOOL,
    "SEEN_DB": TEXT,
    "SEEN_RESET": BOOL,
    "SEEN_FSYNC": BOOL,
    "SEEN_MATCH_QUERY_VARIANTS": BOOL,
    "SEEN_NEAR_DUPLICATE_BITS": Rule("int", 0, 64),
    "SEEN_NEAR_DUPLICATE_MIN_WORDS": INT0,
    "SEEN_RECRAWL_UPDATED": BOOL,
    "SEEN_RUN_ID": INT0,
    "RUN_OUTPUT_TEMPLATE": TEXT,
    "RUN_TEXT_OUTPUT": BOOL,
    "RUN_MAX_ERRORS": INT0,
    "RUN_MAX_ERROR_RATIO": SHARE,
    "RUN_MIN_ERRORS": INT0,
    "RUN_JOBDIR": BOOL,
    "RUN_MAX_SECONDS": FLOAT0,
    "BUDGET_MAX_REQUESTS": INT0,
    # cluster (crawler/cluster/config.py checks the values that depend on each other)
    "CLUSTER_REDIS_URL": TEXT,
    "CLUSTER_RUN_ID": TEXT,
    "CLUSTER_WORKER_ID": TEXT,
    "CLUSTER_LEASE_SECONDS": POSITIVE_FLOAT,
    "CLUSTER_HEARTBEAT_SECONDS": POSITIVE_FLOAT,
    "CLUSTER_MAX_REQUEUES": INT0,
    "CLUSTER_SHARED_POLITENESS": BOOL,
    "CLUSTER_LEASE_AHEAD_SECONDS": FLOAT0,
    "CLUSTER_REDIS_RETRY_SECONDS": FLOAT0,
    "SEEN_BACKEND": Rule("str", choices=("sqlite", "redis")),
    "SEEN_REDIS_URL": TEXT,
    "SEEN_REDIS_PREFIX": TEXT,
    "SEEN_REDIS_STALE_HOURS": FLOAT0,
}

#: Settings of crawler/settings.py that ``SETTING_RULES`` leaves to Scrapy: names
#: and import paths of components, which Scrapy loads (and reports) itself.
LOADED_BY_SCRAPY: frozenset[str] = frozenset(
    {
        "BOT_NAME",
        "SPIDER_MODULES",
        "NEWSPIDER_MODULE",
        "COMMANDS_MODULE",
        "SCHEDULER",
        "SCHEDULER_DISK_QUEUE",
        "SCHEDULER_MEMORY_QUEUE",
        "FEED_EXPORTERS",
        "ITEM_PIPELINES",
        "DOWNLOADER_MIDDLEWARES",
        "SAFETY_DOWNLOADER_MIDDLEWARES",
        "POLICY_DOWNLOADER_MIDDLEWARES",
        "EXTENSIONS",
        "ADDONS",
        "DOWNLOAD_HANDLERS",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION",
        "TWISTED_REACTOR",
        "LOG_FORMATTER",
    }
)


def check_crawl(
    settings: BaseSettings, spider_args: dict[str, Any]
) -> list[SiteConfig]:
    """Check everything a crawl reads before it starts; the sites it will crawl.

    Raises ``ConfigError`` with one line naming the first bad input."""
    check_settings(settings)
    check_spider_arguments(spider_args)
    try:
        sites = select_sites(
            load_sites(settings.get("SITES_DIR") or None), spider_args.get("sites")
        )
    except SiteConfigError as exc:
        raise ConfigError(str(exc)) from exc
    check_cluster(settings)
    try:
        check_url_list(spider_args.get("urls"))
    except UrlListError as exc:
        raise ConfigError(str(exc)) from exc
    return sites


def check_settings(settings: BaseSettings) -> None:
    """Every setting of ``SETTING_RULES`` has its type and lies in its range."""
    for name, rule in SETTING_RULES.items():
        check_setting(settings, name, rule)


def check_setting(settings: BaseSettings, name: str, rule: Rule) -> None:
    value = _read(settings, name, rule)
    if rule.choices:
        _check_choice(name, value, rule)
    elif rule.kind in ("int", "float"):
        _check_range(name, value, rule)
    elif rule.kind == "list" and rule.low is not None:
        for item in value:
            _check_range(name, _whole_number(name, item), rule)


_KIND_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "a boolean (0/1, true/false)",
    "str": "a string",
    "list": "a list (comma-separated or JSON)",
    "dict": "a dict (JSON)",
}


def _read(settings: BaseSettings, name: str, rule: Rule) -> Any:
    """The value through Scrapy's getter for its kind (getint, getbool...)."""
    raw = settings.get(name)
    if rule.kind == "str":
        if raw is not None and not isinstance(raw, str):
            raise _bad(name, raw, _KIND_WORDS["str"])
        return raw or ""
    try:
        return getattr(settings, f"get{rule.kind}")(name)
    except (ValueError, TypeError) as exc:
        raise _bad(name, raw, _KIND_WORDS[rule.kind]) from exc


def _bad(name: str, value: Any, must: str) -> ConfigError:
    return ConfigError(f"setting {name} must be {must}, not {value!r}")


def _check_choice(name: str, value: str, rule: Rule) -> None:
    stripped = value.strip()
    if (stripped.lower() if rule.any_case else stripped) in rule.choices:
        return
    named = [repr(c) for c in rule.choices if c]
    named += ["empty"] if "" in rule.choices else []
    must = ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else named[0]
    raise _bad(name, value, must)


def _check_range(name: str, value: float, rule: Rule) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise _bad(name, value, "a finite number")
    if rule.low is not None and value < rule.low:
        above = "above 0" if 0 < rule.low < 1 else f"at least {rule.low:g}"
        raise _bad(name, value, above)
    if rule.high is not None and value > rule.high:
        raise _bad(name, value, f"at most {rule.high:g}")


def _whole_number(name: str, value: Any) -> int:
    try:
        return int(value)
    except (ValueError, TypeError) as exc:
        raise _bad(name, value, "a list of whole numbers") from exc


def check_spider_arguments(spider_args: dict[str, Any]) -> None:
    """Only the spider's own ``-a`` names; ``since`` an ISO date, ``max_age_days`` a
    number of days of at least 0."""
    unknown = sorted(set(spider_args) - set(SPIDER_ARGUMENTS))
    if unknown:
        name = unknown[0]
        raise ConfigError(
            f"-a {name}={spider_args[name]} is not a spider argument; "
            f"known: {', '.join(SPIDER_ARGUMENTS)}"
        )
    from crawler.spiders.newsites import parse_since

    try:
        parse_since(spider_args.get("since"), None)
        parse_since(None, spider_args.get("max_age_days"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    days = spider_args.get("max_age_days")
    if days and not (math.isfinite(float(days)) and float(days) >= 0):
        raise ConfigError(
            f"-a max_age_days={days!r} must be a number of days, at least 0"
        )


def check_cluster(settings: BaseSettings) -> None:
    """The cluster settings that depend on each other (crawler/cluster/config.py)."""
    from crawler.cluster.config import ClusterConfig, ClusterConfigError

    try:
        config = ClusterConfig.from_settings(settings)
    except ClusterConfigError as exc:
        raise ConfigError(str(exc)) from exc
    if config is None:
        return
    replaced = [
        uri
        for uri, options in settings.getdict("FEEDS").items()
        if (options or {}).get("overwrite")
    ]
    if replaced:
        raise ConfigError(
            f"cluster mode: -O would empty {replaced[0]}, this worker's earlier "
            "output of the run, whose articles the run will not fetch again; use "
            "-o (append: a restarted worker goes on after what it wrote)"
        )
