"""Seed statistics of the results pages (textadv.report.stats) against closed forms and hand computation."""

import math
import statistics

import pytest

from textadv.report.stats import compare_seeds, comparison_row, signed


def test_paired_t_and_its_p_value_match_the_closed_form_of_two_degrees_of_freedom():
    # Student's t with 2 degrees of freedom has the two-sided tail 1 - |t| / sqrt(t^2 + 2).
    baseline = {0: 26.85, 1: 21.78, 2: 24.67}
    objective = {0: 22.01, 1: 20.37, 2: 21.70}
    c = compare_seeds(objective, baseline)
    d = [objective[s] - baseline[s] for s in baseline]
    t = statistics.mean(d) / (statistics.stdev(d) / math.sqrt(3))
    assert c.paired_t == pytest.approx(t) and c.paired_t < 0  # negative: the objective is below
    assert c.paired_p == pytest.approx(1 - abs(t) / math.sqrt(t * t + 2), rel=1e-9)
    assert (c.below, c.paired_seeds) == (3, 3)
    assert c.paired_mean == pytest.approx(statistics.mean(d)) and c.paired_std == pytest.approx(statistics.stdev(d))


def test_welch_t_and_degrees_of_freedom_by_hand_and_the_one_degree_tail_is_cauchy():
    a, b = {0: 1.0, 1: 2.0, 2: 4.0}, {0: 5.0, 1: 5.5, 2: 6.5, 3: 8.0}
    c = compare_seeds(a, b)
    va, vb = statistics.variance(a.values()) / 3, statistics.variance(b.values()) / 4
    assert c.welch_t == pytest.approx((statistics.mean(a.values()) - statistics.mean(b.values())) / math.sqrt(va + vb))
    assert c.welch_df == pytest.approx((va + vb) ** 2 / (va**2 / 2 + vb**2 / 3))
    # Paired over the 3 shared seeds only; with 2 of them (df 1) the tail is Cauchy's: 1 - 2 atan|t| / pi.
    two = compare_seeds({0: 1.0, 1: 2.5}, {0: 2.0, 1: 3.0})
    assert two.paired_seeds == 2
    assert two.paired_p == pytest.approx(1 - 2 * math.atan(abs(two.paired_t)) / math.pi, rel=1e-9)
    assert c.paired_seeds == 3 and c.seeds == 3


def test_undefined_statistics_are_none_and_bad_input_is_refused():
    one = compare_seeds({0: 20.0}, {0: 21.0})
    assert one.paired_t is None and one.welch_t is None and one.std is None and one.below == 1
    same = compare_seeds({0: 20.0, 1: 21.0}, {0: 21.0, 1: 22.0})  # a constant difference: no spread
    assert same.paired_std == 0 and same.paired_t is None
    assert comparison_row(one)["paired t (df)"] == "– (0)"
    with pytest.raises(ValueError, match="baseline has no seeds"):
        compare_seeds({0: 1.0}, {})
    with pytest.raises(ValueError, match="non-finite values at seeds \\[1\\]"):
        compare_seeds({0: 1.0, 1: float("nan")}, {0: 1.0})
    assert signed(-0.25) == "−0.25" and signed(1.0) == "+1.00" and signed(None) == "–"
