from __future__ import annotations


def admin_scope_object(model, halls):
    """An inspection of ``halls`` (for tests/network/test_admin_scope.py)."""
    from datetime import date

    from django.contrib.auth import get_user_model

    from evaluation.scoring import services as scoring
    from evaluation.scoring.models import Dimension, Inspection

    from ..factories import YEAR, scheme_for

    if model is Inspection:
        dimension = scheme_for().dimensions.filter(source=Dimension.Source.SCORED).first()
        return scoring.inspection_record(
            hall=halls.branch,
            inspector_hall=halls.main,
            inspected_on=date(YEAR, 5, 1),
            findings="服务时间未公示",
            dimension=dimension,
            deduction=1,
            fix_by=date(YEAR, 6, 1),
            by=get_user_model().objects.get(username="root"),
        )
    return None
