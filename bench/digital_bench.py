"""The digital culture hall under gunicorn on PostgreSQL: a 50 MB video served by ranges, and
the digital list (page and API) beside a bare Django view.

    .venv/bin/python bench/digital_bench.py [--video-mb 50] [--list-size 200]

It creates a scratch database (``portal_bench_digital`` on the server of ``DATABASE_URL``, or on
postgres@127.0.0.1:5432) and a scratch media directory, migrates, adds a small hall tree with
``--list-size`` published resources and one video of ``--video-mb`` MB (the demo clip padded to
that size: what is measured is the serving of bytes, not decoding), starts ``gunicorn
portal.wsgi -w 3`` with ``DEBUG=0`` on the local disk storage, then measures:

1. the whole video in one request: MB/s, and the peak RSS of the busiest worker before and
   after (a range response streams in 256 KB chunks, so it must not grow with the file);
2. seeking: ``--seeks`` requests of a 1 MB range at random offsets from ``--concurrency``
   threads, as players do when residents drag the progress bar: p50/p95 and requests/s, every
   answer checked to be 206 with the right length;
3. ``/digital/``, ``/api/v1/digital/`` and the bare view, requests/s from several client
   processes (the medians of a few rounds), each as a ratio to the bare view.

Every loop is bounded; gunicorn is stopped and the database and media dropped at the end. Not a
test: it prints figures, which go to docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import booking_bench as bb
from _common import ROOT

PYTHON = sys.executable
HOST = bb.HOST


def seed(list_size: int, video_mb: int) -> dict:
    """Runs in a child process on the scratch database (``--phase seed``)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.files.base import ContentFile

    from activities.digital import services
    from activities.digital.models import Kind, Resource, Topic
    from network.services import hall_create

    centre = hall_create(parent=None, name="昆明市文化馆", locality="昆明市", code="530100")
    halls = [centre]
    for c in range(3):
        county = hall_create(parent=centre, name=f"第{c}区文化馆", locality=f"第{c}区")
        halls.append(county)
        for b in range(3):
            halls.append(hall_create(parent=county, name=f"第{c}-{b}文化站", locality=f"站{c}{b}"))
    clip = (ROOT / "fixtures" / "digital" / "demo-video.mp4").read_bytes()
    big = clip + bytes(video_mb * 1024 * 1024 - len(clip))
    video = services.resource_save(
        resource=Resource(hall=halls[1], kind=Kind.VIDEO, title="长录像", topic=Topic.COURSE),
        file=services.check_resource_file(kind=Kind.VIDEO, upload=ContentFile(big, name="v.mp4")),
    )
    services.resource_publish(resource=video)
    for i in range(list_size):
        item = Resource(
            hall=halls[i % len(halls)], kind=Kind.VIDEO, title=f"第{i}课 花灯基本功",
            topic=Topic.COURSE, summary="基准测试用的资源。" * 4, tags="花灯,慕课",
        )  # fmt: skip
        # The list reads no file: every entry points at the long video's.
        item.file.name = video.file.name
        item.content_type, item.size = video.content_type, video.size
        item.save()
        services.resource_publish(resource=item)
    return {"video": video.pk, "size": len(big), "resources": list_size + 1}


