"""Downloader middlewares of the crawl policy: how politely and how persistently we ask.

Each module is one middleware, registered in ``crawler/settings.py`` and described in
``docs/discovery.md`` ("Politeness").
"""
