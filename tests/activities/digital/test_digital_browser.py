"""A resident on a 375 px phone plays a short video (made by ffmpeg in the test), seeks in it,
and opens a PDF; the play is counted."""

from __future__ import annotations

import subprocess

import pytest
from django.core.files.base import ContentFile

from activities.digital import services
from activities.digital.models import Kind, Resource
from tests.browser import step

from .factories import published

pytest_plugins = ["tests.browser"]

pytestmark = pytest.mark.browser


def _video(tmp_path, seconds: int = 4) -> bytes:
    """A short H.264/AAC MP4, a frame every 1/15 s and a keyframe every second, so that a
    seek lands inside the file."""
    import imageio_ffmpeg

    target = tmp_path / "clip.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=15:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", "15",
            "-c:a", "aac", "-movflags", "+faststart", str(target),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return target.read_bytes()


def test_a_resident_plays_seeks_and_reads(page, live_server, cast, tmp_path):
    clip = services.check_resource_file(
        kind=Kind.VIDEO, upload=ContentFile(_video(tmp_path), name="clip.mp4")
    )
    video = services.resource_publish(
        resource=services.resource_save(
            resource=Resource(hall=cast.branch, kind=Kind.VIDEO, title="花灯基本功", duration=4),
            file=clip,
        )
    )
    book = published(cast.branch, Kind.BOOK, "滇剧入门", file="demo-book.pdf")
    ranges: list[str] = []
    page.on(
        "request",
        lambda r: ranges.append(r.headers.get("range", "")) if "/file/" in r.url else None,
    )

    page.goto(f"{live_server.url}/digital/")
    step(page, "digital-1-list")
    page.get_by_role("link", name="花灯基本功").click()
    page.wait_for_selector("video#player")
    step(page, "digital-2-video")
    player = page.locator("video#player")
    # Play (muted: a browser plays sound only after a gesture), then seek to 3 s.
    page.evaluate("v => { v.muted = true; return v.play(); }", player.element_handle())
    page.wait_for_function("() => document.getElementById('player').currentTime > 0.2")
    page.evaluate("document.getElementById('player').currentTime = 3")
    page.wait_for_function(
        "() => { const v = document.getElementById('player');"
        " return !v.seeking && v.currentTime >= 3 && v.readyState >= 2; }"
    )
    duration = page.evaluate("document.getElementById('player').duration")
    assert 3.5 < duration < 4.5
    # The player asked for byte ranges, and the page's script counted one play.
    assert any(r.startswith("bytes=") for r in ranges), ranges
    for _ in range(20):
        video.refresh_from_db()
        if video.plays:
            break
        page.wait_for_timeout(100)
    assert (video.views, video.plays) == (1, 1)

    page.goto(f"{live_server.url}/digital/{book.pk}/")
    step(page, "digital-3-book")
    with page.expect_popup() as popup:
        page.get_by_role("link", name="打开阅读(PDF)").click()
    reader = popup.value
    reader.wait_for_load_state()
    assert reader.url.endswith(f"/digital/{book.pk}/file/")
    response = page.request.get(reader.url)
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    for _ in range(20):
        book.refresh_from_db()
        if book.plays:
            break
        page.wait_for_timeout(100)
    assert book.plays == 1
