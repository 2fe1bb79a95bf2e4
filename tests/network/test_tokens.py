"""API tokens of staff accounts: made and revoked in the admin, the key shown once and only its
digest kept; a token acts as its account within that account's scope; revoked, it is a 401."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from network.models import ApiToken
from network.tokens import api_token_create

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:network_apitoken_changelist")
ADD = reverse("admin:network_apitoken_add")


def header(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def patch_hall(client, hall, data, **extra):
    return client.patch(f"/api/v1/halls/{hall.pk}/", data, content_type="application/json", **extra)


def test_staff_make_a_token_in_the_admin_and_see_its_key_once(client, cast):
    client.force_login(cast.branch_staff)
    response = client.post(ADD, {"name": "街道预约系统"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'id="api-token-key" type="text" readonly value="([^"]+)"', response.text)[1]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.prefix) == (cast.branch_staff, "街道预约系统", key[:8])
    # Only a digest is stored; the key is nowhere in the row.
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr(vars(token))
    # The list and the token's page show its start, never the key again.
    listing = client.get(CHANGELIST).text
    assert token.prefix in listing and key not in listing
    page = client.get(reverse("admin:network_apitoken_change", args=[token.pk])).text
    assert key not in page
    # Another system now writes as the account, without a session or CSRF token.
    client.logout()
    response = patch_hall(client, cast.point, {"phone": "0871-1234567"}, **header(key))
    assert response.status_code == 200, response.content


def test_a_token_reads_and_writes_within_its_accounts_scope_only(client, cast):
    _token, key = api_token_create(user=cast.branch_staff, name="街道系统")
    inbox = client.get("/api/v1/staff/demands/", **header(key))
    assert inbox.status_code == 200
    assert patch_hall(client, cast.point, {"phone": "0871-1"}, **header(key)).status_code == 200
    # Outside the account's scope the hall does not exist for the token.
    other = patch_hall(client, cast.other_county_point, {"phone": "0871-2"}, **header(key))
    assert other.status_code == 404
    sibling = patch_hall(client, cast.other_branch, {"phone": "0871-3"}, **header(key))
    assert sibling.status_code == 404
    # An official's token reads and writes nothing.
    _token, official = api_token_create(user=cast.county_official, name="局系统")
    assert client.get("/api/v1/staff/demands/", **header(official)).status_code == 200
    assert (
        patch_hall(client, cast.point, {"phone": "0871-4"}, **header(official)).status_code == 403
    )


def test_a_revoked_or_made_up_token_is_a_401(client, cast):
    token, key = api_token_create(user=cast.branch_staff, name="街道系统")
    client.force_login(cast.branch_staff)
    response = client.post(CHANGELIST, {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.logout()
    for auth in (header(key), header("made-up"), {"HTTP_AUTHORIZATION": "Token"}):
        response = client.get("/api/v1/staff/demands/", **auth)
        assert response.status_code == 401, auth
        assert response["WWW-Authenticate"] == "Token"
    # A token of an account that was switched off is dead too.
    _token, key = api_token_create(user=cast.other_branch_staff, name="太和系统")
    cast.other_branch_staff.is_active = False
    cast.other_branch_staff.save()
    assert client.get("/api/v1/staff/demands/", **header(key)).status_code == 401


def test_another_accounts_token_is_not_listed_opened_or_revoked(client, cast):
    theirs, key = api_token_create(user=cast.other_county_director, name="五华系统")
    mine, _key = api_token_create(user=cast.county_director, name="官渡系统")
    client.force_login(cast.county_director)  # above nobody's tokens but their own
    listing = client.get(CHANGELIST)
    assert list(listing.context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:network_apitoken_change", args=[theirs.pk])).status_code == 404
    client.post(CHANGELIST, {"action": "revoke", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get("/api/v1/staff/demands/", **header(key)).status_code == 200
    # Nor is a token deleted: revoked, it stays on record.
    delete = reverse("admin:network_apitoken_delete", args=[mine.pk])
    assert client.post(delete, {"post": "yes"}).status_code in (403, 404)
    assert ApiToken.objects.filter(pk=mine.pk).exists()


def test_the_token_list_costs_the_same_with_more_tokens(client, cast, django_assert_num_queries):
    client.force_login(cast.branch_staff)
    api_token_create(user=cast.branch_staff, name="一")
    client.get(CHANGELIST)
    with django_assert_num_queries(6) as few:
        client.get(CHANGELIST)
    for n in range(5):
        api_token_create(user=cast.branch_staff, name=f"系统{n}")
    with django_assert_num_queries(len(few)):
        assert client.get(CHANGELIST).status_code == 200
