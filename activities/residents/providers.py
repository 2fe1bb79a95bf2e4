"""The two mainland SMS providers, through their official SDKs.

Each sends a template approved in advance (its id from ``SMS_TEMPLATE_IDS``) with the signature
``SMS_SIGNATURE`` and the message's parameters; the provider fills the template in, so the text
we record is what the resident reads. The endpoint is a setting, so a deployment can use a
regional or private endpoint, and the tests a local stand-in that answers as the provider does.
"""

from __future__ import annotations

import json
import string
from urllib.parse import urlsplit

from django.conf import settings

from .sms import TEMPLATES, BaseBackend, Outgoing, SmsError


def template_id(template: str) -> str:
    try:
        return settings.SMS_TEMPLATE_IDS[template]
    except KeyError:
        raise SmsError(f"no provider template id for {template!r} in SMS_TEMPLATE_IDS") from None


def param_names(template: str) -> list[str]:
    """The template's parameters in the order they appear (Tencent takes them by position)."""
    return [
        name
        for _text, name, _spec, _conv in string.Formatter().parse(str(TEMPLATES[template]))
        if name
    ]


def _endpoint(value: str) -> tuple[str, str]:
    """``(scheme, host[:port])`` of an endpoint given with or without a scheme."""
    if "://" not in value:
        return "https", value
    parts = urlsplit(value)
    return parts.scheme, parts.netloc


class AliyunBackend(BaseBackend):
    """阿里云短信服务 (Dysmsapi 2017-05-25, SendSms)."""

    def send(self, message: Outgoing) -> str:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        scheme, host = _endpoint(settings.ALIYUN_SMS_ENDPOINT)
        client = Client(
            Config(
                access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
                access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
                endpoint=host,
                protocol=scheme,
                read_timeout=settings.SMS_TIMEOUT_SECONDS * 1000,
                connect_timeout=settings.SMS_TIMEOUT_SECONDS * 1000,
            )
        )
        request = models.SendSmsRequest(
            phone_numbers=message.phone,
            sign_name=settings.SMS_SIGNATURE,
            template_code=template_id(message.template),
            template_param=json.dumps(message.params, ensure_ascii=False),
        )
        try:
            body = client.send_sms(request).body
        except Exception as exc:  # noqa: BLE001 - the SDK raises its own kinds for every fault
            raise SmsError(f"aliyun: {exc}") from exc
        if body.code != "OK":
            raise SmsError(f"aliyun: {body.code} {body.message}")
        return body.biz_id or ""


class TencentBackend(BaseBackend):
    """腾讯云短信 (SMS API 2021-01-11, SendSms)."""

    def send(self, message: Outgoing) -> str:
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        scheme, host = _endpoint(settings.TENCENT_SMS_ENDPOINT)
        http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=settings.SMS_TIMEOUT_SECONDS)
        client = sms_client.SmsClient(
            credential.Credential(settings.TENCENT_SMS_SECRET_ID, settings.TENCENT_SMS_SECRET_KEY),
            settings.TENCENT_SMS_REGION,
            ClientProfile(httpProfile=http),
        )
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{message.phone}"]
        request.SmsSdkAppId = settings.TENCENT_SMS_APP_ID
        request.SignName = settings.SMS_SIGNATURE
        request.TemplateId = template_id(message.template)
        request.TemplateParamSet = [str(message.params[n]) for n in param_names(message.template)]
        try:
            response = client.SendSms(request)
        except (TencentCloudSDKException, OSError) as exc:
            raise SmsError(f"tencent: {exc}") from exc
        status = response.SendStatusSet[0]
        if status.Code != "Ok":
            raise SmsError(f"tencent: {status.Code} {status.Message}")
        return status.SerialNo or ""
