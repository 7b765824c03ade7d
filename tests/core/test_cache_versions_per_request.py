"""Within a web request the cache version tokens are read once, together
(apps/core/cache_versions.py); outside one, every read goes to the cache."""

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started

from apps.core import cache_versions
from apps.core.cache_versions import cache_version, cache_version_bump

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_reads(monkeypatch):
    """Each round trip for tokens (one ``_tokens_read``: one MGET with Redis)."""
    reads = []
    real = cache_versions._tokens_read
    monkeypatch.setattr(
        cache_versions, "_tokens_read", lambda names: reads.append(names) or real(names)
    )
    return reads


@pytest.fixture
def in_request():
    request_started.send(sender=None)
    yield
    request_finished.send(sender=None)


def test_a_request_reads_every_token_it_needs_in_one_round_trip(cache_reads):
    cache_version("test.a"), cache_version("test.b")  # this process has used both
    request_started.send(sender=None)
    cache_reads.clear()
    first = cache_version("test.a")
    assert cache_version("test.b") and cache_version("test.a") == first
    assert len(cache_reads) == 1
    request_finished.send(sender=None)


def test_the_request_keeps_its_tokens_but_the_next_one_sees_another_process_bump(in_request):
    before = cache_version("test.c")
    cache.set("cache-version:test.c", "bumped elsewhere")  # another process's bump
    assert cache_version("test.c") == before  # as of the request's first read
    request_finished.send(sender=None)
    request_started.send(sender=None)
    assert cache_version("test.c") == "bumped elsewhere"


def test_a_bump_made_by_the_request_applies_to_it_at_once(in_request):
    before = cache_version("test.d")
    cache_version_bump("test.d")
    assert cache_version("test.d") != before
    assert cache_version("test.d") == cache.get("cache-version:test.d")


def test_outside_a_request_every_read_goes_to_the_cache(cache_reads):
    assert getattr(cache_versions._request, "tokens", None) is None
    cache_version("test.e")
    cache.set("cache-version:test.e", "changed")
    assert cache_version("test.e") == "changed"
    assert len(cache_reads) == 2
