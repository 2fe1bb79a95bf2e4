"""Roll-ups and the assessment export on the national network, each beside its floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/evaluation_bench.py

It creates a scratch database (``portal_xlsx_bench`` unless ``--db-name`` says otherwise) on the
same server, builds the synthetic national network with ``network.bulk`` (as the
``generate_network`` command does), fills a submitted ``ServiceReturn`` for every hall, a score
on every scored dimension and a satisfaction answer for every hall below the centres (INSERT …
SELECT on the server), and prints:

* the roll-up for all counties, ``stats_rollup(level=main)``, beside a bare full scan summing
  the same figures (``SELECT sum(...) FROM returns_servicereturn``): median of several runs
  each, alternated; target at most 3×;
* the assessment export of every hall (``write_assessment``), beside bare openpyxl write-only
  writing the very same cells from a generator (read back from the export beforehand, untimed):
  time (target at most 1.2×) and peak RSS over the process's RSS at the start (target < 150 MB),
  with the load average before and after, since the machine may be shared.

``--writers portal,openpyxl-public,xlsxwriter --rounds 5`` compares spreadsheet writers on
the same export: ``portal`` is ``common.xlsx`` (rows written below openpyxl's write-only
``append``), ``openpyxl-public`` is ``bench/xlsx_openpyxl_public.py`` (openpyxl's public
write-only API only), ``xlsxwriter`` is ``bench/xlsx_xlsxwriter.py`` (XlsxWriter's
``constant_memory`` mode; ``pip install XlsxWriter``, in the dev extras). Each round runs every
writer and the bare floor once, in turn, each in its own process; the medians over the rounds
and the median of each round's ratio to that round's floor are printed, in wall time and in the
process's CPU time (the CPU figure leaves out the database's time and moves less with the
load of a shared machine). The first round also reads every writer's file back and checks that
the cells are the same.

Each measured step runs in a process of its own so that its peak RSS is its own. Not a test: it
prints figures, and they go to docs/BENCHMARKS.md by hand. The database is dropped at the end
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import marshal
import os
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import _common
from _common import ROOT, admin_sql, django_setup, emit, machine, peak_rss_mb

YEAR = 2026


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


# --- phases, each in its own process ---------------------------------------------------------


def phase_migrate(args) -> None:
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    emit()


def phase_build(args) -> None:
    django_setup()
    from network.bulk import NetworkShape, generate_network

    shape = NetworkShape(
        cities=args.cities,
        counties_per_city=args.counties_per_city,
        townships_per_county=args.townships_per_county,
        points_per_township=args.points_per_township,
        seed=1,
    )
    started = time.perf_counter()
    result = generate_network(shape)
    emit(seconds=time.perf_counter() - started, halls=result.halls, by_kind=result.by_kind)


def phase_fill(args) -> None:
    """Figures, scores and satisfaction for every hall, generated on the server."""
    django_setup()
    from django.db import connection

    from evaluation.returns.models import ServiceReturn
    from evaluation.scoring import services as scoring

    scheme = scoring.scheme_create(year=YEAR)
    figures = ServiceReturn.FIGURES
    values = ", ".join(
        "round((random() * 80)::numeric, 1)"
        if name == "opening_hours_weekly"
        else "(random() * 200)::int"
        for name in figures
    )
    timings = {}
    with connection.cursor() as cursor:
        # The rows are consistent by construction: skip the per-row foreign-key triggers, which
        # would take a quarter of an hour over the national network's eight million scores.
        cursor.execute("SET session_replication_role = replica")
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO returns_servicereturn (hall_id, year, status, submitted_at, "
            f"review_comment, updated_at, tree_id, main_id, branch_id, {', '.join(figures)}) "
            "SELECT id, %s, 'submitted', now(), '', now(), tree_id, main_hall_id, branch_hall_id, "
            f"{values} FROM network_hall",
            [YEAR],
        )
        timings["reports"] = (cursor.rowcount, time.perf_counter() - started)
        if args.only == "rollup":
            emit(reports={"rows": timings["reports"][0], "seconds": timings["reports"][1]})
            return
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO scoring_score (scheme_id, dimension_id, hall_id, points, comment, "
            "scored_at) SELECT %s, d.id, h.id, round((random() * d.max_points)::numeric, 1), "
            "'', now() FROM network_hall h CROSS JOIN scoring_dimension d "
            "WHERE d.scheme_id = %s AND d.source = 'scored' AND h.level > 0",
            [scheme.pk, scheme.pk],
        )
        timings["scores"] = (cursor.rowcount, time.perf_counter() - started)
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO scoring_satisfactionresponse (hall_id, phone, quarter, rating, "
            "comment, created_at) SELECT id, '13800000000', %s, 1 + (random() * 4)::int, '', "
            "now() FROM network_hall WHERE level > 0",
            [f"{YEAR}Q2"],
        )
        timings["satisfaction"] = (cursor.rowcount, time.perf_counter() - started)
    emit(**{name: {"rows": rows, "seconds": round(s, 1)} for name, (rows, s) in timings.items()})


def phase_rollup(args) -> None:
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation.returns.models import ReturnKind, ServiceReturn
    from evaluation.returns.selectors import stats_rollup
    from network.models import HallKind

    sums = ", ".join(f"sum({name})" for name in ServiceReturn.FIGURES)
    bare_sql = f"SELECT count(*), {sums} FROM returns_servicereturn"

    def rollup():
        return stats_rollup(kind=ReturnKind.SERVICE, year=YEAR, level=HallKind.MAIN)

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(bare_sql)
            return cursor.fetchone()

    ours, floor = [], []
    for i in range(args.warmup + args.samples):
        for fn, out in ((rollup, ours), (bare, floor)):
            started = time.perf_counter()
            fn()
            if i >= args.warmup:
                out.append(time.perf_counter() - started)
    counties = rollup()
    total = bare()
    # The roll-up's groups add up to the whole table, less the centres (above every county).
    covered = sum(row["halls"] for row in counties.values())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM network_hall WHERE level = 0")
        [[centres]] = cursor.fetchall()
        # The selector's own query, captured as it runs.
        with CaptureQueriesContext(connection) as ctx:
            rollup()
        plans = {}
        for name, query in (("rollup", ctx.captured_queries[0]["sql"]), ("bare", bare_sql)):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}")
            plans[name] = [row[0] for row in cursor.fetchall()]
    shapes = rollup_shapes(args, rollup, bare, bare_sql)
    emit(
        shapes=shapes,
        rollup_ms=statistics.median(ours) * 1000,
        bare_ms=statistics.median(floor) * 1000,
        rollup_all_ms=[round(s * 1000, 1) for s in ours],
        bare_all_ms=[round(s * 1000, 1) for s in floor],
        counties=len(counties),
        rows_in_counties=covered,
        rows_total=total[0],
        centres=centres,
        plans=plans,
    )


def rollup_shapes(args, rollup, bare, bare_sql) -> dict:
    """What would bring the roll-up near its floor, measured on the scratch database (these
    change the schema, so they come after the figures above): (a) a covering index, so the
    join reads ``(id, main_hall_id)`` from an index instead of the wide hall table; (b) the
    county stored on each report row, so no join at all."""
    from django.db import connection

    from evaluation.returns.models import ServiceReturn

    def timed(fn) -> tuple[float, float]:
        ours, floor = [], []
        for i in range(args.warmup + args.samples):
            for f, out in ((fn, ours), (bare, floor)):
                started = time.perf_counter()
                f()
                if i >= args.warmup:
                    out.append(time.perf_counter() - started)
        return statistics.median(ours) * 1000, statistics.median(floor) * 1000

    out = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX bench_hall_id_main ON network_hall (id) INCLUDE (main_hall_id)"
        )
        cursor.execute("VACUUM ANALYZE network_hall")
    out["covering_index"] = timed(rollup)
    sums = ", ".join(f"sum({name})" for name in ServiceReturn.FIGURES)
    stored_sql = (
        f"SELECT main_hall_id, count(*), {sums} FROM returns_servicereturn "
        "WHERE year = %s AND status IN ('submitted', 'approved') "
        "AND main_hall_id IS NOT NULL GROUP BY main_hall_id"
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE returns_servicereturn ADD COLUMN main_hall_id integer")
        cursor.execute(
            "UPDATE returns_servicereturn r SET main_hall_id = h.main_hall_id "
            "FROM network_hall h WHERE h.id = r.hall_id"
        )
        cursor.execute("VACUUM ANALYZE returns_servicereturn")

    def stored():
        with connection.cursor() as cursor:
            cursor.execute(stored_sql, [YEAR])
            return cursor.fetchall()

    out["stored_on_report"] = timed(stored)
    return out


WRITERS = {
    "portal": "common.xlsx",
    "openpyxl-public": "xlsx_openpyxl_public",
    "xlsxwriter": "xlsx_xlsxwriter",
}


def phase_export(args) -> None:
    django_setup()
    import importlib

    from evaluation import exports
    from evaluation.exports import write_assessment
    from evaluation.scoring.models import AssessmentScheme

    # write_assessment calls the write_workbook that evaluation.exports imported.
    exports.write_workbook = importlib.import_module(WRITERS[args.writer]).write_workbook

    scheme = AssessmentScheme.objects.get(year=YEAR)
    start_rss = rss_now_mb()
    started, cpu = time.perf_counter(), time.process_time()
    sheets = write_assessment(scheme, args.output)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    emit(
        writer=args.writer,
        seconds=seconds,
        cpu_seconds=cpu,  # of this process: the database's own time is not in it
        sheets=sheets,
        rss_at_start_mb=start_rss,
        peak_rss_mb=peak_rss_mb(),
        peak_delta_mb=peak_rss_mb() - start_rss,
        file_mb=os.path.getsize(args.output) / 1024 / 1024,
    )


def phase_dump(args) -> None:
    """Untimed: the export's cells, sheet by sheet, as a marshal stream for the floor."""
    from openpyxl import load_workbook

    wb = load_workbook(args.output, read_only=True)
    cells = rows = 0
    digest = hashlib.sha1()  # of the cells, to check that the writers wrote the same
    with open(args.dump, "wb") as f:
        for ws in wb.worksheets:
            marshal.dump(("sheet", ws.title), f)
            digest.update(ws.title.encode())
            for row in ws.iter_rows(values_only=True):
                marshal.dump(row, f)
                # Rows padded to the sheet's width by read-only mode, which differs by writer.
                end = len(row)
                while end and row[end - 1] is None:
                    end -= 1
                digest.update(repr(row[:end]).encode())
                rows += 1
                cells += sum(1 for v in row if v is not None)
    wb.close()
    emit(rows=rows, cells=cells, sha1=digest.hexdigest())


