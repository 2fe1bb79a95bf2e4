"""Set a year's reporting windows (填报期限) from the command line, e.g. at the start of a year:

python manage.py open_reporting --year 2026 --opens 2027-01-01 --deadline 2027-03-31
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evaluation.returns.models import ReturnKind, ReturnWindow
from evaluation.returns.services import return_window_save


def _day(raw: str, option: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            _("%(option)s:日期格式应为 YYYY-MM-DD,收到 %(raw)r") % {"option": option, "raw": raw}
        ) from None


class Command(BaseCommand):
    help = gettext_lazy(
        "设置某年度服务统计年报和资产统计年报的填报期限(开始日期当天 0 点起,截止日期当天结束)"
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help=_("报表所属年度"))
        parser.add_argument("--opens", required=True, help=_("开始填报日期 YYYY-MM-DD"))
        parser.add_argument("--deadline", required=True, help=_("报送截止日期 YYYY-MM-DD(含当日)"))
        parser.add_argument(
            "--kind",
            choices=[*ReturnKind.values, "both"],
            default="both",
            help=_("service 服务统计年报、asset 资产统计年报、both 两张都设(默认)"),
        )

    def handle(self, *args, year: int, opens: str, deadline: str, kind: str, **options):
        if not 2000 <= year <= 2100:
            raise CommandError(_("--year:年度有误:%(year)s") % {"year": year})
        first, last = _day(opens, "--opens"), _day(deadline, "--deadline")
        if last < first:
            raise CommandError(_("--deadline:截止日期不能早于开始日期"))
        opens_at = timezone.make_aware(datetime.combine(first, time()))
        deadline_at = timezone.make_aware(datetime.combine(last + timedelta(days=1), time()))
        kinds = ReturnKind.values if kind == "both" else [kind]
        with transaction.atomic():
            for k in kinds:
                existing = ReturnWindow.objects.filter(year=year, kind=k).first()
                window = return_window_save(
                    window=existing, year=year, kind=k, opens_at=opens_at, deadline=deadline_at
                )
                created = existing is None
                message = _("已设置") if created else _("已更新")
                self.stdout.write(
                    self.style.SUCCESS(
                        _("%(verb)s:%(window)s,%(first)s 至 %(last)s(含当日)")
                        % {
                            "verb": message,
                            "window": window,
                            "first": first.isoformat(),
                            "last": last.isoformat(),
                        }
                    )
                )
