"""The seen store: which articles earlier runs exported, so each is exported once.

One protocol (``SeenStore``, base.py) and two backends: ``SqliteSeenStore``
(sqlite.py, one machine, the default) and ``RedisSeenStore`` (redis.py, shared by a
cluster's workers). ``run.py`` owns the crawl's use of it: ``SeenStoreAddon``
builds one ``SeenRun`` per crawl (the store, the run id, what this run marked,
write and store failures, aliases, recrawl hints, the lock) and every other part
gets that object from ``seen_run_of(crawler)`` instead of looking up its peers:

- ``filter.py``: skip links and requests to exported articles before download, and
  drop an article whose text an earlier run exported (``SeenDedupPipeline``);
- ``marker.py``: open the store for the crawl, settle what killed runs left pending,
  mark each article exported once its line is written (``SeenMarker``).

docs/cron.md documents the rules (canonical URL, aliases, query variants, exact and
near-duplicate text, pending then exported).
"""

from crawler.store.base import (
    SCHEMA_VERSION,
    Fingerprint,
    PendingArticle,
    RunRecord,
    SeenRecord,
    SeenStore,
    SeenStoreError,
    bands,
    exported_ids,
    fingerprint,
    hamming,
    json_line_object,
    simhash64,
    utc_now,
    without_query,
    words_of,
)
from crawler.store.sqlite import (
    SeenLock,
    SeenLockHeld,
    SqliteSeenStore,
    resolve_path,
)

__all__ = [
    "Fingerprint",
    "PendingArticle",
    "RunRecord",
    "SCHEMA_VERSION",
    "SeenLock",
    "SeenLockHeld",
    "SeenRecord",
    "SeenStore",
    "SeenStoreError",
    "SqliteSeenStore",
    "bands",
    "exported_ids",
    "fingerprint",
    "hamming",
    "json_line_object",
    "resolve_path",
    "simhash64",
    "utc_now",
    "without_query",
    "words_of",
]
