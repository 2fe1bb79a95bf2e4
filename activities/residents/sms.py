"""SMS templates and the backends that send them.

django-sms (and Django's own mail backends it copies) sends a free text body. Mainland SMS
providers send none: a message is a template approved in advance, its id, a signature and the
parameters, and the provider fills them in. So a backend here takes an ``Outgoing`` (phone,
template name, parameters, the rendered text) and returns the provider's id, and the interface
otherwise keeps django-sms' shape: one class per provider chosen by a setting
(``SMS_BACKEND``), a console backend for development and a file backend for tests.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from common import privacy

logger = logging.getLogger(__name__)

# The wording a provider approves, with its parameters in braces. The text we record and the
# console and file backends print is this with the parameters filled in, after the signature.
TEMPLATES = {
    "verify_code": _("您的验证码是{code},{minutes}分钟内有效。如非本人操作,请忽略本短信。"),
    "booking_confirmed": _("您已预约“{activity}”,{start}开始,{seats}个座位,预约码{code}。"),
    "booking_waitlisted": _("“{activity}”已约满,您在候补名单第{position}位,有空位时会短信通知您。"),
    "booking_promoted": _(
        "候补成功:您已获得“{activity}”的{seats}个座位,{start}开始,预约码{code}。"
    ),
    "booking_cancelled": _("您已取消“{activity}”的预约,预约码{code}。"),
    "booking_reminder": _("提醒:您预约的“{activity}”将于{start}在{venue}开始,预约码{code}。"),
    "activity_changed": _("您预约的“{activity}”有变动,现为{start}在{venue}举行,预约码{code}。"),
    "activity_cancelled": _("很抱歉,您预约的“{activity}”({start})已取消。"),
    "order_accepted": _("您的点单{code}已受理,承办馆:{hall}。"),
    "order_scheduled": _("您的点单{code}已安排为活动“{activity}”,{start}开始。"),
    "order_escalated": _("您的点单{code}未按时答复,已转交{hall}办理。"),
    "order_done": _("您的点单{code}已完成,欢迎评价。"),
    "reservation_confirmed": _("您已预约{venue}{start}至{end},预约码{code}。"),
    "reservation_pending": _("您申请的{venue}{start}至{end}已提交,待工作人员审核,预约码{code}。"),
    "reservation_approved": _("您申请的{venue}{start}至{end}已批准,预约码{code}。"),
    "reservation_rejected": _("很抱歉,您申请的{venue}{start}未获批准:{reason}。"),
    "reservation_cancelled": _("您已取消{venue}{start}的预约,预约码{code}。"),
    "reservation_cancelled_by_staff": _("很抱歉,您预约的{venue}{start}已被取消:{reason}。"),
}


class SmsError(Exception):
    """The provider refused or could not be reached; the message may be tried again."""


@dataclass(frozen=True)
class Outgoing:
    phone: str
    template: str
    params: dict
    text: str


def render(template: str, params: dict) -> str:
    """The text as the resident reads it: 【signature】 and the filled-in template."""
    return f"【{settings.SMS_SIGNATURE}】" + str(TEMPLATES[template]).format(**params)


class BaseBackend:
    def send(self, message: Outgoing) -> str:
        """Send one message; the provider's id for it. Raises ``SmsError`` on failure."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """The embedded default: the message goes to the log."""

    def send(self, message: Outgoing) -> str:
        # Logs keep no full number (个人信息保护法); the text is what a developer needs.
        logger.info("SMS to %s: %s", privacy.mask_phone(message.phone), message.text)
        return ""


class FileBackend(BaseBackend):
    """One JSON line per message appended to ``SMS_FILE_PATH``: tests read what was sent."""

    def send(self, message: Outgoing) -> str:
        line = json.dumps(
            {
                "phone": message.phone,
                "text": message.text,
                "template": message.template,
                "params": message.params,
            },
            ensure_ascii=False,
        )
        try:
            with Path(settings.SMS_FILE_PATH).open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise SmsError(str(exc)) from exc
        return ""


BACKENDS = {
    "console": "activities.residents.sms.ConsoleBackend",
    "file": "activities.residents.sms.FileBackend",
    "aliyun": "activities.residents.providers.AliyunBackend",
    "tencent": "activities.residents.providers.TencentBackend",
}


def backend() -> BaseBackend:
    return import_string(BACKENDS[settings.SMS_BACKEND])()
