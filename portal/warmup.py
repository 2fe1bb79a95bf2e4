"""What a web process would otherwise build on its first requests, built once in gunicorn's
master before it forks the workers (``gunicorn.conf.py``, with ``preload_app``).

gunicorn recycles each worker after about 2,000 requests (``max_requests``), and every new
worker rebuilt for itself, on its first requests: the URL patterns' reverse tables, once per
language (the whole admin's among them), the template engine with its tag libraries, every
template it compiled, and the translation catalogues. Built in the master, each forked worker
starts with them: a new worker's first activity list took 51–59 ms before, 32 ms after
(docs/BENCHMARKS.md). Nothing here opens a database connection, which a fork must not share.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template import engines
from django.urls import get_resolver
from django.utils import translation


def warm() -> None:
    """The URL resolvers' reverse tables and the catalogues of every language, the template
    engines, and the compiled templates of the project's own folders."""
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolver.reverse_dict  # noqa: B018 - builds this language's tables, nested ones too
    for engine in engines.all():
        for name in project_templates(engine):
            engine.get_template(name)


def project_templates(engine) -> list[str]:
    """The names of the templates in ``engine``'s folders that belong to the project (under
    ``BASE_DIR``, not the installed packages'), in a stable order."""
    base = Path(settings.BASE_DIR).resolve()
    names: set[str] = set()
    for folder in getattr(engine, "template_dirs", ()):
        folder = Path(folder).resolve()
        if not folder.is_relative_to(base) or "site-packages" in folder.parts:
            continue
        for path in folder.rglob("*"):
            if path.suffix in (".html", ".txt") and path.is_file():
                names.add(path.relative_to(folder).as_posix())
    return sorted(names)
