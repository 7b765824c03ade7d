"""The demo's badges (load_demo), so a learner sees earned and next badges at once: one per
rule, each with a drawn PNG icon (no image library needed: a coloured disc, encoded here)."""

import struct
import zlib

from django.core.files.base import ContentFile

from .models import Badge, BadgeRule
from .services import badge_save

# name, rule, threshold, course-scoped, RGB, description
DEMO_BADGES = [
    ("First steps", BadgeRule.XP_TOTAL, 100, False, (76, 175, 80), "Earn 100 XP."),
    ("Keen", BadgeRule.XP_TOTAL, 1000, False, (33, 150, 243), "Earn 1,000 XP."),
    ("Week streak", BadgeRule.STREAK_LENGTH, 7, False, (255, 152, 0),
     "Practise seven local days in a row."),
    ("Master of three", BadgeRule.CONCEPTS_MASTERED, 3, True, (156, 39, 176),
     "Master three concepts of the course."),
    ("Test ready", BadgeRule.MOCK_TESTS_PASSED, 1, True, (244, 67, 54), "Pass a mock test."),
    ("Flawless", BadgeRule.PERFECT_SESSIONS, 1, False, (0, 150, 136),
     "Complete a session with every answer right."),
]  # fmt: skip


def demo_badges_load(*, course, by) -> list[Badge]:
    """The demo badges, made through the service once each (by name): one an editor changed
    or removed in the admin is left as it is."""
    existing = set(Badge.objects.values_list("name", flat=True))
    made = []
    for name, rule, threshold, scoped, colour, description in DEMO_BADGES:
        if name in existing:
            continue
        icon = ContentFile(disc_png(colour), name=f"{rule}-{threshold}.png")
        badge = Badge(name=name, description=description, icon=icon, rule=rule,
                      threshold=threshold, course=course if scoped else None)  # fmt: skip
        made.append(badge_save(badge=badge, by=by))
    return made


def disc_png(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    """A ``size``-pixel square PNG of a disc in ``rgb`` on transparency."""
    centre, radius = (size - 1) / 2, size / 2 - 1
    rows = b""
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            row += bytes([*rgb, 255]) if inside else b"\0\0\0\0"
        rows += bytes(row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
