"""A real S3 API server for the storage tests: moto's server mode on 127.0.0.1.

``.ci/run`` starts one and names it in ``S3_TEST_ENDPOINT_URL``; without that variable the
``s3_endpoint`` fixture starts its own for the session (moto is a dev dependency). The client
talks HTTP to it exactly as to a bucket in production: nothing in the portal is mocked.

Load it from a test module with ``pytest_plugins = ["tests.s3"]``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from common.storage import s3_storage
from tests.conftest import _missing

KEY, SECRET = "testing", "testing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=1)
    except OSError as exc:
        # An HTTP error is an answer; a refused connection is not.
        return hasattr(exc, "code")
    return True


@pytest.fixture(scope="session")
def s3_endpoint():
    url = os.environ.get("S3_TEST_ENDPOINT_URL")
    if url:
        if not _answers(url):
            _missing(f"no S3 API server answers at S3_TEST_ENDPOINT_URL={url}")
        yield url
        return
    try:
        import moto.server  # noqa: F401
    except ImportError:
        _missing(
            "needs an S3 API server: pip install 'moto[server,s3]' or set S3_TEST_ENDPOINT_URL"
        )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _answers(url):
            if server.poll() is not None or time.monotonic() > deadline:
                _missing(f"moto's S3 server did not start on {url}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )


@pytest.fixture
def s3_bucket(s3_endpoint, settings):
    """A new, empty bucket, and the portal's default storage pointed at it (what
    ``S3_BUCKET`` and friends do in production). Yields ``(client, bucket, environment)``:
    the environment a worker process needs to use the same bucket."""
    bucket = f"portal-test-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=bucket,
            endpoint_url=s3_endpoint,
            access_key=KEY,
            secret_key=SECRET,
            region="us-east-1",
            url_expires=120,
        ),
    }
    environment = {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "S3_REGION": "us-east-1",
    }
    yield client, bucket, environment
    objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    for item in objects:
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)
