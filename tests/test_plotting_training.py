"""Plotting helpers and the shared training loop."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from attention_utils import check_shape, plot_lines, plot_regression, show_heatmaps, train


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_show_heatmaps_draws_a_grid_with_titles_labels_and_colour_bar():
    weights = torch.rand(2, 3, 4, 5)
    fig = show_heatmaps(weights, "Keys", "Queries", titles=["a", "b", "c"], figsize=(6, 4))
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 6
    assert len(fig.axes) == 7, "six heatmaps and one colour bar"
    assert image_axes[0].get_title() == "a" and image_axes[0].get_ylabel() == "Queries"
    assert image_axes[-1].get_xlabel() == "Keys"
    np.testing.assert_allclose(image_axes[4].images[0].get_array(), weights[1, 1].numpy())


@pytest.mark.parametrize("shape", [(4, 5), (1, 4, 5), (1, 1, 1, 4, 5)])
def test_show_heatmaps_rejects_wrong_rank(shape):
    with pytest.raises(ValueError, match=r"\(num_rows, num_cols, num_queries, num_keys\)"):
        show_heatmaps(torch.rand(shape), "Keys", "Queries")


def test_show_heatmaps_rejects_wrong_number_of_titles():
    with pytest.raises(ValueError, match="titles must have num_cols = 2 entries"):
        show_heatmaps(torch.rand(1, 2, 3, 3), "Keys", "Queries", titles=["only one"])


def test_plot_lines_and_regression():
    ax = plot_lines([1, 2, 3], {"a": [1, 2, 3], "b": [3, 2, 1]}, "x", "y", title="t")
    assert len(ax.lines) == 2 and ax.get_legend() is not None and ax.get_title() == "t"
    with pytest.raises(ValueError, match="curve 'a' has shape"):
        plot_lines([1, 2, 3], {"a": [1, 2]}, "x", "y")
    ax = plot_regression(torch.arange(3.0), {"Truth": torch.ones(3)}, torch.zeros(2), torch.ones(2))
    assert len(ax.lines) == 2 and ax.get_xlim() == (0, 5)
    with pytest.raises(ValueError, match="give both x_train and y_train"):
        plot_regression(torch.arange(3.0), {"Truth": torch.ones(3)}, x_train=torch.zeros(2))


def test_check_shape():
    check_shape(torch.zeros(2, 3), (2, 3))
    with pytest.raises(ValueError, match=r"expected shape \(3, 2\), got \(2, 3\)"):
        check_shape(torch.zeros(2, 3), (3, 2))
    with pytest.raises(TypeError, match="expected a torch.Tensor"):
        check_shape([1, 2], (2,))


def _regression_problem():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    return x, y


def test_train_lowers_the_loss_and_records_metrics():
    torch.manual_seed(0)
    x, y = _regression_problem()
    net = nn.Linear(3, 1)
    batches = [((x[i : i + 16],), y[i : i + 16]) for i in range(0, 64, 16)]
    history = train(
        net,
        lambda p, t: ((p.squeeze(-1) - t) ** 2).mean(),
        torch.optim.SGD(net.parameters(), lr=0.1),
        batches,
        num_epochs=20,
        metrics=lambda m: {"full-batch mse": ((m(x).squeeze(-1) - y) ** 2).mean().item()},
        progress=False,
    )
    assert len(history.losses) == 20 and history.losses[-1] < 0.05 * history.losses[0]
    assert len(history.metrics["full-batch mse"]) == 20
    fig = history.plot()
    assert len(fig.axes) == 2 and fig.axes[0].get_xlabel() == "epoch"


def test_train_errors():
    x, y = _regression_problem()
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    mse = lambda p, t: ((p.squeeze(-1) - t) ** 2).mean()  # noqa: E731
    with pytest.raises(ValueError, match="num_epochs must be an int >= 1"):
        train(net, mse, opt, [((x,), y)], 0, progress=False)
    with pytest.raises(ValueError, match="batches is empty"):
        train(net, mse, opt, [], 1, progress=False)
    with pytest.raises(ValueError, match="loss_fn must return a scalar"):
        train(net, lambda p, t: (p.squeeze(-1) - t) ** 2, opt, [((x,), y)], 1, progress=False)
    huge = torch.optim.SGD(net.parameters(), lr=1e30)
    with pytest.raises(FloatingPointError, match="in epoch"):
        train(net, mse, huge, [((x,), y)], 5, progress=False)


def test_package_exports_every_public_name_once():
    import attention_utils

    names = attention_utils.__all__
    assert len(names) == len(set(names)), "a public name is exported by two modules"
    for name in names:
        assert getattr(attention_utils, name) is not None
    assert {"show_heatmaps", "nadaraya_watson", "NWKernelRegression", "train"} <= set(names)
