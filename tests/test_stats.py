"""Unit tests of helpers.stats: the 95 % intervals of test accuracies."""

import math

import numpy as np

import pytest

from helpers import stats


def test_wilson_matches_the_textbook_values():
    low, high = stats.wilson(0.5, 100)
    assert low == pytest.approx(0.40383, abs=1e-5) and high == pytest.approx(0.59617, abs=1e-5)
    low, high = stats.wilson(0.0, 50)  # never below 0, never empty
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.1


def test_wilson_narrows_with_more_images():
    widths = [h - lo for lo, h in (stats.wilson(0.3, n) for n in (100, 1_000, 10_000))]
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] == pytest.approx(2 * 1.96 * math.sqrt(0.3 * 0.7 / 10_000), rel=0.01)


def test_t_quantiles_match_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 3, 5, 10, 30):
        assert stats.t975(df) == pytest.approx(scipy_stats.t.ppf(0.975, df), abs=1e-5)
    assert stats.t975(1000) == pytest.approx(stats.Z95)
    with pytest.raises(ValueError):
        stats.t975(0)


def test_interval_one_seed_is_wilson_several_seeds_is_t_widened_by_the_test_set():
    one = stats.interval([0.8], 10_000)
    assert one.method == "wilson" and one.sd is None and one.low < 0.8 < one.high
    several = stats.interval([0.80, 0.82, 0.81], 10_000)
    assert several.method == "t" and several.n == 3
    assert several.mean == pytest.approx(0.81) and several.sd == pytest.approx(0.01)
    seeds_only = stats.t975(2) * 0.01 / math.sqrt(3)
    assert several.half > seeds_only  # the test set's own noise is added
    same = stats.interval([0.81, 0.81], 10_000)  # no spread: the test set's error is left
    assert same.half == pytest.approx(1.96 * math.sqrt(0.81 * 0.19 / 10_000), rel=1e-3)


def test_difference_adds_the_halves_in_quadrature():
    a, b = stats.interval([0.5], 10_000), stats.interval([0.4], 10_000)
    d, low, high = stats.difference(a, b)
    assert d == pytest.approx(0.1)
    assert high - d == pytest.approx(math.hypot(a.half, b.half))


def test_paired_change_interval_adds_the_shared_test_noise_to_the_seeds_spread():
    assert stats.paired_change_interval([0.1], 10_000) is None  # one seed: no spread to use
    # identical changes: no spread between seeds, but the images that change verdict are a
    # sample of the test set, and which ones tend to change is shared by the seeds. Where only
    # the 10 % of images needed changed (f = |d|), a seed's per-image variance is f - d**2
    mean, low, high = stats.paired_change_interval([0.1, 0.1, 0.1], 100, [0.1, 0.1, 0.1])
    assert mean == pytest.approx(0.1)
    assert high - mean == pytest.approx(stats.Z95 * (0.09 / 100) ** 0.5)
    # where more changed (some images right to wrong, others wrong to right), more noise
    wider = stats.paired_change_interval([0.1, 0.1, 0.1], 100, [0.3, 0.3, 0.3])
    assert wider[2] - 0.1 == pytest.approx(stats.Z95 * (0.29 / 100) ** 0.5)
    # and where a seed's share is not known, it is taken at its largest, 1
    worst = stats.paired_change_interval([0.1, 0.1, 0.1], 100, [0.3, None, 0.3])
    assert worst[2] - 0.1 == pytest.approx(stats.Z95 * ((0.29 * 2 + 0.99) / 3 / 100) ** 0.5)
    assert stats.paired_change_interval([0.1, 0.1], 100)[2] - 0.1 == pytest.approx(
        stats.Z95 * (0.99 / 100) ** 0.5)
    # no image changed verdict: no change, no noise
    assert stats.paired_change_interval([0.0, 0.0], 100, [0.0, 0.0]) == (0.0, 0.0, 0.0)
    # the seeds' spread by Student's t, in quadrature with the shared part
    changes = [0.02, 0.04]
    seeds = stats.t975(1) * 0.01  # t x sd (0.01 x sqrt 2) / sqrt 2
    shared = stats.Z95 * ((0.05 - (0.02 ** 2 + 0.04 ** 2) / 2) / 1000) ** 0.5
    assert stats.paired_change_interval(changes, 1000, [0.04, 0.06])[2] == pytest.approx(
        0.03 + (seeds ** 2 + shared ** 2) ** 0.5)
    with pytest.raises(ValueError, match="2 changes but 1 shares"):
        stats.paired_change_interval(changes, 1000, [0.04])


def test_impossible_inputs_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="n must be positive"):
        stats.wilson(0.5, 0)
    with pytest.raises(ValueError, match="not a proportion"):
        stats.wilson(1.2, 100)
    with pytest.raises(ValueError, match="no values"):
        stats.interval([], 100)
    with pytest.raises(ValueError, match="at least two values"):
        stats.t975(0)


def test_a_network_with_few_seeds_borrows_the_widest_spread_of_the_others():
    groups = {"a": [0.80, 0.82, 0.81], "b": [0.70, 0.74], "c": [0.90]}
    spreads = stats.seed_spreads(groups)
    assert spreads["a"] == pytest.approx((0.01, 2, "a"))  # three seeds: its own
    # b's two seeds scatter more (sd 0.028) than a's, so b and c carry b's spread
    assert spreads["b"] == spreads["c"] == pytest.approx((np.std([0.70, 0.74], ddof=1), 1, "b"))
    assert stats.seed_spreads({"c": [0.9]}) == {"c": (None, 0, None)}
    # a borrowed spread widens a one-seed interval beyond the test set's own
    own = stats.interval([0.9], 10_000)
    borrowed = stats.interval_with_spread([0.9], 10_000, *spreads["c"])
    assert borrowed.low < own.low and borrowed.high > own.high and borrowed.sd is None
