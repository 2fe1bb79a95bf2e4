"""The residents' satisfaction survey (群众满意度测评): a short public form per hall.

One answer per phone per hall per quarter (``satisfaction_submit`` and a unique constraint
enforce it); submissions are rate limited per address and per phone so the survey cannot be
stuffed from one place.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.residents import web as residents
from common.forms import add_service_errors, consent_field
from common.privacy import consented
from common.ratelimit import Budget
from network.models import Hall, HallStatus

from . import services

SURVEY_BUDGET = Budget(
    "survey", "SURVEY_RATE_LIMIT_IP", "SURVEY_RATE_LIMIT_PHONE", "SURVEY_RATE_WINDOW"
)

STARS = [
    (5, gettext_lazy("★★★★★ 非常满意")),
    (4, gettext_lazy("★★★★ 满意")),
    (3, gettext_lazy("★★★ 一般")),
    (2, gettext_lazy("★★ 不太满意")),
    (1, gettext_lazy("★ 不满意")),
]


class SurveyForm(forms.Form):
    """Collects the answer; ``satisfaction_submit`` owns the rules and their messages."""

    rating = forms.ChoiceField(
        label=gettext_lazy("您对本馆的服务满意吗?"),
        choices=STARS,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择 1 到 5 星。"),
            "invalid_choice": gettext_lazy("请选择 1 到 5 星。"),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("意见建议(选填)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        max_length=11,
        help_text=gettext_lazy("每个手机号码每季度可以评价一次,号码不会公开。"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "tel", "placeholder": "13800138000"}
        ),
        error_messages={"required": gettext_lazy("请填写手机号码。")},
    )
    consent = consent_field()


def _hall(hall_id: int) -> Hall:
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        raise Http404(_("没有这个场馆。"))
    return hall


def survey(request: HttpRequest, hall_id: int) -> HttpResponse:
    hall = _hall(hall_id)
    is_open = hall.status == HallStatus.OPEN
    form = SurveyForm()
    residents.bind_phone(form, request)
    status = 200
    if request.method == "POST" and is_open and residents.unverified(request):
        status = 401  # the form's place says to verify first; nothing is read or saved
    elif request.method == "POST" and is_open:
        phone = residents.verified_phone(request) or (request.POST.get("phone") or "").strip()
        limited = SURVEY_BUDGET.page(
            request, template="evaluation/survey_limited.html", phone=phone
        )
        if limited is not None:
            return limited
        form = SurveyForm(request.POST)
        residents.bind_phone(form, request)
        if form.is_valid():
            try:
                services.satisfaction_submit(
                    hall_id=hall.pk,
                    phone=form.cleaned_data["phone"],
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                    consent_version=consented(form.cleaned_data)["consent_version"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("evaluation:survey_thanks", hall.pk)
    return render(
        request,
        "evaluation/survey.html",
        {
            "hall": hall,
            "form": form,
            "is_open": is_open,
            "resident": residents.phone_context(request),
        },
        status=status,
    )


def survey_thanks(request: HttpRequest, hall_id: int) -> HttpResponse:
    return render(request, "evaluation/survey_thanks.html", {"hall": _hall(hall_id)})
