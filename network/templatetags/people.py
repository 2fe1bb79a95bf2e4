"""``{{ user|person }}``: a staff account by its name (``network.selectors.person_name``)."""

from __future__ import annotations

from django import template

from network.selectors import person_name

register = template.Library()


@register.filter
def person(user) -> str:
    return person_name(user)