def phase_floor(args) -> None:
    """Bare openpyxl write-only, the same cells from a generator: no styles, no database."""
    from openpyxl import Workbook

    def stream():
        with open(args.dump, "rb") as f:
            while True:
                try:
                    yield marshal.load(f)
                except EOFError:
                    return

    start_rss = rss_now_mb()
    started, cpu = time.perf_counter(), time.process_time()
    wb = Workbook(write_only=True)
    ws = None
    for item in stream():
        if len(item) == 2 and item[0] == "sheet":
            ws = wb.create_sheet(item[1])
        else:
            ws.append(item)
    wb.save(args.output)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    emit(
        seconds=seconds,
        cpu_seconds=cpu,
        rss_at_start_mb=start_rss,
        peak_rss_mb=peak_rss_mb(),
        peak_delta_mb=peak_rss_mb() - start_rss,
        file_mb=os.path.getsize(args.output) / 1024 / 1024,
    )


PHASES = {
    "migrate": phase_migrate,
    "build": phase_build,
    "fill": phase_fill,
    "rollup": phase_rollup,
    "export": phase_export,
    "dump": phase_dump,
    "floor": phase_floor,
}


# --- the driver ------------------------------------------------------------------------------


def run_phase(name: str, args, env: dict, *extra: str) -> dict:
    return _common.run_phase(__file__, name, env, [*extra, *shape_args(args)])


