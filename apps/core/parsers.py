"""Request parsing that turns every malformed or oversized body into a 4xx, never a 500."""

import io
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Python's json turns a valid pair of escapes into one character, so any left is unpaired.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the limits it lacks:
    - a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413) before it is parsed: DRF reads
      the request stream itself, which Django's own size check never sees;
    - a body nested deeper than Python's recursion limit (a few thousand ``[``) is a
      ``parse_error`` like any other malformed JSON;
    - so is a string holding an unpaired surrogate (``"\\ud800"``): JSON's escapes can spell
      one, but it is not text, so it could be neither stored nor echoed in an error."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
        if limit is not None and len(body) > limit:
            raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if _may_hold_lone_surrogate(body) and _has_lone_surrogate(data):
            raise ParseError("JSON parse error - a string holds an unpaired surrogate escape.")
        return data


def _may_hold_lone_surrogate(body: bytes) -> bool:
    """A cheap look at the raw body, so that the parsed data is walked only when needed: is
    there a high-surrogate escape not directly followed by a low one, or a low one alone? (An
    escaped backslash before "u" can fool it; the walk then says no.)"""
    low_expected_at = None
    for escape in SURROGATE_ESCAPE.finditer(body):
        is_high = escape.group()[3:4] in b"89abAB"
        if is_high:
            if low_expected_at is not None:
                return True
            low_expected_at = escape.end()
        elif escape.start() != low_expected_at:
            return True
        else:
            low_expected_at = None
    return low_expected_at is not None


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False
