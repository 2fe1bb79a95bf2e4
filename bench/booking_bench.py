"""A burst of bookings at the portal under gunicorn on PostgreSQL, and the activity list's
throughput beside a bare Django view on the same server.

    .venv/bin/python bench/booking_bench.py [--requests 1000] [--seats 100] [--concurrency 50]

It creates a scratch database (``portal_bench_booking`` on the server of ``DATABASE_URL``, or on
postgres@127.0.0.1:5432), migrates it, adds a small hall tree with a page of activities and one
activity of ``--seats`` seats, and starts ``gunicorn portal.wsgi -w 3`` on a free port of
127.0.0.1 with ``DEBUG=0`` and the booking rate limits off (every request comes from one
address). Then:

1. the burst: a few bookings warm every worker, 50 go one at a time to another activity (the
   service time of one booking), then ``--requests`` bookings (distinct phones, one seat each)
   are fired by a pool of ``--concurrency`` threads with ``http.client``, each with the
   ``X-Resident-Token`` of its phone (``RESIDENT_VERIFICATION=required``, the default: the
   seed verifies every phone through the residents' services, code and token, before the
   clock starts, so the burst pays for the token check as a resident's booking does); it prints
   confirmed
   (must be exactly the seats), waitlisted, errors (must be 0), throughput and p50/p95 latency,
   and checks the seat count in the database. Beside each latency it prints the server's CPU
   time per booking (gunicorn's workers and the PostgreSQL backends of the scratch database,
   from /proc, in clock ticks: read the 50 single bookings' figure to about ±1 ms): on a machine
   shared with other work, latency follows the neighbours' load, while the CPU a booking costs
   moves far less, so that is the figure to compare changes by. Then 200 requests of the bare
   view (below) one at a time give this machine's yardstick, the server CPU of a request that
   does nothing, and the booking's CPU is printed over it as well (``booking_over_bare_cpu``):
   machines of one kind differ by half again in CPU speed, the ratio far less;
2. throughput of ``GET /api/v1/activities/``, the public ``/activities/`` page (when the portal
   has it), ``/health/`` and the bare view (a constant JSON response through the whole middleware
   stack, reachable only in this run: ``DJANGO_SETTINGS_MODULE=bench.bench_settings`` with
   ``BENCH_BARE_VIEW=1``), each as a ratio to the bare view. The list is measured twice: as
   served (a page is cached for a few seconds) and with a new URL each time (always rebuilt).
   Clients are separate processes, so the client's GIL is not what is measured; the paths take
   turns in ``--rounds`` short rounds and the medians are printed, because on a shared machine
   the load drifts while one path is measured.

Every loop is bounded; gunicorn is stopped and the database dropped at the end (``--keep`` keeps
the database). Exit status 1 if the burst overbooked, underbooked or had errors. Not a test: it
prints figures, which go to docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import _common
from _common import ROOT

PYTHON = sys.executable
HOST = "127.0.0.1"


# --- Setup ----------------------------------------------------------------------------------------


def database_url(name: str) -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL")
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_sql(url: str, *statements: str) -> None:
    """``statements`` on the server of ``url`` (through its ``postgres`` database)."""
    _common.admin_sql(urlunsplit(urlsplit(url)._replace(path="/postgres")), *statements)


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def phones(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:08d}" for i in range(n)]


def seed(list_size: int, seats: int, verify: list[str]) -> dict:
    """Runs in a child process on the scratch database (``--phase seed``)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from activities import services
    from activities.models import Category
    from network.services import hall_create

    centre = hall_create(parent=None, name="昆明市文化馆", locality="昆明市", code="530100")
    halls = [centre]
    for c in range(3):
        county = hall_create(parent=centre, name=f"第{c}区文化馆", locality=f"第{c}区")
        halls.append(county)
        for b in range(3):
            branch = hall_create(parent=county, name=f"第{c}-{b}街道文化站", locality=f"街道{c}{b}")
            halls.append(branch)
            for p in range(2):
                halls.append(
                    hall_create(parent=branch, name=f"第{c}-{b}-{p}社区", locality=f"社区{c}{b}{p}")
                )
    now = timezone.now()
    categories = [c for c in Category.values if c != Category.MOBILE]

    def publish(hall, i: int, **fields):
        start = now + timedelta(days=1, hours=i)
        activity = services.activity_create(
            hall=hall,
            category=categories[i % len(categories)],
            title=f"第{i}场 文化活动",
            description="基准测试用的活动。" * 5,
            venue="多功能厅",
            start=start,
            end=start + timedelta(hours=2),
            **fields,
        )
        return services.activity_publish(activity=activity)

    for i in range(list_size):
        publish(halls[i % len(halls)], i, capacity=None if i % 5 == 0 else 200)
    target = publish(halls[1], list_size, capacity=seats, max_seats_per_booking=4)
    probe = publish(halls[2], list_size + 1, capacity=1000)
    # Every phone of the run verifies itself as a resident does: a code, then its token.
    from activities.residents.services import phone_code_request, phone_token_create

    tokens = {}
    for phone in verify:
        _row, code = phone_code_request(phone=phone)
        tokens[phone] = phone_token_create(phone=phone, code=code).token
    return {
        "activity": target.pk,
        "probe": probe.pk,
        "halls": len(halls),
        "activities": list_size + 2,
        "tokens": tokens,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, log) -> subprocess.Popen:
    # The repository's gunicorn.conf.py applies (preload, timeouts, worker recycling), as it does
    # in production; the command line sets the address and the workers.
    args = [
        str(Path(PYTHON).with_name("gunicorn")),
        "portal.wsgi",
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
    ]
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
    )
    for _attempt in range(150):
        if process.poll() is not None:
            break
        try:
            status, _body, _seconds = request(port, "GET", "/health/")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(process)
    log.flush()
    log.seek(0)
    sys.exit("gunicorn did not come up:\n" + log.read().decode(errors="replace")[-4000:])


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the master stops its workers
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- HTTP -----------------------------------------------------------------------------------------


