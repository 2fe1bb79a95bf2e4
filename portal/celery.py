from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every task sits in the services module whose work it runs (pretix's style): a service that
# queues a task imports nothing back, where a separate ``tasks`` module would import the service
# and be imported by it. So the worker looks for tasks in each app's ``services``.
app.autodiscover_tasks(related_name="services")
# Tasks that span the rooms sit at the top, beside the code they run.
app.autodiscover_tasks(lambda: ["portal"], related_name="privacy")
