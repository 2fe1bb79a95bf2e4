"""The export task, run in the test's process (the ``eager_tasks`` fixture)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from evaluation import services as export_services
from evaluation.models import ExportRun
from evaluation.scoring import services as scoring
from network import services as network_services

from .factories import YEAR

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def scheme(db):
    return scoring.scheme_create(year=YEAR)


def test_an_export_runs_to_the_end_and_leaves_its_file(cast, scheme, media):
    run = export_services.export_start(
        kind="assessment", year=YEAR, within=cast.centre, user=cast.centre_director
    )
    state = export_services.export_status(run.pk, user=cast.centre_director)
    assert state.status == "done"
    assert state.progress == state.total == 2  # two counties
    assert state.error == ""
    assert state.attempts == 1 and state.claimed_by and state.finished_at
    path = media / state.file.name
    assert path.is_file() and path.name == state.filename
    assert load_workbook(path).sheetnames == ["汇总", "官渡区文化馆", "五华区文化馆"]
    # Nothing half-written is left beside it.
    assert [p.name for p in (media / "exports").iterdir()] == [state.filename]


@pytest.mark.parametrize("kind", ["statistics", "coverage"])
def test_other_kinds_run_as_tasks_too(cast, media, kind):
    run = export_services.export_start(
        kind=kind, year=YEAR, within=cast.county, user=cast.county_official
    )
    state = export_services.export_status(run.pk)
    assert (state.status, state.progress, state.total) == ("done", 1, 1)
    assert Path(media / state.file.name).is_file()


def test_officials_export_only_inside_their_scope(cast, scheme, media):
    with pytest.raises(PermissionDenied):
        export_services.export_start(
            kind="assessment", year=YEAR, within=cast.other_county, user=cast.county_official
        )
    with pytest.raises(PermissionDenied):  # the whole nation is for superusers
        export_services.export_start(
            kind="assessment", year=YEAR, within=None, user=cast.county_official
        )
    run = export_services.export_start(
        kind="assessment", year=YEAR, within=None, user=cast.superuser
    )
    assert export_services.export_status(run.pk).status == "done"
    assert len(list((media / "exports").iterdir())) == 1


def test_a_status_is_only_shown_to_the_account_that_started_it(cast, scheme, media):
    run = export_services.export_start(
        kind="assessment", year=YEAR, within=cast.county, user=cast.county_official
    )
    assert export_services.export_status(run.pk, user=cast.county_director) is None
    assert export_services.export_status(run.pk, user=cast.superuser).status == "done"
    assert export_services.export_status("no-such-id") is None
    assert export_services.export_status(uuid.uuid4()) is None


def test_bad_requests_are_refused_before_queueing(cast, scheme, media):
    with pytest.raises(ValidationError) as exc:
        export_services.export_start(kind="assessment", year=2031, within=None, user=cast.superuser)
    assert exc.value.message_dict == {"year": ["2031 年还没有考核方案。"]}
    with pytest.raises(ValidationError) as exc:
        export_services.export_start(kind="pdf", year=YEAR, within=None, user=cast.superuser)
    assert "kind" in exc.value.message_dict
    assert not (media / "exports").exists()


def test_a_failure_is_recorded_with_a_chinese_message(cast, scheme, media):
    run = export_services.export_start(
        kind="assessment", year=YEAR, within=cast.county, user=cast.superuser
    )
    # The scheme goes away before a second run (a redelivery after a worker died: the row is
    # still running, its heartbeat long stale).
    ExportRun.objects.filter(pk=run.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(days=1)
    )
    scheme.dimensions.all().delete()
    scheme.delete()
    state = export_services.export_run(run.pk)
    assert state.status == "failed"
    assert state.error == f"{YEAR} 年还没有考核方案。"
    assert [p.name for p in (media / "exports").iterdir()] == [
        f"assessment-{YEAR}-{run.pk.hex}.xlsx"  # the earlier complete file, nothing partial
    ]


def test_a_finished_export_is_not_built_twice(cast, scheme, media):
    run = export_services.export_start(
        kind="assessment", year=YEAR, within=cast.county, user=cast.superuser
    )
    path = media / export_services.export_status(run.pk).file.name
    before = path.stat().st_mtime_ns
    network_services.hall_create(parent=cast.county, name="新街道", locality="新街道")
    assert export_services.export_run(run.pk).status == "done"
    assert path.stat().st_mtime_ns == before
