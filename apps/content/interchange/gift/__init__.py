"""Moodle GIFT import and export for the five atom types GIFT can express (mcq, true_false,
short_text, numeric, matching): pure functions over the portable atom record (see
``records.py``); no database.

``parse`` reads GIFT, ``export`` writes it, ``normalise`` is the canonical record both agree
on; ``answers`` maps each question type's answer block and ``syntax`` holds the escapes.
"""

from .export import export_gift
from .parse import parse_gift

__all__ = ["export_gift", "parse_gift"]
