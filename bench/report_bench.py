"""Time of the quarterly and annual reports, for the Kunming network and a synthetic province.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/report_bench.py

It creates a scratch database (``portal_report_bench`` unless ``--db-name`` says otherwise) on
the same server, migrates it, and for each network:

* **kunming**: ``seed_demo`` (1,838 halls);
* **province**: ``network.bulk.generate_network`` with 16 cities × ~8 counties × ~11 townships
  × ~10 villages (about 15,600 halls, one tree per city);

fills a quarter's worth of records for every hall (activities in 2026Q3 and 2026Q2 with
bookings, most checked in; an order from every village; a dispatch for every township; yearly
figures of 2025 and 2026; a 2026 assessment with scores), then times, through the same service
the Celery task calls (claim, data, ``.xlsx``, finish; ``force`` so that each sample rebuilds):

* one quarterly and one annual report of the largest city centre hall and of a county;
* every report the beat schedule would enqueue for the network (all centres and open counties),
  one after the other in this one process, as a single worker would run them.

Each single report is timed ``--samples`` times (median shown) after a warm-up; its query count
is taken once. Not a test: it prints figures for docs/BENCHMARKS.md. The database is dropped at
the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta

from _common import ROOT, admin_sql, machine, scratch_database

PROVINCE = {"cities": 16, "counties_per_city": 8, "townships_per_county": 11, "points": 10}


def django_setup(url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("ENV_FILE", "/dev/null")
    os.environ.pop("REDIS_URL", None)  # builds run in this process, not through a broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)


# --- networks and their records -------------------------------------------------------------


def build_kunming() -> int:
    from django.core.management import call_command

    from network.models import Hall

    call_command("seed_demo", stdout=open(os.devnull, "w"))
    return Hall.objects.count()


def build_province() -> int:
    from network.bulk import NetworkShape, generate_network

    shape = NetworkShape(
        cities=PROVINCE["cities"],
        counties_per_city=PROVINCE["counties_per_city"],
        townships_per_county=PROVINCE["townships_per_county"],
        points_per_township=PROVINCE["points"],
        seed=7,
    )
    return generate_network(shape).halls


def fill(tag: str) -> dict:
    """A quarter's worth of records for every hall, by bulk inserts (not timed)."""
    from django.db import connection
    from django.utils import timezone

    from activities.models import Activity, Booking, Category
    from activities.orders.models import Order
    from activities.resources.models import Dispatch, Resource, ResourceKind
    from evaluation.returns.models import AssetReturn, ReturnStatus, ServiceReturn
    from evaluation.scoring import services as scoring
    from evaluation.scoring.models import AssessmentScheme
    from network.models import Hall

    tz = timezone.get_current_timezone()
    q3, q2 = datetime(2026, 7, 3, 10, tzinfo=tz), datetime(2026, 4, 3, 10, tzinfo=tz)
    categories = Category.values
    scope = Hall.objects.all() if tag == "kunming" else Hall.objects.filter(code__startswith=tag)
    halls = list(
        scope.values_list(
            "pk", "level", "tree_id", "main_hall_id", "branch_hall_id", "status"
        ).order_by("pk")
    )
    now = timezone.now()
    activities = []
    for pk, level, *_rest in halls:
        for quarter, n in ((q3, 4 if level < 3 else 1), (q2, 3 if level < 3 else 1)):
            for i in range(n):
                start = quarter + timedelta(days=(pk + 7 * i) % 85)
                activities.append(
                    Activity(
                        hall_id=pk,
                        venue_hall_id=pk,
                        category=categories[(pk + i) % len(categories)],
                        title=f"基准活动{tag}{pk}-{i}",
                        start=start,
                        end=start + timedelta(hours=2),
                        capacity=50,
                        seats_taken=8,
                        max_seats_per_booking=4,
                        status=Activity.Status.PUBLISHED,
                    )
                )
    Activity.objects.bulk_create(activities, batch_size=5000)
    made = Activity.objects.filter(title__startswith=f"基准活动{tag}").values_list("pk", "start")
    bookings = []
    for activity_id, start in made.iterator(chunk_size=5000):
        for b in range(4):
            bookings.append(
                Booking(
                    activity_id=activity_id,
                    code=f"{tag[:2]}{activity_id:07d}{b}",
                    name="张三",
                    phone=f"1380000{b:04d}",
                    seats=2,
                    status=Booking.Status.CONFIRMED,
                    confirmed_at=start - timedelta(days=2),
                    checked_in_at=start if b < 3 else None,
                )
            )
            if len(bookings) >= 20000:
                Booking.objects.bulk_create(bookings)
                bookings.clear()
    Booking.objects.bulk_create(bookings)

    points = [h for h in halls if h[1] == 3]
    orders = []
    for pk, _level, _tree, _main, branch, _status in points:
        created = q3 + timedelta(days=pk % 80)
        answered = pk % 2 == 0
        orders.append(
            Order(
                code=f"{tag[:2]}{pk:09d}",
                point_id=pk,
                handler_id=branch,
                name="王五",
                phone="13900000001",
                description="点一场花灯戏",
                respond_by=created + timedelta(days=7),
                status=Order.Status.ACCEPTED if answered else Order.Status.SUBMITTED,
                answered_at=created + timedelta(hours=pk % 90) if answered else None,
            )
        )
    Order.objects.bulk_create(orders, batch_size=5000)
    Order.objects.filter(code__startswith=tag[:2]).update(created_at=q3 + timedelta(days=3))

    branches = [h for h in halls if h[1] == 2]
    resources = [
        Resource(
            hall_id=pk,
            kind=ResourceKind.EQUIPMENT,
            catalogue_no=f"BENCH-{tag}-{pk}",
            name="音响一套",
        )
        for pk, *_rest in branches
    ]
    Resource.objects.bulk_create(resources, batch_size=5000)
    ids = dict(
        Resource.objects.filter(catalogue_no__startswith=f"BENCH-{tag}-").values_list(
            "hall_id", "pk"
        )
    )
    Dispatch.objects.bulk_create(
        [
            Dispatch(
                resource_id=ids[pk],
                requesting_hall_id=pk,
                approver_hall_id=pk,
                purpose="送戏下乡",
                start=q3 + timedelta(days=pk % 80),
                end=q3 + timedelta(days=pk % 80 + 1),
                status=Dispatch.Status.RETURNED,
            )
            for pk, *_rest in branches
        ],
        batch_size=5000,
    )

    for year in (2025, 2026):
        for model in (ServiceReturn, AssetReturn):
            model.objects.bulk_create(
                [
                    model(
                        hall_id=pk,
                        year=year,
                        status=ReturnStatus.SUBMITTED,
                        submitted_at=now,
                        tree_id=tree,
                        main_id=main,
                        branch_id=branch,
                        **({"activities": 10 + pk % 40} if model is ServiceReturn else {}),
                    )
                    for pk, _level, tree, main, branch, status in halls
                    if status == "open" and pk % 9
                ],
                batch_size=5000,
                ignore_conflicts=True,  # seed_demo has figures of its own for some halls
            )
    from evaluation.returns.models import AssetReturn, ReturnStatus, ServiceReturn

    scheme = AssessmentScheme.objects.filter(year=2026).first() or scoring.scheme_create(year=2026)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scoring_score (scheme_id, dimension_id, hall_id, points, comment, "
            "scored_at) SELECT %s, d.id, h.id, round((random() * d.max_points)::numeric, 1), "
            "'', now() FROM network_hall h CROSS JOIN scoring_dimension d "
            "WHERE d.scheme_id = %s AND d.source = 'scored' AND h.level > 0 "
            "ON CONFLICT DO NOTHING",
            [scheme.pk, scheme.pk],
        )
        cursor.execute("ANALYZE")
    return {
        "activities": len(activities),
        "bookings": Booking.objects.filter(activity__title__startswith=f"基准活动{tag}").count(),
        "orders": len(orders),
        "dispatches": len(branches),
    }


