"""Uploads are judged by their content: the real type, a size limit per kind, pictures decoded
and re-encoded. A bad upload says what to fix and leaves nothing behind."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image

from activities.digital import services
from activities.digital.models import Kind
from common.uploads import check_image

from .factories import fixture, png


def test_the_real_type_is_read_from_the_content_not_the_name():
    checked = services.check_resource_file(kind=Kind.VIDEO, upload=fixture("demo-video.mp4"))
    assert checked.content_type == "video/mp4" and checked.name.endswith(".mp4")
    assert checked.name != "demo-video.mp4"  # a fresh name, never the uploader's
    # A PDF called .mp4 is not a video; an HTML page called .pdf is not a book.
    pdf = ContentFile(fixture("demo-book.pdf").read(), name="lesson.mp4")
    with pytest.raises(ValidationError) as refused:
        services.check_resource_file(kind=Kind.VIDEO, upload=pdf)
    assert "文件内容不是可接受的视频格式" in str(refused.value.message_dict["file"])
    page = ContentFile(b"<html><script>alert(1)</script></html>", name="book.pdf")
    with pytest.raises(ValidationError, match="电子书"):
        services.check_resource_file(kind=Kind.BOOK, upload=page)
    audio = services.check_resource_file(kind=Kind.AUDIO, upload=fixture("demo-audio.mp3"))
    assert audio.content_type == "audio/mpeg"


def test_each_kind_has_its_size_limit(settings):
    settings.DIGITAL_MAX_MB = {**settings.DIGITAL_MAX_MB, "book": 0}
    with pytest.raises(ValidationError, match="不能超过 0 MB"):
        services.check_resource_file(kind=Kind.BOOK, upload=fixture("demo-book.pdf"))
    with pytest.raises(ValidationError, match="文件是空的"):
        services.check_resource_file(kind=Kind.VIDEO, upload=ContentFile(b"", name="x.mp4"))


def test_pictures_are_re_encoded_and_keep_nothing_else():
    # A PNG with a script appended after its end, and a JPEG with EXIF data.
    tail = b"<script>alert(1)</script>"
    checked = check_image(ContentFile(png() + tail, name="a.png"))
    data = checked.content.read()
    assert tail not in data and checked.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).size == (40, 30)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "某相机"
    Image.new("RGB", (3000, 2000)).save(buffer, format="JPEG", exif=exif)
    checked = check_image(ContentFile(buffer.getvalue(), name="b.jpg"))
    image = Image.open(io.BytesIO(checked.content.read()))
    assert not image.getexif() and max(image.size) == 2400
    # Transparency is kept as a PNG.
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buffer, format="PNG")
    assert check_image(ContentFile(buffer.getvalue(), name="c.png")).content_type == "image/png"


def test_what_is_not_a_picture_is_refused_with_a_reason():
    with pytest.raises(ValidationError, match="可接受的图片格式"):
        check_image(ContentFile(b"GIF89a<script>alert(1)</script>", name="x.jpg"))
    broken = png()[:60]  # a PNG header and then nothing
    with pytest.raises(ValidationError, match="图片已损坏"):
        check_image(ContentFile(broken, name="y.png"))
