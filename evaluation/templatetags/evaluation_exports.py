"""The export form lists exporters by identifier; their names come from the registry, so a page
of the returns or the scoring offers a spreadsheet without importing the exports."""

from __future__ import annotations

from django import template

from evaluation.exports import EXPORTERS

register = template.Library()


@register.simple_tag
def exporter_choices(identifiers) -> list[tuple[str, str]]:
    return [(i, EXPORTERS[i].verbose_name) for i in identifiers or () if i in EXPORTERS]
