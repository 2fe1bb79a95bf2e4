from __future__ import annotations

import io
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image

from activities.digital import services
from activities.digital.models import Kind, Resource

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "digital"


def fixture(name: str) -> ContentFile:
    return ContentFile((FIXTURES / name).read_bytes(), name=name)


def png(size=(40, 30), color=(20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def published(hall, kind=Kind.VIDEO, title="花灯基本功", *, file="demo-video.mp4", **fields):
    """A published resource saved through the services, with a fixture file."""
    checked = services.check_resource_file(kind=kind, upload=fixture(file)) if file else None
    resource = services.resource_save(
        resource=Resource(hall=hall, kind=kind, title=title, **fields), file=checked
    )
    return services.resource_publish(resource=resource)


def admin_scope_object(model, halls):
    """A resource of ``halls.branch`` (for tests/network/test_admin_scope.py's matrix)."""
    assert model is Resource
    return published(halls.branch, title="矩阵测试录像")
