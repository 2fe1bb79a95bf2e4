"""The digital culture hall: residents browse, watch (seeking by HTTP ranges), read and are
counted without being identified; staff manage resources within their scope; the plays roll up
into the annual 线上服务人次; other systems read the feed from the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activities.digital import services
from activities.digital.models import Kind, LiveState, Resource, Topic, Use
from common.cache import ProcessMemory
from evaluation.returns.selectors import portal_figures

from .factories import FIXTURES, fixture, png, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(cast):
    return {
        "lesson": published(cast.branch, title="花灯基本功", topic=Topic.COURSE, tags="花灯,慕课"),
        "song": published(
            cast.county, Kind.AUDIO, "滇剧唱段", file="demo-audio.mp3", topic=Topic.HERITAGE
        ),
        "book": published(cast.other_county, Kind.BOOK, "滇剧入门", file="demo-book.pdf"),
        "draft": services.resource_save(
            resource=Resource(hall=cast.branch, kind=Kind.VIDEO, title="未发布的录像"),
            file=services.check_resource_file(kind=Kind.VIDEO, upload=fixture("demo-video.mp4")),
        ),
    }


def titles(response) -> set[str]:
    return {r.title for r in response.context["page"]}


# --- Public pages -------------------------------------------------------------------------------


def test_residents_browse_and_filter_published_resources(client, cast, shelf):
    url = reverse("digital:resource_list")
    response = client.get(url)
    assert response.status_code == 200
    assert titles(response) == {"花灯基本功", "滇剧唱段", "滇剧入门"}
    assert titles(client.get(url, {"within": cast.county.pk})) == {"花灯基本功", "滇剧唱段"}
    assert titles(client.get(url, {"kind": "audio"})) == {"滇剧唱段"}
    assert titles(client.get(url, {"topic": "course"})) == {"花灯基本功"}
    assert titles(client.get(url, {"q": "慕课"})) == {"花灯基本功"}
    # A kind that does not exist is a form error, and the list stays usable.
    response = client.get(url, {"kind": "hologram"})
    assert response.status_code == 200 and "没有这种类型" in response.content.decode()


def test_the_list_costs_the_same_for_more_resources(client, cast, shelf, django_assert_num_queries):
    url = reverse("digital:resource_list")
    # The counties of the area filter, the count, the page (with halls), the live streams.
    with django_assert_num_queries(4):
        client.get(url)
    for n in range(5):
        published(cast.point, title=f"录像{n}")
    # The counties are kept a minute in each process (activities.selectors.area_counties):
    # pin the full cost.
    ProcessMemory.clear_all()
    with django_assert_num_queries(4):
        client.get(url)


def test_a_page_counts_its_view_and_a_play_is_counted_once_per_post(client, shelf):
    lesson = shelf["lesson"]
    page = client.get(reverse("digital:resource_detail", args=[lesson.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<video" in html and reverse("digital:resource_file", args=[lesson.pk]) in html
    play = reverse("digital:resource_play", args=[lesson.pk])
    assert client.post(play).status_code == 204
    lesson.refresh_from_db()
    assert (lesson.views, lesson.plays) == (1, 1)
    use = Use.objects.get(resource=lesson)
    assert (use.day, use.views, use.plays) == (timezone.localdate(), 1, 1)
    # Drafts are not there for residents.
    draft = shelf["draft"]
    assert client.get(reverse("digital:resource_detail", args=[draft.pk])).status_code == 404
    assert client.post(reverse("digital:resource_play", args=[draft.pk])).status_code == 404
    assert client.get(reverse("digital:resource_file", args=[draft.pk])).status_code == 404


def test_one_address_cannot_inflate_the_plays(client, shelf, settings):
    settings.DIGITAL_PLAYS_PER_IP = 3
    play = reverse("digital:resource_play", args=[shelf["song"].pk])
    for _ in range(6):
        assert client.post(play).status_code == 204
    shelf["song"].refresh_from_db()
    assert shelf["song"].plays == 3


def test_media_are_served_by_ranges_so_a_player_can_seek(client, shelf):
    url = reverse("digital:resource_file", args=[shelf["lesson"].pk])
    whole = (FIXTURES / "demo-video.mp4").read_bytes()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == whole
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert b"".join(part.streaming_content) == whole[100:200]
    tail = client.get(url, headers={"Range": "bytes=-50"})
    assert b"".join(tail.streaming_content) == whole[-50:]
    rest = client.get(url, headers={"Range": f"bytes={len(whole) - 10}-"})
    assert b"".join(rest.streaming_content) == whole[-10:]
    beyond = client.get(url, headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"
    # A header that is not a single byte range gets the whole file.
    assert client.get(url, headers={"Range": "bytes=0-1,5-6"}).status_code == 200
    book = client.get(reverse("digital:resource_file", args=[shelf["book"].pk]))
    assert book["Content-Type"] == "application/pdf"


def test_live_streams_are_upcoming_live_then_ended(cast, client):
    start = timezone.now() + timedelta(hours=2)
    live = services.resource_save(
        resource=Resource(
            hall=cast.county, kind=Kind.LIVE, title="元旦晚会直播",
            stream_url="https://live.example.cn/a.m3u8", live_start=start,
            live_end=start + timedelta(hours=2),
        )
    )  # fmt: skip
    services.resource_publish(resource=live)
    assert live.live_state() == LiveState.UPCOMING
    assert live.live_state(start + timedelta(minutes=5)) == LiveState.LIVE
    assert live.live_state(start + timedelta(hours=3)) == LiveState.ENDED
    page = client.get(reverse("digital:resource_list")).content.decode()
    assert "即将开播" in page and "元旦晚会直播" in page
    detail = client.get(reverse("digital:resource_detail", args=[live.pk])).content.decode()
    assert "直播将于" in detail
    fed = client.get(f"/api/v1/digital/{live.pk}/").json()
    assert fed["stream_url"] == "https://live.example.cn/a.m3u8"
    # A live stream needs its address and start; an end before the start is refused.
    with pytest.raises(Exception) as refused:
        services.resource_save(
            resource=Resource(
                hall=cast.county, kind=Kind.LIVE, title="x", live_start=start,
                live_end=start - timedelta(hours=1),
            )
        )  # fmt: skip
    assert set(refused.value.message_dict) == {"stream_url", "live_end"}


# --- Figures ------------------------------------------------------------------------------------


def test_plays_roll_up_into_the_years_online_services(cast, shelf):
    lesson, song = shelf["lesson"], shelf["song"]
    Use.objects.create(resource=lesson, day=date(2025, 3, 1), plays=40, views=90)
    Use.objects.create(resource=lesson, day=date(2025, 12, 31), plays=2)
    Use.objects.create(resource=lesson, day=date(2026, 1, 1), plays=1000)
    Use.objects.create(resource=song, day=date(2025, 6, 1), plays=7)
    assert portal_figures(hall_id=cast.branch.pk, year=2025)["online_services"] == 42
    assert portal_figures(hall_id=cast.county.pk, year=2025)["online_services"] == 7


# --- Admin --------------------------------------------------------------------------------------


def _add(client, hall, **data):
    return client.post(
        reverse("admin:digital_resource_add"),
        {
            "hall": hall.pk, "kind": "video", "topic": "course", "audience": "all",
            "title": "新录像", **data,
        },
    )  # fmt: skip


def test_staff_upload_a_video_and_a_bad_upload_leaves_nothing(client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cast.branch_staff)
    video = SimpleUploadedFile("课.mp4", (FIXTURES / "demo-video.mp4").read_bytes())
    cover = SimpleUploadedFile("封面.png", png())
    response = _add(client, cast.branch, file=video, cover=cover)
    assert response.status_code == 302, response.context["adminform"].form.errors
    resource = Resource.objects.get(title="新录像")
    assert resource.content_type == "video/mp4" and resource.size == video.size
    assert resource.file.name.endswith(".mp4") and resource.cover.name.endswith(".jpg")
    assert resource.status == "draft"
    # A page passed off as a video: a form error, no row, no file.
    before = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    fake = SimpleUploadedFile("课2.mp4", b"<html><body>hi</body></html>")
    response = _add(client, cast.branch, title="冒充的录像", file=fake)
    assert response.status_code == 200
    assert "文件内容不是可接受的视频格式" in str(response.context["adminform"].form.errors)
    assert not Resource.objects.filter(title="冒充的录像").exists()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == before
    # No file at all for a video: the service says which field.
    response = _add(client, cast.branch, title="没有文件")
    assert "请上传视频文件" in str(response.context["adminform"].form.errors)


def test_publishing_from_the_admin(client, cast, shelf):
    client.force_login(cast.branch_staff)
    response = client.post(
        reverse("admin:digital_resource_changelist"),
        {"action": "publish", "_selected_action": [shelf["draft"].pk]},
    )
    assert response.status_code == 302
    shelf["draft"].refresh_from_db()
    assert shelf["draft"].status == "published" and shelf["draft"].published_at


def test_the_admin_keeps_to_the_scope(client, cast, shelf, django_assert_num_queries):
    change = reverse("admin:digital_resource_change", args=[shelf["book"].pk])
    client.force_login(cast.county_director)  # 官渡: the book is 五华's
    assert client.get(change).status_code == 404
    listed = client.get(reverse("admin:digital_resource_changelist"))
    assert {r.title for r in listed.context["cl"].result_list} == {
        "花灯基本功",
        "滇剧唱段",
        "未发布的录像",
    }
    # An official reads and changes nothing.
    client.force_login(cast.county_official)
    own = reverse("admin:digital_resource_change", args=[shelf["song"].pk])
    assert client.get(own).status_code == 200
    assert client.post(own, {"title": "改名"}).status_code == 403
    # The list costs the same for more rows.
    client.force_login(cast.county_director)
    with django_assert_num_queries(5) as first:
        client.get(reverse("admin:digital_resource_changelist"))
    for n in range(4):
        published(cast.point, title=f"更多{n}")
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(reverse("admin:digital_resource_changelist"))


# --- API ----------------------------------------------------------------------------------------


def test_the_api_lists_the_feed_with_filters(client, cast, shelf, django_assert_num_queries):
    url = "/api/v1/digital/"
    with django_assert_num_queries(2):  # the count and the page with its halls
        data = client.get(url).json()
    assert data["count"] == 3
    row = next(r for r in data["results"] if r["title"] == "花灯基本功")
    assert row["kind"] == "video" and row["tags"] == ["花灯", "慕课"]
    assert row["file_url"].endswith(reverse("digital:resource_file", args=[shelf["lesson"].pk]))
    # No stream: null, as the other addresses are when missing, never "" (not an address).
    assert row["stream_url"] is None
    assert {r["title"] for r in client.get(url, {"within": cast.county.pk}).json()["results"]} == {
        "花灯基本功",
        "滇剧唱段",
    }
    assert client.get(url, {"kind": "book"}).json()["count"] == 1
    assert client.get(url, {"q": "唱段"}).json()["count"] == 1
    bad = client.get(url, {"kind": "x", "within": 999999})
    assert bad.status_code == 400 and {"kind", "within"} <= set(bad.json())
    plays = f"{url}{shelf['song'].pk}/plays/"
    assert client.post(plays).status_code == 204
    assert client.post(f"{url}{shelf['draft'].pk}/plays/").status_code == 404
    shelf["song"].refresh_from_db()
    assert shelf["song"].plays == 1
    paths = client.get("/api/v1/schema/", {"format": "json"}).json()["paths"]
    assert "get" in paths["/api/v1/digital/"] and "post" in paths["/api/v1/digital/{id}/plays/"]
    parameters = {p["name"] for p in paths["/api/v1/digital/"]["get"]["parameters"]}
    assert {"within", "kind", "q"} <= parameters
