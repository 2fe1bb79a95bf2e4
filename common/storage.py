"""Where files live: the web machine's disk, or an S3-compatible bucket shared by every web and
worker machine.

``s3_storage`` is the ``STORAGES["default"]`` entry the settings use when ``S3_BUCKET`` is set
(the tests build the same entry against a local S3 API server). Objects are private: a page
that shows a picture gets a signed URL that expires, and the private files (reports, exports)
are streamed by views that check the account's scope first, never linked to directly.
"""

from __future__ import annotations

import logging
import mimetypes
import re

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# A bucket that does not answer must not hold a request for long: a few seconds to connect,
# a bounded read, and botocore's own retries for what fails on the way.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 20


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str | None = None,
    url_expires: int = 3600,
) -> dict:
    """The ``STORAGES`` entry of django-storages' S3 backend for ``bucket``.

    ``endpoint_url`` points at an S3-compatible store (MinIO, a cloud's OSS/COS S3 endpoint);
    with one, paths are addressed as ``endpoint/bucket/key``, which every such store serves."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "region_name": region or None,
            # Private objects; a name already taken gets a suffix, never overwrites a file.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": url_expires,
            # With a client config of its own, django-storages takes the signature and the
            # addressing style from it.
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }


def stored_download(field_file, *, filename: str, missing: str) -> HttpResponse:
    """A stored file as an attachment named ``filename`` (RFC 5987, so Chinese names work),
    streamed from wherever it lives; the caller has checked who may have it. A file that is
    gone answers 404 with ``missing``; a store that does not answer, a 503 page that says so,
    never a 500."""
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404(missing) from None
    except (OSError, BotoCoreError, ClientError):
        logger.exception("file store unavailable reading %s", field_file.name)
        message = _("文件存储暂时无法访问,文件没有丢失,请几分钟后再下载。")
        return HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    return FileResponse(handle, as_attachment=True, filename=filename)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def is_remote(storage) -> bool:
    """Whether files live off this machine (an S3 bucket): Django's convention is that such a
    storage has no local ``path``."""
    try:
        storage.path("x")
    except NotImplementedError:
        return True
    return False


def _chunks(handle, length: int):
    try:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()


def serve_stored(
    request, field_file, *, content_type: str, missing: str, max_age: int = 3600
) -> HttpResponse:
    """A public stored file (a video, an audio, a PDF) with HTTP range requests, so that a
    player can seek in a long video without fetching it whole. From a bucket, a redirect to a
    signed URL (the bucket answers ranges itself); from the local disk, ``206 Partial Content``
    for a single ``Range: bytes=a-b`` and the whole file otherwise. Served as ``content_type``
    (the type the upload check found), never sniffed (``nosniff``)."""
    if is_remote(field_file.storage):
        return HttpResponseRedirect(field_file.url)
    try:
        size = field_file.size
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404(missing) from None
    wanted = _RANGE.match(request.headers.get("Range", "").strip())
    if wanted and (wanted[1] or wanted[2]):
        first, last = wanted[1], wanted[2]
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:  # the last N bytes
            start, end = max(size - int(last), 0), size - 1
        if start >= size or start > end:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle.seek(start)
        response = StreamingHttpResponse(
            _chunks(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(handle, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response


def serve_image(request, field_file, *, missing: str, max_age: int = 86400) -> HttpResponse:
    """A stored picture (re-encoded on upload and named by its real type, ``common.uploads``),
    from the disk or the bucket alike."""
    content_type = mimetypes.guess_type(field_file.name)[0] or "application/octet-stream"
    return serve_stored(
        request, field_file, content_type=content_type, missing=missing, max_age=max_age
    )
