from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.exchange import ImportRejected, import_network


class Command(BaseCommand):
    help = (
        "从 .xlsx 或 .csv 文件导入馆网络(格式同 export_network)。先检查整个文件,"
        "有任何错误就一行也不写入,并列出每处错误所在的行和列。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="导入文件,.xlsx 或 .csv")

    def handle(self, *args, **options):
        try:
            result = import_network(options["file"])
        except ImportRejected as exc:
            lines = [_("导入失败,未写入任何数据。共 %(n)s 处错误:") % {"n": len(exc.errors)}]
            lines += [f"  {error}" for error in exc.errors]
            raise CommandError("\n".join(lines)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "导入完成:新建 %(created)s 个馆,修改 %(updated)s 个,"
                    "移动 %(moved)s 个,未变 %(unchanged)s 个。"
                )
                % vars(result)
            )
        )
