"""Writes of the digital culture hall: resources and their files, publishing, and the counting
of views and plays."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from common.ratelimit import RateLimited, check
from common.uploads import (
    AUDIO_TYPES,
    BOOK_TYPES,
    MB,
    VIDEO_TYPES,
    Accepted,
    Checked,
    check_file,
    check_image,
)

from .models import Kind, Picture, Resource, Use

#: Which files each kind carries: a video, an audio, a PDF; a live stream's replay is a video.
FILE_KINDS = {
    Kind.VIDEO: ("video", VIDEO_TYPES),
    Kind.LIVE: ("video", VIDEO_TYPES),
    Kind.AUDIO: ("audio", AUDIO_TYPES),
    Kind.BOOK: ("book", BOOK_TYPES),
}
FILE_LABELS = {"video": _lazy("视频"), "audio": _lazy("音频"), "book": _lazy("电子书(PDF)")}


def accepted_file(kind: str) -> Accepted | None:
    """What the file of a resource of ``kind`` may be (None: it has no file of its own)."""
    if kind not in FILE_KINDS:
        return None
    limit_key, types = FILE_KINDS[kind]
    return Accepted(FILE_LABELS[limit_key], types, settings.DIGITAL_MAX_MB[limit_key] * MB)


def check_resource_file(*, kind: str, upload) -> Checked:
    """The upload checked against its kind (the admin form asks this before anything is
    written)."""
    accepted = accepted_file(kind)
    if accepted is None:
        raise ValidationError({"file": _("图集的图片请在下方逐张上传,这里不需要文件。")})
    try:
        return check_file(upload, accepted)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None


def check_picture(upload) -> Checked:
    return check_image(upload, max_bytes=settings.DIGITAL_MAX_MB["picture"] * MB)


def resource_check(resource: Resource) -> None:
    """The rules of one resource that need more than one field."""
    errors: dict[str, str] = {}
    if resource.kind == Kind.LIVE:
        if not resource.stream_url and not resource.file:
            errors["stream_url"] = _("直播需要填写直播地址(结束后可改为上传回放)。")
        if resource.live_start is None:
            errors["live_start"] = _("请填写直播开始时间。")
        elif resource.live_end is not None and resource.live_end <= resource.live_start:
            errors["live_end"] = _("直播结束时间应晚于开始时间。")
    elif resource.kind != Kind.PICTURES and not resource.file:
        errors["file"] = _("请上传%(kind)s文件。") % {"kind": resource.get_kind_display()}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def resource_save(
    *,
    resource: Resource,
    by_user=None,
    file: Checked | None = None,
    cover: Checked | None = None,
) -> Resource:
    """Create or change a resource; ``file`` and ``cover`` are checked uploads that replace
    the old ones (which are deleted from the store once the change is committed)."""
    replaced = []
    if file is not None:
        if resource.file:
            replaced.append((resource.file.storage, resource.file.name))
        resource.file.save(file.name, file.content, save=False)
        resource.content_type, resource.size = file.content_type, file.size
    if cover is not None:
        if resource.cover:
            replaced.append((resource.cover.storage, resource.cover.name))
        resource.cover.save(cover.name, cover.content, save=False)
    resource_check(resource)
    if resource.pk is None and by_user is not None and by_user.is_authenticated:
        resource.created_by = by_user
    resource.full_clean(exclude=["file", "cover", "created_by"])
    resource.save()
    for storage, name in replaced:
        transaction.on_commit(lambda s=storage, n=name: s.delete(n))
    return resource


@transaction.atomic
def resource_publish(*, resource: Resource, now: datetime | None = None) -> Resource:
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    resource_check(resource)
    if resource.kind == Kind.PICTURES and not resource.pictures.exists():
        raise ValidationError({"status": _("图集至少要有一张图片才能发布。")})
    resource.status = Resource.Status.PUBLISHED
    resource.published_at = resource.published_at or now or timezone.now()
    resource.save(update_fields=["status", "published_at", "updated_at"])
    return resource


@transaction.atomic
def resource_unpublish(*, resource: Resource) -> Resource:
    resource.status = Resource.Status.DRAFT
    resource.save(update_fields=["status", "updated_at"])
    return resource


@transaction.atomic
def picture_add(*, resource: Resource, image: Checked, caption: str = "") -> Picture:
    if resource.kind != Kind.PICTURES:
        raise ValidationError(_("只有图集可以添加图片。"))
    position = resource.pictures.count()
    picture = Picture(resource=resource, caption=caption, position=position)
    picture.image.save(image.name, image.content, save=False)
    picture.save()
    return picture


def use_record(*, resource_id: int, play: bool, now: datetime | None = None) -> None:
    """Count a view of a resource's page (``play`` false) or a play of its media (true): on
    the resource and on the day's row, two conditional updates, never who it was."""
    field = "plays" if play else "views"
    day = timezone.localdate(now)
    with transaction.atomic():
        if not Resource.objects.filter(pk=resource_id).update(**{field: F(field) + 1}):
            return
        if Use.objects.filter(resource_id=resource_id, day=day).update(**{field: F(field) + 1}):
            return
        try:
            with transaction.atomic():
                Use.objects.create(resource_id=resource_id, day=day, **{field: 1})
        except IntegrityError:  # another request created the day's row first
            Use.objects.filter(resource_id=resource_id, day=day).update(**{field: F(field) + 1})


def play_record(*, resource_id: int, address: str) -> None:
    """A play of a published resource's media (or the opening of a book or picture set) from
    the client at ``address``. Plays beyond the address's hourly budget are not counted, so one
    machine cannot inflate a hall's figure; Resource.DoesNotExist for anything not published."""
    if not Resource.objects.filter(pk=resource_id, status=Resource.Status.PUBLISHED).exists():
        raise Resource.DoesNotExist
    try:
        check("digital-play:ip", address, limit=settings.DIGITAL_PLAYS_PER_IP, window=3600)
    except RateLimited:
        return
    use_record(resource_id=resource_id, play=True)