def shape_args(args) -> list[str]:
    return [
        f"--cities={args.cities}",
        f"--counties-per-city={args.counties_per_city}",
        f"--townships-per-county={args.townships_per_county}",
        f"--points-per-township={args.points_per_township}",
        f"--samples={args.samples}",
        f"--warmup={args.warmup}",
        f"--only={args.only}",
    ]


def main(args) -> None:
    url = os.environ.get("DATABASE_URL", "")
    unknown = set(args.writers.split(",")) - set(WRITERS)
    if unknown:
        raise SystemExit(f"unknown writer(s) {', '.join(sorted(unknown))}: {', '.join(WRITERS)}")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL=postgres://… (the server to create the scratch db on)")
    parts = urlsplit(url)
    bench_url = urlunsplit(parts._replace(path=f"/{args.db_name}"))
    server_url = urlunsplit(parts._replace(path="/postgres"))
    env = {**os.environ, "DATABASE_URL": bench_url}

    if not args.reuse:
        admin_sql(
            server_url,
            f"DROP DATABASE IF EXISTS {args.db_name}",
            f"CREATE DATABASE {args.db_name}",
        )
    [[(pg_version,)]] = admin_sql(bench_url, "SHOW server_version")
    figures: dict = {"machine": {**machine(), "postgresql": pg_version}}
    try:
        if not args.reuse:
            run_phase("migrate", args, env)
            figures["build"] = run_phase("build", args, env)
            figures["fill"] = run_phase("fill", args, env)
            admin_sql(bench_url, "VACUUM ANALYZE")
        [[(reports_size,)]] = admin_sql(
            bench_url, "SELECT pg_size_pretty(pg_total_relation_size('returns_servicereturn'))"
        )
        figures["reports_table"] = reports_size
        if args.only in ("all", "rollup"):
            figures["rollup"] = run_phase("rollup", args, env)
        with tempfile.TemporaryDirectory() as tmp:
            if args.only == "rollup":
                return
            floor, dump = Path(tmp) / "floor.xlsx", Path(tmp) / "cells.bin"
            writers = args.writers.split(",")
            figures["load_before_export"] = os.getloadavg()
            rounds = figures["rounds"] = []
            for n in range(args.rounds):
                this = {"load": os.getloadavg()}
                for writer in writers:
                    ours = Path(tmp) / f"{writer}.xlsx"
                    this[writer] = run_phase(
                        "export", args, env, f"--output={ours}", f"--writer={writer}"
                    )
                    if n == 0:  # the same cells from every writer, and the floor's input
                        figures.setdefault("dumps", {})[writer] = run_phase(
                            "dump", args, env, f"--output={ours}", f"--dump={dump}"
                        )
                this["floor"] = run_phase("floor", args, env, f"--output={floor}", f"--dump={dump}")
                rounds.append(this)
            figures["export"] = rounds[0][writers[0]]
            figures["floor"] = rounds[0]["floor"]
            figures["dump"] = figures["dumps"][writers[0]]
            figures["load_after_floor"] = os.getloadavg()
    finally:
        if not args.keep:
            admin_sql(server_url, f"DROP DATABASE IF EXISTS {args.db_name}")
        report(figures)
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"evaluation_bench_{args.only}.json").write_text(
            json.dumps(figures, ensure_ascii=False, indent=2)
        )


