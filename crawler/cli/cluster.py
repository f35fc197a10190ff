"""``newsites cluster status|clear``: watch a run, tell when it is done, clear its keys.

``status`` exits 0 when the run is finished with every claimed article written, 1
while it is not (``--wait`` polls until it ends or the time is up), 3 when it ended
short ("incomplete: N missing": articles claimed and never written, requests given
up) or its data is gone from Redis, 2 on a usage or connection error, so a script
can wait for a run and then merge its outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from crawler.cluster.config import ClusterConfigError, connect
from crawler.cluster.status import clear_run, read_status

# A worker whose last heartbeat is younger than this is taken as alive by `clear`.
ALIVE_SECONDS = 60.0  # the same as status.GONE_SECONDS


def _connect(args: argparse.Namespace) -> Any:
    server = connect(args.redis)
    server.ping()
    return server


def status(args: argparse.Namespace) -> int:
    try:
        server = _connect(args)
        deadline = time.monotonic() + args.wait
        while True:
            state = read_status(server, args.run)
            if state.ended or state.lost or time.monotonic() >= deadline:
                break
            time.sleep(args.interval)
    except (ClusterConfigError, OSError) as exc:
        print(f"newsites cluster status: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # redis.exceptions.* (ConnectionError is not OSError)
        print(f"newsites cluster status: Redis error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(state.as_dict(), indent=1, sort_keys=True))
    else:
        print(state.describe())
    return 0 if state.finished else 3 if state.ended or state.lost else 1


def clear(args: argparse.Namespace) -> int:
    try:
        server = _connect(args)
        state = read_status(server, args.run)
        alive = [w for w, age in state.workers.items() if age < ALIVE_SECONDS]
        if alive and not args.force:
            print(
                f"newsites cluster clear: workers of run {args.run} are alive "
                f"({', '.join(sorted(alive))}); stop them first or pass --force",
                file=sys.stderr,
            )
            return 1
        deleted = clear_run(server, args.run)
    except Exception as exc:  # noqa: BLE001 - connection or Redis errors, reported
        print(f"newsites cluster clear: {exc}", file=sys.stderr)
        return 2
    print(f"run {args.run}: {deleted} keys deleted")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cluster",
        help="status of a cluster run (finished?), clear a run's keys",
        description=__doc__,
    )
    commands = parser.add_subparsers(dest="cluster_command", required=True)
    for name, func, text in (
        ("status", status, "print a run's state; exit 0 once it is finished"),
        ("clear", clear, "delete every key of a run (its queue, dupefilter, leases)"),
    ):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument(
            "--redis",
            required=True,
            help="the CLUSTER_REDIS_URL of the run, e.g. redis://host:6379/0",
        )
        sub.add_argument("--run", required=True, help="the CLUSTER_RUN_ID of the run")
        sub.set_defaults(func=func)
        if name == "status":
            sub.add_argument(
                "--wait",
                type=float,
                default=0.0,
                metavar="SECONDS",
                help="poll until the run finishes, at most this long",
            )
            sub.add_argument(
                "--interval",
                type=float,
                default=2.0,
                metavar="SECONDS",
                help="seconds between polls with --wait (default 2)",
            )
            sub.add_argument("--json", action="store_true", help="print JSON")
        else:
            sub.add_argument(
                "--force",
                action="store_true",
                help="clear even if workers sent a heartbeat recently",
            )
