"""The spreadsheet exports as background runs: ``export_start`` checks the request and queues
the run; the Celery task ``build_export`` (beside the service it runs, as pretix keeps them)
builds it. The run's row (``common.jobs.FileJob``) is claimed with a conditional update and
beats with its progress, so the progress page reads the row, a redelivered message finishes a
run instead of duplicating it, and a restart loses nothing."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.utils.translation import gettext as _

from common.jobs import ClaimLost, worker_name
from network.models import Hall
from network.selectors import user_scope

from . import exports
from .models import ExportRun

log = logging.getLogger(__name__)


def export_start(*, kind: str, year: int, within: Hall | None, user) -> ExportRun:
    """Queue an export for ``user``; its row follows it (``export_status``)."""
    exporter = exports.exporter(kind)
    exporter.check(year=year, within=within)
    scope = user_scope(user)
    if within is None and not scope.everything:
        raise PermissionDenied(_("请选择要导出的馆;只能导出本馆及下属馆的数据。"))
    if within is not None and not scope.covers(within):
        raise PermissionDenied(_("只能导出本馆及下属馆的数据。"))
    # Saved (autocommit) before the task is sent, so the worker always finds the row.
    run = ExportRun.objects.create(kind=kind, year=year, within=within, user=user)
    try:
        build_export.delay(str(run.pk))
    except Exception as exc:  # noqa: BLE001 - whatever the broker raises (refused, timed out)
        # The run's page says so, and the person asks again later: nothing waits on Redis.
        log.warning("export %s not queued: %s: %s", run.pk, type(exc).__name__, exc)
        ExportRun.objects.filter(pk=run.pk, status=ExportRun.Status.PENDING).update(
            status=ExportRun.Status.FAILED,
            error=_("任务队列暂时不可用,导出没有开始;请几分钟后重新导出。"),
        )
        run.refresh_from_db()
    return run


def export_status(export_id, user=None) -> ExportRun | None:
    """The run, or None when unknown or started by another account than ``user``."""
    try:
        run = ExportRun.objects.filter(pk=export_id).first()
    except ValidationError:  # not a UUID
        return None
    if run is None:
        return None
    if user is not None and not user.is_superuser and run.user_id != user.pk:
        return None
    return run


def export_run(export_id, *, worker: str | None = None) -> ExportRun | None:
    """Build a queued export (the body of the Celery task). The workbook is written to a
    temporary file and stored only when complete, so a half-written file is never offered; a
    run whose worker died is taken over once its heartbeat is stale, and starts over."""
    run = export_status(export_id)
    if run is None or run.status == ExportRun.Status.DONE:
        return run
    worker = worker or worker_name()
    stale = timedelta(seconds=settings.REPORT_STALE_SECONDS)
    if not run.claim(worker=worker, stale_after=stale):
        return run
    try:
        exporter = exports.exporter(run.kind)
        with tempfile.TemporaryFile() as f:
            exporter.render(
                year=run.year,
                within=run.within,
                target=f,
                progress=lambda done, total: run.beat(worker=worker, progress=done, total=total),
            )
            f.seek(0)
            run.finish(
                worker=worker,
                name=f"{run.kind}-{run.year}-{run.pk.hex}.xlsx",
                content=File(f),
            )
    except ClaimLost:
        pass
    except ValidationError as exc:
        run.fail(worker=worker, error="; ".join(exc.messages))
    except Exception:
        log.exception("export %s failed", run.pk)
        run.fail(worker=worker, error=_("导出失败,请稍后重试。"))
    run.refresh_from_db()
    return run


@shared_task(bind=True, acks_late=True)
def build_export(self, export_id: str) -> str | None:
    run = export_run(export_id, worker=worker_name(self.request.id))
    return run.status if run else None
