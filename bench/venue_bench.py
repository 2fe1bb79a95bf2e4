"""A burst of venue reservations under gunicorn on PostgreSQL: many residents ask for the same
few slots at once, and each slot must go exactly once.

    .venv/bin/python bench/venue_bench.py [--requests 200] [--slots 20] [--concurrency 50]

It creates a scratch database (``portal_bench_venue`` on the server of ``DATABASE_URL``, or on
postgres@127.0.0.1:5432), migrates it, adds one hall and one venue open the day after tomorrow
in ``--slots`` half-hour slots, and starts ``gunicorn portal.wsgi -w 3`` on a free port with
``DEBUG=0`` and the rate limits off (every request comes from one address). A few reservations
on another day warm every worker; then ``--requests`` reservations (distinct phones, request i
asks for slot i mod ``--slots``) are fired by ``--concurrency`` threads with ``http.client``.
It prints granted (201: must be exactly the slots), taken (409), errors (anything else: must be
0), throughput and p50/p95 latency, and checks the database: as many live reservations as slots,
none overlapping. Exit status 1 otherwise. Not a test: it prints figures, which go to
docs/BENCHMARKS.md by hand. The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from booking_bench import (
    HOST,
    PYTHON,
    admin_sql,
    database_url,
    free_port,
    machine,
    percentile,
    request,
    run,
    start_gunicorn,
    stop_gunicorn,
)

SLOT_MINUTES = 30


def seed(slots: int, requests: int) -> dict:
    """Runs in a child process on the scratch database (``--phase seed``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from activities.venues import services
    from network.services import hall_create

    centre = hall_create(parent=None, name="昆明市文化馆", locality="昆明市", code="530100")
    county = hall_create(parent=centre, name="官渡区文化馆", locality="官渡区", code="530111")
    closes = (
        datetime.combine(datetime.min, time(8)) + timedelta(minutes=SLOT_MINUTES * slots)
    ).time()
    venue = services.venue_create(
        hall=county, name="排练厅", capacity=50, slot_minutes=SLOT_MINUTES,
        hours=[(d, time(8), closes) for d in range(7)],
    )  # fmt: skip
    day = timezone.localdate() + timedelta(days=2)
    starts = [
        timezone.make_aware(datetime.combine(day, time(8)) + timedelta(minutes=SLOT_MINUTES * i))
        for i in range(slots)
    ]
    warm_day = day + timedelta(days=1)
    warm = [
        timezone.make_aware(
            datetime.combine(warm_day, time(8)) + timedelta(minutes=SLOT_MINUTES * i)
        )
        for i in range(min(slots, 6))
    ]
    # Every phone of the run verifies itself as a resident does (RESIDENT_VERIFICATION is
    # required): a code, then its token, before the clock starts.
    from activities.residents.services import phone_code_request, phone_token_create

    tokens = {}
    phones = [f"137{i:08d}" for i in range(len(warm))] + [f"139{i:08d}" for i in range(requests)]
    for phone in phones:
        _row, code = phone_code_request(phone=phone)
        tokens[phone] = phone_token_create(phone=phone, code=code).token
    return {
        "venue": venue.pk,
        "starts": [s.isoformat() for s in starts],
        "warm": [s.isoformat() for s in warm],
        "tokens": tokens,
    }


def reserve(port: int, venue: int, start: str, phone: str, token: str):
    from datetime import datetime, timedelta

    end = (datetime.fromisoformat(start) + timedelta(minutes=SLOT_MINUTES)).isoformat()
    body = {
        "start": start,
        "end": end,
        "name": "压测居民",
        "phone": phone,
        "purpose": "排练",
        "party_size": 5,
        "consent": True,
    }
    return request(port, "POST", f"/api/v1/venues/{venue}/reservations/", body, token=token)


def db_check(url: str, venue: int) -> dict:
    import psycopg2

    conn = psycopg2.connect(url)
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM venues_reservation WHERE venue_id = %s"
            " AND status IN ('pending', 'confirmed', 'checked_in')",
            [venue],
        )
        live = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM venues_reservation a JOIN venues_reservation b"
            " ON a.venue_id = b.venue_id AND a.id < b.id"
            ' AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")'
            " WHERE a.venue_id = %s AND a.status IN ('pending', 'confirmed', 'checked_in')"
            " AND b.status IN ('pending', 'confirmed', 'checked_in')",
            [venue],
        )
        overlaps = cursor.fetchone()[0]
    conn.close()
    return {"live": live, "overlaps": overlaps}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=["seed"], help=argparse.SUPPRESS)
    parser.add_argument("--db-name", default="portal_bench_venue")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    if args.phase == "seed":
        print(json.dumps(seed(args.slots, args.requests)))
        return 0

    name = args.db_name
    if not name.replace("_", "").isalnum():
        sys.exit("--db-name: letters, digits and _ only")
    url = database_url(name)
    static_root = tempfile.mkdtemp(prefix="bench_static_")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "BOOKING_RATE_LIMIT_IP": "0",
        "BOOKING_RATE_LIMIT_PHONE": "0",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "ENV_FILE": "/dev/null",
    }
    env.pop("REDIS_URL", None)
    print(f"machine: {machine()}", flush=True)
    print(f"load average before: {os.getloadavg()}", flush=True)
    admin_sql(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    process = None
    log = tempfile.TemporaryFile()
    failed = False
    try:
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        seeded = json.loads(
            run(
                [
                    PYTHON,
                    str(Path(__file__)),
                    "--phase",
                    "seed",
                    "--slots",
                    str(args.slots),
                    "--requests",
                    str(args.requests),
                ],
                env,
            )  # fmt: skip
        )
        port = free_port()
        process = start_gunicorn(env, port, args.workers, log)
        venue = seeded["venue"]
        tokens = seeded["tokens"]
        for i, start in enumerate(seeded["warm"]):
            phone = f"137{i:08d}"
            status, body, _s = reserve(port, venue, start, phone, tokens[phone])
            if status != 201:
                sys.exit(f"warm-up reservation failed: {status} {body[:300]!r}")

        starts = seeded["starts"]
        statuses: list[int] = []
        latencies: list[float] = []

        def one(i: int):
            phone = f"139{i:08d}"
            return reserve(port, venue, starts[i % len(starts)], phone, tokens[phone])

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            for status, _body, seconds in pool.map(one, range(args.requests)):
                statuses.append(status)
                latencies.append(seconds)
        elapsed = time.perf_counter() - began
        granted = statuses.count(201)
        taken = statuses.count(409)
        errors = len(statuses) - granted - taken
        check = db_check(url, venue)
        live_expected = args.slots + len(seeded["warm"])
        print(
            f"burst: {args.requests} requests for {args.slots} slots, {args.concurrency} threads,"
            f" {args.workers} gunicorn workers"
        )
        print(f"  granted (201): {granted}   taken (409): {taken}   errors: {errors}")
        print(
            f"  {args.requests / elapsed:.0f} requests/s; latency p50 "
            f"{percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms,"
            f" max {max(latencies) * 1000:.0f} ms"
        )
        print(
            f"  database: {check['live']} live reservations, {check['overlaps']} overlapping pairs"
        )
        failed = (
            granted != args.slots or errors or check["overlaps"] or check["live"] != live_expected
        )
        print(f"load average after: {os.getloadavg()}", flush=True)
    finally:
        if process is not None:
            stop_gunicorn(process)
        if not args.keep:
            admin_sql(url, f'DROP DATABASE IF EXISTS "{name}"')
    if failed:
        print("FAILED: a slot was granted twice or not at all, or a request errored")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
