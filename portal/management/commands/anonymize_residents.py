"""python manage.py anonymize_residents [--older-than-days N] [--dry-run]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.privacy import residents_anonymise

# What each count of ``residents_anonymise`` is, as the command prints it.
LABELS = {
    "bookings": gettext_lazy("活动预约"),
    "orders": gettext_lazy("点单"),
    "reservations": gettext_lazy("场馆预约"),
    "survey_answers": gettext_lazy("满意度评价"),
    "messages": gettext_lazy("短信记录"),
}


class Command(BaseCommand):
    help = (
        "Anonymise residents' names and phones of bookings, orders, reservations, survey answers "
        "and messages that ended more than RESIDENT_DATA_RETENTION_DAYS days ago; every figure "
        "stays the same."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help=f"default RESIDENT_DATA_RETENTION_DAYS ({settings.RESIDENT_DATA_RETENTION_DAYS})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, change nothing"
        )

    def handle(self, *args, older_than_days: int | None, dry_run: bool, **options) -> None:
        if older_than_days is not None and older_than_days < 0:
            raise CommandError(_("--older-than-days 须为 0 或正整数。"))
        counts = residents_anonymise(older_than_days=older_than_days, dry_run=dry_run)
        if dry_run:
            self.stdout.write(_("试运行:只计数,未写入任何数据。"))
        for label, n in counts.items():
            if label == "erasures_done":
                self.stdout.write(_("已完成的删除申请:%(n)s") % {"n": n})
            elif label == "verified_phones":
                line = (
                    _("将删除的手机验证记录(期限内未再验证):%(n)s")
                    if dry_run
                    else _("已删除的手机验证记录(期限内未再验证):%(n)s")
                )
                self.stdout.write(line % {"n": n})
            else:
                line = (
                    _("%(what)s:将匿名化 %(n)s 条") if dry_run else _("%(what)s:已匿名化 %(n)s 条")
                )
                self.stdout.write(line % {"what": LABELS.get(label, label), "n": n})
