from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from common.jobs import worker_name
from evaluation.reports import documents as reports
from evaluation.reports import services
from evaluation.reports.models import ReportRun
from network.management.commands.create_staff import hall_by_code_or_id


class Command(BaseCommand):
    help = _(
        "生成季度报告(--period 2026Q3)或年度报告(--period 2026)。不带 --hall 时为每个总馆和"
        "中心馆各生成一份。默认交给 Celery 后台执行,--sync 在本进程内立即生成。"
        "已完成的报告不会重复生成,除非加 --force。只能为已结束的期间生成报告;"
        "--preview 生成截至今日的预览文件(须同时给出 --hall),不保存为该期间的报告。"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ReportRun.Kind.values, help=_("quarterly 或 annual"))
        parser.add_argument("--period", required=True, help=_("季度如 2026Q3,年度如 2026"))
        parser.add_argument("--hall", default=None, help=_("总馆或中心馆的编码;没有编码时用编号"))
        parser.add_argument("--sync", action="store_true", help=_("在本进程内立即生成"))
        parser.add_argument("--force", action="store_true", help=_("已完成的报告也重新生成"))
        parser.add_argument(
            "--preview",
            action="store_true",
            help=_("生成截至今日的预览文件,不保存为该期间的报告"),
        )
        parser.add_argument("--output", default=None, help=_("预览文件的路径;默认写在当前目录"))

    def handle(self, *args, **options):
        kind = options["kind"]
        if options["preview"]:
            return self._preview(kind, options)
        try:
            parsed = reports.parse_period(kind, options["period"])
            reports.check_period_ended(parsed)
            period = parsed.label
            if options["hall"]:
                hall = hall_by_code_or_id(options["hall"])
                reports.check_report_hall(hall)
                hall_ids = [hall.pk]
            else:
                hall_ids = list(reports.report_halls().values_list("pk", flat=True))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if not hall_ids:
            raise CommandError(_("没有可生成报告的总馆或中心馆。"))
        failed = 0
        for hall_id in hall_ids:
            if not options["sync"]:
                services.build_report.delay(kind, period, hall_id, options["force"])
                continue
            try:
                run, outcome = services.report_run_build(
                    kind=kind,
                    period=period,
                    hall_id=hall_id,
                    worker=worker_name(None),
                    force=options["force"],
                )
            except Exception as exc:  # noqa: BLE001 - one hall's failure must not stop the rest
                failed += 1
                self.stderr.write(_("馆 %(id)s 生成失败:%(err)s") % {"id": hall_id, "err": exc})
                continue
            message = {
                "built": _("已生成"),
                "done": _("已存在(未重新生成,需要时加 --force)"),
                "busy": _("正由其他进程生成"),
                "lost": _("已被其他进程接手"),
            }[outcome]
            self.stdout.write(f"{run} · {message} · {run.file.name or '-'}")
        if not options["sync"]:
            self.stdout.write(
                self.style.SUCCESS(_("已提交 %(n)s 个报告任务。") % {"n": len(hall_ids)})
            )
        elif failed:
            raise CommandError(_("%(n)s 份报告生成失败。") % {"n": failed})

    def _preview(self, kind: str, options) -> None:
        """A report up to today, written to a file only: no ``ReportRun`` row for the period."""
        if not options["hall"]:
            raise CommandError(_("预览须用 --hall 指定一个总馆或中心馆。"))
        try:
            period = reports.parse_period(kind, options["period"])
            hall = hall_by_code_or_id(options["hall"])
            reports.check_report_hall(hall)
            data = reports.preview_data(kind, hall, period)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        target = options["output"] or (
            f"{hall.code or hall.pk}-{period.label}-{kind}-preview-{data['preview_until']}.xlsx"
        )
        reports.write_report_xlsx(data, target)
        self.stdout.write(
            self.style.SUCCESS(_("已生成预览(未保存为该期间的报告):%(path)s") % {"path": target})
        )
