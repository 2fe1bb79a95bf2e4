"""``{% portal_dashboard as board %}`` for the admin home page (``templates/admin/index.html``)."""

from __future__ import annotations

from django import template

from portal.dashboard import dashboard_for
from portal.todo import todo_for

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_dashboard(context):
    request = context.get("request")
    if request is None:
        return None
    return dashboard_for(request.user)


@register.simple_tag(takes_context=True)
def portal_todo(context):
    request = context.get("request")
    if request is None:
        return None
    return todo_for(request.user)
