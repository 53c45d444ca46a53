"""Nadaraya--Watson attention pooling: properties, the two forms, and errors for bad input."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from attention_utils import (
    KERNELS,
    NWKernelRegression,
    gaussian_kernel,
    kernel_regression_data,
    leave_one_out,
    nadaraya_watson,
)

finite = st.floats(-10, 10, allow_nan=False, width=32)
points = st.lists(finite, min_size=1, max_size=20)


def _tensor(xs):
    return torch.tensor(xs, dtype=torch.float64)


@given(
    queries=points, keys=points, bandwidth=st.floats(0.05, 20), kernel=st.sampled_from(["gaussian"])
)
def test_gaussian_weights_are_a_distribution(queries, keys, bandwidth, kernel):
    q, k = _tensor(queries), _tensor(keys)
    predictions, weights = nadaraya_watson(q, k, torch.ones_like(k), bandwidth, kernel)
    assert weights.shape == (len(queries), len(keys))
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(len(queries), dtype=torch.float64))
    # values that are all 1 give predictions of exactly 1: a weighted average of constants
    torch.testing.assert_close(predictions, torch.ones(len(queries), dtype=torch.float64))


@given(
    queries=points,
    keys=points,
    values=st.data(),
    bandwidth=st.floats(0.05, 20),
    kernel=st.sampled_from(sorted(KERNELS)),
)
def test_predictions_are_convex_combinations_of_values(queries, keys, values, bandwidth, kernel):
    q, k = _tensor(queries), _tensor(keys)
    v = _tensor(values.draw(st.lists(finite, min_size=len(keys), max_size=len(keys))))
    predictions, weights = nadaraya_watson(q, k, v, bandwidth, kernel)
    defined = ~torch.isnan(predictions)
    if kernel == "gaussian":
        assert defined.all()
    # where a query has a neighbour, the estimate lies within the range of the values
    assert (predictions[defined] >= v.min() - 1e-9).all()
    assert (predictions[defined] <= v.max() + 1e-9).all()
    torch.testing.assert_close(
        weights[defined].sum(-1), torch.ones(int(defined.sum()), dtype=torch.float64)
    )


@pytest.mark.parametrize("kernel", ["boxcar", "epanechnikov"])
def test_compact_kernel_without_neighbours_is_nan(kernel):
    predictions, weights = nadaraya_watson(
        torch.tensor([0.0, 10.0]), torch.tensor([0.1, 0.2]), torch.tensor([1.0, 3.0]), 0.5, kernel
    )
    assert not torch.isnan(predictions[0]) and torch.isnan(predictions[1])
    assert torch.isnan(weights[1]).all() and not torch.isnan(weights[0]).any()


def test_softmax_form_equals_kernel_ratio_form():
    data = kernel_regression_data()
    for bandwidth in (0.3, 1.0, 3.0):
        predictions, weights = nadaraya_watson(data.x_test, data.x_train, data.y_train, bandwidth)
        k = gaussian_kernel((data.x_test.unsqueeze(1) - data.x_train) / bandwidth)
        ratio = k / k.sum(1, keepdim=True)
        torch.testing.assert_close(weights, ratio)
        torch.testing.assert_close(predictions, ratio @ data.y_train)


def test_gaussian_kernel_integrates_to_one():
    # the constant is 1/sqrt(2 pi), not 1/sqrt(2): the trapezoid rule over [-10, 10] says so
    u = torch.linspace(-10, 10, 20001, dtype=torch.float64)
    assert math.isclose(torch.trapezoid(gaussian_kernel(u), u).item(), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_every_kernel_integrates_to_one(kernel):
    u = torch.linspace(-10, 10, 200001, dtype=torch.float64)
    assert math.isclose(torch.trapezoid(KERNELS[kernel](u), u).item(), 1.0, rel_tol=1e-3)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_huge_bandwidth_is_average_pooling(kernel):
    data = kernel_regression_data()
    predictions, _ = nadaraya_watson(data.x_test, data.x_train, data.y_train, 1e6, kernel)
    torch.testing.assert_close(predictions, data.y_train.mean().expand(data.n_test))


def test_tiny_bandwidth_is_nearest_neighbour():
    data = kernel_regression_data()
    predictions, weights = nadaraya_watson(data.x_test, data.x_train, data.y_train, 1e-4)
    nearest = (data.x_test.unsqueeze(1) - data.x_train).abs().argmin(1)
    torch.testing.assert_close(predictions, data.y_train[nearest])
    assert torch.isfinite(weights).all()


def test_per_query_keys_match_shared_keys():
    data = kernel_regression_data(n_train=8)
    shared, _ = nadaraya_watson(data.x_test, data.x_train, data.y_train)
    rows = data.x_train.expand(data.n_test, -1)
    per_query, _ = nadaraya_watson(data.x_test, rows, data.y_train.expand(data.n_test, -1))
    torch.testing.assert_close(per_query, shared)


def test_leave_one_out_removes_exactly_the_diagonal():
    x, y = torch.arange(5.0), torch.arange(5.0) * 10
    keys, values = leave_one_out(x, y)
    assert keys.shape == values.shape == (5, 4)
    for i in range(5):
        assert i not in keys[i].tolist()
        assert sorted(keys[i].tolist() + [float(i)]) == x.tolist()
    torch.testing.assert_close(values, keys * 10)


def test_parametric_model_equals_nonparametric_at_w_one_over_h():
    data = kernel_regression_data()
    for h in (0.25, 1.0, 2.0):
        net = NWKernelRegression(w=1 / h)
        expected, weights = nadaraya_watson(data.x_test, data.x_train, data.y_train, h)
        torch.testing.assert_close(net(data.x_test, data.x_train, data.y_train), expected)
        torch.testing.assert_close(net.attention_weights, weights)


def test_gradients_reach_w_and_training_reduces_loss():
    data = kernel_regression_data()
    net = NWKernelRegression()
    keys, values = leave_one_out(data.x_train, data.y_train)
    loss = ((net(data.x_train, keys, values) - data.y_train) ** 2).sum()
    loss.backward()
    assert net.w.grad is not None and net.w.grad.abs().item() > 0
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    optimizer.step()
    with torch.no_grad():
        after = ((net(data.x_train, keys, values) - data.y_train) ** 2).sum()
    assert after < loss


@pytest.mark.parametrize(
    ("queries", "keys", "values", "message"),
    [
        (
            torch.zeros(3, 1),
            torch.zeros(4),
            torch.zeros(4),
            r"queries must have shape \(num_queries,\)",
        ),
        (
            torch.tensor(1.0),
            torch.zeros(4),
            torch.zeros(4),
            r"queries must have shape \(num_queries,\)",
        ),
        (torch.zeros(3), torch.zeros(2, 4), torch.zeros(2, 4), r"need num_queries = 3 rows"),
        (
            torch.zeros(3),
            torch.zeros(3, 4, 1),
            torch.zeros(3, 4, 1),
            r"keys must have shape \(num_keys,\)",
        ),
        (
            torch.zeros(3),
            torch.zeros(4),
            torch.zeros(5),
            r"values must have the same shape as keys \(4,\)",
        ),
        (torch.zeros(3), torch.zeros(0), torch.zeros(0), r"at least one key"),
    ],
)
def test_bad_shapes_name_the_expected_shape(queries, keys, values, message):
    with pytest.raises(ValueError, match=message):
        nadaraya_watson(queries, keys, values)
    with pytest.raises(ValueError, match=message):
        NWKernelRegression()(queries, keys, values)


@pytest.mark.parametrize("bandwidth", [0, -1.0, float("inf"), float("nan")])
def test_bad_bandwidth(bandwidth):
    with pytest.raises(ValueError, match="bandwidth must be a positive finite number"):
        nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(3), bandwidth)


def test_non_numeric_bandwidth():
    with pytest.raises(TypeError, match="bandwidth must be a positive number"):
        nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(3), "wide")


def test_unknown_kernel_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"kernel must be one of \['boxcar'.*got 'triangle'"):
        nadaraya_watson(torch.zeros(2), torch.zeros(3), torch.zeros(3), kernel="triangle")


def test_integer_and_non_tensor_inputs():
    with pytest.raises(TypeError, match="queries must be a floating-point tensor"):
        nadaraya_watson(torch.arange(3), torch.zeros(3), torch.zeros(3))
    with pytest.raises(TypeError, match="keys must be a torch.Tensor, got list"):
        nadaraya_watson(torch.zeros(3), [0.0, 1.0], torch.zeros(2))


def test_leave_one_out_errors():
    with pytest.raises(ValueError, match=r"must both have shape \(n,\)"):
        leave_one_out(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="n >= 2"):
        leave_one_out(torch.zeros(1), torch.zeros(1))


@pytest.mark.parametrize("bandwidth", [1e-20, 1e-30, 1e-300])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gaussian_weights_are_finite_for_any_positive_bandwidth(bandwidth, dtype):
    # Regression (issue 10): bandwidth=1e-20 gave NaN, since (d / h)**2 overflowed for every key.
    keys = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=dtype)
    values = torch.tensor([10.0, 20.0, 30.0, 40.0], dtype=dtype)
    queries = torch.tensor([0.9, 2.2, 1.5, 7.0], dtype=dtype)
    predictions, weights = nadaraya_watson(queries, keys, values, bandwidth=bandwidth)
    assert torch.isfinite(weights).all() and torch.isfinite(predictions).all()
    # the nearest key wins; a query halfway between two keys averages them
    torch.testing.assert_close(predictions, torch.tensor([20.0, 30.0, 25.0, 40.0], dtype=dtype))


def test_stable_gaussian_scores_equal_the_textbook_softmax():
    torch.manual_seed(0)
    queries, keys = torch.rand(7, dtype=torch.float64) * 5, torch.rand(9, dtype=torch.float64) * 5
    values = torch.randn(9, dtype=torch.float64)
    for bandwidth in (0.05, 0.5, 5.0):
        _, weights = nadaraya_watson(queries, keys, values, bandwidth=bandwidth)
        u = (queries[:, None] - keys) / bandwidth
        torch.testing.assert_close(weights, torch.softmax(-(u**2) / 2, dim=-1))
