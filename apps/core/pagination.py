"""Pagination of the API's lists."""

from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages with a ceiling on ``limit``.

    Without one, a huge ``?limit=`` reaches the SQL ``LIMIT`` and overflows it, a 500
    (PostgreSQL: "bigint out of range"; SQLite: "datatype mismatch"). As DRF does for any
    limit over ``max_limit``, a larger one gets ``max_limit`` rows.
    """

    max_limit = 500