def report(f: dict) -> None:
    m = f["machine"]
    print(
        f"machine: {m['nproc']} cpu ({m['cpu']}), {m['ram_gb']} GB RAM, PostgreSQL "
        f"{m['postgresql']}, Python {m['python']}"
    )
    if "build" in f:
        print(f"network: {f['build']['halls']:,} halls {f['build']['by_kind']}")
        print(f"filled: {f['fill']}")
    print(f"service reports table with indexes: {f['reports_table']}")
    print()
    print(f"{'what':52} {'figure':>10} {'floor':>10} {'ratio':>7}")
    if "rollup" in f:
        report_rollup(f["rollup"])
    if f.get("rounds"):
        report_writers(f)
    elif "floor" in f:
        report_export(f["export"], f["floor"], f["dump"])
        before, after = f["load_before_export"], f["load_after_floor"]
        print(
            "   load average (1, 5, 15 min) before the export "
            f"{' / '.join(f'{x:.2f}' for x in before)}, after the floor "
            f"{' / '.join(f'{x:.2f}' for x in after)}"
        )


def report_rollup(r: dict) -> None:
    print(
        f"{'roll-up of all counties vs bare full scan, median ms':52} "
        f"{r['rollup_ms']:10.1f} {r['bare_ms']:10.1f} {r['rollup_ms'] / r['bare_ms']:6.2f}×"
        "  target ≤ 3×"
    )
    print(
        f"   {r['counties']} counties, {r['rows_in_counties']:,} of {r['rows_total']:,} reports "
        f"(the other {r['centres']} are the centres')"
    )

    for name, (ms_, floor) in r.get("shapes", {}).items():
        label = {
            "covering_index": "   shape: + index (id) INCLUDE (main_hall_id), ms",
            "stored_on_report": "   shape: county stored on the report (no join), ms",
        }[name]
        print(f"{label:52} {ms_:10.1f} {floor:10.1f} {ms_ / floor:6.2f}×")


