"""What the achievements tests share: a tiny PNG and badges made through the service."""

import base64

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.achievements.models import Badge
from apps.achievements.services import badge_save

ACHIEVEMENTS_URL = "/api/v1/me/achievements/"

# A 1×1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def png_upload(name: str = "icon.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def make_badge(rule: str, threshold: int, *, name: str | None = None, course=None, by=None):
    return badge_save(
        badge=Badge(
            name=name or f"{rule} {threshold}",
            icon=png_upload(),
            rule=rule,
            threshold=threshold,
            course=course,
        ),
        by=by,
    )
