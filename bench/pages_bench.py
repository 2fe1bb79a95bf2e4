"""The public pages residents open, against a static file served by the same server, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/pages_bench.py [--db-name portal_bench_pages] [--rounds 5]

It starts the portal under gunicorn (3 sync workers, as ``booking_bench``: PostgreSQL, Redis as
the shared cache, ``DEBUG=0``; see ``_portal_server``) with a small hall tree and a page of
published activities, and measures, as a browser asks for them (``Accept-Encoding: gzip``), the
requests per second and p95 latency of:

* a static file through WhiteNoise (``/static/css/portal.css``), the yardstick,
* the bare Django view of ``bench/bench_urls.py`` (a constant JSON body through the whole
  middleware stack): the floor of any page on this server,
* the home page, the activity list and an activity's page, as served (a visitor without a
  session or verified phone is served the page kept for ``PAGE_CACHE_SECONDS``),
* the activity list with a random filter combination (category, free seats, a date range, the
  parameters in a random order: ``unseen_filter``), which no cache has seen: every one is
  rendered (the "kept" column counts the answers that came from the page cache instead; with a
  date range in every URL, which the list never keeps, it stays 0).

Clients are separate processes (``--clients``), each opening a connection per request. The
paths take turns in ``--rounds`` short rounds and each is compared with the static file of its
own round; the medians are printed, because on a shared machine the load drifts. Targets (issue
15): the pages ≥ 0.5× the static file, the unseen filter ≥ 0.2×. Not a test: the figures go to
docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta

import _portal_server as server
import booking_bench as bb

STATIC = "/static/css/portal.css"
CATEGORIES = ["performance", "exhibition", "lecture", "training", "reading", "other"]
FILTERED = "filtered"


def unseen_filter(rng: random.Random) -> str:
    """A filter combination of the parameters the list reads, in a random order: about 1.4
    million URLs, so that within the few seconds a page is kept the bench meets one twice about
    once in a thousand requests (each answer's X-Page-Cache header is counted, and a run prints
    how many were kept answers). No parameter the list does not read: such a URL skips the
    shared cache (common/pagecache.py). Every URL has a date range, a visitor's own pick, whose
    pages the list renders for each request and never keeps (``public_page``'s ``own``)."""
    start = date.today() + timedelta(days=rng.randint(0, 20))
    params = [
        f"category={rng.choice(CATEGORIES)}",
        f"date_from={start.isoformat()}",
        f"date_to={(start + timedelta(days=rng.randint(1, 365))).isoformat()}",
    ]
    if rng.random() < 0.5:
        params.append("seats=on")
    rng.shuffle(params)
    return "/activities/?" + "&".join(params)


def _client(job: tuple[int, str, int, float, int]) -> tuple[int, list[float], int]:
    port, path, count, deadline, seed = job
    rng = random.Random(seed)
    bad, latencies, kept = 0, [], 0
    for _i in range(count):
        if time.monotonic() > deadline:
            break
        url = unseen_filter(rng) if path == FILTERED else path
        try:
            status, seconds, cached = server.get_cached(port, url)
        except OSError:
            bad += 1
            continue
        latencies.append(seconds)
        bad += status != 200
        kept += cached
    return bad, latencies, kept


def measure(pool, port: int, path: str, total: int, clients: int, seconds: float) -> dict:
    seeds = [random.randrange(0, 1 << 30, 2) for _ in range(clients)]
    warm = time.monotonic() + 30
    # The warm-up draws its URLs with other seeds (odd against even), so that the measured
    # requests meet none of the pages it left in the cache.
    pool.map(_client, [(port, path, 5, warm, s + 1) for s in seeds])
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    results = pool.map(_client, [(port, path, total // clients, deadline, s) for s in seeds])
    wall = time.perf_counter() - started
    latencies = [s for _bad, ls, _kept in results for s in ls]
    return {
        "requests": len(latencies),
        "errors": sum(bad for bad, _ls, _kept in results),
        "kept": sum(kept for _bad, _ls, kept in results),
        "rps": len(latencies) / wall,
        "p95_ms": bb.percentile(latencies, 95) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-name", default="portal_bench_pages")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--list-size", type=int, default=60, help="published activities")
    parser.add_argument("--requests", type=int, default=3000, help="at most, per path")
    parser.add_argument("--clients", type=int, default=6, help="client processes")
    parser.add_argument("--seconds", type=float, default=25, help="at most, per path")
    parser.add_argument("--rounds", type=int, default=5, help="turns the paths take")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="the cache the web processes share (flushed first); 'none' for each its own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    print(f"machine: {bb.machine()}; load average before: {os.getloadavg()}", flush=True)
    failed = False
    with server.portal(
        db_name=args.db_name,
        redis_url=args.redis_url,
        workers=args.workers,
        list_size=args.list_size,
        verify=[],
        keep=args.keep,
        # The floor of any Django answer on this server: /bench/bare/, a constant JSON body
        # through the whole middleware stack (bench/bench_urls.py).
        extra_env={"DJANGO_SETTINGS_MODULE": "bench.bench_settings", "BENCH_BARE_VIEW": "1"},
    ) as (port, seeded, env):
        paths = {
            "static file": STATIC,
            "bare Django view": "/bench/bare/",
            "home": "/",
            "activity list": "/activities/",
            "activity page": f"/activities/{seeded['probe']}/",
            "list, unseen filter": FILTERED,
        }
        for name, path in paths.items():
            if path != FILTERED and server.get(port, path)[0] != 200:
                sys.exit(f"{name} ({path}) does not answer 200")
        print(f"server: gunicorn -w {args.workers}, {seeded}; cache {env.get('REDIS_URL')}")
        rounds: dict[str, list[dict]] = {name: [] for name in paths}
        with multiprocessing.Pool(args.clients) as pool:
            for _round in range(args.rounds):
                for name, path in paths.items():
                    rounds[name].append(
                        measure(
                            pool,
                            port,
                            path,
                            args.requests // args.rounds,
                            args.clients,
                            args.seconds / args.rounds,
                        )
                    )
        rows = {}
        for name, measured in rounds.items():
            ratios = [
                m["rps"] / s["rps"] for m, s in zip(measured, rounds["static file"], strict=True)
            ]
            rows[name] = {
                "rps": round(statistics.median(m["rps"] for m in measured)),
                "p95_ms": round(statistics.median(m["p95_ms"] for m in measured), 1),
                "ratio": round(statistics.median(ratios), 3),
                "ratios": [round(r, 2) for r in ratios],
                "requests": sum(m["requests"] for m in measured),
                "errors": sum(m["errors"] for m in measured),
                "kept": sum(m["kept"] for m in measured),
            }
            failed |= rows[name]["errors"] > 0
        print(
            f"\n{'path':<22}{'req/s':>8}{'p95 ms':>9}{'× static':>10}{'requests':>10}"
            f"{'errors':>8}{'kept':>7}  × static per round"
        )
        for name, row in rows.items():
            print(
                f"{name:<22}{row['rps']:>8}{row['p95_ms']:>9}{row['ratio']:>10.2f}"
                f"{row['requests']:>10}{row['errors']:>8}{row['kept']:>7}  {row['ratios']}"
            )
        targets = {
            name: rows[name]["ratio"] >= (0.2 if name == "list, unseen filter" else 0.5)
            for name in rows
            if name not in ("static file", "bare Django view")
        }
        print(
            "\nSUMMARY "
            + json.dumps(
                {
                    "targets_met": targets,
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
