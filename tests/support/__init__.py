"""Test helpers: a local HTTP site server and a runner for real `scrapy crawl` runs."""
