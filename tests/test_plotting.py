"""Plotting helpers (heatmaps, curves) and check_shape."""

import matplotlib.pyplot as plt
import pytest
import torch

from attention_utils import check_shape, plot_lines, plot_regression, show_heatmaps


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
    torch.testing.assert_close(torch.as_tensor(image_axes[4].images[0].get_array()), weights[1, 1])


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
    with pytest.raises(TypeError, match="tensor must be a torch.Tensor"):
        check_shape([1, 2], (2,))
