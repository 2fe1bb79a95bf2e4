"""Loading whole trees at once, and the synthetic national network that benchmarks load.

django-mptt's ``rebuild()`` takes minutes and gigabytes on the national network (447 s and
4.9 GB, measured: docs/ARCHITECTURE.md), so the loader does not ask mptt for anything: it walks each new tree once in Python, giving every
hall its ``lft``/``rght``/``level`` (with the room of ``services.TREE_ROOM`` below each
``rght``), a fresh ``tree_id``, its stored ancestors and its plaque, and writes finished rows,
with PostgreSQL's ``COPY`` there and ``bulk_create`` elsewhere. It only adds new trees; existing
ones are never read or renumbered. ``check_tree`` passes afterwards.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from .models import (
    KIND_BY_LEVEL,
    Hall,
    HallKind,
    HallStatus,
    NamingScheme,
    Operator,
    plaque_name_for,
)
from .services import NEW_TREE_KEY, TREE_ROOM, default_scheme, lock_trees


@dataclass(slots=True)
class NewHall:
    """A hall to load, with the halls below it. Its kind follows from its depth."""

    name: str
    locality: str
    code: str | None = None
    status: str = HallStatus.OPEN
    operator: str = Operator.GOVERNMENT
    operator_name: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    phone: str = ""
    opening_hours: str = ""
    services: str = ""
    division_year: int | None = None  # network.divisions: the edition it comes from
    children: list[NewHall] = field(default_factory=list)

    def size(self) -> int:
        return 1 + sum(child.size() for child in self.children)


OWN_FIELDS = list(Hall.OWN_FIELDS)
# What a loaded row takes from its NewHall: the hall's own fields and where its code comes from.
LOADED_FIELDS = [*OWN_FIELDS, "division_year"]


@dataclass
class LoadResult:
    trees: int = 0
    halls: int = 0
    tree_ids: list[int] = field(default_factory=list)
    by_kind: Counter = field(default_factory=Counter)


def bulk_load(
    trees: Iterable[NewHall],
    *,
    batch_rows: int = 20_000,
    naming_scheme: NamingScheme | None = None,
) -> LoadResult:
    """Add each of ``trees`` (a centre hall with everything below it) as a tree of its own, in
    one transaction, named by ``naming_scheme`` (the default unless given). ``trees`` may be a
    generator: rows are written ``batch_rows`` at a time."""
    result = LoadResult()
    with transaction.atomic():
        scheme = naming_scheme or default_scheme()
        # Same lock as a new centre hall through the services: nobody else picks a tree_id now.
        lock_trees(NEW_TREE_KEY)
        next_tree_id = (Hall.objects.aggregate(m=Max("tree_id"))["m"] or 0) + 1
        now = timezone.now()
        batch: list[NewHall] = []
        size = 0
        for root in trees:
            batch.append(root)
            size += root.size()
            if size >= batch_rows:
                next_tree_id = _flush(batch, size, next_tree_id, now, result, scheme)
                batch, size = [], 0
        if batch:
            _flush(batch, size, next_tree_id, now, result, scheme)
        if result.tree_ids:
            # The roots name their scheme, as a centre created through the services does.
            Hall.objects.filter(
                parent__isnull=True,
                tree_id__gte=result.tree_ids[0],
                tree_id__lte=result.tree_ids[-1],
            ).update(naming_scheme=scheme)
        if connection.vendor == "postgresql" and result.halls > 10_000:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Hall._meta.db_table}")
                # The hall search's GIN indexes (trigrams, and characters and pairs) take a bulk
                # load into their pending list, which every search then reads through (a search
                # of the national network took 86 ms instead of 8): merge it into them now.
                cursor.execute(
                    "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam "
                    "WHERE i.indrelid = %s::regclass AND a.amname = 'gin'",
                    [Hall._meta.db_table],
                )
    return result


def _flush(
    batch: list[NewHall], size: int, tree_id: int, now, result: LoadResult, scheme: NamingScheme
) -> int:
    ids = iter(_allocate_ids(size))
    rows = []
    for root in batch:
        _number(root, tree_id, ids, rows, scheme)
        result.tree_ids.append(tree_id)
        tree_id += 1
    if connection.vendor == "postgresql":
        _copy(rows, now)
    else:
        _bulk_create(rows)
    result.trees += len(batch)
    result.halls += len(rows)
    result.by_kind.update(row[2] for row in rows)
    return tree_id


def _allocate_ids(n: int) -> list[int]:
    table = Hall._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite holds the database's write lock for the whole transaction, so max + 1 is ours.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


# (id, hall, kind, plaque, lft, rght, level, parent_id, main_hall_id, branch_hall_id, tree_id)
Row = tuple


def _number(
    root: NewHall, tree_id: int, ids: Iterator[int], out: list[Row], scheme: NamingScheme
) -> None:
    """Append the rows of one tree in tree order, numbering it depth first."""
    counter = 0

    def walk(node, level, parent_id, main_id, branch_id, parent_plaque, places):
        nonlocal counter
        if level >= len(KIND_BY_LEVEL):
            raise ValueError(f"{node.name}: a point is the last level and has no children")
        counter += 1
        lft = counter
        pk = next(ids)
        kind = KIND_BY_LEVEL[level]
        if kind == HallKind.MAIN:
            main_id = pk
        elif kind == HallKind.BRANCH:
            branch_id = pk
        places = [*places, node.locality]
        plaque = plaque_name_for(scheme=scheme, localities=places, parent_plaque=parent_plaque)
        index = len(out)
        out.append(None)
        for child in node.children:
            walk(child, level + 1, pk, main_id, branch_id, plaque, places)
        counter += TREE_ROOM[kind] + 1  # the room later halls below this one are placed in
        out[index] = (
            pk, node, kind, plaque, lft, counter, level, parent_id, main_id, branch_id, tree_id
        )  # fmt: skip

    walk(root, 0, None, None, None, None, [])


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return str(value)


COPY_COLUMNS = [
    "id",
    *LOADED_FIELDS,
    "kind",
    "plaque_name",
    "lft",
    "rght",
    "level",
    "tree_id",
    "parent_id",
    "main_hall_id",
    "branch_hall_id",
    "created_at",
    "updated_at",
]


def _copy(rows: list[Row], now) -> None:
    stamp = now.isoformat()
    buffer = io.StringIO()
    write = buffer.write
    for pk, node, kind, plaque, lft, rght, level, parent_id, main_id, branch_id, tree_id in rows:
        own = "\t".join(_copy_value(getattr(node, name)) for name in LOADED_FIELDS)
        tail = "\t".join(
            _copy_value(v)
            for v in (kind, plaque, lft, rght, level, tree_id, parent_id, main_id, branch_id)
        )
        write(f"{pk}\t{own}\t{tail}\t{stamp}\t{stamp}\n")
    buffer.seek(0)
    columns = ", ".join(COPY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {Hall._meta.db_table} ({columns}) FROM STDIN", buffer)


def _bulk_create(rows: list[Row]) -> None:
    halls = [
        Hall(
            pk=pk,
            kind=kind,
            plaque_name=plaque,
            lft=lft,
            rght=rght,
            level=level,
            tree_id=tree_id,
            parent_id=parent_id,
            main_hall_id=main_id,
            branch_hall_id=branch_id,
            **{name: getattr(node, name) for name in LOADED_FIELDS},
        )
        for pk, node, kind, plaque, lft, rght, level, parent_id, main_id, branch_id, tree_id in rows
    ]
    Hall.objects.bulk_create(halls, batch_size=500)


# --- the synthetic national network ----------------------------------------------------------

PLACE_CHARS = (
    "安宁平和兴华新城东西南北中山河江湖阳泰康乐福寿永昌明德清源丰盛富民长远定武文开元广成宝金"
    "玉云龙凤岭溪石桥田家营坝塘沙林松柏桂兰梅竹花水海川峰台庄堡口湾洲"
)
SOCIAL_OPERATORS = [o for o in Operator.values if o != Operator.GOVERNMENT]


@dataclass(frozen=True)
class NetworkShape:
    cities: int = 330
    counties_per_city: int = 9
    townships_per_county: int = 13
    points_per_township: int = 16
    seed: int = 1

    @property
    def code_prefix(self) -> str:
        return f"G{self.seed}-"


def _vary(rng: random.Random, n: int) -> int:
    """About ``n``: real counties differ in size, yet the total stays near the asked-for mean."""
    spread = n // 4
    return rng.randint(n - spread, n + spread) if spread else n


def _place(rng: random.Random, suffixes: tuple[str, ...]) -> str:
    return rng.choice(PLACE_CHARS) + rng.choice(PLACE_CHARS) + rng.choice(suffixes)


def _coordinate(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def national_network(shape: NetworkShape = NetworkShape()) -> Iterator[NewHall]:
    """One city tree at a time, each the same for the same seed whatever else is asked for."""
    for c in range(1, shape.cities + 1):
        yield _city(shape, c)


def _city(shape: NetworkShape, c: int) -> NewHall:
    rng = random.Random(f"{shape.seed}:{c}")
    code = f"{shape.code_prefix}{c:03d}"
    city = _place(rng, ("市",))
    lat, lon = rng.uniform(21, 48), rng.uniform(80, 130)
    area = f"0{rng.randint(100, 999)}"
    centre = NewHall(
        name=f"{city}文化馆",
        locality=city,
        code=code,
        address=city,
        latitude=_coordinate(lat),
        longitude=_coordinate(lon),
        phone=f"{area}-{rng.randint(2000000, 8999999)}",
        opening_hours="周二至周日 9:00-17:00",
        services="文艺培训、展览展示、群众文化活动指导、数字文化服务",
    )
    for k in range(1, _vary(rng, shape.counties_per_city) + 1):
        county = _place(rng, ("县", "区", "县", "市"))
        planned = rng.random() < 0.05
        main = NewHall(
            name=f"{county}文化馆",
            locality=county,
            code=f"{code}{k:02d}",
            status=HallStatus.PLANNED if planned else HallStatus.OPEN,
            address=f"{city}{county}",
            latitude=_coordinate(lat + rng.uniform(-1, 1)),
            longitude=_coordinate(lon + rng.uniform(-1, 1)),
            phone=f"{area}-{rng.randint(2000000, 8999999)}",
            opening_hours="" if planned else "周二至周日 9:00-17:00",
            services="" if planned else "免费开放、文艺辅导、培训、展览、流动服务",
        )
        centre.children.append(main)
        for t in range(1, _vary(rng, shape.townships_per_county) + 1):
            township = _place(rng, ("镇", "乡", "街道", "镇"))
            branch = NewHall(
                name=f"{township}综合文化站",
                locality=township,
                code=f"{main.code}{t:03d}",
                address=f"{city}{county}{township}",
                latitude=_coordinate(lat + rng.uniform(-1, 1)),
                longitude=_coordinate(lon + rng.uniform(-1, 1)),
                phone=f"{area}-{rng.randint(2000000, 8999999)}",
                opening_hours="周一至周五 9:00-17:30",
                services="阅览、培训、文艺团队排练、点单服务",
            )
            main.children.append(branch)
            for p in range(1, _vary(rng, shape.points_per_township) + 1):
                village = _place(rng, ("村", "社区", "村"))
                social = p % 10 == 0
                branch.children.append(
                    NewHall(
                        name=f"{village}综合文化服务中心",
                        locality=village,
                        code=f"{branch.code}{p:03d}",
                        status=HallStatus.PLANNED if rng.random() < 0.03 else HallStatus.OPEN,
                        operator=rng.choice(SOCIAL_OPERATORS) if social else Operator.GOVERNMENT,
                        operator_name=f"{village}文化驿站" if social else "",
                        address=f"{city}{county}{township}{village}",
                        latitude=_coordinate(lat + rng.uniform(-1, 1)),
                        longitude=_coordinate(lon + rng.uniform(-1, 1)),
                        opening_hours="每天 8:30-11:30, 14:30-21:00",
                        services="文化活动室、农家书屋、广场文艺",
                    )
                )
    return centre


def generate_network(shape: NetworkShape = NetworkShape()) -> LoadResult:
    return bulk_load(national_network(shape))
