"""Where files live: the web machine's disk, or an S3-compatible bucket shared by every web and
worker machine.

``s3_storage`` is the ``STORAGES["default"]`` entry the settings use when ``S3_BUCKET`` is set
(the tests build the same entry against a local S3 API server). Objects are private: a page
that shows a picture gets a signed URL that expires, and the private files (reports, exports)
are streamed by views that check the account's scope first, never linked to directly.
"""

from __future__ import annotations

import logging

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.http import FileResponse, Http404, HttpResponse
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
