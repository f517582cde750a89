"""Unit tests of helpers.wording: how the computed prose writes numbers and lists."""

import pytest

from helpers import profiles, wording


def test_or_list_and_a_recipe_told_for_several_networks():
    assert wording.or_list([30]) == "30" and wording.or_list([30, 33, 50]) == "30, 33 or 50"
    fast = profiles.PROFILES["fast"]
    assert "33 or 50 epochs" in profiles.describe(fast, "vgg16", epochs="33 or 50 epochs")
    assert "33 epochs" in profiles.describe(fast, "vgg16")


def test_a_difference_in_points_is_signed_unless_it_rounds_to_nothing():
    assert wording.points(0.012) == "+1.2" and wording.points(-0.012) == "\u22121.2"
    assert wording.points(-0.0004) == "0.0" == wording.points(0.0004)
    assert wording.points(0.00044, 2) == "+0.04" and wording.points(-0.00004, 2) == "0.00"


def test_a_small_standard_deviation_is_not_shown_as_zero():
    assert wording.sd_text(0.00047) == "0.05" and wording.sd_text(0.0043) == "0.4"
    assert wording.sd_text(0.0) == "0.0"


def test_short_commit_keeps_dirty_and_names_a_missing_one():
    assert wording.short_commit("0123456789abcdef") == "0123456"
    assert wording.short_commit("0123456789abcdef-dirty") == "0123456-dirty"
    assert wording.short_commit(None) == "an unrecorded commit"



def test_records_are_grouped_by_the_code_version_that_made_them():
    made = lambda commit: {"environment": {"git_commit": commit}}  # noqa: E731
    records = [made("b688f8e0123"), made("30d789f4567-dirty"), made("b688f8e0123"), made(None)]
    grouped = wording.by_code_version(records)
    assert list(grouped) == ["b688f8e", "30d789f-dirty", "an unrecorded commit"]
    assert grouped["b688f8e"] == [records[0], records[2]]


def test_an_empty_list_is_an_error_not_an_index_error():
    assert wording.and_list(["VGG16"]) == "VGG16"
    with pytest.raises(ValueError, match="empty list"):
        wording.and_list([])


def test_seeds_phrase():
    assert wording.seeds_phrase([0]) == "seed 0"
    assert wording.seeds_phrase(s for s in (1, 2)) == "seeds 1 and 2"
