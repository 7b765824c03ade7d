"""Serializer fields shared by the API's input serializers."""

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """Only JSON ``true`` and ``false``. DRF's BooleanField also takes "yes", "on", 1 and
    "true"; a field that confirms something destructive must not."""

    default_error_messages = {"invalid": "Must be JSON true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")
