"""Dispatched instructors, secondments, the training archive and cultural volunteers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from network import services
from network.models import (
    AssignmentKind,
    Membership,
    Role,
    StaffAssignment,
    Training,
    TrainingAttendance,
    Volunteer,
)

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)
JUN = dt.date(2026, 6, 30)


def _errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# --- Assignments ----------------------------------------------------------------------------------


def test_an_instructor_with_an_account_becomes_the_branch_deputy(cast):
    instructor = services.staff_create(
        username="instructor", hall=cast.county, role=Role.INSTRUCTOR
    )
    assignment = services.assignment_create(
        kind=AssignmentKind.INSTRUCTOR,
        from_hall=cast.county,
        to_hall=cast.branch,
        user=instructor,
        start_date=JAN,
    )
    assert assignment.person == "instructor"
    assert Membership.objects.get(user=instructor, hall=cast.branch).role == Role.DEPUTY
    # A second record for the same branch does not duplicate the post.
    services.assignment_create(
        kind=AssignmentKind.INSTRUCTOR,
        from_hall=cast.county,
        to_hall=cast.branch,
        user=instructor,
        start_date=JUN,
    )
    assert Membership.objects.filter(user=instructor, hall=cast.branch).count() == 1


def test_secondments_up_and_down_follow_the_network(cast):
    up = services.assignment_create(
        kind=AssignmentKind.SECOND_UP,
        from_hall=cast.branch,
        to_hall=cast.county,
        person_name="孙八",
        start_date=JAN,
        end_date=JUN,
    )
    down = services.assignment_create(
        kind=AssignmentKind.SECOND_DOWN,
        from_hall=cast.county,
        to_hall=cast.point,
        person_name="周九",
        start_date=JAN,
    )
    assert {up.pk, down.pk} == set(StaffAssignment.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "kind, source, target, field, words",
    [
        (AssignmentKind.INSTRUCTOR, "branch", "point", "from_hall", "总馆"),
        (AssignmentKind.INSTRUCTOR, "county", "other_county_branch", "to_hall", "官渡区文化馆"),
        (AssignmentKind.INSTRUCTOR, "county", "point", "to_hall", "分馆"),
        (AssignmentKind.SECOND_UP, "county", "centre", "from_hall", "分馆或基层服务点"),
        (AssignmentKind.SECOND_UP, "branch", "other_county", "to_hall", "所属的总馆"),
        (AssignmentKind.SECOND_DOWN, "other_county", "branch", "to_hall", "五华区文化馆"),
    ],
)
def test_assignments_between_the_wrong_halls_are_refused(cast, kind, source, target, field, words):
    with pytest.raises(ValidationError) as exc:
        services.assignment_create(
            kind=kind,
            from_hall=getattr(cast, source),
            to_hall=getattr(cast, target),
            person_name="某人",
            start_date=JAN,
        )
    assert words in " ".join(_errors(exc)[field])
    assert not StaffAssignment.objects.exists()


def test_an_assignment_needs_a_person_and_an_end_after_its_start(cast):
    with pytest.raises(ValidationError) as exc:
        services.assignment_create(
            kind=AssignmentKind.INSTRUCTOR,
            from_hall=cast.county,
            to_hall=cast.branch,
            start_date=JUN,
            end_date=JAN,
        )
    errors = _errors(exc)
    assert errors["end_date"] == ["结束日期不能早于开始日期。"]
    assert errors["person_name"] == ["请选择账号或填写姓名。"]
    assert not StaffAssignment.objects.exists()


def test_an_assignment_update_checks_the_dates_again(cast):
    assignment = services.assignment_create(
        kind=AssignmentKind.INSTRUCTOR,
        from_hall=cast.county,
        to_hall=cast.branch,
        person_name="吴十",
        start_date=JUN,
    )
    with pytest.raises(ValidationError) as exc:
        services.assignment_update(assignment=assignment, end_date=JAN)
    assert "end_date" in _errors(exc)
    assert StaffAssignment.objects.get(pk=assignment.pk).end_date is None
    services.assignment_update(assignment=assignment, end_date=dt.date(2026, 12, 31))
    assert StaffAssignment.objects.get(pk=assignment.pk).end_date == dt.date(2026, 12, 31)


# --- Training archive --------------------------------------------------------------------------


def _training(cast, **overrides):
    fields = {
        "hall": cast.county,
        "title": "分馆负责人业务培训",
        "start_date": dt.date(2026, 4, 1),
        "end_date": dt.date(2026, 4, 3),
        "hours": Decimal("16"),
        "teacher": "王老师",
        "content": "总分馆制服务标准、数字文化馆使用",
    }
    return services.training_create(**{**fields, **overrides})


def test_a_training_keeps_who_attended_and_for_how_long(cast):
    training = _training(cast)
    services.training_attendance_add(
        training=training, name="关上站长", hall=cast.branch, hours=Decimal("16")
    )
    services.training_attendance_add(
        training=training, name="社区管理员", hall=cast.point, hours=Decimal("8.5")
    )
    assert sorted(training.attendances.values_list("hours", flat=True)) == [
        Decimal("8.5"),
        Decimal("16"),
    ]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"end_date": dt.date(2026, 3, 1)}, "end_date"),
        ({"hours": Decimal("0")}, "hours"),
        ({"hall": "branch"}, "hall"),
        ({"title": ""}, "title"),
    ],
)
def test_a_training_with_bad_input_is_refused(cast, overrides, field):
    if overrides.get("hall") == "branch":
        overrides = {"hall": cast.branch}
    with pytest.raises(ValidationError) as exc:
        _training(cast, **overrides)
    assert field in _errors(exc)
    assert not Training.objects.exists()


def test_attendance_rows_are_checked_against_their_training(cast):
    training = _training(cast)
    with pytest.raises(ValidationError) as exc:
        services.training_attendance_add(
            training=training, name="多算学时", hall=cast.branch, hours=Decimal("20")
        )
    assert "16" in _errors(exc)["hours"][0]
    with pytest.raises(ValidationError) as exc:
        services.training_attendance_add(
            training=training, name="外县人员", hall=cast.other_county_point, hours=Decimal("4")
        )
    assert "官渡区文化馆" in _errors(exc)["hall"][0]
    services.training_attendance_add(
        training=training, name="关上站长", hall=cast.branch, hours=Decimal("4")
    )
    with pytest.raises(ValidationError):
        services.training_attendance_add(
            training=training, name="关上站长", hall=cast.branch, hours=Decimal("4")
        )
    assert TrainingAttendance.objects.count() == 1


def test_shortening_a_training_below_an_attendance_is_refused(cast):
    training = _training(cast)
    services.training_attendance_add(
        training=training, name="关上站长", hall=cast.branch, hours=Decimal("16")
    )
    with pytest.raises(ValidationError) as exc:
        services.training_update(training=training, hours=Decimal("8"))
    assert "hours" in _errors(exc)
    assert Training.objects.get(pk=training.pk).hours == Decimal("16")


def test_the_training_admin_saves_attendance_rows_through_the_services(client, cast):
    client.force_login(cast.county_director)
    prefix = "attendances"
    data = {
        "hall": cast.county.pk,
        "title": "村级文化管理员培训",
        "start_date": "2026-05-10",
        "end_date": "2026-05-10",
        "hours": "6",
        "teacher": "李老师",
        "content": "",
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-name": "关上一社区管理员",
        f"{prefix}-0-hall": cast.point.pk,
        f"{prefix}-0-hours": "6",
        f"{prefix}-1-name": "多报学时",
        f"{prefix}-1-hall": cast.point2.pk,
        f"{prefix}-1-hours": "9",
    }
    url = reverse("admin:network_training_add")
    response = client.post(url, data)
    assert response.status_code == 200  # the second row asks for more hours than the course
    assert not Training.objects.exists()
    response = client.post(url, {**data, f"{prefix}-1-hours": "3"})
    assert response.status_code == 302
    training = Training.objects.get()
    assert sorted(training.attendances.values_list("name", flat=True)) == [
        "关上一社区管理员",
        "多报学时",
    ]


# --- Volunteers -------------------------------------------------------------------------------


def test_a_volunteer_is_registered_once_per_hall(cast):
    volunteer = services.volunteer_register(
        hall=cast.point, name="陈芳", phone="13912345678", skills="广场舞、合唱"
    )
    assert volunteer.active and volunteer.registered_on
    with pytest.raises(ValidationError):
        services.volunteer_register(hall=cast.point, name="陈芳", phone="13912345678")
    services.volunteer_register(hall=cast.point2, name="陈芳", phone="13912345678")
    services.volunteer_update(volunteer=volunteer, active=False)
    assert not Volunteer.objects.get(pk=volunteer.pk).active


def test_a_volunteer_with_a_bad_phone_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        services.volunteer_register(hall=cast.point, name="陈芳", phone="call me")
    assert "phone" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        services.volunteer_register(hall=cast.point, name="", phone="13912345678")
    assert "name" in _errors(exc)
    assert not Volunteer.objects.exists()


def test_the_volunteer_admin_shows_bad_input_as_form_errors(client, cast):
    client.force_login(cast.branch_staff)
    url = reverse("admin:network_volunteer_add")
    response = client.post(
        url,
        {"hall": cast.point.pk, "name": "陈芳", "phone": "电话", "registered_on": "2026-01-05"},
    )
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    response = client.post(
        url,
        {
            "hall": cast.point.pk,
            "name": "陈芳",
            "phone": "13912345678",
            "registered_on": "2026-01-05",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Volunteer.objects.get().hall_id == cast.point.pk


def test_the_assignment_admin_names_the_bad_dates(client, cast):
    client.force_login(cast.county_director)
    response = client.post(
        reverse("admin:network_staffassignment_add"),
        {
            "kind": AssignmentKind.INSTRUCTOR,
            "person_name": "郑一",
            "from_hall": cast.county.pk,
            "to_hall": cast.branch.pk,
            "start_date": "2026-06-01",
            "end_date": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["end_date"] == ["结束日期不能早于开始日期。"]
    assert not StaffAssignment.objects.exists()


def test_staff_accounts_count_only_staff_of_the_hall(cast):
    from network.models import Hall
    from network.selectors import with_staff_accounts

    services.staff_member_add(username="watcher", hall=cast.branch, role=Role.OFFICIAL)
    rows = {
        h.name: (h.account_staff, h.account_posts)
        for h in with_staff_accounts(Hall.objects.filter(pk__in=[cast.branch.pk, cast.point.pk]))
    }
    assert rows["关上街道综合文化站"] == (1, 0)  # the official does not count
    assert rows["关上一社区服务中心"] == (1, 1)  # its village manager holds the post
