from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from evaluation.exports import EXPORTERS, exporter
from network.management.commands.create_staff import hall_by_code_or_id


class Command(BaseCommand):
    help = _(
        "导出一个年度的考核表(每个县一张工作表)、统计年报汇总表或布点覆盖表(.xlsx)。"
        "--hall 限定为一个馆及其下属馆。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help=_("年度,如 2026"))
        parser.add_argument("--hall", default=None, help=_("馆的编码;没有编码时用编号"))
        parser.add_argument("--output", required=True, help=_("输出文件,须以 .xlsx 结尾"))
        parser.add_argument(
            "--kind",
            choices=list(EXPORTERS),
            default="assessment",
            help=_("assessment 考核表(默认)、statistics 统计年报汇总、coverage 布点覆盖表"),
        )

    def handle(self, *args, **options):
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError(_("输出文件须以 .xlsx 结尾:%(path)s") % {"path": output})
        if not output.parent.is_dir():
            raise CommandError(_("输出目录不存在:%(path)s") % {"path": output.parent})
        within = hall_by_code_or_id(options["hall"]) if options["hall"] else None
        partial = output.with_name(f".{output.name}.part")
        try:
            with open(partial, "wb") as f:
                exporter(options["kind"]).render(year=options["year"], within=within, target=f)
            partial.replace(output)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(self.style.SUCCESS(_("已导出:%(path)s") % {"path": output}))
