from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.exchange import ImportRejected, export_network
from network.management.commands.create_staff import hall_by_code_or_id


class Command(BaseCommand):
    help = "把馆网络导出为 .xlsx 或 .csv 文件(按扩展名),一行一个馆,先上级后下级。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="导出文件,.xlsx 或 .csv")
        parser.add_argument("--hall", default=None, help="只导出这个馆及其下级(编码,没有时用编号)")

    def handle(self, *args, **options):
        top = hall_by_code_or_id(options["hall"]) if options["hall"] else None
        try:
            count = export_network(options["file"], top=top)
        except ImportRejected as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("已导出 %(count)s 个馆到 %(file)s。") % {"count": count, "file": options["file"]}
            )
        )
