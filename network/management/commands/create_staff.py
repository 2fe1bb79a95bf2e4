from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from network import services
from network.models import Hall, Role


def hall_by_code_or_id(value: str) -> Hall:
    """A hall by its code, or by its id where it has none."""
    hall = Hall.objects.filter(code=value).first()
    if hall is None and value.isdigit():
        hall = (
            Hall.objects.filter(pk=int(value), code__isnull=True).first()
            or Hall.objects.filter(pk=int(value)).first()
        )
    if hall is None:
        raise CommandError(f"找不到编码或编号为“{value}”的馆。")
    return hall


class Command(BaseCommand):
    help = "建立一个工作人员账号并分配到一个馆的岗位。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--hall", required=True, help="馆的编码;没有编码时用编号")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", default=None)
        parser.add_argument("--name", default="", help="姓名")

    def handle(self, *args, **options):
        hall = hall_by_code_or_id(options["hall"])
        try:
            user = services.staff_create(
                username=options["username"],
                hall=hall,
                role=options["role"],
                password=options["password"],
                full_name=options["name"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已建立账号 {user.username}:{hall.name} · {Role(options['role']).label}"
            )
        )