def request(port: int, method: str, path: str, body: dict | None = None, token: str = ""):
    """One request on a fresh connection (gunicorn's sync workers close after each response)."""
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if payload is not None else {}
    if token:
        headers["X-Resident-Token"] = token
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return response.status, data, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def burst(
    port: int, activity_id: int, n: int, concurrency: int, tokens: dict, prefix: str = "139"
) -> dict:
    path = f"/api/v1/activities/{activity_id}/bookings/"

    def one(i: int):
        phone = f"{prefix}{i:08d}"
        body = {"name": f"居民{i}", "phone": phone, "seats": 1, "consent": True}
        try:
            status, data, seconds = request(port, "POST", path, body, token=tokens[phone])
        except OSError as exc:
            return ("error", f"{type(exc).__name__}: {exc}", None)
        if status != 201:
            return ("error", f"{status}: {data[:200]!r}", seconds)
        return (json.loads(data)["status"], None, seconds)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    latencies = [r[2] for r in results if r[2] is not None]
    errors = [r[1] for r in results if r[0] == "error"]
    return {
        "requests": n,
        "concurrency": concurrency,
        "confirmed": sum(r[0] == "confirmed" for r in results),
        "waitlisted": sum(r[0] == "waitlisted" for r in results),
        "errors": len(errors),
        "first_errors": errors[:5],
        "seconds": wall,
        "throughput_rps": n / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def _client(job: tuple[int, str, int, float]) -> tuple[int, list[float]]:
    port, path, count, deadline = job
    bad, latencies = 0, []
    for i in range(count):
        if time.monotonic() > deadline:
            break
        try:
            # "{i}" makes every URL new: the list's few-second cache then never answers.
            url = path.format(i=f"{os.getpid()}-{i}") if "{i}" in path else path
            status, _body, seconds = request(port, "GET", url)
        except OSError:
            bad += 1
            continue
        latencies.append(seconds)
        bad += status != 200
    return bad, latencies


def throughput(pool, port: int, path: str, total: int, clients: int, seconds: float) -> dict:
    """``total`` requests from ``clients`` processes, or as many as fit in ``seconds``."""
    warm = time.monotonic() + 30
    pool.map(_client, [(port, path, 5, warm)] * clients)  # every worker's connection and caches
    per_client = total // clients
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    results = pool.map(_client, [(port, path, per_client, deadline)] * clients)
    wall = time.perf_counter() - started
    latencies = [s for _bad, ls in results for s in ls]
    done = len(latencies)
    return {
        "path": path,
        "requests": done,
        "errors": sum(bad for bad, _ls in results),
        "rps": done / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
    }


def db_check(url: str, activity_id: int) -> dict:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT capacity, seats_taken FROM activities_activity WHERE id = %s",
                [activity_id],
            )
            capacity, taken = cursor.fetchone()
            cursor.execute(
                "SELECT status, COUNT(*), COALESCE(SUM(seats), 0) FROM activities_booking "
                "WHERE activity_id = %s GROUP BY status",
                [activity_id],
            )
            rows = {status: (count, seats) for status, count, seats in cursor.fetchall()}
    finally:
        conn.close()
    return {"capacity": capacity, "seats_taken": taken, "bookings": rows}


