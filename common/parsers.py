"""The JSON parser of every API endpoint (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

A module of its own, importing nothing of DRF's views: DRF reads the setting while it defines
``APIView``, so the parser must import without ``common.api`` (which imports the views)."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's parser, with the complaint about a malformed body in the request's language."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            if isinstance(exc.__cause__, RecursionError):
                raise ParseError(gettext("请求正文的 JSON 嵌套层数太多。")) from exc
            raise ParseError(gettext("请求正文不是有效的 JSON。")) from exc
        except RecursionError as exc:  # JSON nested thousands deep
            raise ParseError(gettext("请求正文的 JSON 嵌套层数太多。")) from exc
