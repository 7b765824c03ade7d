"""Request parsing that turns every malformed or oversized body into a 4xx, never a 500."""

import io

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with two limits it lacks:
    - a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413) before it is parsed: DRF reads
      the request stream itself, which Django's own size check never sees;
    - a body nested deeper than Python's recursion limit (a few thousand ``[``) is a
      ``parse_error`` like any other malformed JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None and limit is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE.")
            stream = io.BytesIO(body)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
