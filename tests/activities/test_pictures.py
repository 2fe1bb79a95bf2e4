"""Activity pictures and venue photos: checked and re-encoded on upload, with a size limit; the
old file leaves the store when a picture is replaced; served by the portal's own route (in
production too, where nothing serves MEDIA_URL), from the disk or the bucket alike."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from activities.models import Activity
from activities.venues.models import Venue
from tests.activities.venues.factories import make_venue

from .factories import published_activity
from .test_admin import activity_form, local_parts, url

pytestmark = pytest.mark.django_db


def png(color=(200, 30, 30), size=(80, 60), tail=b"") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile("海报.png", buffer.getvalue() + tail, content_type="image/png")


def _change(activity, **overrides):
    data = activity_form(activity.hall, title=activity.title, capacity=str(activity.capacity))
    for name in ("start", "end"):
        data[f"{name}_0"], data[f"{name}_1"] = local_parts(getattr(activity, name))
    data.update(overrides)
    return data


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files(root) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_an_uploaded_picture_is_re_encoded_served_and_replaced(
    client, cast, media, django_capture_on_commit_callbacks
):
    activity = published_activity(cast.branch, capacity=10)
    client.force_login(cast.branch_staff)
    response = client.post(
        url(Activity, "change", activity.pk),
        _change(activity, picture=png(tail=b"<script>alert(1)</script>")),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    activity.refresh_from_db()
    first = activity.picture.name
    assert first.endswith(".jpg") and "海报" not in first
    stored = (media / first).read_bytes()
    assert b"<script>" not in stored
    # The public page and the API point at the portal's route, which serves it.
    route = reverse("activities:activity_picture", args=[activity.pk])
    page = client.get(reverse("activities:activity_detail", args=[activity.pk])).content.decode()
    assert f'src="{route}"' in page
    served = client.get(route)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == stored
    api = client.get(f"/api/v1/activities/{activity.pk}/").json()
    assert api["picture"] == f"http://testserver{route}"
    # A new picture replaces the old file in the store, once the change is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(Activity, "change", activity.pk), _change(activity, picture=png((0, 90, 0)))
        )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.picture.name != first and files(media) == [activity.picture.name.split("/")[-1]]
    # Cleared: no file left, the route is a 404, the API says null.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(Activity, "change", activity.pk), _change(activity, **{"picture-clear": "on"})
        )
    assert response.status_code == 302
    assert files(media) == []
    assert client.get(route).status_code == 404
    assert client.get(f"/api/v1/activities/{activity.pk}/").json()["picture"] is None


def test_a_picture_too_large_or_not_a_picture_is_a_form_error(client, cast, media, settings):
    settings.PICTURE_MAX_MB = 0
    activity = published_activity(cast.branch, capacity=10)
    client.force_login(cast.branch_staff)
    response = client.post(url(Activity, "change", activity.pk), _change(activity, picture=png()))
    assert "图片文件不能超过 0 MB" in str(response.context["adminform"].form.errors["picture"])
    settings.PICTURE_MAX_MB = 10
    fake = SimpleUploadedFile("x.png", b"<html>not a picture</html>", content_type="image/png")
    response = client.post(url(Activity, "change", activity.pk), _change(activity, picture=fake))
    assert response.status_code == 200 and "picture" in response.context["adminform"].form.errors
    assert files(media) == []


def test_a_draft_activitys_picture_is_not_public(client, cast, media):
    from activities import services

    draft = services.activity_create(
        hall=cast.branch, title="草稿", category="lecture",
        start=published_activity(cast.branch).start, end=published_activity(cast.branch).end,
    )  # fmt: skip
    assert client.get(reverse("activities:activity_picture", args=[draft.pk])).status_code == 404


def test_a_venue_photo_is_checked_and_served(client, cast, media):
    venue = make_venue(cast.branch, name="二楼排练厅")
    client.force_login(cast.branch_staff)
    change = reverse("admin:venues_venue_change", args=[venue.pk])
    page = client.get(change).context
    form = page["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields and name != "photo"
    }
    for inline in page["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-TOTAL_FORMS": "0", f"{formset.prefix}-INITIAL_FORMS": "0"})
    response = client.post(change, {**data, "photo": png()})
    assert response.status_code == 302, response.context["adminform"].form.errors
    venue = Venue.objects.get(pk=venue.pk)
    assert venue.photo.name.endswith(".jpg")
    route = reverse("venues:venue_photo", args=[venue.pk])
    assert (
        f'src="{route}"'
        in client.get(reverse("venues:venue_detail", args=[venue.pk])).content.decode()
    )
    assert client.get(route)["Content-Type"] == "image/jpeg"
    api = client.get(f"/api/v1/venues/{venue.pk}/").json()
    assert api["photo"].endswith(route)
