"""Each execution rule of simulate.execution on hand-worked cases with exact answers."""
import numpy as np

from simulate.execution import CRASH_LIMIT, CRASH_PREMIUM, HELD_SHARE, crash, early_bound, short_phase_optimistic


def test_short_phase_keeps_its_spread():
    # 0.85 x 3 rounds back to 3 in the data (p 5): the rule restores 2.55; a real spread (8.5 -> 9 < 10) is kept;
    # a fixed duration (o = m = p = 4) stays fixed.
    o = short_phase_optimistic([3, 9, 0, 4], [3, 10, 0, 4], [5, 14, 1, 4])
    assert o.tolist() == [0.85 * 3, 9.0, 0.0, 4.0]
    assert o[0] == 2.55 and o[0] < 3


def test_planned_start_is_a_target_not_a_wall():
    # Planned 12, earliest 4: the bound is 4; earliest 15 stays 15.
    assert early_bound(np.array([12, 3]), np.array([4, 15])).tolist() == [4, 15]


def test_crash_is_bounded_and_costs_the_premium():
    work = np.array([[8.0, 8.0]])
    rate = np.array([[2.0, 2.0]])
    crash(work, rate, np.array([[True, False]]))
    assert work.tolist() == [[6.0, 8.0]]  # 8 x (1 - 0.25)
    assert CRASH_LIMIT == 0.25 and CRASH_PREMIUM == 1.43 and HELD_SHARE == 0.25
    assert work[0, 0] * rate[0, 0] == 16.0 * 1.43  # the remaining money, 8 x 2, times the premium
    assert rate[0, 1] == 2.0
