"""What the admin's own pages (beyond the ModelAdmins' lists and forms) share: years from the
query, the halls an account starts from, the scope check of a hall picked by id, and the context
of the page shell. The returns, scoring and export pages use it; it imports none of them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from network.models import Hall, Membership, Role
from network.selectors import user_scope

MIN_YEAR, MAX_YEAR = 2000, 2100
HISTORY_ROWS = 200


def current_year() -> int:
    return timezone.localdate().year


def year_or_404(raw, default: int | None = None) -> int:
    """A year from a query or form value; a bad one answers 404 like any unknown page."""
    if raw in (None, ""):
        return default or current_year()
    try:
        year = int(raw)
    except (TypeError, ValueError):
        raise Http404(_("年度有误。")) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404(_("年度有误。"))
    return year


def home_halls(user) -> list[Hall]:
    """Where an account's pages start: its membership halls, highest first; the city centre
    halls for a superuser."""
    if user.is_superuser:
        return list(Hall.objects.filter(level=0).order_by("tree_id"))
    return list(
        Hall.objects.filter(memberships__user=user).distinct().order_by("level", "tree_id", "lft")
    )


def entry_halls(user) -> list[Hall]:
    """The halls whose own report an account opens with "本年度报表": those it works at."""
    if user.is_superuser:
        return []
    return list(
        Hall.objects.filter(memberships__user=user)
        .exclude(memberships__role=Role.OFFICIAL)
        .distinct()
        .order_by("level", "tree_id", "lft")
    )


def scoped_hall(request: HttpRequest, raw) -> Hall:
    """The hall of ``raw`` (an id) if the account's scope covers it; 404 otherwise."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404(_("没有找到该馆,或它不在您的管辖范围内。")) from None
    hall = Hall.objects.filter(user_scope(request.user).q(), pk=pk).first()
    if hall is None:
        raise Http404(_("没有找到该馆,或它不在您的管辖范围内。"))
    return hall


def may_manage_settings(user) -> bool:
    """Reporting windows and assessment schemes apply to every hall: superusers and the staff
    (not officials) of a city centre hall set them."""
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, hall__level=0).exclude(role=Role.OFFICIAL).exists()


def end_of_day(day) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time()))


def export_context(halls: list[Hall], *identifiers: str) -> dict:
    """What ``admin/evaluation/_export_form.html`` needs: the exporters offered (by identifier;
    the form's template tag asks the registry for their names) and the halls to pick from."""
    return {"export_identifiers": identifiers, "export_halls": halls}


def messages_of(exc: ValidationError) -> str:
    return ";".join(str(m) for m in exc.messages)


class AdminPages:
    """Views hung off a ModelAdmin's URLs; ``model_admin`` gives the admin context and the read
    permission (any membership)."""

    def __init__(self, model_admin) -> None:
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def _context(self, request: HttpRequest, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model_admin.opts,
            **extra,
        }

    def _require_read(self, request: HttpRequest) -> None:
        if not self.model_admin.has_view_permission(request):
            raise PermissionDenied
