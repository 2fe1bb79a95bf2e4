"""The admin's "export selected" action on every model that keeps a picture or a file: the cell
holds the file's name in the store, and the export answers with a workbook, not a 500."""

from __future__ import annotations

import io

import pytest
from django.db import models
from openpyxl import load_workbook

from tests.network.test_admin_scope import _guandu, _url, scope_object, scoped_admins

pytestmark = pytest.mark.django_db


def _file_fields(model_admin) -> list[models.FileField]:
    return [f for f in model_admin._export_model_fields() if isinstance(f, models.FileField)]


def test_every_admin_export_with_a_picture_or_file_is_a_workbook(client, cast):
    client.force_login(cast.county_director)
    tried = []
    for model, model_admin in scoped_admins():
        fields = _file_fields(model_admin)
        if not fields:
            continue
        obj = scope_object(model, _guandu(cast))
        names = {f.name: f"{model._meta.model_name}/2026/12/海报-{f.name}.jpg" for f in fields}
        model._default_manager.filter(pk=obj.pk).update(**names)
        response = client.post(
            _url(model, "changelist"), {"action": "export_xlsx", "_selected_action": [obj.pk]}
        )
        assert response.status_code == 200, (model, response.status_code)
        assert response.content.startswith(b"PK"), model
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        assert len(rows) == 2, model
        cells = set(rows[1])
        assert set(names.values()) <= cells, (model, rows[1])
        tried.append(model._meta.label)
    # The models this guards: activity pictures, venue photos, the digital hall, generated files.
    assert {"activities.Activity", "venues.Venue", "digital.Resource"} <= set(tried), tried


def test_an_action_on_ids_that_are_no_ids_selects_nothing(client, cast):
    """Only a hand-made request sends ``_selected_action=abc`` (or 0.5, or an id past the
    integer range); Django's ``pk__in`` filter made it a 500 on every admin list."""
    from network.models import Hall

    client.force_login(cast.county_director)
    url = _url(Hall, "changelist")
    for junk in (["abc"], ["0.5"], [str(2**70)]):
        response = client.post(url, {"action": "export_xlsx", "_selected_action": junk})
        assert response.status_code == 302, junk  # "select something first"
    # A real id among them: the action runs on that one alone.
    hall = cast.county  # the list's first page: the account's own halls
    response = client.post(
        url, {"action": "export_xlsx", "_selected_action": ["abc", hall.pk, str(2**70)]}
    )
    assert response.status_code == 200 and response.content.startswith(b"PK")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and hall.name in rows[1]
    # The packages' admins (superusers only) as well.
    client.force_login(cast.superuser)
    response = client.post(
        "/admin/auth/user/", {"action": "delete_selected", "_selected_action": ["abc"]}
    )
    assert response.status_code == 302