# --- timing ---------------------------------------------------------------------------------


def time_one(kind: str, period: str, hall, samples: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation.reports import services as report_services
    from network.models import subtree_q

    def build():
        run, outcome = report_services.report_run_build(
            kind=kind, period=period, hall_id=hall.pk, worker="bench", force=True
        )
        assert outcome == "built", outcome
        return run

    build()  # warm-up (and the row exists from here on)
    seconds = []
    for _ in range(samples):
        started = time.perf_counter()
        run = build()
        seconds.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as ctx:
        run = build()
    return {
        "hall": hall.name,
        "halls_in_subtree": type(hall).objects.filter(subtree_q(hall)).count(),
        "median_s": statistics.median(seconds),
        "all_s": [round(s, 3) for s in seconds],
        "queries": len(ctx.captured_queries),
        "file_kb": round(run.file.size / 1024, 1),
    }


def time_all(kind: str, period: str, tag: str) -> dict:
    from evaluation.reports import documents
    from evaluation.reports import services as report_services

    halls = documents.report_halls()
    if tag != "kunming":
        halls = halls.filter(code__startswith=tag)
    ids = list(halls.values_list("pk", flat=True))
    started = time.perf_counter()
    for pk in ids:
        report_services.report_run_build(
            kind=kind, period=period, hall_id=pk, worker="bench", force=True
        )
    return {"reports": len(ids), "seconds": time.perf_counter() - started}


def measure(tag: str, samples: int) -> dict:
    from network.models import Hall, HallKind, subtree_q

    scope = Hall.objects.all() if tag == "kunming" else Hall.objects.filter(code__startswith=tag)

    # The tree numbers keep room (network.services.TREE_ROOM), so count the halls themselves.
    def size(hall) -> int:
        return Hall.objects.filter(subtree_q(hall)).count()

    centre = max(scope.filter(kind=HallKind.CENTRE), key=size)
    county = max(scope.filter(kind=HallKind.MAIN, tree_id=centre.tree_id), key=size)
    out = {}
    for kind, period in (("quarterly", "2026Q3"), ("annual", "2026")):
        for name, hall in (("centre", centre), ("county", county)):
            out[f"{kind}_{name}"] = time_one(kind, period, hall, samples)
            print(f"  {tag} {kind} {name}: {out[f'{kind}_{name}']}", file=sys.stderr, flush=True)
        out[f"{kind}_all"] = time_all(kind, period, tag)
        print(f"  {tag} {kind} all: {out[f'{kind}_all']}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-name", default="portal_report_bench")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only", choices=["all", "kunming", "province"], default="all")
    args = parser.parse_args()

    bench_url, server_url = scratch_database(args.db_name)
    [[(pg_version,)]] = admin_sql(bench_url, "SHOW server_version")
    import tempfile

    media = tempfile.mkdtemp(prefix="report-bench-")
    figures: dict = {"machine": {**machine(), "postgresql": pg_version}}
    try:
        django_setup(bench_url, media)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        networks = ["kunming", "province"] if args.only == "all" else [args.only]
        for tag in networks:
            started = time.perf_counter()
            halls = build_kunming() if tag == "kunming" else build_province()
            code_tag = "kunming" if tag == "kunming" else "G7-"
            built = time.perf_counter() - started
            started = time.perf_counter()
            filled = fill(code_tag)
            figures[tag] = {
                "halls": halls,
                "build_s": round(built, 1),
                "fill_s": round(time.perf_counter() - started, 1),
                "filled": filled,
            }
            print(f"{tag}: {figures[tag]}", file=sys.stderr, flush=True)
            figures[tag]["timings"] = measure(code_tag, args.samples)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_sql(server_url, f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "report_bench.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        print_figures(figures)


def print_figures(f: dict) -> None:
    m = f["machine"]
    print(
        f"machine: {m['nproc']} cpu ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['postgresql']}, Python {m['python']}"
    )
    for tag in ("kunming", "province"):
        if tag not in f or "timings" not in f[tag]:
            continue
        n = f[tag]
        print(f"\n{tag}: {n['halls']:,} halls; records: {n['filled']}")
        print(f"{'report':34} {'halls':>7} {'median s':>9} {'queries':>8} {'xlsx KB':>8}")
        for key, t in n["timings"].items():
            if key.endswith("_all"):
                print(
                    f"{key + ' (every centre and county)':34} {t['reports']:>7} "
                    f"{t['seconds']:9.1f} total, {t['seconds'] / t['reports']:.2f} s each"
                )
            else:
                print(
                    f"{key + ' · ' + t['hall']:34} {t['halls_in_subtree']:>7} "
                    f"{t['median_s']:9.2f} {t['queries']:>8} {t['file_kb']:>8}"
                )


if __name__ == "__main__":
    main()
