"""Demo data of the digital culture hall: a few resources of each kind with small media files
from ``fixtures/digital/`` (a six-second video, a five-second audio, a two-page PDF, three
pictures), a live stream coming up and one ended with its replay, and last year's plays.
Deterministic apart from the dates, which follow today; a second run adds nothing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from network.models import Hall

from . import services
from .models import Audience, Kind, Resource, Topic, Use

FILES = Path(settings.BASE_DIR) / "fixtures" / "digital"


def _fixture(name: str) -> ContentFile:
    return ContentFile((FILES / name).read_bytes(), name=name)


def _checked(name: str, kind: str):
    """A fixture file through the same check as an upload."""
    return services.check_resource_file(kind=kind, upload=_fixture(name))


def _picture(name: str):
    return services.check_picture(_fixture(name))


@transaction.atomic
def seed_digital(centre: Hall) -> int:
    existing = Resource.objects.filter(hall__tree_id=centre.tree_id)
    if existing.exists():
        return existing.count()
    by = get_user_model().objects.filter(username="guandu_director").first()
    halls = {
        name: Hall.objects.get(tree_id=centre.tree_id, name=name)
        for name in ("官渡区文化馆", "五华区文化馆", "关上街道综合文化站")
    }
    guandu, wuhua, guanshang = halls.values()
    now = timezone.now()
    evening = timezone.localtime(now).replace(hour=19, minute=30, second=0, microsecond=0)
    made = []

    def resource(hall, kind, title, *, file=None, cover=None, **fields) -> Resource:
        saved = services.resource_save(
            resource=Resource(hall=hall, kind=kind, title=title, **fields),
            by_user=by,
            file=_checked(file, kind) if file else None,
            cover=_picture(cover) if cover else None,
        )
        made.append(saved)
        return saved

    resource(
        guandu, Kind.VIDEO, "花灯基本功(第一课):扇子与手巾", file="demo-video.mp4",
        cover="demo-picture-1.jpg", topic=Topic.COURSE, audience=Audience.ADULTS, duration=6,
        tags="花灯,慕课,基本功", licence="本馆原创",
        summary="官渡区文化馆花灯培训班的第一课录像:扇子和手巾的基本动作。",
    )  # fmt: skip
    resource(
        wuhua, Kind.VIDEO, "原创花灯小戏《古渡新韵》演出录像", file="demo-video.mp4",
        topic=Topic.PERFORMANCE, duration=6, tags="花灯,演出", licence="已获授权",
    )  # fmt: skip
    resource(
        guandu, Kind.AUDIO, "滇剧唱段欣赏:丝弦腔", file="demo-audio.mp3",
        topic=Topic.HERITAGE, audience=Audience.ELDERLY, duration=5, tags="滇剧,非遗",
    )  # fmt: skip
    resource(
        guandu, Kind.BOOK, "滇剧唱腔入门", file="demo-book.pdf", cover="demo-picture-2.jpg",
        topic=Topic.READING, tags="滇剧,电子书", summary="滇剧的三种声腔和入门练习。",
    )  # fmt: skip
    album = resource(
        guanshang, Kind.PICTURES, "关上街道民俗图集", topic=Topic.HERITAGE, tags="民俗,图集",
    )  # fmt: skip
    for i, caption in enumerate(("花灯", "刺绣", "书法"), start=1):
        services.picture_add(
            resource=album, image=_picture(f"demo-picture-{i}.jpg"), caption=caption
        )
    resource(
        guandu, Kind.LIVE, "元旦文艺晚会(直播)", topic=Topic.PERFORMANCE,
        stream_url="https://live.example.cn/kunming/guandu-2027.m3u8",
        live_start=evening + timedelta(days=3), live_end=evening + timedelta(days=3, hours=2),
    )  # fmt: skip
    resource(
        guandu, Kind.LIVE, "非遗讲座:乌铜走银(直播回放)", topic=Topic.LECTURE,
        file="demo-video.mp4", stream_url="https://live.example.cn/kunming/guandu-talk.m3u8",
        live_start=evening - timedelta(days=10), live_end=evening - timedelta(days=10, hours=-1),
    )  # fmt: skip
    for item in made:
        services.resource_publish(resource=item, now=now - timedelta(days=400))
    _last_years_uses(made, timezone.localdate(now).year - 1)
    return len(made)


def _last_years_uses(resources: list[Resource], year: int) -> None:
    """A year of plays, a little each month, so that last year's 线上服务人次 is not empty."""
    rows = []
    for n, item in enumerate(resources):
        for month in range(1, 13):
            day = date(year, month, 1 + (n * 3) % 27)
            rows.append(Use(resource=item, day=day, views=40 + 7 * n + month, plays=25 + 5 * n))
    Use.objects.bulk_create(rows)
    for item in resources:
        totals = [u for u in rows if u.resource is item]
        Resource.objects.filter(pk=item.pk).update(
            views=sum(u.views for u in totals), plays=sum(u.plays for u in totals)
        )
