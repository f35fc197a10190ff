"""Safety components: what the crawler refuses to fetch, and what it refuses to trust.

Each module is one downloader middleware, registered in ``crawler/settings.py`` and
described, with every limit and its setting, in ``docs/safety.md``.
"""
