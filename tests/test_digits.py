"""Tests for attention_utils.data.digits: the distorted digits of chapter 09."""

from __future__ import annotations

import sys

import pytest
import torch
from torch.nn import functional as F

from attention_utils import distorted_digits_data


def test_shapes_split_and_determinism():
    data = distorted_digits_data(n_test=300, size=24, seed=1)
    assert data.x_train.shape == (1497, 1, 24, 24) and data.x_test.shape == (300, 1, 24, 24)
    assert data.clean_test.shape == (300, 1, 24, 24) and data.theta_test.shape == (300, 2, 3)
    assert set(data.y_train.tolist()) == set(range(10))
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    again = distorted_digits_data(n_test=300, size=24, seed=1)
    torch.testing.assert_close(again.x_test, data.x_test)
    other = distorted_digits_data(n_test=300, size=24, seed=2)
    assert not torch.equal(other.x_test, data.x_test)


def test_theta_is_what_distorts_the_clean_digit():
    data = distorted_digits_data(n_test=20, seed=0)
    grid = F.affine_grid(data.theta_test, [20, 1, 24, 24], align_corners=False)
    torch.testing.assert_close(
        F.grid_sample(data.clean_test, grid, align_corners=False).clamp(0, 1), data.x_test
    )


def test_no_distortion_leaves_the_centred_digit():
    data = distorted_digits_data(n_test=10, max_angle=0, scale_range=(1, 1), max_shift=0)
    torch.testing.assert_close(data.x_test, data.clean_test, atol=1e-6, rtol=0)


def test_errors():
    with pytest.raises(ValueError, match="n_test"):
        distorted_digits_data(n_test=5000)
    with pytest.raises(ValueError, match="scale_range"):
        distorted_digits_data(scale_range=(1.2, 0.5))
    with pytest.raises(ValueError, match="size"):
        distorted_digits_data(size=4)


def test_importing_the_package_does_not_import_sklearn():
    import subprocess

    code = "import attention_utils, sys; print('sklearn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
