"""The warm-up gunicorn's master runs before it forks its workers (portal/warmup.py)."""

from __future__ import annotations

from django.template import engines
from django.urls import clear_url_caches, get_resolver

from portal.warmup import project_templates, warm


def _cached_loader(engine):
    (loader,) = engine.engine.template_loaders  # the cached loader around the others
    return loader


def test_the_warm_up_builds_the_url_tables_of_every_language_and_compiles_the_templates(
    settings,
):
    clear_url_caches()
    engine = engines["django"]
    _cached_loader(engine).reset()
    warm()
    root = get_resolver()
    assert set(root._reverse_dict) >= {code for code, _name in settings.LANGUAGES}
    nested = [p for p in root.url_patterns if hasattr(p, "url_patterns") and p.app_name]
    assert nested and all(
        set(p._reverse_dict) >= {"zh-hans", "en"} for p in nested
    )  # the included apps' tables too (a namespaced reverse reads them)
    kept = _cached_loader(engine).get_template_cache
    for name in ("base.html", "activities/activity_list.html", "network/hall_search.html"):
        assert name in kept


def test_the_warm_up_compiles_the_projects_templates_and_no_installed_packages():
    names = project_templates(engines["django"])
    assert "activities/activity_list.html" in names
    assert "admin/change_list.html" not in names  # Django's own, which the project does not change
    assert names == sorted(set(names))
