"""Objects of the portal's own models for the admin scope matrix (tests/network/test_admin_scope.py)."""

from __future__ import annotations

import secrets


def admin_scope_object(model, halls):
    from portal.models import ScreenLink

    if model is ScreenLink:
        link, _created = ScreenLink.objects.get_or_create(
            hall=halls.branch, defaults={"key": secrets.token_urlsafe(12)}
        )
        return link
    return None
