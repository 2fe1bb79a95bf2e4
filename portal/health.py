"""The health check that load balancers, Docker and monitoring poll.

``/health/`` answers 200 ``{"status": "ok", ...}`` when the database answers and, where
``REDIS_URL`` is set, Redis answers too; otherwise 503 with the part that failed. The same checks
run from the command line (``python -m portal.health``, exit code 0 or 1) for containers that
serve no HTTP, such as Celery beat.
"""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

# A health check that hangs is as bad as a failed one: the poller times out and learns nothing.
TIMEOUT_SECONDS = 2


def check_database(alias: str = "default") -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, the answer is "down"
        return f"error: {exc.__class__.__name__}"
    return "ok"


def check_redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"error: {exc.__class__.__name__}"
    finally:
        client.close()
    return "ok"


def run_checks() -> dict[str, str]:
    checks = {"database": check_database()}
    if settings.REDIS_URL:
        checks["redis"] = check_redis(settings.REDIS_URL)
    return checks


def is_healthy(checks: dict[str, str]) -> bool:
    return all(result == "ok" for result in checks.values())


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    healthy = is_healthy(checks)
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def main() -> int:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    checks = run_checks()
    healthy = is_healthy(checks)
    print(json.dumps({"status": "ok" if healthy else "error", **checks}))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
