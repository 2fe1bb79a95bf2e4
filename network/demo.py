"""The Kunming demo network: the real one, from the statistical division codes that ship with the
project (``fixtures/divisions/``, ``network.divisions``), dressed with demo phones, hours and
services; the task table (``fixtures/kunming_task_table.csv``) stays what the coverage export
compares it with (its targets, ``evaluation.selectors.coverage_targets``).

Deterministic: the same rows, names and codes every run; a second run finds the centre hall and
leaves the tree as it is.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from . import services
from .bulk import NewHall, bulk_load
from .divisions import SHIPPED_EDITION, hall_name, read_edition
from .models import KIND_BY_LEVEL, Hall, HallKind, HallStatus, Membership, Operator, Role

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
CENTRE_CODE = "5301"
DEMO_PASSWORD = "Demo@2026"
# The task table's development zones whose 文化馆 is still to be built (待建): in the division
# codes they are township-level entries, so their branch is the planned hall.
PLANNED_ZONES = {
    "530102401": "高新区",
    "530112403": "滇池度假区",
    "530125404": "阳宗海风景名胜区",
}


def task_table_seq() -> dict[str, int]:
    """District code → its line in the task table (for the demo's phone numbers)."""
    with open(FIXTURES / "kunming_districts.csv", encoding="utf-8") as f:
        codes = {row["district"]: row["code"] for row in csv.DictReader(f)}
    with open(FIXTURES / "kunming_task_table.csv", encoding="utf-8") as f:
        return {
            codes[row["district"]]: int(row["seq"])
            for row in csv.DictReader(f)
            if codes.get(row["district"])
        }


def _hours(*ranges: str) -> list[tuple[time, time]]:
    return [tuple(time.fromisoformat(t) for t in r.split("-")) for r in ranges]


# The demo's weeks, as the free-text notes say (0 = Monday, 7 = public holidays). Centre and
# county halls close on Mondays (免费开放 halls' usual day off), stations keep office hours and
# Saturday mornings, and both close on public holidays; village centres open mornings and
# evenings every day, holidays included.
MAIN_WEEK = {day: _hours("09:00-17:00") for day in range(1, 7)}
BRANCH_WEEK = {
    **{day: _hours("09:00-12:00", "14:00-17:30") for day in range(5)},
    5: _hours("09:00-12:00"),
}
POINT_WEEK = {day: _hours("08:30-11:30", "14:30-21:00") for day in range(8)}


def kunming_tree() -> NewHall:
    """Kunming's centre with its real districts, townships and villages, and the demo's details."""
    edition = read_edition(city=CENTRE_CODE)
    children = defaultdict(list)
    for division in edition.divisions.values():
        children[division.parent].append(division)
    seq = task_table_seq()
    centre = NewHall(
        name="昆明市文化馆",
        locality="昆明市",
        code=CENTRE_CODE,
        division_year=SHIPPED_EDITION,
        address="云南省昆明市五华区",
        phone="0871-12345678",
        opening_hours="周二至周日 9:00-17:00",
        services="文艺培训、展览展示、群众文化活动指导、数字文化服务",
        # GCJ-02, near the city centre (approximate: a demo, not a survey).
        latitude=Decimal("25.040609"),
        longitude=Decimal("102.712251"),
    )
    for m, county in enumerate(children[CENTRE_CODE], start=1):
        n = seq.get(county.code, 18 + m)
        main = _hall(county, phone=f"0871-6{n:02d}00000", address=f"云南省昆明市{county.locality}")
        main.opening_hours = "周二至周日 9:00-17:00"
        main.services = "免费开放、文艺辅导、培训、展览、流动服务"
        centre.children.append(main)
        for b, township in enumerate(children[county.code], start=1):
            place = f"云南省昆明市{county.locality}{township.locality}"
            branch = _hall(township, phone=f"0871-6{n:02d}{b:02d}000", address=place)
            if township.code in PLANNED_ZONES:
                branch.status = HallStatus.PLANNED
            else:
                branch.opening_hours = "周一至周五 9:00-17:30,周六 9:00-12:00"
                branch.services = "阅览、培训、文艺团队排练、点单服务"
            main.children.append(branch)
            for p, village in enumerate(children[township.code]):
                point = _hall(village, address=f"{place}{village.locality}")
                point.opening_hours = "每天 8:30-11:30, 14:30-21:00"
                point.services = "文化活动室、农家书屋、广场文艺"
                # Every tenth point is run with a social force under the "1+1" model.
                if p % 10 == 9:
                    point.operator = Operator.INTERNET_VENUE
                    point.operator_name = f"{village.locality}网络文化驿站"
                branch.children.append(point)
    return centre


def _hall(division, **fields) -> NewHall:
    return NewHall(
        name=hall_name(KIND_BY_LEVEL[division.level], division.locality),
        locality=division.locality,
        code=division.code,
        division_year=SHIPPED_EDITION,
        **fields,
    )


@transaction.atomic
def seed_network() -> Hall:
    # A database seeded before the demo became the real Kunming keeps its network (centre
    # 530100): its invented halls hold real district and township codes.
    existing = Hall.objects.filter(code__in=[CENTRE_CODE, "530100"], level=0).first()
    if existing is not None:
        return existing
    bulk_load([kunming_tree()])
    centre = Hall.objects.get(code=CENTRE_CODE, level=0)
    below = Hall.objects.filter(tree_id=centre.tree_id, status=HallStatus.OPEN).order_by("lft")
    weeks = [
        (MAIN_WEEK, below.filter(kind__in=[HallKind.CENTRE, HallKind.MAIN])),
        (BRANCH_WEEK, below.filter(kind=HallKind.BRANCH)),
        (POINT_WEEK, below.filter(kind=HallKind.POINT)),
    ]
    for week, halls in weeks:
        services.opening_hours_set_week(halls=list(halls), week=week)
    return centre


# (username, full name, hall lookup, role). Halls are found by name so codeless ones work too.
DEMO_STAFF = [
    ("centre_director", "昆明市文化馆馆长", "昆明市文化馆", Role.DIRECTOR),
    ("city_official", "昆明市文化和旅游局", "昆明市文化馆", Role.OFFICIAL),
    ("guandu_director", "官渡区文化馆馆长", "官渡区文化馆", Role.DIRECTOR),
    ("guandu_official", "官渡区文化和旅游局", "官渡区文化馆", Role.OFFICIAL),
    ("wuhua_director", "五华区文化馆馆长", "五华区文化馆", Role.DIRECTOR),
    ("guanshang_head", "关上街道分馆馆长", "关上街道综合文化站", Role.DIRECTOR),
    ("guanshang_deputy", "关上街道分馆业务副馆长", "关上街道综合文化站", Role.DEPUTY),
    ("guanshang_instructor", "下派指导员", "关上街道综合文化站", Role.INSTRUCTOR),
    ("guanshang_staff", "关上街道分馆工作人员", "关上街道综合文化站", Role.STAFF),
    ("taihe_staff", "太和街道分馆工作人员", "太和街道综合文化站", Role.STAFF),
    (
        "village_manager",
        "关上社区文化管理员",
        "关上社区综合文化服务中心",
        Role.VILLAGE_MANAGER,
    ),
]


@transaction.atomic
def seed_staff() -> list[tuple[str, str, str]]:
    User = get_user_model()
    admin, _created = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin.set_password(DEMO_PASSWORD)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    logins = [("admin", DEMO_PASSWORD, "超级管理员")]
    for username, full_name, where, role in DEMO_STAFF:
        hall = Hall.objects.get(name=where)
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": full_name, "is_staff": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        if not Membership.objects.filter(user=user, hall=hall).exists():
            services.membership_create(user=user, hall=hall, role=role)
        logins.append((username, DEMO_PASSWORD, f"{hall.name} · {role.label}"))
    return logins