def server_pids(master: int, url: str, db_name: str) -> dict[str, list[int]]:
    """gunicorn's workers, and the PostgreSQL backends serving the scratch database."""
    with open(f"/proc/{master}/task/{master}/children") as f:
        workers = [int(pid) for pid in f.read().split()]
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [db_name],
            )
            backends = [pid for (pid,) in cursor.fetchall()]
    finally:
        conn.close()
    return {"gunicorn": workers, "postgres": backends}


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """User plus system CPU time of each process still there. PostgreSQL's backends run on this
    machine too, under another user: reading their /proc entries needs that user or root."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[str, dict[int, float]] = {}
    for kind, group in pids.items():
        seconds[kind] = {}
        for pid in group:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds[kind][pid] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def cpu_per_request(before: dict, after: dict, n: int) -> dict[str, float] | None:
    """Milliseconds of server CPU per request, by kind of process: a figure that the neighbours'
    load inflates far less than latency. None when a process went away in between (a recycled
    worker, a closed connection)."""
    spent = {}
    for kind, now in after.items():
        if set(before.get(kind, {})) - set(now):
            return None
        spent[kind] = sum(t - before.get(kind, {}).get(pid, 0.0) for pid, t in now.items())
    spent["total"] = sum(spent.values())
    return {kind: round(t / n * 1000, 2) for kind, t in spent.items()}


def machine() -> str:
    m = _common.machine()
    return f"{m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM"


def _ms(value: dict[str, float] | None) -> str:
    if value is None:
        return "unknown (a process went away)"
    return f"{value['total']:.2f} ms (gunicorn {value['gunicorn']:.2f}, PostgreSQL {value['postgres']:.2f})"


# --- Main -----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=["seed"], help=argparse.SUPPRESS)
    parser.add_argument("--db-name", default="portal_bench_booking")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--list-size", type=int, default=60, help="published activities listed")
    parser.add_argument("--list-requests", type=int, default=2000, help="at most, per path")
    parser.add_argument("--list-clients", type=int, default=6, help="client processes")
    parser.add_argument("--list-seconds", type=float, default=20, help="at most, per path")
    parser.add_argument("--rounds", type=int, default=5, help="turns the paths take")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="the cache the web processes share, as in production; 'none' for each its own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--verify", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase == "seed":
        print(
            json.dumps(seed(args.list_size, args.seats, [p for p in args.verify.split(",") if p]))
        )
        return 0

    url = database_url(args.db_name)
    name = args.db_name
    if not name.replace("_", "").isalnum():
        sys.exit("--db-name: letters, digits and _ only")
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
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "BENCH_BARE_VIEW": "1",
    }
    env.pop("REDIS_URL", None)
    if args.redis_url != "none":
        # As in production: one cache for every web process. Nothing in a booking is queued.
        import redis

        try:
            redis.Redis.from_url(args.redis_url, socket_timeout=2).ping()
            env["REDIS_URL"] = args.redis_url
        except redis.RedisError as exc:
            print(f"Redis at {args.redis_url} does not answer ({exc}): local-memory caches")

    print(f"machine: {machine()}; Python {platform.python_version()}", flush=True)
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
                    "--list-size",
                    str(args.list_size),
                    "--seats",
                    str(args.seats),
                    "--verify",
                    ",".join(
                        phones("137", 5 * args.workers) + phones("139", max(50, args.requests))
                    ),
                ],
                env,
            )
        )
        tokens = seeded.pop("tokens")
        port = free_port()
        process = start_gunicorn(env, port, args.workers, log)
        with open(f"/proc/{process.pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode().strip()
        print(f"server: {command} (pid {process.pid}), {seeded}", flush=True)
        print(f"cache: {env.get('REDIS_URL') or 'local memory, per process'}", flush=True)

        # One booking at a time first, on another activity: the service time of a booking,
        # which the burst's latency is to be read against.
        # A few bookings first, so that every worker has its connection and has run the booking
        # path once: the figures below are then the steady cost, not the first request's.
        burst(port, seeded["probe"], 5 * args.workers, 1, tokens, prefix="137")
        pids = server_pids(process.pid, url, name)
        cpu_before = cpu_seconds(pids)
        alone = burst(port, seeded["probe"], 50, 1, tokens)
        cpu_alone = cpu_seconds(server_pids(process.pid, url, name))
        alone["server_cpu_ms"] = cpu_per_request(cpu_before, cpu_alone, 50)
        print(
            f"one at a time: {alone['throughput_rps']:.1f} req/s, p50 {alone['p50_ms']:.1f} ms, "
            f"p95 {alone['p95_ms']:.1f} ms, errors {alone['errors']}, "
            f"server CPU {_ms(alone['server_cpu_ms'])} a booking",
            flush=True,
        )
        result = burst(port, seeded["activity"], args.requests, args.concurrency, tokens)
        result["server_cpu_ms"] = cpu_per_request(
            cpu_alone, cpu_seconds(server_pids(process.pid, url, name)), args.requests
        )
        # The yardstick of this machine: the server CPU of the bare view (a constant JSON body
        # through the whole middleware stack, a new connection each, as a booking's), one at a
        # time. A booking's CPU over it moves far less between machines than the booking's own.
        cpu_before_bare = cpu_seconds(server_pids(process.pid, url, name))
        for _i in range(200):
            request(port, "GET", "/bench/bare/")
        bare_cpu = cpu_per_request(
            cpu_before_bare, cpu_seconds(server_pids(process.pid, url, name)), 200
        )
        result["bare_view_cpu_ms"] = bare_cpu
        if bare_cpu and result["server_cpu_ms"] and bare_cpu["total"]:
            result["booking_over_bare_cpu"] = round(
                result["server_cpu_ms"]["total"] / bare_cpu["total"], 2
            )
        check = db_check(url, seeded["activity"])
        print("\nBURST " + json.dumps(result, ensure_ascii=False), flush=True)
        print("DB " + json.dumps(check), flush=True)
        confirmed_seats = check["bookings"].get("confirmed", (0, 0))[1]
        if not (
            result["confirmed"] == args.seats == check["seats_taken"] == confirmed_seats
            and result["errors"] == 0
            and result["confirmed"] + result["waitlisted"] == args.requests
        ):
            failed = True
            print("FAIL: the burst must confirm exactly the seats with no errors")

        paths = [
            "/bench/bare/",
            "/health/",
            "/api/v1/activities/",
            "/api/v1/activities/?nocache={i}",
        ]
        status, _body, _s = request(port, "GET", "/activities/")
        if status == 200:
            paths.append("/activities/")
        else:
            print(f"/activities/ answers {status}: no public list page measured")
        # On a shared machine the load drifts within a minute: the paths take turns in short
        # rounds, each compared with the bare view of its own round, and the medians are shown.
        rounds: dict[str, list[dict]] = {path: [] for path in paths}
        per_round = args.list_requests // args.rounds
        with multiprocessing.Pool(args.list_clients) as pool:
            for _round in range(args.rounds):
                for path in paths:
                    rounds[path].append(
                        throughput(
                            pool,
                            port,
                            path,
                            per_round,
                            args.list_clients,
                            args.list_seconds / args.rounds,
                        )
                    )
        rows = {}
        for path, measured in rounds.items():
            ratios = [
                m["rps"] / b["rps"] for m, b in zip(measured, rounds["/bench/bare/"], strict=True)
            ]
            rows[path] = {
                "rps": statistics.median(m["rps"] for m in measured),
                "p50_ms": statistics.median(m["p50_ms"] for m in measured),
                "ratio_to_bare": statistics.median(ratios),
                "ratios": [round(r, 2) for r in ratios],
                "requests": sum(m["requests"] for m in measured),
                "errors": sum(m["errors"] for m in measured),
            }
        print(
            f"\n{'path':<36}{'req/s':>9}{'p50 ms':>9}{'× bare':>8}{'requests':>9}{'errors':>8}"
            "  × bare per round"
        )
        for path, row in rows.items():
            print(
                f"{path:<36}{row['rps']:>9.0f}{row['p50_ms']:>9.1f}"
                f"{row['ratio_to_bare']:>8.2f}{row['requests']:>9}{row['errors']:>8}"
                f"  {row['ratios']}"
            )
            failed |= row["errors"] > 0

        print(
            "\nSUMMARY "
            + json.dumps(
                {
                    "confirmed": result["confirmed"],
                    "waitlisted": result["waitlisted"],
                    "errors": result["errors"],
                    "throughput_rps": round(result["throughput_rps"], 1),
                    "p50_ms": round(result["p50_ms"], 1),
                    "p95_ms": round(result["p95_ms"], 1),
                    "p95_target_met": result["p95_ms"] < 250,
                    "one_at_a_time_p50_ms": round(alone["p50_ms"], 1),
                    "server_cpu_ms_per_booking": result["server_cpu_ms"],
                    "bare_view_cpu_ms": result["bare_view_cpu_ms"],
                    "booking_over_bare_cpu": result.get("booking_over_bare_cpu"),
                    "list_ratio": round(rows["/api/v1/activities/"]["ratio_to_bare"], 3),
                    "list_target_met": rows["/api/v1/activities/"]["ratio_to_bare"] >= 0.5,
                    "uncached_list_ratio": round(
                        rows["/api/v1/activities/?nocache={i}"]["ratio_to_bare"], 3
                    ),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
    finally:
        if process is not None:
            stop_gunicorn(process)
        log.seek(0)
        errors = [
            line for line in log.read().decode(errors="replace").splitlines() if "ERROR" in line
        ]
        if errors:
            print("gunicorn logged errors:\n" + "\n".join(errors[-20:]))
        log.close()
        if not args.keep:
            admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(static_root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
