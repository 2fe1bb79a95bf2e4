"""The Kunming demo network, built from the project's copy of the second seed's task table.

Deterministic: the same rows, names and codes every run; a second run finds the centre hall and
leaves the tree as it is.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from . import services
from .models import Hall, HallStatus, Membership, Operator, Role

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
CENTRE_CODE = "530100"
DEMO_PASSWORD = "Demo@2026"


@dataclass(frozen=True)
class DistrictRow:
    seq: int
    district: str
    code: str | None
    main_planned: bool
    branches: int
    points: int
    townships: list[str]


def load_task_table() -> list[DistrictRow]:
    with open(FIXTURES / "kunming_districts.csv", encoding="utf-8") as f:
        extra = {row["district"]: row for row in csv.DictReader(f)}
    rows = []
    with open(FIXTURES / "kunming_task_table.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            info = extra[row["district"]]
            rows.append(
                DistrictRow(
                    seq=int(row["seq"]),
                    district=row["district"],
                    code=info["code"] or None,
                    main_planned=row["main_halls"].strip() == "0",
                    branches=int(row["branches"]),
                    points=int(row["service_points"]),
                    townships=[t for t in info["townships"].split(";") if t],
                )
            )
    return rows


def _township_name(row: DistrictRow, index: int) -> str:
    if index < len(row.townships):
        return row.townships[index]
    short = row.district.removesuffix("区").removesuffix("县").removesuffix("市")
    return f"{short}{_cn_number(index + 1)}镇"


def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


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


def _spread(total: int, parts: int) -> list[int]:
    """``total`` points over ``parts`` branches, as evenly as possible, larger ones first."""
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


@transaction.atomic
def seed_network() -> Hall:
    existing = Hall.objects.filter(code=CENTRE_CODE).first()
    if existing is not None:
        return existing
    centre = services.hall_create(
        parent=None,
        name="昆明市文化馆",
        locality="昆明市",
        code=CENTRE_CODE,
        address="云南省昆明市五华区",
        phone="0871-12345678",
        opening_hours="周二至周日 9:00-17:00",
        services="文艺培训、展览展示、群众文化活动指导、数字文化服务",
        # GCJ-02, near the city centre (approximate: a demo, not a survey).
        latitude=Decimal("25.040609"),
        longitude=Decimal("102.712251"),
    )
    weeks: dict[str, list[Hall]] = {"main": [centre], "branch": [], "point": []}
    for row in load_task_table():
        main = services.hall_create(
            parent=centre,
            name=f"{row.district}文化馆",
            locality=row.district,
            code=row.code,
            status=HallStatus.PLANNED if row.main_planned else HallStatus.OPEN,
            phone=f"0871-6{row.seq:02d}00000",
            opening_hours="" if row.main_planned else "周二至周日 9:00-17:00",
            services="" if row.main_planned else "免费开放、文艺辅导、培训、展览、流动服务",
            address=f"云南省昆明市{row.district}",
        )
        if not row.main_planned:
            weeks["main"].append(main)
        for b, n_points in enumerate(_spread(row.points, row.branches)):
            township = _township_name(row, b)
            branch = services.hall_create(
                parent=main,
                name=f"{township}综合文化站",
                locality=township,
                code=f"{row.code}{b + 1:03d}" if row.code else None,
                phone=f"0871-6{row.seq:02d}{b + 1:02d}000",
                opening_hours="周一至周五 9:00-17:30,周六 9:00-12:00",
                services="阅览、培训、文艺团队排练、点单服务",
                address=f"云南省昆明市{row.district}{township}",
            )
            weeks["branch"].append(branch)
            for p in range(n_points):
                village = f"{township.removesuffix('街道').removesuffix('镇')}第{p + 1}社区"
                # Every tenth point is run with a social force under the "1+1" model.
                social = p % 10 == 9
                point = services.hall_create(
                    parent=branch,
                    name=f"{village}综合文化服务中心",
                    locality=village,
                    code=f"{row.code}{b + 1:03d}{p + 1:03d}" if row.code else None,
                    operator=Operator.INTERNET_VENUE if social else Operator.GOVERNMENT,
                    operator_name=f"{village}网络文化驿站" if social else "",
                    opening_hours="每天 8:30-11:30, 14:30-21:00",
                    services="文化活动室、农家书屋、广场文艺",
                    address=f"云南省昆明市{row.district}{township}{village}",
                )
                weeks["point"].append(point)
    services.opening_hours_set_week(halls=weeks["main"], week=MAIN_WEEK)
    services.opening_hours_set_week(halls=weeks["branch"], week=BRANCH_WEEK)
    services.opening_hours_set_week(halls=weeks["point"], week=POINT_WEEK)
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
        "关上第1社区文化管理员",
        "关上第1社区综合文化服务中心",
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
    for username, full_name, hall_name, role in DEMO_STAFF:
        hall = Hall.objects.get(name=hall_name)
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": full_name, "is_staff": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        if not Membership.objects.filter(user=user, hall=hall).exists():
            services.membership_create(user=user, hall=hall, role=role)
        logins.append((username, DEMO_PASSWORD, f"{hall.name} · {role.label}"))
    return logins
