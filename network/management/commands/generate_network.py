from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from network.bulk import NetworkShape, generate_network
from network.models import KIND_BY_LEVEL, Hall, HallKind


class Command(BaseCommand):
    help = (
        "生成一个合成的全国馆网络(默认约 330 个市、2,970 个县、3.9 万个乡镇、62 万个服务点),"
        "用于性能测试。同一 --seed 每次生成相同的网络;只新增树,不动已有的树。"
    )

    def add_arguments(self, parser):
        defaults = NetworkShape()
        parser.add_argument("--cities", type=int, default=defaults.cities)
        parser.add_argument("--counties-per-city", type=int, default=defaults.counties_per_city)
        parser.add_argument(
            "--townships-per-county", type=int, default=defaults.townships_per_county
        )
        parser.add_argument("--points-per-township", type=int, default=defaults.points_per_township)
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args, **options):
        shape = NetworkShape(
            cities=options["cities"],
            counties_per_city=options["counties_per_city"],
            townships_per_county=options["townships_per_county"],
            points_per_township=options["points_per_township"],
            seed=options["seed"],
        )
        if min(shape.cities, shape.counties_per_city, shape.townships_per_county) < 1 or (
            shape.points_per_township < 0
        ):
            raise CommandError(_("市、县、乡镇的数目至少为 1,服务点的数目不能为负。"))
        if Hall.objects.filter(code__startswith=shape.code_prefix).exists():
            raise CommandError(
                _("已有 --seed %(seed)s 生成的网络(编码以 %(prefix)s 开头);请换一个 --seed。")
                % {"seed": shape.seed, "prefix": shape.code_prefix}
            )
        started = time.monotonic()
        result = generate_network(shape)
        self.stdout.write(
            self.style.SUCCESS(
                _("已生成 %(trees)s 棵树、%(halls)s 个馆(%(kinds)s),用时 %(seconds).1f 秒。")
                % {
                    "trees": result.trees,
                    "halls": result.halls,
                    "kinds": "、".join(
                        f"{HallKind(kind).label} {result.by_kind[kind]}" for kind in KIND_BY_LEVEL
                    ),
                    "seconds": time.monotonic() - started,
                }
            )
        )
