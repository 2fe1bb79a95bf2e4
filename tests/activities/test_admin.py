"""The activity, booking and notice admins, tried as the right and the wrong member of the cast."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services
from activities.models import Activity, Booking, Category, Notice

from .factories import published_activity

pytestmark = pytest.mark.django_db

CHECKBOX = "_selected_action"


def url(model, view, *args):
    return reverse(f"admin:activities_{model._meta.model_name}_{view}", args=args)


def book(activity, phone, *, name="张三", seats=1):
    return services.booking_create(activity_id=activity.pk, name=name, phone=phone, seats=seats)


@pytest.fixture
def world(cast):
    """An activity of 关上 branch with two bookings, and a notice of the branch."""
    activity = published_activity(cast.branch, capacity=2, title="花灯戏专场演出")
    confirmed = book(activity, "13800138000", seats=2)
    waiting = book(activity, "13900139000", name="李四")
    notice = Notice.objects.create(
        hall=cast.branch,
        title="春节开放时间调整",
        body="初一至初三闭馆。",
        published_at=timezone.now(),
    )
    cast.activity, cast.confirmed, cast.waiting, cast.notice = activity, confirmed, waiting, notice
    return cast


def objects(world):
    return [
        (Activity, world.activity),
        (Booking, world.confirmed),
        (Notice, world.notice),
    ]


def local_parts(dt):
    dt = timezone.localtime(dt)
    return dt.strftime("%Y-%m-%d"), dt.strftime("%H:%M:%S")


def activity_form(hall, **overrides):
    start = timezone.now() + timedelta(days=10)
    end = start + timedelta(hours=2)
    data = {
        "hall": hall.pk,
        "venue_hall": "",
        "category": Category.LECTURE,
        "title": "非遗讲座",
        "description": "",
        "venue": "二楼多功能厅",
        "capacity": "30",
        "max_seats_per_booking": "2",
        "group_limit": "0",
        "completion_share": "75",
        # The sessions inline (a course's 课次): none.
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
        "_save": "保存",
    }
    for name, value in [("start", start), ("end", end)]:
        data[f"{name}_0"], data[f"{name}_1"] = local_parts(value)
    for name in ("booking_opens", "booking_closes", "cancel_deadline"):
        data[f"{name}_0"] = data[f"{name}_1"] = ""
    data.update(overrides)
    return data


# --- Who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["branch_staff", "county_director", "county_official"])
def test_staff_in_scope_see_each_list_and_change_page(client, world, who):
    client.force_login(getattr(world, who))
    for model, obj in objects(world):
        listed = client.get(url(model, "changelist")).context["cl"].result_list
        assert obj in list(listed), model
        assert client.get(url(model, "change", obj.pk)).status_code == 200, model


@pytest.mark.parametrize("who", ["other_branch_staff", "other_county_director"])
def test_staff_out_of_scope_neither_list_nor_open_nor_export(client, world, who):
    client.force_login(getattr(world, who))
    for model, obj in objects(world):
        response = client.get(url(model, "changelist"))
        assert response.status_code == 200
        assert obj not in list(response.context["cl"].result_list), model
        assert client.get(url(model, "change", obj.pk)).status_code == 404, model
        assert client.post(url(model, "change", obj.pk), {}).status_code == 404, model
    assert client.get(url(Activity, "signup", world.activity.pk)).status_code == 404


@pytest.mark.parametrize("who", ["other_branch_staff", "other_county_director"])
def test_actions_out_of_scope_touch_nothing(client, world, who):
    client.force_login(getattr(world, who))
    for action in ("publish_activities", "cancel_activities"):
        client.post(
            url(Activity, "changelist"),
            {"action": action, CHECKBOX: [world.activity.pk], "confirm": "yes"},
        )
    client.post(
        url(Booking, "changelist"), {"action": "check_in_bookings", CHECKBOX: [world.confirmed.pk]}
    )
    world.activity.refresh_from_db()
    world.confirmed.refresh_from_db()
    assert world.activity.status == Activity.Status.PUBLISHED
    assert world.confirmed.status == Booking.Status.CONFIRMED
    assert world.confirmed.checked_in_at is None


def test_the_official_reads_but_every_write_is_403(client, world):
    client.force_login(world.county_official)
    page = client.get(url(Activity, "change", world.activity.pk))
    assert page.context["has_change_permission"] is False
    for model, obj in objects(world):
        assert client.post(url(model, "change", obj.pk), {"title": "改"}).status_code == 403
        assert client.get(url(model, "add")).status_code == 403
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    for action in ("publish_activities", "cancel_activities"):
        response = client.post(
            url(Activity, "changelist"),
            {"action": action, CHECKBOX: [world.activity.pk], "confirm": "yes"},
        )
        assert response.status_code == 403
    response = client.post(
        url(Booking, "changelist"), {"action": "check_in_bookings", CHECKBOX: [world.confirmed.pk]}
    )
    assert response.status_code == 403
    world.activity.refresh_from_db()
    world.confirmed.refresh_from_db()
    assert world.activity.status == Activity.Status.PUBLISHED
    assert world.confirmed.checked_in_at is None
    assert Notice.objects.get(pk=world.notice.pk).title == "春节开放时间调整"
    # Reading includes the sign-up list, and the write actions are not offered.
    assert client.get(url(Activity, "signup", world.activity.pk)).status_code == 200
    actions = dict(
        client.get(url(Activity, "changelist")).context["action_form"].fields["action"].choices
    )
    assert "publish_activities" not in actions and "cancel_activities" not in actions


# --- Activity form -------------------------------------------------------------------------------


def test_hall_dropdowns_hold_only_the_scope(client, world):
    client.force_login(world.branch_staff)
    form = client.get(url(Activity, "add")).context["adminform"].form
    mine = {world.branch.pk, world.point.pk, world.point2.pk}
    assert {h.pk for h in form.fields["hall"].queryset} == mine
    assert {h.pk for h in form.fields["venue_hall"].queryset} == mine
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "activities", "model_name": "activity", "field_name": "hall", "term": ""},
    ).json()["results"]
    assert {int(r["id"]) for r in found} == mine

    before = Activity.objects.count()
    response = client.post(url(Activity, "add"), activity_form(world.other_branch))
    assert response.status_code == 200
    assert "hall" in response.context["adminform"].form.errors
    assert Activity.objects.count() == before


def test_an_activity_is_created_through_the_form(client, world):
    client.force_login(world.branch_staff)
    response = client.post(url(Activity, "add"), activity_form(world.branch))
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity = Activity.objects.get(title="非遗讲座")
    assert activity.status == Activity.Status.DRAFT
    assert activity.venue_hall == world.branch
    assert activity.created_by == world.branch_staff
    assert activity.capacity == 30


def test_bad_dates_are_a_form_error_and_nothing_is_saved(client, world):
    client.force_login(world.branch_staff)
    start = timezone.now() + timedelta(days=10)
    bad = activity_form(world.branch)
    bad["end_0"], bad["end_1"] = local_parts(start - timedelta(days=1))
    bad["start_0"], bad["start_1"] = local_parts(start)
    before = Activity.objects.count()
    response = client.post(url(Activity, "add"), bad)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["end"] == ["结束时间必须晚于开始时间。"]
    assert Activity.objects.count() == before

    closes_late = activity_form(world.branch)
    closes_late["booking_closes_0"], closes_late["booking_closes_1"] = local_parts(
        start + timedelta(days=5)
    )
    response = client.post(url(Activity, "add"), closes_late)
    assert response.context["adminform"].form.errors["booking_closes"] == [
        "预约最迟在活动开始时截止。"
    ]
    assert Activity.objects.count() == before


def test_the_venue_must_lie_below_the_organiser_the_service_decides(client, world):
    # The county director may pick both halls, so only the service's rule can refuse this.
    client.force_login(world.county_director)
    wrong = activity_form(
        world.branch, category=Category.MOBILE, venue_hall=world.other_branch_point.pk
    )
    response = client.post(url(Activity, "add"), wrong)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["venue_hall"]
    assert not Activity.objects.filter(title="非遗讲座").exists()

    right = activity_form(world.branch, category=Category.MOBILE, venue_hall=world.point.pk)
    assert client.post(url(Activity, "add"), right).status_code == 302
    assert Activity.objects.get(title="非遗讲座").venue_hall == world.point


def test_the_change_form_saves_through_the_service_and_keeps_its_rules(client, world):
    client.force_login(world.branch_staff)
    activity = world.activity
    data = activity_form(world.branch, title=activity.title, capacity="3")
    for name in ("start", "end"):
        data[f"{name}_0"], data[f"{name}_1"] = local_parts(getattr(activity, name))
    data["max_seats_per_booking"] = "2"
    assert client.post(url(Activity, "change", activity.pk), data).status_code == 302
    activity.refresh_from_db()
    world.waiting.refresh_from_db()
    assert activity.capacity == 3
    # The service promoted the waiting party into the new seat.
    assert world.waiting.status == Booking.Status.CONFIRMED
    assert activity.seats_taken == 3

    response = client.post(url(Activity, "change", activity.pk), {**data, "capacity": "1"})
    assert response.context["adminform"].form.errors["capacity"] == [
        "已有 3 个座位被预约,座位数不能少于此数。"
    ]
    activity.refresh_from_db()
    assert activity.capacity == 3


def test_the_change_page_links_to_bookings_waiting_list_export_and_check_in(client, world):
    client.force_login(world.branch_staff)
    html = client.get(url(Activity, "change", world.activity.pk)).content.decode()
    pk = world.activity.pk
    assert f"{url(Booking, 'changelist')}?activity__id__exact={pk}" in html
    assert f"activity__id__exact={pk}&amp;status__exact=waitlisted" in html
    assert url(Activity, "signup", pk) in html
    assert reverse("activities_staff:checkin_activity", args=[pk]) in html

    waiting = client.get(
        url(Booking, "changelist"), {"activity__id__exact": pk, "status__exact": "waitlisted"}
    )
    assert list(waiting.context["cl"].result_list) == [world.waiting]


# --- Actions -------------------------------------------------------------------------------------


def test_publish_action_publishes_drafts_and_reports_the_rest(client, world):
    draft = services.activity_create(
        hall=world.branch,
        category=Category.READING,
        title="读书会",
        start=timezone.now() + timedelta(days=2),
        end=timezone.now() + timedelta(days=2, hours=1),
        capacity=20,
    )
    client.force_login(world.branch_staff)
    response = client.post(
        url(Activity, "changelist"),
        {"action": "publish_activities", CHECKBOX: [draft.pk, world.activity.pk]},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert "已发布 1 个活动。" in shown
    assert "1 个活动不是草稿,未发布。" in shown
    draft.refresh_from_db()
    assert draft.status == Activity.Status.PUBLISHED


def test_cancel_action_asks_first_then_cancels_the_bookings_and_keeps_them(client, world):
    client.force_login(world.branch_staff)
    ask = client.post(
        url(Activity, "changelist"),
        {"action": "cancel_activities", CHECKBOX: [world.activity.pk]},
    )
    assert ask.status_code == 200
    assert "花灯戏专场演出" in ask.content.decode()
    world.activity.refresh_from_db()
    assert world.activity.status == Activity.Status.PUBLISHED

    done = client.post(
        url(Activity, "changelist"),
        {
            "action": "cancel_activities",
            CHECKBOX: [world.activity.pk],
            "confirm": "yes",
            "reason": "演员生病",
        },
        follow=True,
    )
    assert "已取消 1 个活动,其预约已一并取消并保留记录。" in [
        str(m) for m in done.context["messages"]
    ]
    world.activity.refresh_from_db()
    assert world.activity.status == Activity.Status.CANCELLED
    bookings = Booking.objects.filter(activity=world.activity)
    assert bookings.count() == 2
    assert {(b.status, b.cancel_reason) for b in bookings} == {
        (Booking.Status.CANCELLED, "演员生病")
    }
    again = client.post(
        url(Activity, "changelist"),
        {"action": "cancel_activities", CHECKBOX: [world.activity.pk], "confirm": "yes"},
        follow=True,
    )
    assert "所选活动都已取消,无需再操作。" in [str(m) for m in again.context["messages"]]
    # A cancelled activity is on record as it was: no more edits.
    assert client.post(url(Activity, "change", world.activity.pk), {}).status_code == 403


def test_there_is_no_delete_of_activities_or_bookings(client, world):
    client.force_login(world.county_director)
    for model, obj in objects(world)[:2]:
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        actions = client.get(url(model, "changelist")).context["action_form"].fields["action"]
        assert "delete_selected" not in dict(actions.choices)
    assert Activity.objects.filter(pk=world.activity.pk).exists()


# --- Sign-up list --------------------------------------------------------------------------------


def test_the_signup_list_downloads_as_xlsx_and_reads_back(client, world):
    services.booking_check_in(code=world.confirmed.code, by_user=world.branch_staff)
    client.force_login(world.county_director)
    response = client.get(url(Activity, "signup", world.activity.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(io.BytesIO(response.content))["报名名单"]
    assert "花灯戏专场演出" in sheet["A1"].value
    assert [c.value for c in sheet[2]][:6] == [
        "序号",
        "预约码",
        "姓名",
        "手机号码",
        "座位数",
        "状态",
    ]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        (world.confirmed.code, "张三", "138****8000", 2, "已确认"),
        (world.waiting.code, "李四", "139****9000", 1, "候补中"),
    ]
    assert rows[0][7] is not None and rows[1][7] is None


def test_the_signup_list_of_a_missing_activity_is_404(client, world):
    client.force_login(world.superuser)
    assert client.get(url(Activity, "signup", 999999)).status_code == 404


# --- Bookings ------------------------------------------------------------------------------------


def test_bookings_cannot_be_added_or_edited_directly(client, world):
    client.force_login(world.branch_staff)
    assert client.get(url(Booking, "add")).status_code == 403
    page = client.get(url(Booking, "change", world.waiting.pk))
    assert page.status_code == 200
    assert "adminform" in page.context
    assert not page.context["adminform"].form.fields  # everything read-only
    client.post(
        url(Booking, "change", world.waiting.pk),
        {"status": Booking.Status.CONFIRMED, "seats": 4},
    )
    world.waiting.refresh_from_db()
    assert (world.waiting.status, world.waiting.seats) == (Booking.Status.WAITLISTED, 1)


def test_bookings_filter_by_status_and_search_by_code_phone_or_name(client, world):
    client.force_login(world.branch_staff)
    listed = url(Booking, "changelist")
    by_status = client.get(listed, {"status__exact": "confirmed"}).context["cl"].result_list
    assert list(by_status) == [world.confirmed]
    for term in (world.waiting.code.lower(), "13900139000", "9000", "李四"):
        assert list(client.get(listed, {"q": term}).context["cl"].result_list) == [world.waiting], (
            term
        )


def test_check_in_action_uses_the_service(client, world):
    client.force_login(world.branch_staff)
    response = client.post(
        url(Booking, "changelist"),
        {"action": "check_in_bookings", CHECKBOX: [world.confirmed.pk, world.waiting.pk]},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert "已签到 1 个预约。" in shown
    assert any(world.waiting.code in m and "候补中" in m for m in shown)
    world.confirmed.refresh_from_db()
    world.waiting.refresh_from_db()
    assert world.confirmed.checked_in_by == world.branch_staff
    assert world.waiting.checked_in_at is None


# --- Notices -------------------------------------------------------------------------------------


def test_notices_are_written_for_halls_in_scope_only(client, world):
    client.force_login(world.branch_staff)
    when = local_parts(timezone.now())
    data = {
        "title": "新开设书法班",
        "body": "每周六上午。",
        "published_at_0": when[0],
        "published_at_1": when[1],
    }
    form = client.get(url(Notice, "add")).context["adminform"].form
    assert {h.pk for h in form.fields["hall"].queryset} == {
        world.branch.pk,
        world.point.pk,
        world.point2.pk,
    }
    refused = client.post(url(Notice, "add"), {**data, "hall": world.other_branch.pk})
    assert "hall" in refused.context["adminform"].form.errors
    assert client.post(url(Notice, "add"), {**data, "hall": world.point.pk}).status_code == 302
    notice = Notice.objects.get(title="新开设书法班")
    assert (notice.hall, notice.created_by) == (world.point, world.branch_staff)


# --- Query counts --------------------------------------------------------------------------------


def _more_activities(hall, n):
    for i in range(n):
        activity = published_activity(hall, capacity=5, title=f"培训{i}")
        book(activity, f"1370000{i:04d}")


@pytest.mark.parametrize("model, first", [(Activity, 2), (Booking, 1)])
def test_changelist_queries_do_not_grow_with_rows(
    client, world, django_assert_num_queries, model, first
):
    # The world holds 1 activity with 2 bookings; each added activity brings 1 booking.
    _more_activities(world.branch, first)
    client.force_login(world.county_director)
    listed = url(model, "changelist")
    client.get(listed)  # warm the session row
    with CaptureQueriesContext(connection) as three:
        page = client.get(listed)
    assert len(page.context["cl"].result_list) == 3
    _more_activities(world.branch, 27)
    with django_assert_num_queries(len(three.captured_queries)):
        page = client.get(listed)
    assert len(page.context["cl"].result_list) == 30
    # session, user, scope, count, rows, and the filters' and date hierarchy's own reads
    assert len(three.captured_queries) <= 10


def test_validating_the_activity_form_writes_nothing(world):
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = world.branch_staff
    form_class = admin.site._registry[Activity].get_form(request, None, change=False)
    data = activity_form(world.branch)
    data.pop("_save")
    before = Activity.objects.count()
    form = form_class(data=data)
    assert form.is_valid(), form.errors
    assert Activity.objects.count() == before


def test_notices_are_written_through_the_services(client, world):
    client.force_login(world.branch_staff)
    start = timezone.now()
    data = {"hall": world.branch.pk, "title": "闭馆通知", "body": "周一闭馆。", "pinned": "on"}
    data["published_at_0"], data["published_at_1"] = local_parts(start)
    assert client.post(url(Notice, "add"), data).status_code == 302
    notice = Notice.objects.get(title="闭馆通知")
    assert notice.created_by == world.branch_staff and notice.pinned

    data["title"] = "闭馆通知(更正)"
    response = client.post(url(Notice, "change", notice.pk), data)
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.title == "闭馆通知(更正)" and notice.created_by == world.branch_staff


def test_a_new_activity_says_it_is_a_draft_and_is_published_from_its_own_page(client, world):
    client.force_login(world.branch_staff)
    response = client.post(url(Activity, "add"), activity_form(world.branch), follow=True)
    activity = Activity.objects.get(title="非遗讲座")
    # Saved, it opens its own page, which says it is a draft and offers 发布.
    assert response.redirect_chain[-1][0] == url(Activity, "change", activity.pk)
    html = response.content.decode()
    assert "已保存为草稿" in html and 'id="activity-publish-button"' in html
    published = client.post(url(Activity, "publish", activity.pk), follow=True)
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PUBLISHED
    assert "已发布" in published.content.decode()
    assert 'id="activity-publish-button"' not in published.content.decode()
    # Once more: not a draft any longer, said as an error, nothing changes.
    again = client.post(url(Activity, "publish", activity.pk), follow=True)
    assert "只有草稿状态的活动可以发布。" in again.content.decode()


def test_publishing_out_of_scope_or_as_an_official_is_refused(client, world):
    draft = services.activity_create(
        hall=world.branch,
        category=Category.LECTURE,
        title="草稿讲座",
        start=timezone.now() + timedelta(days=5),
        end=timezone.now() + timedelta(days=5, hours=1),
        capacity=10,
    )
    client.force_login(world.other_county_director)
    assert client.post(url(Activity, "publish", draft.pk)).status_code == 404
    client.force_login(world.county_official)
    assert client.post(url(Activity, "publish", draft.pk)).status_code == 403
    draft.refresh_from_db()
    assert draft.status == Activity.Status.DRAFT
