"""A mixed load at 16 requests in flight: public pages, API reads and bookings, as when a popular
performance opens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/mixed_bench.py [--db-name portal_bench_mixed] [--requests 4000]

It starts the portal under gunicorn as ``pages_bench`` does (3 sync workers, PostgreSQL, Redis
as the shared cache, ``DEBUG=0``; ``_portal_server``), verifies the phones of the run as a
resident does (a code, then a token) before the clock starts, and then ``--in-flight`` client
processes (16) each send one request after another, drawn at random with these weights:

* pages (45): the home page 10, the activity list 15, an activity's page 10, the list with a
  filter combination no cache has seen 10 (``Accept-Encoding: gzip``, no cookies);
* API reads (40): ``activities/`` 15, ``activities/{id}/`` 10, ``halls/?within=`` 10,
  ``halls/?q=`` 5;
* bookings (15): ``POST activities/{id}/bookings/`` of one seat with a phone of its own and its
  ``X-Resident-Token`` (201, confirmed or waitlisted).

It prints p50, p95 and p99 latency overall and by kind, throughput, errors (anything but 200 or
201), and the load average. Target (issue 15): p95 < 300 ms overall. Not a test: the figures go
to docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from urllib.parse import quote

import _portal_server as server
import booking_bench as bb
from pages_bench import unseen_filter

WEIGHTS = {
    "page: home": 10,
    "page: activity list": 15,
    "page: activity": 10,
    "page: list, unseen filter": 10,
    "api: activities": 15,
    "api: activity": 10,
    "api: halls within": 10,
    "api: halls q": 5,
    "booking": 15,
}


def _worker(job) -> list[tuple[str, int, float]]:
    port, seeded, phones, count, deadline, seed = job
    rng = random.Random(seed)
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    tokens = seeded["tokens"]
    phones = list(phones)
    out = []
    for _i in range(count):
        if time.monotonic() > deadline:
            break
        kind = rng.choices(kinds, weights)[0]
        if kind == "booking" and not phones:
            kind = "api: activities"
        try:
            if kind == "booking":
                phone = phones.pop()
                body = {"name": "居民", "phone": phone, "seats": 1, "consent": True}
                path = f"/api/v1/activities/{seeded['activity']}/bookings/"
                status, _data, seconds = server.post_json(port, path, body, tokens[phone])
            else:
                path = {
                    "page: home": "/",
                    "page: activity list": "/activities/",
                    "page: activity": f"/activities/{seeded['probe']}/",
                    "page: list, unseen filter": unseen_filter(rng),
                    "api: activities": "/api/v1/activities/",
                    "api: activity": f"/api/v1/activities/{seeded['probe']}/",
                    "api: halls within": f"/api/v1/halls/?within={rng.randint(1, seeded['halls'])}",
                    "api: halls q": "/api/v1/halls/?q="
                    + quote(rng.choice(["社区", "街道", "第一", "文化站"])),
                }[kind]
                status, seconds = server.get(port, path)
        except OSError:
            out.append((kind, 0, 0.0))
            continue
        out.append((kind, status, seconds))
    return out


def summary(rows: list[tuple[str, int, float]]) -> dict:
    latencies = [s for _k, _st, s in rows if s]
    return {
        "requests": len(rows),
        "errors": sum(st not in (200, 201) for _k, st, _s in rows),
        "p50_ms": round(bb.percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(bb.percentile(latencies, 95) * 1000, 1) if latencies else None,
        "p99_ms": round(bb.percentile(latencies, 99) * 1000, 1) if latencies else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-name", default="portal_bench_mixed")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--in-flight", type=int, default=16, help="client processes")
    parser.add_argument("--requests", type=int, default=4000, help="at most, in all")
    parser.add_argument("--seconds", type=float, default=60, help="at most")
    parser.add_argument("--list-size", type=int, default=60, help="published activities")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="the cache the web processes share (flushed first); 'none' for each its own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    per_worker = args.requests // args.in_flight
    # Enough phones for every draw to be a booking, a little over the weight's share in practice.
    bookings = int(per_worker * WEIGHTS["booking"] / sum(WEIGHTS.values()) * 2) + 5
    phones = [[f"13{w:02d}{i:07d}" for i in range(bookings)] for w in range(args.in_flight)]
    print(f"machine: {bb.machine()}; load average before: {os.getloadavg()}", flush=True)
    with server.portal(
        db_name=args.db_name,
        redis_url=args.redis_url,
        workers=args.workers,
        list_size=args.list_size,
        verify=[p for group in phones for p in group],
        keep=args.keep,
    ) as (port, seeded, env):
        print(
            f"server: gunicorn -w {args.workers}; {seeded['activities']} activities, "
            f"{seeded['halls']} halls, {len(seeded['tokens'])} verified phones; "
            f"cache {env.get('REDIS_URL')}",
            flush=True,
        )
        warm = time.monotonic() + 30
        with multiprocessing.Pool(args.in_flight) as pool:
            pool.map(_worker, [(port, seeded, [], 10, warm, w) for w in range(args.in_flight)])
            started = time.perf_counter()
            deadline = time.monotonic() + args.seconds
            results = pool.map(
                _worker,
                [
                    (port, seeded, phones[w], per_worker, deadline, 1000 + w)
                    for w in range(args.in_flight)
                ],
            )
            wall = time.perf_counter() - started
        rows = [row for worker in results for row in worker]
        overall = summary(rows)
        overall["throughput_rps"] = round(len(rows) / wall, 1)
        print(f"\n{'kind':<28}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        for kind in WEIGHTS:
            s = summary([r for r in rows if r[0] == kind])
            print(
                f"{kind:<28}{s['requests']:>9}{s['errors']:>8}{s['p50_ms']!s:>9}"
                f"{s['p95_ms']!s:>9}{s['p99_ms']!s:>9}"
            )
        print(
            "\nSUMMARY "
            + json.dumps(
                {
                    **overall,
                    "in_flight": args.in_flight,
                    "p95_target_met": overall["p95_ms"] is not None and overall["p95_ms"] < 300,
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
    return 1 if overall["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
