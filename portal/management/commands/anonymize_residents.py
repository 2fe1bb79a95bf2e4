"""python manage.py anonymize_residents [--older-than-days N] [--dry-run]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.privacy import residents_anonymise


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
            raise CommandError("--older-than-days must be 0 or more")
        counts = residents_anonymise(older_than_days=older_than_days, dry_run=dry_run)
        verb = "would anonymise" if dry_run else "anonymised"
        for label, n in counts.items():
            if label == "erasures_done":
                self.stdout.write(f"removal requests completed: {n}")
            elif label == "verified_phones":
                forgotten = "would forget" if dry_run else "forgot"
                self.stdout.write(f"verified phones not verified again: {forgotten} {n}")
            else:
                self.stdout.write(f"{label}: {verb} {n}")
