"""tools/train_runs.py: extra seeds and chapter 4's controls, trained and saved (smoke size)."""

import sys
from pathlib import Path

import pytest

from helpers import results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import train_runs  # noqa: E402


def test_controls_are_trained_and_saved_by_name(capsys):
    train_runs.main(["--profile", "smoke", "--controls", "--source", "synthetic"])
    printed = capsys.readouterr().out
    for run in ("vgg16_bigconv-stage_kernels=3-3-3-3-3", "vgg16-stage_kernels=5-5-7-7-7"):
        record = results.load("smoke", run)
        assert record["options"]["stage_kernels"] in ([3] * 5, [5, 5, 7, 7, 7])
        assert run in printed


def test_nothing_to_train_is_an_error():
    with pytest.raises(SystemExit):
        train_runs.main(["--profile", "smoke"])


def test_one_control_can_be_chosen_by_name(capsys):
    train_runs.main(["--profile", "smoke", "--controls", "five_3x3", "--source", "synthetic"])
    printed = capsys.readouterr().out
    assert "vgg16_bigconv-stage_kernels=3-3-3-3-3" in printed
    assert "vgg16-stage_kernels" not in printed
    with pytest.raises(SystemExit):
        train_runs.main(["--profile", "smoke", "--controls", "seven_layers"])
