from __future__ import annotations


def admin_scope_object(model, halls):
    """A return of ``halls`` (for tests/network/test_admin_scope.py)."""
    from evaluation.returns import services as returns
    from evaluation.returns.models import AssetReturn, ReturnKind, ServiceReturn

    from ..factories import YEAR

    if model is ServiceReturn:
        return returns.return_get_or_create(kind=ReturnKind.SERVICE, hall=halls.branch, year=YEAR)
    if model is AssetReturn:
        return returns.return_get_or_create(kind=ReturnKind.ASSET, hall=halls.branch, year=YEAR)
    return None
