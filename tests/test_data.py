"""The synthetic regression data of chapter 02."""

import pytest
import torch

from attention_utils import kernel_regression_data, regression_truth


def test_same_seed_same_data_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a, b = kernel_regression_data(seed=7), kernel_regression_data(seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    for name in ("x_train", "y_train", "x_test", "y_truth"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.x_train, kernel_regression_data(seed=8).x_train)


def test_layout_of_the_dataset():
    data = kernel_regression_data()
    assert data.x_train.shape == data.y_train.shape == (50,)
    assert data.x_test.shape == data.y_truth.shape == (50,)
    assert (data.x_train[1:] >= data.x_train[:-1]).all(), "training inputs are sorted"
    assert (data.x_train >= 0).all() and (data.x_train < 5).all()
    torch.testing.assert_close(data.x_test, torch.arange(0, 5, 0.1)[:50])
    assert data.x_test[-1].item() == pytest.approx(4.9)
    torch.testing.assert_close(data.y_truth, 2 * torch.sin(data.x_test) + data.x_test**0.8)


def test_noise_has_the_requested_spread():
    data = kernel_regression_data(n_train=20000, noise_std=0.5, seed=1)
    residual = data.y_train - regression_truth(data.x_train)
    assert abs(residual.mean().item()) < 0.02
    assert residual.std().item() == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_train": 0}, ValueError, "n_train must be a positive int"),
        ({"n_train": 2.5}, TypeError, "n_train must be a positive int"),
        ({"noise_std": 0}, ValueError, "noise_std must be a positive finite number"),
        ({"noise_std": -0.5}, ValueError, "noise_std must be a positive finite number"),
        ({"seed": "zero"}, TypeError, "seed must be an int"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        kernel_regression_data(**kwargs)


def test_truth_rejects_negative_inputs():
    with pytest.raises(ValueError, match="x >= 0"):
        regression_truth(torch.tensor([-1.0, 1.0]))
