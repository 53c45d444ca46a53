"""Heatmaps and curves, with labelled axes and colour bars.

`show_heatmaps` keeps the signature of D2L's function of the same name (Zhang et al., *Dive into
Deep Learning*, 2023, sec. 11.1, arXiv:2106.11342) so a D2L reader recognises it; unlike D2L it
does not switch the notebook to SVG (the book's notebooks keep PNG figures, which nbval does not
compare as text) and it returns the figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["plot_lines", "plot_regression", "show_heatmaps"]


def _to_numpy(array: torch.Tensor | np.ndarray, name: str = "array") -> np.ndarray:
    """A float NumPy copy of a tensor, array or sequence of numbers, or a TypeError naming it."""
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().float().numpy()
    try:
        return np.asarray(array, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a tensor, an array or a sequence of numbers, "
            f"got {type(array).__name__}"
        ) from None


def _require_label(name: str, value: object, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        kind = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__}")


def show_heatmaps(
    matrices: torch.Tensor | np.ndarray,
    xlabel: str,
    ylabel: str,
    titles: Sequence[str] | None = None,
    figsize: tuple[float, float] = (2.5, 2.5),
    cmap: str = "Reds",
) -> Figure:
    """Draw a grid of heatmaps, one per matrix, sharing axes and one colour bar.

    Args:
        matrices: shape ``(num_rows, num_cols, num_queries, num_keys)``: a grid of attention
            weight matrices, e.g. rows for layers and columns for heads.
        xlabel: label of the x axis (the keys), under the bottom row.
        ylabel: label of the y axis (the queries), beside the first column.
        titles: ``num_cols`` column titles, or None.
        figsize: size of the whole figure in inches.
        cmap: a matplotlib colour map name.

    Returns:
        The ``matplotlib.figure.Figure`` (end the notebook line with ``;`` to avoid a second copy).

    Raises:
        TypeError: if ``matrices`` is not numeric, or a label, title or ``cmap`` is not a str.
        ValueError: if ``matrices`` is not 4-D or ``titles`` does not have ``num_cols`` entries.
    """
    data = _to_numpy(matrices, "matrices")
    _require_label("xlabel", xlabel)
    _require_label("ylabel", ylabel)
    _require_label("cmap", cmap)
    if titles is not None and (
        isinstance(titles, str) or not all(isinstance(t, str) for t in titles)
    ):
        raise TypeError(f"titles must be a sequence of str or None, got {titles!r}")
    if data.ndim != 4:
        raise ValueError(
            "matrices must have shape (num_rows, num_cols, num_queries, num_keys), "
            f"got {tuple(data.shape)}; for one matrix M use M.reshape(1, 1, *M.shape)"
        )
    num_rows, num_cols = data.shape[:2]
    if titles is not None and len(titles) != num_cols:
        raise ValueError(f"titles must have num_cols = {num_cols} entries, got {len(titles)}")
    fig, axes = plt.subplots(
        num_rows, num_cols, figsize=figsize, sharex=True, sharey=True, squeeze=False
    )
    vmin, vmax = float(np.nanmin(data)), float(np.nanmax(data))
    for i in range(num_rows):
        for j in range(num_cols):
            ax = axes[i, j]
            image = ax.imshow(data[i, j], cmap=cmap, vmin=vmin, vmax=vmax)
            if i == num_rows - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
            if titles is not None:
                ax.set_title(titles[j])
    fig.colorbar(image, ax=axes, shrink=0.6)
    return fig


def plot_lines(
    x: torch.Tensor | np.ndarray | Sequence[float],
    ys: Mapping[str, torch.Tensor | np.ndarray | Sequence[float]],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    ax: Axes | None = None,
    logx: bool = False,
    logy: bool = False,
) -> Axes:
    """Plot one or more curves against a shared x, with a legend.

    Args:
        x: shape ``(n,)``.
        ys: label -> values of shape ``(n,)``; NaN values leave gaps.
        xlabel, ylabel: axis labels (give units where there are any).
        title: what the reader should look at, or None.
        ax: axes to draw on; a new 4 x 3 inch figure when None.
        logx, logy: logarithmic axes.

    Returns:
        The axes.

    Raises:
        TypeError: if ``ys`` is not a mapping, a label is not a str, or data are not numeric.
        ValueError: if a curve's length differs from ``x``'s.
    """
    x_np = _to_numpy(x, "x")
    if not isinstance(ys, Mapping):
        raise TypeError(f"ys must be a mapping label -> values, got {type(ys).__name__}")
    _require_label("xlabel", xlabel)
    _require_label("ylabel", ylabel)
    _require_label("title", title, optional=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    for label, y in ys.items():
        y_np = _to_numpy(y, f"ys[{label!r}]")
        if y_np.shape != x_np.shape:
            raise ValueError(f"curve {label!r} has shape {y_np.shape}, x has {x_np.shape}")
        ax.plot(x_np, y_np, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(ys) > 1:
        ax.legend()
    return ax


def plot_regression(
    x_test: torch.Tensor | np.ndarray,
    curves: Mapping[str, torch.Tensor | np.ndarray],
    x_train: torch.Tensor | np.ndarray | None = None,
    y_train: torch.Tensor | np.ndarray | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Curves over the test inputs, the training pairs as faint dots (D2L's ``plot_kernel_reg``).

    Args:
        x_test: shape ``(n_test,)``.
        curves: label -> predictions of shape ``(n_test,)``, e.g. ``{"Truth": ..., "Pred": ...}``.
        x_train, y_train: training pairs, shape ``(n_train,)`` each, or None.
        title: what the reader should look at, or None.
        ax: axes to draw on; a new figure when None.

    Returns:
        The axes, with x limits [0, 5] and y limits [-1, 5] as in the book's regression example.

    Raises:
        ValueError: if only one of ``x_train`` and ``y_train`` is given, or a curve has the
            wrong length.
    """
    if (x_train is None) != (y_train is None):
        raise ValueError("give both x_train and y_train, or neither")
    ax = plot_lines(x_test, curves, "x", "y", title=title, ax=ax)
    if x_train is not None:
        ax.plot(_to_numpy(x_train), _to_numpy(y_train), "o", alpha=0.4, label="training pairs")
        ax.legend()
    ax.set_xlim(0, 5)
    ax.set_ylim(-1, 5)
    return ax
