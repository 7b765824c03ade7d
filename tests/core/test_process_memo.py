"""Values kept in the process in front of the shared cache (apps/core/process_memo.py): kept
for their max age, dropped at once by a change made in this process, and not kept at all with
PROCESS_MEMO off (the test suite's setting)."""

from apps.core.process_memo import memo_forget, memo_get


def test_a_value_is_kept_for_its_max_age_then_read_again(memo_clock):
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert memo_get("k", 5, load) == 1
    memo_clock.now += 4.9
    assert memo_get("k", 5, load) == 1  # still kept: no second load
    memo_clock.now += 0.2
    assert memo_get("k", 5, load) == 2  # past its age: read again
    memo_forget("k")
    assert memo_get("k", 5, load) == 3  # forgotten: read at once


def test_nothing_is_kept_with_the_memo_off(settings):
    settings.PROCESS_MEMO = False
    loads = []
    for _ in range(3):
        memo_get("off", 60, lambda: loads.append(1))
    assert len(loads) == 3