def report_export(e: dict, fl: dict, d: dict) -> None:
    print(
        f"{'assessment export of every hall vs bare openpyxl, s':52} "
        f"{e['seconds']:10.1f} {fl['seconds']:10.1f} {e['seconds'] / fl['seconds']:6.2f}×"
        "  target ≤ 1.2×"
    )
    print(
        f"{'   peak RSS over the start, MB':52} {e['peak_delta_mb']:10.0f} "
        f"{fl['peak_delta_mb']:10.0f}          target < 150 MB"
    )
    print(
        f"   peak RSS {e['peak_rss_mb']:.0f} / {fl['peak_rss_mb']:.0f} MB; "
        f"{e['sheets']} county sheets + summary, {d['rows']:,} rows, {d['cells']:,} cells; "
        f"files {e['file_mb']:.0f} / {fl['file_mb']:.0f} MB"
    )


def report_writers(f: dict) -> None:
    rounds = f["rounds"]
    writers = [w for w in rounds[0] if w not in ("load", "floor")]
    d = f["dump"]
    print(
        f"assessment export, {rounds[0][writers[0]]['sheets']} county sheets + summary, "
        f"{d['rows']:,} rows, {d['cells']:,} cells; {len(rounds)} rounds, interleaved"
    )
    same = {f["dumps"][w]["sha1"] for w in writers}
    print(f"   the writers' files read back {'the same' if len(same) == 1 else 'DIFFERENTLY'}")
    print(
        f"{'writer':16} {'median s':>9} {'vs floor':>9} {'ratio/round':>12} {'CPU s':>7} "
        f"{'CPU ratio':>10} {'peak Δ MB':>10} {'peak MB':>8} {'file MB':>8}  rounds' ratios"
    )
    med = statistics.median
    floor_s = med(r["floor"]["seconds"] for r in rounds)
    for w in [*writers, "floor"]:
        seconds = med(r[w]["seconds"] for r in rounds)
        ratios = [r[w]["seconds"] / r["floor"]["seconds"] for r in rounds]
        cpu = med(r[w].get("cpu_seconds", 0) for r in rounds)
        cpu_ratio = med(
            r[w].get("cpu_seconds", 0) / r["floor"].get("cpu_seconds", 1) for r in rounds
        )
        print(
            f"{w:16} {seconds:9.2f} {seconds / floor_s:8.2f}× {med(ratios):11.2f}× "
            f"{cpu:7.2f} {cpu_ratio:9.2f}× "
            f"{max(r[w]['peak_delta_mb'] for r in rounds):10.0f} "
            f"{max(r[w]['peak_rss_mb'] for r in rounds):8.0f} {rounds[0][w]['file_mb']:8.1f}  "
            + " ".join(f"{x:.2f}" for x in ratios)
        )
    print(
        "   load average (1 min) at each round's start: "
        + ", ".join(f"{r['load'][0]:.2f}" for r in rounds)
        + f"; after the last: {f['load_after_floor'][0]:.2f}"
    )


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phase", choices=PHASES)
    p.add_argument("--db-name", default="portal_xlsx_bench")
    p.add_argument("--keep", action="store_true", help="keep the scratch database")
    p.add_argument("--reuse", action="store_true", help="reuse a kept scratch database")
    p.add_argument(
        "--only",
        choices=["all", "rollup", "export"],
        default="all",
        help="rollup: reports only, no scores (fast on the whole nation)",
    )
    p.add_argument("--cities", type=int, default=330)
    p.add_argument("--counties-per-city", type=int, default=9)
    p.add_argument("--townships-per-county", type=int, default=13)
    p.add_argument("--points-per-township", type=int, default=16)
    p.add_argument("--samples", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--writer", choices=WRITERS, default="portal", help="(export phase)")
    p.add_argument(
        "--writers",
        default="portal",
        help="comma-separated writers to compare on the export: " + ", ".join(WRITERS),
    )
    p.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the export")
    p.add_argument("--output")
    p.add_argument("--dump")
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    if args.phase:
        PHASES[args.phase](args)
    else:
        main(args)
