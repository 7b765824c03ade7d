"""The sync flags are kept in the process (apps/core/process_memo.py) in front of the cache:
a change made in this process shows at once, one made elsewhere within their max age."""

import pytest
from django.core.cache import cache


@pytest.mark.django_db
def test_a_flag_change_made_here_shows_at_once_and_one_made_elsewhere_within_its_age(memo_clock):
    from apps.legacy_sync.live.flags import CACHE_KEY, sync_flags, sync_flags_update
    from apps.legacy_sync.models import SyncFlags

    cache.delete(CACHE_KEY)
    assert sync_flags().adaptive_rollout_percent == 0
    # this process changes a flag: seen on the next read
    sync_flags_update(adaptive_rollout_percent=30)
    assert sync_flags().adaptive_rollout_percent == 30

    # another process changes it (the row and the shared cache): kept here for up to a second
    SyncFlags.objects.filter(pk=1).update(adaptive_rollout_percent=60)
    cache.delete(CACHE_KEY)
    assert sync_flags().adaptive_rollout_percent == 30
    memo_clock.now += 1.01
    assert sync_flags().adaptive_rollout_percent == 60
