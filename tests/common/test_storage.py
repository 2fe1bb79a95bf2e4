"""Files beyond one machine: with ``S3_BUCKET`` every uploaded and generated file goes to an
S3-compatible bucket, here a real S3 API server on 127.0.0.1 (``tests/s3.py``).

The worker test runs a real Celery worker process on Redis and PostgreSQL that writes the report
to the bucket; the web side (this test's process) then serves it through the scoped download.
"""

from __future__ import annotations

import io
import os
import urllib.request
import uuid

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook
from PIL import Image

from common.storage import s3_storage
from evaluation.reports.models import ReportRun
from evaluation.scoring import services as scoring
from tests.activities.factories import published_activity
from tests.conftest import need_postgres, need_redis
from tests.evaluation.factories import YEAR
from tests.evaluation.reports import test_report_worker as worker

pytest_plugins = ["tests.s3"]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_an_uploaded_picture_round_trips_byte_for_byte_through_the_bucket(cast, s3_bucket, client):
    s3, bucket, _env = s3_bucket
    picture = _png()
    activity = published_activity(cast.branch, title="花灯戏专场")
    activity.picture.save("poster.png", ContentFile(picture))
    key = activity.picture.name
    # In the bucket, not on this machine's disk.
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == picture
    # The public page links the portal's route; from a bucket the route sends the browser on
    # to a signed URL that expires, and that URL serves the bytes.
    route = reverse("activities:activity_picture", args=[activity.pk])
    page = client.get(reverse("activities:activity_detail", args=[activity.pk])).content.decode()
    assert f'src="{route}"' in page
    redirect = client.get(route)
    assert redirect.status_code == 302
    url = redirect["Location"]
    assert url.startswith(f"{s3.meta.endpoint_url}/{bucket}/") and "X-Amz-Expires=120" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == picture


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_an_export_is_stored_in_the_bucket_and_downloaded_through_the_scoped_view(
    cast, s3_bucket, client
):
    s3, bucket, _env = s3_bucket
    scoring.scheme_create(year=YEAR)
    client.force_login(cast.county_official)
    response = client.post(
        reverse("admin:evaluation_export"),
        {"kind": "assessment", "year": YEAR, "hall": cast.county.pk},
    )
    run = client.get(response["Location"]).context["run"]
    assert run.status == "done"
    stored = s3.get_object(Bucket=bucket, Key=run.file.name)["Body"].read()
    download = client.get(reverse("admin:evaluation_export_download", args=[run.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body == stored
    assert load_workbook(io.BytesIO(body)).sheetnames[0] == "汇总"
    # Another county's director gets nothing, as on disk.
    client.force_login(cast.other_county_director)
    assert client.get(reverse("admin:evaluation_export_download", args=[run.pk])).status_code == 404
    # An object gone from the bucket is a 404 that says so, not a 500.
    s3.delete_object(Bucket=bucket, Key=run.file.name)
    client.force_login(cast.county_official)
    gone = client.get(reverse("admin:evaluation_export_download", args=[run.pk]))
    assert gone.status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("eager_tasks")
def test_a_store_that_does_not_answer_is_a_503_that_says_so(cast, s3_bucket, client, settings):
    scoring.scheme_create(year=YEAR)
    client.force_login(cast.county_official)
    response = client.post(
        reverse("admin:evaluation_export"),
        {"kind": "assessment", "year": YEAR, "hall": cast.county.pk},
    )
    run = client.get(response["Location"]).context["run"]
    # The bucket's server goes away (a port nobody listens on).
    dead = s3_storage(bucket="gone", endpoint_url="http://127.0.0.1:9", url_expires=60)
    with override_settings(STORAGES={**settings.STORAGES, "default": dead}):
        download = client.get(reverse("admin:evaluation_export_download", args=[run.pk]))
    assert download.status_code == 503
    assert "文件存储暂时无法访问" in download.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_report_built_by_a_worker_is_downloaded_through_the_web(
    cast, s3_bucket, client, tmp_path
):
    need_postgres()
    broker = worker._redis_url(need_redis())
    s3, bucket, environment = s3_bucket
    env = {
        **os.environ,
        **environment,
        "ENV_FILE": "/dev/null",
        "DATABASE_URL": worker._database_url(),
        "REDIS_URL": broker,
        # The worker's disk is not the web's: a file written there would not be found here.
        "MEDIA_ROOT": str(tmp_path / "worker-media"),
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "worker.log"
    queue = f"storage-test-{uuid.uuid4().hex[:8]}"
    worker._flush(broker)
    from celery import Celery

    sender = Celery("storage-test", broker=broker, set_as_current=False)
    process = None
    try:
        process = worker._start_worker(env, "storage", log, queue)
        sender.send_task(worker.TASK, args=["quarterly", "2026Q3", cast.county.pk], queue=queue)
        run = worker._wait_for(
            lambda: ReportRun.objects.filter(status=ReportRun.Status.DONE).first(),
            90,
            "the worker to build the report",
            [log],
        )
    finally:
        worker._kill(process)
        worker._flush(broker)
        sender.close()
    assert not (tmp_path / "worker-media").exists()
    stored = s3.get_object(Bucket=bucket, Key=run.file.name)["Body"].read()
    client.force_login(cast.county_director)
    download = client.get(reverse("admin:reports_reportrun_download", args=[run.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body == stored
    book = load_workbook(io.BytesIO(body))
    assert next(book["概况"].iter_rows(values_only=True))[0] == "官渡区文化馆 2026Q3 季度报告"
    client.force_login(cast.other_county_director)
    assert client.get(reverse("admin:reports_reportrun_download", args=[run.pk])).status_code == 404
