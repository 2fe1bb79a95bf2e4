"""gunicorn settings for the portal: ``gunicorn --config gunicorn.conf.py portal.wsgi``.

Everything can be changed from the environment (``PORT``, ``WEB_CONCURRENCY``, ``WEB_THREADS``,
``WEB_TIMEOUT``); gunicorn's own ``GUNICORN_CMD_ARGS`` still works on top.
"""

from __future__ import annotations

import multiprocessing
import os


def _env_int(name: str, default: int) -> int:
    # Compose passes an unset variable through as an empty string.
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = f"0.0.0.0:{_env_int('PORT', 8000)}"

# Sync workers: the views are short and database-bound. Two per core plus one is gunicorn's own
# advice; a cap keeps a big host from opening more PostgreSQL connections than it allows.
workers = _env_int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9))
threads = _env_int("WEB_THREADS", 1)
# Spreadsheet exports are the slowest requests a user waits for; reports go to Celery instead.
timeout = _env_int("WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Workers heartbeat through a temporary file; on a container's overlay disk that can stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Recycle workers now and then so that a slow leak never takes the site down.
max_requests = 2000
max_requests_jitter = 200
# Load the app before forking: a broken deployment fails at once instead of in every worker.
preload_app = True


def when_ready(server) -> None:
    # Django imports the URLconf (and with it every view, serializer and admin) on the first
    # request, so each new worker, after every start and every recycling, made its first caller
    # wait about 0.3 s, and built its URL tables, templates and catalogues again on the requests
    # after. Built here, in the master, before the workers are forked (portal/warmup.py).
    if server.cfg.preload_app:
        from portal.warmup import warm

        warm()


# Behind a proxy (nginx, a cloud load balancer) that sets X-Forwarded-Proto: gunicorn believes
# the forwarded headers only from the addresses the portal trusts too (TRUSTED_PROXIES, the same
# setting common.ratelimit.client_ip reads), else only from this machine.
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS") or os.environ.get("TRUSTED_PROXIES") or "127.0.0.1"
)

accesslog = "-"
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()

# The same JSON lines as the portal's own logs (portal/logging.py), one request a line.
_format = os.environ.get("LOG_FORMAT") or "json"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "portal.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # Request lines carry query strings (a booking looked up by ?phone=): numbers are masked.
    "filters": {"mask_phones": {"()": "portal.logging.MaskPhones"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": _format if _format in ("json", "plain") else "json",
            "stream": "ext://sys.stderr",
            "filters": ["mask_phones"],
        },
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
