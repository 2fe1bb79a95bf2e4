"""The hall search on the national network: how long one search takes, as residents type it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/search_bench.py [--db-name portal_bench_search] [--keep]

It uses the database ``--db-name`` on the server of ``DATABASE_URL``: when that holds no halls,
it is created, migrated and filled by ``generate_network`` (the national defaults, about 652,000
halls, 25 s to a minute); a database kept by an earlier run (``--keep``) is reused as it is,
migrated first. Then, after ``ANALYZE``, each query is timed four ways:

* ``page``: the public search page's queries (``network.search.SearchPaginator`` over
  ``network.selectors.directory_search``: the count up to ``SEARCH_COUNT_CAP``, or
  ``SEARCH_SHORT_COUNT_CAP`` for one or two characters, and a page of 20 with the ancestors
  joined),
* ``api``: the halls API's queries for ``q`` (``HallFilter`` over ``halls_for_api``, the same
  paginator, a page of 50),
* ``page view`` and ``api view``: the whole request, ``GET /halls/search/?q=`` and
  ``GET /api/v1/halls/?q=``, through Django's test client in this process (middleware, template
  or serializer, no network and no server),

for:

* a village's name as residents type it (a locality drawn at random),
* the longer plaque fragment of a township and a village (``…镇分馆宁家``),
* a name with a number typed the other way (``关上第一社区`` for a hall named ``关上第1社区``,
  which the run adds to one township),
* the last two characters of a village's name (``东村``): too short for a trigram, so read
  through the character-pair indexes (migration ``network.0013``),
* the three commonest of those endings (``东村``, ``新村``, ``家村``: about 5,300 halls each,
  enough to reach the count's cap),
* one character of a village's name (its first), and one that no hall holds (``王``),
* a whole common suffix (``综合文化服务中心``: 610,000 halls match), on the first page and on
  the last page within the cap.

It prints the median, p95 and maximum of each. Not a test: the figures go to docs/BENCHMARKS.md
by hand.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import _common
from _common import ROOT, admin_sql


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm: the plan and the index pages this query reads
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main(args) -> None:
    import subprocess
    import sys
    from urllib.parse import urlsplit, urlunsplit

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    url = urlunsplit(parts._replace(path=f"/{args.db_name}"))
    server = urlunsplit(parts._replace(path="/postgres"))
    exists = admin_sql(server, f"SELECT 1 FROM pg_database WHERE datname = '{args.db_name}'")[0]
    if not exists:
        admin_sql(server, f"CREATE DATABASE {args.db_name}")
    env = {**os.environ, "DATABASE_URL": url, "ENV_FILE": "/dev/null"}
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    os.environ.update(env)
    _common.django_setup()

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from network import services
    from network.api import halls_for_api
    from network.filters import HallFilter
    from network.models import Hall
    from network.search import SearchPaginator
    from network.selectors import attach_schemes, directory_search, hall_chain, search_results
    from network.views import RESULTS_PER_PAGE

    if not Hall.objects.exists():
        print("… generate_network", flush=True)
        subprocess.run([*manage, "generate_network"], env=env, check=True, cwd=ROOT)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE network_hall")
    halls = Hall.objects.count()

    rng = random.Random(args.seed)
    top = Hall.objects.order_by("-pk").values_list("pk", flat=True).first()
    points = []
    while len(points) < args.queries:
        hall = Hall.objects.filter(pk__gte=rng.randint(1, top), level=3).first()
        if hall is not None:
            points.append(hall)
    township = points[0].parent
    if not Hall.objects.filter(name="关上第1社区").exists():
        services.hall_create(parent=township, name="关上第1社区", locality="关上第1社区")
    cap = settings.SEARCH_COUNT_CAP
    common = min(args.queries, 10)
    queries = {
        "village": [(p.locality, 1) for p in points],
        # The township's last characters, 分馆, and the village's first two.
        "plaque": [
            (p.plaque_name.split("分馆")[0][-3:] + "分馆" + p.locality[:2], 1) for p in points
        ],
        "numbers": [("关上第一社区", 1)] * args.queries,
        "two characters": [(p.locality[-2:], 1) for p in points],
        "two characters, common": [(q, 1) for q in ("东村", "新村", "家村")] * (common // 3 + 1),
        "one character": [(p.locality[0], 1) for p in points],
        "one character, none": [("王", 1)] * common,
        "common": [("综合文化服务中心", 1)] * common,
        "common, last page": [("综合文化服务中心", -1)] * common,
    }

    def page(q: str, number: int) -> int:
        paginator = SearchPaginator(
            directory_search(q), RESULTS_PER_PAGE, query=q, rows=search_results
        )
        halls = paginator.page(paginator.num_pages if number < 0 else number)
        for hall in attach_schemes(halls):
            hall_chain(hall)
        return paginator.count

    def api(q: str, number: int) -> int:
        paginator = SearchPaginator(HallFilter({"q": q}, queryset=halls_for_api()).qs, 50, query=q)
        list(paginator.page(paginator.num_pages if number < 0 else number))
        return paginator.count

    client = Client()

    def view(path: str):
        def get(q: str, number: int) -> int:
            response = client.get(path, {"q": q, "page": "last" if number < 0 else number})
            assert response.status_code == 200, response.status_code
            return len(response.content)

        return get

    assert page("关上第一社区", 1) >= 1 and api("关上第一社区", 1) >= 1
    ways = (
        ("page", page),
        ("api", api),
        ("page view", view("/halls/search/")),
        ("api view", view("/api/v1/halls/")),
    )
    started = (time.strftime("%H:%M:%S", time.gmtime()), os.getloadavg())
    figures = {}
    for kind, texts in queries.items():
        for name, fn in ways:
            times = [t for q, n in texts for t in timed(lambda q=q, n=n, fn=fn: fn(q, n), 1)]
            times.sort()
            figures[f"{kind} / {name}"] = {
                "n": len(times),
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
                "max_ms": round(times[-1], 1),
            }
    short_cap = getattr(settings, "SEARCH_SHORT_COUNT_CAP", cap)
    print(f"machine: {_common.machine()}; SEARCH_COUNT_CAP {cap}, short {short_cap}")
    print(f"started {started[0]} UTC, load average {started[1]}")
    print(f"ended {time.strftime('%H:%M:%S', time.gmtime())} UTC, load average {os.getloadavg()}")
    print(f"halls: {halls}; examples: {[q[0][0] for q in queries.values()]}")
    for key, value in figures.items():
        print(f"{key:32} {value}")
    if not args.keep:
        connection.close()
        admin_sql(server, f"DROP DATABASE {args.db_name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-name", default="portal_bench_search")
    parser.add_argument("--keep", action="store_true", help="keep the database (and its network)")
    parser.add_argument("--queries", type=int, default=100, help="villages drawn at random")
    parser.add_argument("--seed", type=int, default=15)
    main(parser.parse_args())
