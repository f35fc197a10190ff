"""Cluster mode: several ``scrapy crawl newsites`` workers sharing one Redis frontier.

Switched on by ``CLUSTER_REDIS_URL`` (see docs/cluster.md); needs the ``redis`` extra
(``pip install 'newsites[redis]'``). Off, nothing here is imported by a crawl.

- ``config``: settings -> ``ClusterConfig`` and the run's Redis key names.
- ``addon``: the Scrapy add-on that turns cluster mode on from settings.
- ``leases``: the shared queue's in-flight book (pop with a lease, release, requeue).
- ``scheduler``: scrapy-redis's scheduler with leases, atomic enqueue, no flush.
- ``release``: middlewares that release a lease once its request is fully handled.
- ``politeness``: per-host delay and concurrency shared by every worker.
- ``heartbeat``: lease renewal, recovery of dead workers' requests, finish detection.
- the exported-articles store in Redis is crawler/store/redis.py.
- ``cli``: ``newsites cluster status|clear``.
"""