def get(port: int, path: str, headers: dict | None = None, read: bool = True):
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        size = 0
        while read:
            chunk = response.read(1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
        return response.status, dict(response.getheaders()), size, time.perf_counter() - started
    finally:
        conn.close()


def worker_rss_mb(master: int) -> float:
    with open(f"/proc/{master}/task/{master}/children") as f:
        pids = [int(p) for p in f.read().split()]
    peaks = []
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def seeks(port: int, path: str, size: int, n: int, concurrency: int) -> dict:
    chunk = 1024 * 1024
    rng = random.Random(7)
    offsets = [rng.randrange(0, size - chunk) for _ in range(n)]

    def one(offset: int):
        status, headers, got, seconds = get(
            port, path, {"Range": f"bytes={offset}-{offset + chunk - 1}"}
        )
        ok = (
            status == 206
            and got == chunk
            and headers.get("Content-Range", "").startswith(f"bytes {offset}-")
        )
        return ok, seconds

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, offsets))
    wall = time.perf_counter() - started
    latencies = [s for _ok, s in results]
    return {
        "requests": n,
        "concurrency": concurrency,
        "bad": sum(not ok for ok, _s in results),
        "rps": n / wall,
        "p50_ms": bb.percentile(latencies, 50) * 1000,
        "p95_ms": bb.percentile(latencies, 95) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=["seed"], help=argparse.SUPPRESS)
    parser.add_argument("--db-name", default="portal_bench_digital")
    parser.add_argument("--video-mb", type=int, default=50)
    parser.add_argument("--list-size", type=int, default=200)
    parser.add_argument("--seeks", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--list-requests", type=int, default=1500)
    parser.add_argument("--list-clients", type=int, default=6)
    parser.add_argument("--list-seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    if args.phase == "seed":
        print(json.dumps(seed(args.list_size, args.video_mb)))
        return 0

    name = args.db_name
    url = bb.database_url(name)
    media = tempfile.mkdtemp(prefix="bench_media_")
    static_root = tempfile.mkdtemp(prefix="bench_static_")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "MEDIA_ROOT": media,
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "ENV_FILE": "/dev/null",
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "BENCH_BARE_VIEW": "1",
    }
    for variable in ("REDIS_URL", "S3_BUCKET"):
        env.pop(variable, None)
    print(f"machine: {bb.machine()}; Python {platform.python_version()}", flush=True)
    print(f"load average before: {os.getloadavg()}", flush=True)
    bb.admin_sql(url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    process = None
    log = tempfile.TemporaryFile()
    try:
        bb.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        bb.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        seeded = json.loads(
            bb.run(
                [
                    PYTHON,
                    str(Path(__file__)),
                    "--phase",
                    "seed",
                    "--list-size",
                    str(args.list_size),
                    "--video-mb",
                    str(args.video_mb),
                ],
                env,
            )  # fmt: skip
        )
        port = bb.free_port()
        process = bb.start_gunicorn(env, port, args.workers, log)
        path = f"/digital/{seeded['video']}/file/"
        print(f"server: gunicorn -w {args.workers}, {seeded}", flush=True)

        get(port, path, {"Range": "bytes=0-1023"})
        rss_before = worker_rss_mb(process.pid)
        status, headers, got, seconds = get(port, path)
        assert status == 200 and got == seeded["size"], (status, got)
        whole = {
            "mb": got / 1024 / 1024,
            "seconds": seconds,
            "mb_per_s": got / 1024 / 1024 / seconds,
            "worker_peak_rss_mb_before": rss_before,
            "worker_peak_rss_mb_after": worker_rss_mb(process.pid),
        }
        print("WHOLE " + json.dumps(whole), flush=True)
        seek = seeks(port, path, seeded["size"], args.seeks, args.concurrency)
        print("SEEKS " + json.dumps(seek), flush=True)

        paths = ["/bench/bare/", "/digital/", "/api/v1/digital/"]
        rounds: dict[str, list[float]] = {p: [] for p in paths}
        with multiprocessing.Pool(args.list_clients) as pool:
            for _ in range(args.rounds):
                for p in paths:
                    figures = bb.throughput(
                        pool, port, p, args.list_requests, args.list_clients, args.list_seconds
                    )
                    if figures["errors"]:
                        print(f"{p}: {figures['errors']} errors", flush=True)
                    rounds[p].append(figures["rps"])
        bare = statistics.median(rounds["/bench/bare/"])
        for p in paths:
            rps = statistics.median(rounds[p])
            print(f"LIST {p}: {rps:.0f} req/s ({rps / bare:.2f}× the bare view)", flush=True)
        print(f"load average after: {os.getloadavg()}", flush=True)
        return 1 if seek["bad"] else 0
    finally:
        if process is not None:
            bb.stop_gunicorn(process)
        bb.admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(media, ignore_errors=True)
        shutil.rmtree(static_root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
