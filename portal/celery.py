from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The evaluation's tasks sit in the service modules whose work they run (pretix's style): a
# service that queues a task then imports nothing back, where a separate ``tasks`` module would
# import the service and be imported by it. Autodiscovery looks for ``tasks`` modules only, so
# these packages are named here, and the worker imports their ``services`` at start.
app.autodiscover_tasks(["evaluation.reports", "evaluation"], related_name="services")
