"""Request parsing that turns every malformed or oversized body into a 4xx, never a 500."""

import io
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Python's json turns a valid pair of escapes into one character, so any left is unpaired.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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
        if stream is not None and limit is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
            stream = io.BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if _has_lone_surrogate(data):
            raise ParseError("JSON parse error - a string holds an unpaired surrogate escape.")
        return data


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False
