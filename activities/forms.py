"""Forms of the public activity pages, and the admin's attendance form. They check the shape of
the input; the rules of booking (open or closed, full, one phone once, no-show ban) and of
attendance stay in ``activities.services``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from common.codes import CODE_LENGTH, normalize_code
from common.forms import KeptSelect, add_service_errors, consent_field, name_field, phone_field
from network.forms import AreaFilterForm

from .models import Activity, Attendance, Category, GroupKind
from .services import GROUP_NAME_MAX, NAME_MAX, attendance_check


class ActivityFilterForm(AreaFilterForm):
    """The list's filters: the area, then category, dates and seats left."""

    category = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=[("", _("全部类别")), *Category.choices],
        widget=KeptSelect(choices_key="activities.Category"),
        error_messages={"invalid_choice": _("没有这个类别,请重新选择。")},
    )
    date_from = forms.DateField(
        label=_("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请填写正确的日期,如 2026-06-01。")},
    )
    date_to = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请填写正确的日期,如 2026-06-30。")},
    )
    seats = forms.BooleanField(label=_("只看有余位"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data


class BookingForm(forms.Form):
    name = name_field(
        _("姓名"),
        max_length=NAME_MAX,
        required=_("请填写姓名。"),
        too_long=_("姓名最多 %(limit_value)d 个字。"),
    )
    phone = phone_field()
    seats = forms.TypedChoiceField(
        label=_("座位数"),
        coerce=int,
        error_messages={
            "required": _("请选择座位数。"),
            "invalid_choice": _("座位数只能是 1 到 %(max)d 之间的整数。"),
        },
    )
    consent = consent_field()

    def __init__(self, *args, activity: Activity, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        top = max(1, activity.max_seats_per_booking)
        if activity.capacity is not None:
            top = max(1, min(top, activity.capacity))
        # A party gets all its seats or waits whole: a count above the seats left says so.
        left = activity.seats_left if activity.capacity is not None else None
        short = left is not None and 0 < left < top
        self.fields["seats"].choices = [
            (n, _("%(n)d(余位不足,整组候补)") % {"n": n} if short and n > left else str(n))
            for n in range(1, top + 1)
        ]
        if short:
            self.fields["seats"].help_text = _(
                "现余 %(left)d 座;超过余位的一组不拆开,整组进入候补。"
            ) % {"left": left}
        self.fields["seats"].initial = 1
        self.fields["seats"].error_messages["invalid_choice"] = self.fields["seats"].error_messages[
            "invalid_choice"
        ] % {"max": top}


class GroupBookingForm(forms.Form):
    """团体报名: a school class, a team or a volunteer group books its people in one booking,
    up to the course's ``group_limit``; ``name`` and ``phone`` are its contact's."""

    group_kind = forms.ChoiceField(
        label=_("团体类型"),
        choices=GroupKind.choices,
        error_messages={
            "required": _("请选择团体类型。"),
            "invalid_choice": _("请选择团体类型。"),
        },
    )
    group_name = forms.CharField(
        label=_("团体名称"),
        max_length=GROUP_NAME_MAX,
        error_messages={
            "required": _("请填写团体名称。"),
            "max_length": _("团体名称最多 %(limit_value)d 个字。"),
        },
        widget=forms.TextInput(attrs={"placeholder": _("如 关上小学三年级二班")}),
    )
    name = name_field(
        _("联系人"),
        max_length=NAME_MAX,
        required=_("请填写联系人姓名。"),
        too_long=_("姓名最多 %(limit_value)d 个字。"),
    )
    phone = phone_field()
    seats = forms.IntegerField(
        label=_("人数"),
        min_value=1,
        error_messages={
            "required": _("请填写人数。"),
            "invalid": _("人数必须是整数。"),
            "min_value": _("人数至少 1 人。"),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    consent = consent_field()

    def __init__(self, *args, activity: Activity, **kwargs) -> None:
        # The page shows it beside the resident's own form: ids of its own.
        kwargs.setdefault("auto_id", "group_%s")
        super().__init__(*args, **kwargs)
        self.activity = activity
        self.fields["seats"].help_text = _("每个团体最多 %(n)d 人。") % {"n": activity.group_limit}

    def clean_seats(self) -> int:
        seats = self.cleaned_data["seats"]
        if seats > self.activity.group_limit:
            raise ValidationError(
                _("每个团体最多报名 %(n)d 人。") % {"n": self.activity.group_limit}
            )
        return seats


class LookupForm(forms.Form):
    phone = phone_field()
    code = forms.CharField(
        label=_("预约码"),
        max_length=CODE_LENGTH + 4,  # room for spaces people type while reading it aloud
        error_messages={
            "required": _("请填写预约码。"),
            "max_length": _("预约码是 %(n)d 位字母和数字。") % {"n": CODE_LENGTH},
        },
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        return normalize_code(self.cleaned_data["code"]).replace(" ", "")


class AttendanceForm(forms.Form):
    """An activity's attendance (参与人次) as staff enter it in the admin. Checks the shape, then
    asks ``attendance_check`` so that its rules (started, not cancelled, not below the checked-in
    seats) show on the form before anything is written."""

    head_count = forms.IntegerField(
        label=_("参与人数"),
        min_value=0,
        help_text=_("本场活动实际参与的人数(人次)。"),
        error_messages={
            "required": _("请填写参与人数,没有就填 0。"),
            "invalid": _("请填写参与人数(整数)。"),
            "min_value": _("参与人数不能为负数。"),
        },
    )
    method = forms.ChoiceField(
        label=_("统计方式"),
        choices=Attendance.Method.choices,
        error_messages={
            "required": _("请选择统计方式:签到统计、现场清点或估算。"),
            "invalid_choice": _("请选择统计方式:签到统计、现场清点或估算。"),
        },
    )
    note = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=200,
        help_text=_("如清点或估算的依据。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, activity: Activity, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.activity, self.user = activity, user

    def clean(self):
        data = super().clean()
        if self._errors:
            return data
        try:
            return attendance_check(activity=self.activity, **data, by=self.user)
        except ValidationError as exc:
            add_service_errors(self, exc)
        except PermissionDenied as exc:
            self.add_error(None, str(exc))
        return data
