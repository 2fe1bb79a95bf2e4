"""The activity list with a filter combination no cache has seen, rendered in this process: what
each such request costs the web process in CPU, without a server or clients around it.

    ENV_FILE=/dev/null DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py migrate
    ENV_FILE=/dev/null DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py seed_demo
    ENV_FILE=/dev/null DATABASE_URL=sqlite:////tmp/demo.sqlite3 \\
        .venv/bin/python bench/list_render_bench.py [--requests 300] [--rounds 5] [--language en]

It runs with the settings a deployment has (``DEBUG=0``, the collected static files' manifest,
collected into a scratch folder first), on whatever database ``DATABASE_URL`` names (the demo's
data: real Kunming), with ``REDIS_URL``'s cache if it is set, else each process's memory. Each
request goes through Django's test client and the whole middleware stack, as a first-time
visitor (no cookies), with a new random filter (``pages_bench.unseen_filter``); the process's
CPU time (``time.process_time``) is taken over ``--requests`` in each of ``--rounds`` rounds.
Printed: the median and the best round, and the Python function calls a request makes (counted
by cProfile in one more round), which, unlike the time, do not move with the neighbours' load.
``--profile N`` prints the N costliest functions of that round. Not a test: the figures go to
docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time

from _common import ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--language", default="zh-hans")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = parser.parse_args()

    static_root = tempfile.mkdtemp(prefix="bench_static_")
    os.environ.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_ROOT": static_root,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "plain",
        }
    )
    os.environ.setdefault("ENV_FILE", "/dev/null")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from pages_bench import unseen_filter

        from activities.models import Activity

        if not Activity.objects.exists():
            sys.exit("no activities: run manage.py seed_demo on this DATABASE_URL first")
        call_command("collectstatic", interactive=False, verbosity=0)
        client = Client()
        rng = random.Random(15)
        headers = {"HTTP_ACCEPT_LANGUAGE": args.language, "HTTP_ACCEPT_ENCODING": "gzip"}

        def request(i: int) -> None:
            client.cookies.clear()  # a first-time visitor, as pages_bench's clients are
            response = client.get(unseen_filter(rng), secure=True, **headers)
            if response.status_code != 200:
                sys.exit(f"the list answered {response.status_code}")

        print(f"load average before: {os.getloadavg()}", flush=True)
        for i in range(30):  # templates loaded, connections open, caches warm
            request(-i - 1)
        per_round = []
        for r in range(args.rounds):
            started = time.process_time()
            for i in range(args.requests):
                request(r * args.requests + i)
            per_round.append((time.process_time() - started) / args.requests * 1000)
        profile = cProfile.Profile()
        profile.enable()
        for i in range(args.requests):
            request(10**7 + i)
        profile.disable()
        stats = pstats.Stats(profile, stream=io.StringIO())
        print(
            f"unseen filter, in-process ({args.language}, {Activity.objects.count()} activities): "
            f"{statistics.median(per_round):.2f} ms of CPU a request (median of {args.rounds} "
            f"rounds of {args.requests}; best {min(per_round):.2f}, rounds "
            f"{', '.join(f'{x:.2f}' for x in per_round)}); "
            f"{stats.total_calls // args.requests:,} function calls a request"
        )
        if args.profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(out.getvalue())
        print(f"load average after: {os.getloadavg()}")
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
