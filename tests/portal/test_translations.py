"""English is the second language: every model of the portal has its own English singular and
plural names, while Chinese keeps one word for both."""

from __future__ import annotations

import re

from django.apps import apps
from django.utils import translation

CJK = re.compile(r"[\u4e00-\u9fff]")


PACKAGES = ("network", "activities", "evaluation", "portal")


def portal_models():
    """The models of every app of the portal's own packages (not Django's or a library's)."""
    return [
        model
        for config in apps.get_app_configs()
        if config.name.split(".")[0] in PACKAGES
        for model in config.get_models()
    ]


def test_every_model_name_is_translated_and_the_english_plural_is_its_own():
    with translation.override("en"):
        names = {
            m._meta.label: (str(m._meta.verbose_name), str(m._meta.verbose_name_plural))
            for m in portal_models()
        }
    untranslated = {label: pair for label, pair in names.items() if CJK.search("".join(pair))}
    assert untranslated == {}
    assert names["network.Hall"] == ("Culture hall", "Culture halls")
    assert names["activities.Activity"] == ("Activity", "Activities")


def test_chinese_keeps_one_word_for_one_and_many():
    from network.models import Hall

    with translation.override("zh-hans"):
        assert (str(Hall._meta.verbose_name), str(Hall._meta.verbose_name_plural)) == (
            "文化馆",
            "文化馆",
        )
