"""The evaluation admin as the right and the wrong accounts: yearly reports (entry, submission,
review, reopening, history), completeness, windows, schemes, scoring, inspections, exports."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from evaluation.returns import services as returns
from evaluation.returns.models import (
    FigureChange,
    ReturnKind,
    ReturnStatus,
    ReturnWindow,
    ServiceReturn,
)
from evaluation.scoring import services as scoring_services
from evaluation.scoring.models import AssessmentScheme, Dimension, Inspection, Score, ScoreChange
from network import services as network_services
from tests.activities.factories import published_activity

from .factories import YEAR, closed_window, open_window, scheme_for

pytestmark = pytest.mark.django_db
SERVICE = ReturnKind.SERVICE


def url(view, *args):
    return reverse(f"admin:returns_servicereturn_{view}", args=args)


def report(hall, year=YEAR):
    return returns.return_get_or_create(kind=SERVICE, hall=hall, year=year)


def figures(**values):
    """A full POST of the entered figures of a service report."""
    data = {
        "performances": 0,
        "exhibitions": 0,
        "lectures": 0,
        "trainings": 0,
        "trainees": 0,
        "opening_hours_weekly": 0,
        "teams": 0,
        "volunteers": 0,
    }
    data = {k: v for k, v in data.items() if k not in ServiceReturn.AUTOFILLED}
    data.update(values)
    return data


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- Yearly reports ------------------------------------------------------------------------------


def test_branch_staff_open_this_years_report_and_enter_figures(client, cast):
    open_window()
    client.force_login(cast.branch_staff)
    page = client.get(url("changelist"))
    assert [h.pk for h in page.context["entry_halls"]] == [cast.branch.pk]

    response = client.post(url("open"), {"hall": cast.branch.pk, "year": YEAR})
    r = ServiceReturn.objects.get(hall=cast.branch, year=YEAR)
    assert response.status_code == 302 and response["Location"] == url("change", r.pk)

    page = client.get(url("change", r.pk))
    form = page.context["adminform"].form
    # What the portal counts itself is shown, read-only, with where it comes from.
    assert "activities" not in form.fields and "participants" not in form.fields
    assert {"teams", "volunteers", "trainees"} <= set(form.fields)
    assert "来自平台自身的记录" in page.content.decode()
    assert page.context["may_submit"] and not page.context["may_review"]

    response = client.post(url("change", r.pk), figures(teams=12, volunteers=30))
    assert response.status_code == 302
    r = fresh(r)
    assert (r.teams, r.volunteers) == (12, 30)
    change = FigureChange.objects.get(return_id=r.pk, field="teams")
    assert (change.old_value, change.new_value, change.by) == ("0", "12", cast.branch_staff)
    # The history is on the report's page.
    history = client.get(url("change", r.pk)).context["history"]
    assert {row["label"] for row in history} >= {"文艺团队(支)", "文化志愿者(人)"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"teams": "十二"}, "teams"),
        ({"teams": "-1"}, "teams"),
        ({"opening_hours_weekly": "200"}, "opening_hours_weekly"),
    ],
)
def test_bad_figures_are_form_errors_and_nothing_is_saved(client, cast, values, field):
    open_window()
    r = report(cast.branch)
    client.force_login(cast.branch_staff)
    response = client.post(url("change", r.pk), figures(volunteers=5, **values))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert fresh(r).volunteers == 0
    assert not FigureChange.objects.filter(return_id=r.pk, by=cast.branch_staff).exists()


def test_a_submitted_report_is_read_only_with_the_reason(client, cast):
    open_window()
    r = report(cast.branch)
    client.force_login(cast.branch_staff)
    response = client.post(url("workflow", r.pk), {"action": "submit"})
    assert response.status_code == 302
    assert fresh(r).status == ReturnStatus.SUBMITTED

    page = client.get(url("change", r.pk))
    assert not page.context["adminform"].form.fields
    assert page.context["lock_reason"] and "等待上级馆审核" in page.content.decode()
    assert not page.context["show_save"] and not page.context["may_submit"]
    client.post(url("change", r.pk), figures(teams=99))
    assert fresh(r).teams == 0


def test_own_staff_cannot_approve_but_the_county_can(client, cast):
    open_window()
    r = report(cast.branch)
    returns.return_submit(kind=SERVICE, annual_return=r, by=cast.branch_staff)

    client.force_login(cast.branch_staff)
    assert not client.get(url("change", r.pk)).context["may_review"]
    assert client.post(url("workflow", r.pk), {"action": "approve"}).status_code == 403
    assert fresh(r).status == ReturnStatus.SUBMITTED

    client.force_login(cast.county_director)
    page = client.get(url("change", r.pk))
    assert page.context["may_review"] and "审核通过" in page.content.decode()
    assert client.post(url("workflow", r.pk), {"action": "approve"}).status_code == 302
    r = fresh(r)
    assert (r.status, r.reviewed_by) == (ReturnStatus.APPROVED, cast.county_director)


def test_a_return_needs_a_comment_and_lets_the_branch_correct(client, cast):
    open_window()
    r = report(cast.branch)
    returns.return_submit(kind=SERVICE, annual_return=r, by=cast.branch_staff)
    client.force_login(cast.county_director)
    response = client.post(url("workflow", r.pk), {"action": "return", "comment": " "}, follow=True)
    assert "退回时请写明原因" in response.content.decode()
    assert fresh(r).status == ReturnStatus.SUBMITTED

    client.post(url("workflow", r.pk), {"action": "return", "comment": "志愿者人数偏低,请核实"})
    assert fresh(r).status == ReturnStatus.RETURNED

    client.force_login(cast.branch_staff)
    page = client.get(url("change", r.pk))
    assert "志愿者人数偏低" in page.content.decode()
    assert client.post(url("change", r.pk), figures(volunteers=40)).status_code == 302
    assert fresh(r).volunteers == 40


def test_a_locked_report_is_reopened_by_the_parent_only(client, cast):
    closed_window()
    r = report(cast.branch)
    client.force_login(cast.branch_staff)
    page = client.get(url("change", r.pk))
    assert "已过报送截止时间" in page.context["lock_reason"]
    assert not page.context["may_reopen"]
    assert (
        client.post(url("workflow", r.pk), {"action": "reopen", "until": "2099-01-01"}).status_code
        == 403
    )

    client.force_login(cast.county_director)
    until = timezone.localdate() + timedelta(days=3)
    client.post(url("workflow", r.pk), {"action": "reopen", "until": until.isoformat()})
    assert returns.return_is_open(fresh(r), kind=SERVICE)

    client.force_login(cast.branch_staff)
    assert client.post(url("change", r.pk), figures(teams=7)).status_code == 302
    assert fresh(r).teams == 7


def test_a_bad_reopen_date_is_a_message(client, cast):
    closed_window()
    r = report(cast.branch)
    client.force_login(cast.county_director)
    response = client.post(
        url("workflow", r.pk), {"action": "reopen", "until": "昨天"}, follow=True
    )
    assert "请填写重新开放的截止日期" in response.content.decode()
    assert not returns.return_is_open(fresh(r), kind=SERVICE)


def test_a_sibling_branch_gets_404_everywhere(client, cast):
    open_window()
    r = report(cast.branch)
    client.force_login(cast.other_branch_staff)
    assert client.get(url("change", r.pk)).status_code == 404
    assert client.post(url("workflow", r.pk), {"action": "submit"}).status_code == 404
    assert client.post(url("open"), {"hall": cast.branch.pk, "year": YEAR}).status_code == 404
    assert client.get(url("completeness"), {"hall": cast.branch.pk}).status_code == 404
    assert fresh(r).status == ReturnStatus.DRAFT


def test_an_official_reads_but_cannot_write(client, cast):
    open_window()
    r = report(cast.branch)
    client.force_login(cast.county_official)
    page = client.get(url("changelist"))
    assert page.status_code == 200 and page.context["entry_halls"] == []
    assert client.get(url("change", r.pk)).status_code == 200
    assert client.post(url("workflow", r.pk), {"action": "submit"}).status_code == 403
    assert client.post(url("open"), {"hall": cast.point.pk, "year": YEAR}).status_code == 403
    assert client.post(url("change", r.pk), figures(teams=3)).status_code == 403
    assert not ServiceReturn.objects.filter(hall=cast.point).exists()
    assert fresh(r).status == ReturnStatus.DRAFT


def test_refresh_fills_in_what_the_portal_recorded_since(client, cast):
    year = timezone.localtime(timezone.now() + timedelta(days=3)).year
    r = report(cast.branch, year=year)  # auto-filled before the activity below exists
    open_window(year=year)
    published_activity(cast.branch, start_in=timedelta(days=3))
    client.force_login(cast.branch_staff)
    response = client.post(url("workflow", r.pk), {"action": "refresh"}, follow=True)
    assert "2 项有变化" in response.content.decode()  # activities, performances
    assert (fresh(r).activities, fresh(r).performances) == (1, 1)
    response = client.post(url("workflow", r.pk), {"action": "refresh"}, follow=True)
    assert "数字没有变化" in response.content.decode()


def test_the_report_list_costs_the_same_with_more_reports(client, cast, django_assert_num_queries):
    open_window()
    report(cast.branch)
    client.force_login(cast.county_director)
    client.get(url("changelist"))

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("changelist")).status_code == 200
        return len(ctx)

    before = count()
    for i in range(15):
        report(
            network_services.hall_create(parent=cast.branch, name=f"新服务点{i}", locality=f"新{i}")
        )
    with django_assert_num_queries(before):
        page = client.get(url("changelist"))
    assert page.context["cl"].result_count == 16


# --- Completeness --------------------------------------------------------------------------------


def _completeness(client, hall, year=YEAR):
    return client.get(url("completeness"), {"hall": hall.pk, "year": year})


def test_completeness_shows_each_child_and_the_halls_below_it(client, cast):
    open_window()
    r = report(cast.branch)
    returns.return_submit(kind=SERVICE, annual_return=r, by=cast.branch_staff)
    p = report(cast.point)
    returns.return_submit(kind=SERVICE, annual_return=p, by=cast.village_manager)
    report(cast.other_branch)  # opened, not submitted

    client.force_login(cast.county_official)
    page = _completeness(client, cast.county)
    assert page.status_code == 200
    rows = {row.hall.pk: row for row in page.context["rows"]}
    assert rows.keys() == {cast.branch.pk, cast.other_branch.pk}
    gs, th = rows[cast.branch.pk], rows[cast.other_branch.pk]
    assert (gs.status, gs.on_time, gs.below.expected, gs.below.submitted) == (
        ReturnStatus.SUBMITTED, True, 2, 1,
    )  # fmt: skip
    assert (th.status, th.on_time, th.below.expected, th.below.submitted) == (
        ReturnStatus.DRAFT, False, 1, 0,
    )  # fmt: skip
    summary = page.context["summary"]
    assert (summary.expected, summary.submitted, summary.on_time) == (5, 2, 2)
    # An official cannot open a missing report from here.
    assert "未建,打开" not in page.content.decode()


def test_completeness_costs_the_same_with_many_halls(client, cast, django_assert_num_queries):
    open_window()
    client.force_login(cast.county_director)
    _completeness(client, cast.county)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _completeness(client, cast.county)
    for i in range(12):
        branch = network_services.hall_create(
            parent=cast.county, name=f"新街道{i}", locality=f"新街道{i}"
        )
        point = network_services.hall_create(
            parent=branch, name=f"新社区{i}", locality=f"新社区{i}"
        )
        director = fresh(cast.county_director)  # the scope cached on the user is stale now
        for hall in (branch, point):
            returns.return_submit(kind=SERVICE, annual_return=report(hall), by=director)
    with django_assert_num_queries(len(few)):
        page = _completeness(client, cast.county)
    assert len(page.context["rows"]) == 14
    assert page.context["summary"].submitted == 24


# --- Windows and schemes -------------------------------------------------------------------------


def test_centre_staff_set_windows_and_others_only_read_them(client, cast):
    windows = reverse("admin:returns_windows")
    data = {
        "year": YEAR,
        "kind": SERVICE,
        "opens_at": f"{YEAR}-01-01T00:00",
        "deadline": f"{YEAR}-03-31T18:00",
    }
    client.force_login(cast.county_director)
    assert client.get(windows).context["form"] is None
    assert client.post(windows, data).status_code == 403

    client.force_login(cast.centre_director)
    assert client.post(windows, {**data, "deadline": f"{YEAR - 1}-12-01T00:00"}).status_code == 200
    assert not ReturnWindow.objects.exists()
    assert client.post(windows, data).status_code == 302
    window = ReturnWindow.objects.get()
    assert timezone.localtime(window.deadline).date() == date(YEAR, 3, 31)
    # The same year and kind twice is a form error, not a second window.
    assert "__all__" in client.post(windows, data).context["form"].errors
    # Editing moves the deadline of the same window.
    edit = f"{windows}?edit={window.pk}"
    assert client.post(edit, {**data, "deadline": f"{YEAR}-04-30T18:00"}).status_code == 302
    assert timezone.localtime(fresh(window).deadline).date() == date(YEAR, 4, 30)
    assert client.get(windows, {"edit": "x"}).status_code == 200


def test_centre_staff_create_a_years_scheme(client, cast):
    schemes = reverse("admin:scoring_schemes")
    client.force_login(cast.county_director)
    assert client.post(schemes, {"year": YEAR}).status_code == 403
    client.force_login(cast.centre_director)
    response = client.post(schemes, {"year": YEAR})
    scheme = AssessmentScheme.objects.get(year=YEAR)
    assert response["Location"] == reverse("admin:scoring_scheme", args=[scheme.pk])
    assert scheme.dimensions.count() == 13
    again = client.post(schemes, {"year": YEAR})
    assert "已存在" in str(again.context["form"].errors["year"])

    page = client.get(reverse("admin:scoring_scheme", args=[scheme.pk]))
    assert page.status_code == 200 and "满意度" in page.content.decode()
    # Thresholds out of order are refused.
    formset = page.context["formset"]
    data = {
        "name": scheme.name,
        "excellent_from": "60",
        "good_from": "75",
        "pass_from": "50",
        "dims-TOTAL_FORMS": formset.total_form_count(),
        "dims-INITIAL_FORMS": formset.initial_form_count(),
    }
    for i, form in enumerate(formset):
        d = form.instance
        data.update({
            f"dims-{i}-id": d.pk,
            f"dims-{i}-weight": d.weight,
            f"dims-{i}-max_points": d.max_points,
            f"dims-{i}-criteria": d.criteria,
        })  # fmt: skip
    response = client.post(reverse("admin:scoring_scheme", args=[scheme.pk]), data)
    assert response.status_code == 200
    assert fresh(scheme).excellent_from == 90


# --- Scoring -------------------------------------------------------------------------------------


def scoring(hall, year=YEAR):
    return reverse("admin:scoring_scoring", args=[hall.pk, year])


def dim(scheme, code):
    return scheme.dimensions.get(code=code)


def test_the_county_scores_a_branch_through_the_grid(client, cast):
    scheme = scheme_for()
    std, content = dim(scheme, "service_standard"), dim(scheme, "service_content")
    client.force_login(cast.county_director)
    page = client.get(scoring(cast.branch))
    assert page.context["can_score"] and 'id="scoring-form"' in page.content.decode()
    response = client.post(
        scoring(cast.branch),
        {
            f"points_{std.pk}": "7.5",
            f"comment_{std.pk}": "服务公开到位",
            f"points_{content.pk}": "8",
        },
    )
    assert response.status_code == 302
    scores = {s.dimension_id: s for s in Score.objects.filter(hall=cast.branch)}
    assert scores[std.pk].points == Decimal("7.5") and scores[std.pk].comment == "服务公开到位"
    assert scores[content.pk].points == 8
    page = client.get(scoring(cast.branch))
    assert page.context["result"].total == Decimal("91.2")  # 15.5 of 17, scaled to 100
    assert [c.new_points for c in page.context["history"]] == [Decimal("8"), Decimal("7.5")]
    # Saving again unchanged writes no history.
    client.post(
        scoring(cast.branch),
        {
            f"points_{std.pk}": "7.5",
            f"comment_{std.pk}": "服务公开到位",
            f"points_{content.pk}": "8.0",
        },
    )
    assert ScoreChange.objects.count() == 2


def test_bad_points_save_nothing_and_say_which_row(client, cast):
    scheme = scheme_for()
    std, content = dim(scheme, "service_standard"), dim(scheme, "service_content")
    client.force_login(cast.county_director)
    response = client.post(
        scoring(cast.branch), {f"points_{std.pk}": "6", f"points_{content.pk}": "99"}
    )
    assert response.status_code == 200
    rows = {row["dimension"].pk: row for row in response.context["rows"]}
    assert "0 到 9" in rows[content.pk]["error"] and not rows[std.pk]["error"]
    assert rows[content.pk]["value"] == "99"
    assert not Score.objects.exists() and not ScoreChange.objects.exists()


@pytest.mark.parametrize("who", ["branch_staff", "county_official"])
def test_only_an_ancestor_is_offered_the_scoring_form(client, cast, who):
    scheme = scheme_for()
    std = dim(scheme, "service_standard")
    client.force_login(getattr(cast, who))
    page = client.get(scoring(cast.branch))
    assert page.status_code == 200 and not page.context["can_score"]
    assert 'id="scoring-form"' not in page.content.decode()
    assert client.post(scoring(cast.branch), {f"points_{std.pk}": "8"}).status_code == 403
    assert not Score.objects.exists()


def test_another_county_cannot_see_the_scores(client, cast):
    scheme_for()
    client.force_login(cast.other_county_director)
    assert client.get(scoring(cast.branch)).status_code == 404
    results = reverse("admin:scoring_results")
    assert client.get(results, {"parent": cast.county.pk, "year": YEAR}).status_code == 404


def test_results_rank_the_halls_under_a_parent(client, cast, django_assert_num_queries):
    scheme = scheme_for()
    std = dim(scheme, "service_standard")
    scoring_services.score_set(dimension=std, hall=cast.branch, points=6, by=cast.county_director)
    scoring_services.score_set(
        dimension=std, hall=cast.other_branch, points=8, by=cast.county_director
    )
    results = reverse("admin:scoring_results")
    client.force_login(cast.county_official)
    params = {"parent": cast.county.pk, "year": YEAR}
    page = client.get(results, params)
    rows = {r.hall.pk: r for r, _points in page.context["results"]}
    assert (rows[cast.other_branch.pk].rank, rows[cast.branch.pk].rank) == (1, 2)
    assert rows[cast.branch.pk].total == 75  # 6 of 8, scaled to 100
    assert "缺项 12 项,总分按有数据的维度折算" in page.content.decode()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(results, params)
    for i in range(10):
        hall = network_services.hall_create(
            parent=cast.county, name=f"新街道{i}", locality=f"新{i}"
        )
        director = fresh(cast.county_director)  # the scope cached on the user is stale now
        scoring_services.score_set(dimension=std, hall=hall, points=i % 8, by=director)
    with django_assert_num_queries(len(few)):
        page = client.get(results, params)
    assert len(page.context["results"]) == 12


# --- Inspections ---------------------------------------------------------------------------------


def inspection_url(view, *args):
    return reverse(f"admin:scoring_inspection_{view}", args=args)


def test_the_county_records_an_inspection_and_marks_it_fixed(client, cast):
    scheme = scheme_for()
    d = dim(scheme, "mechanism")
    client.force_login(cast.county_director)
    data = {
        "hall": cast.point.pk,
        "inspector_hall": cast.county.pk,
        "inspected_on": f"{YEAR}-05-01",
        "findings": "开放时间未公示",
        "dimension": d.pk,
        "deduction": "2",
        "fix_by": f"{YEAR}-04-01",
    }
    response = client.post(inspection_url("add"), data)
    assert "fix_by" in response.context["adminform"].form.errors
    assert not Inspection.objects.exists()
    response = client.post(inspection_url("add"), {**data, "fix_by": f"{YEAR}-06-01"})
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert inspection.recorded_by == cast.county_director

    # The inspected point sees it but cannot change it.
    client.force_login(cast.village_manager)
    page = client.get(inspection_url("change", inspection.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]

    client.force_login(cast.county_director)
    response = client.post(inspection_url("change", inspection.pk), {"fixed_on": f"{YEAR}-04-01"})
    assert "fixed_on" in response.context["adminform"].form.errors
    response = client.post(inspection_url("change", inspection.pk), {"fixed_on": f"{YEAR}-05-20"})
    assert response.status_code == 302
    assert fresh(inspection).fixed_on == date(YEAR, 5, 20)


def test_an_inspection_needs_a_dimension_of_its_year(client, cast):
    scheme_for(YEAR)
    other = scheme_for(YEAR - 1).dimensions.filter(source=Dimension.Source.SCORED).first()
    client.force_login(cast.county_director)
    response = client.post(
        inspection_url("add"),
        {
            "hall": cast.point.pk,
            "inspector_hall": cast.county.pk,
            "inspected_on": f"{YEAR}-05-01",
            "findings": "开放时间未公示",
            "dimension": other.pk,
            "deduction": "1",
            "fix_by": f"{YEAR}-06-01",
        },
    )
    assert "dimension" in response.context["adminform"].form.errors
    assert not Inspection.objects.exists()


# --- Exports -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("eager_tasks")
def test_an_official_exports_the_statistics_of_the_county(client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    open_window()
    r = report(cast.branch)
    returns.return_update(kind=SERVICE, annual_return=r, by=cast.branch_staff, values={"teams": 4})
    returns.return_submit(kind=SERVICE, annual_return=r, by=cast.branch_staff)
    client.force_login(cast.county_official)
    response = client.post(
        reverse("admin:evaluation_export"),
        {"kind": "statistics", "year": YEAR, "hall": cast.county.pk},
    )
    assert response.status_code == 302
    status = client.get(response["Location"])
    assert status.context["run"].status == "done"
    download = client.get(
        reverse("admin:evaluation_export_download", args=[status.context["run"].pk])
    )
    assert download.status_code == 200
    # Named in Chinese for the person (RFC 5987); the stored file keeps its ASCII name.
    name = quote(f"{YEAR}年度服务统计与资产统计年报-官渡区文化馆.xlsx")
    assert download["Content-Disposition"] == f"attachment; filename*=utf-8''{name}"
    assert status.context["run"].filename.isascii()
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.sheetnames
    assert workbook.worksheets[0]["A2"].value == "填报单位:官渡区文化馆"

    # Another account cannot follow or download it; outside the scope there is nothing to start.
    export_id = status.context["run"].pk
    client.force_login(cast.other_county_director)
    assert (
        client.get(reverse("admin:evaluation_export_status", args=[export_id])).status_code == 404
    )
    assert (
        client.get(reverse("admin:evaluation_export_download", args=[export_id])).status_code == 404
    )
    response = client.post(
        reverse("admin:evaluation_export"),
        {"kind": "statistics", "year": YEAR, "hall": cast.county.pk},
    )
    assert response.status_code == 404


def test_an_export_without_a_scheme_is_a_message(client, cast):
    client.force_login(cast.county_director)
    response = client.post(
        reverse("admin:evaluation_export"),
        {"kind": "assessment", "year": YEAR, "hall": cast.county.pk},
        follow=True,
    )
    assert "还没有考核方案" in response.content.decode()


def test_the_inspection_list_costs_the_same_with_more_rows(client, cast, django_assert_num_queries):
    scheme = scheme_for()
    d = dim(scheme, "mechanism")

    def inspect(hall):
        scoring_services.inspection_record(
            hall=hall,
            inspector_hall=cast.county,
            inspected_on=date(YEAR, 5, 1),
            findings="开放时间未公示",
            dimension=d,
            fix_by=date(YEAR, 6, 1),
            by=cast.superuser,
        )

    inspect(cast.branch)
    client.force_login(cast.county_official)
    changelist = inspection_url("changelist")
    client.get(changelist)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(changelist)
    for hall in (cast.point, cast.point2, cast.other_branch, cast.other_branch_point) * 3:
        inspect(hall)
    with django_assert_num_queries(len(few)):
        page = client.get(changelist)
    assert page.context["cl"].result_count == 13


# --- Who reaches the pages -----------------------------------------------------------------------

PAGES = [
    ("admin:returns_servicereturn_completeness", ()),
    ("admin:returns_assetreturn_completeness", ()),
    ("admin:returns_windows", ()),
    ("admin:scoring_schemes", ()),
    ("admin:scoring_results", ()),
]


def test_an_account_without_membership_reaches_no_page(client, cast):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(nobody)
    for name, args in PAGES:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.get(scoring(cast.branch)).status_code == 403


@pytest.mark.parametrize(
    "who", ["superuser", "centre_director", "county_official", "village_manager"]
)
def test_every_page_opens_for_staff_and_officials(client, cast, who):
    scheme_for()
    open_window()
    report(cast.point)
    client.force_login(getattr(cast, who))
    for name, args in PAGES:
        assert client.get(reverse(name, args=args)).status_code == 200, (name, who)
    assert client.get(scoring(cast.point)).status_code == 200
    index = client.get(reverse("admin:app_list", args=["evaluation"]))
    assert reverse("admin:scoring_results") in index.content.decode()


def test_open_reporting_sets_both_windows(cast):
    from django.core.management import CommandError, call_command

    call_command("open_reporting", "--year", str(YEAR), "--opens", f"{YEAR + 1}-01-01",
                 "--deadline", f"{YEAR + 1}-03-31", stdout=io.StringIO())  # fmt: skip
    windows = ReturnWindow.objects.filter(year=YEAR)
    assert windows.count() == 2
    deadline = timezone.localtime(windows.first().deadline)
    assert (deadline.date(), deadline.hour) == (date(YEAR + 1, 4, 1), 0)
    call_command("open_reporting", "--year", str(YEAR), "--opens", f"{YEAR + 1}-01-01",
                 "--deadline", f"{YEAR + 1}-02-28", "--kind", "asset", stdout=io.StringIO())  # fmt: skip
    assert ReturnWindow.objects.count() == 2
    with pytest.raises(CommandError, match="--deadline"):
        call_command("open_reporting", "--year", str(YEAR), "--opens", "2027-03-01",
                     "--deadline", "2027-02-01")  # fmt: skip
    with pytest.raises(CommandError, match="--opens"):
        call_command("open_reporting", "--year", str(YEAR), "--opens", "三月",
                     "--deadline", "2027-02-01")  # fmt: skip


EVIL_TARGETS = ["//other.host/", "https://evil.example/", "/\\evil", "///other.host"]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_the_export_form_never_sends_anyone_off_the_site(client, cast, target):
    client.force_login(cast.county_director)
    home = reverse("admin:returns_servicereturn_changelist")
    # A GET, and a POST that the export refuses, both go back to the form's ``next``.
    for response in (
        client.get(reverse("admin:evaluation_export"), {"next": target}),
        client.post(reverse("admin:evaluation_export"), {"next": target}),
        client.post(
            reverse("admin:evaluation_export"),
            {"kind": "assessment", "year": YEAR, "hall": cast.county.pk, "next": target},
        ),
    ):
        assert response.status_code == 302
        assert response["Location"] == home
    # A path of this site is still followed.
    own = f"{home}?year={YEAR}"
    response = client.post(
        reverse("admin:evaluation_export"),
        {"kind": "assessment", "year": YEAR, "hall": cast.county.pk, "next": own},
    )
    assert response["Location"] == own
