"""``{% field_row field cls="span" help=… %}``: a form field in its row (label, widget, errors,
help).

Every public form lays its fields out this way. It was a template included once a field; on a
list page no cache has seen, the five filter fields' includes were about a sixth of the request
(each include copies the context, looks the template up and walks its nodes), so the row is
written here, the same HTML character for character.
"""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def field_row(field: BoundField, cls="", help="") -> SafeString:  # noqa: A002 (the template's name)
    errors = field.errors
    classes = "field"
    if cls:
        classes += f" {conditional_escape(cls)}"
    if errors:
        classes += " has-error"
    help_html = f'<p class="help">{conditional_escape(help)}</p>' if help else ""
    return mark_safe(  # every value above and below is escaped, or HTML Django made
        f'<div class="{classes}">\n'
        f'  <label for="{conditional_escape(field.id_for_label)}">'
        f"{conditional_escape(field.label)}</label>\n"
        f"  {conditional_escape(field)}\n"
        f"  {conditional_escape(errors)}\n"
        f"  {help_html}\n"
        "</div>\n"
    )
