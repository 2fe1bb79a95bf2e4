"""Checking what people upload: the real type from the file's content (never its name or the
browser's word), a size limit per kind, and pictures re-encoded with Pillow so that nothing but
pixels is kept. A checked file gets a fresh random name with the extension of its real type, so
the store and the browser both see it for what it is, and no upload is ever served as HTML.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

MB = 1024 * 1024
# A picture larger than this many pixels is refused before Pillow decodes it (decompression
# bombs): 40 megapixels covers any phone photo.
MAX_PIXELS = 40_000_000
# Re-encoded pictures are at most this wide or high.
MAX_SIDE = 2400


@dataclass(frozen=True)
class Accepted:
    """What a kind of upload may be: its real types (MIME → extension) and its size limit."""

    label: str
    types: dict[str, str]
    max_bytes: int


VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm"}
AUDIO_TYPES = {
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/ogg": "ogg",
    "audio/x-wav": "wav",
    "audio/aac": "aac",
}
BOOK_TYPES = {"application/pdf": "pdf"}
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class Checked:
    """A checked upload: the content to store under ``name``, its real type and size."""

    content: File
    name: str
    content_type: str
    size: int


def _size_of(upload) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, io.SEEK_END)
        size = upload.tell()
    return size


def _fresh_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}.{extension}"


def check_file(upload, accepted: Accepted) -> Checked:
    """``upload`` if its content is one of ``accepted.types`` and it is small enough, under a
    fresh name; a ValidationError that says what to fix otherwise."""
    size = _size_of(upload)
    if size == 0:
        raise ValidationError(_("文件是空的,请重新选择。"), code="empty")
    if size > accepted.max_bytes:
        raise ValidationError(
            _("%(kind)s文件不能超过 %(limit)d MB(这个文件 %(size).1f MB)。")
            % {"kind": accepted.label, "limit": accepted.max_bytes // MB, "size": size / MB},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    guess = filetype.guess(head)
    mime = guess.mime if guess else ""
    if mime not in accepted.types:
        allowed = "、".join(sorted(set(accepted.types.values())))
        raise ValidationError(
            _("文件内容不是可接受的%(kind)s格式(可接受:%(allowed)s),请换一个文件。")
            % {"kind": accepted.label, "allowed": allowed},
            code="type",
        )
    return Checked(
        content=File(upload),
        name=_fresh_name(accepted.types[mime]),
        content_type=mime,
        size=size,
    )


def check_image(upload, *, max_bytes: int = 10 * MB) -> Checked:
    """A picture, decoded and re-encoded (JPEG, or PNG where it has transparency), at most
    ``MAX_SIDE`` pixels on a side: whatever else the file held is dropped."""
    accepted = Accepted(_("图片"), IMAGE_TYPES, max_bytes)
    check_file(upload, accepted)
    upload.seek(0)
    try:
        with Image.open(upload) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(
                    _("图片太大(%(w)d×%(h)d 像素),请缩小后再上传。")
                    % {"w": probe.width, "h": probe.height},
                    code="too_many_pixels",
                )
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            keep_alpha = image.mode in ("RGBA", "LA", "P") and "transparency" in image.info
            keep_alpha = keep_alpha or image.mode in ("RGBA", "LA")
            out = io.BytesIO()
            if keep_alpha:
                image.convert("RGBA").save(out, format="PNG", optimize=True)
                mime, extension = "image/png", "png"
            else:
                image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
                mime, extension = "image/jpeg", "jpg"
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(_("图片已损坏或无法识别,请换一张。"), code="broken") from None
    finally:
        upload.seek(0)
    data = out.getvalue()
    return Checked(
        content=ContentFile(data), name=_fresh_name(extension), content_type=mime, size=len(data)
    )


def checked_picture_field(value, *, max_bytes: int):
    """What a form's ``ImageField`` cleaned, made safe to store: a new upload is re-encoded
    (``check_image``) and comes back under a fresh name; the "clear" box (False) is an empty
    name; nothing chosen (None) and the picture already stored come back as they were."""
    if value is False:
        return ""
    if not isinstance(value, UploadedFile):
        return value
    checked = check_image(value, max_bytes=max_bytes)
    return ContentFile(checked.content.read(), name=checked.name)
