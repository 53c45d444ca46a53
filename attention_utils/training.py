"""The one small training loop the chapters share: a progress bar, a loss per epoch, a curve.

It is the loop of D2L's chapters (Zhang et al., *Dive into Deep Learning*, 2023,
arXiv:2106.11342) without the live animation: zero the gradients, compute the loss, step, and
record the epoch's mean loss. The progress bar is tqdm's (``tqdm.auto``: a widget in Jupyter,
text in a terminal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn
from tqdm.auto import tqdm

from .plotting import plot_lines

__all__ = ["TrainingHistory", "train"]

#: A batch: the model's input (one tensor, or a tuple/list of positional inputs), and the targets.
Batch = tuple[torch.Tensor | tuple[torch.Tensor, ...] | list[torch.Tensor], torch.Tensor]


def _as_args(inputs: object) -> tuple:
    """A tensor is the model's one argument; a tuple or list holds its positional arguments."""
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


@dataclass
class TrainingHistory:
    """What :func:`train` recorded.

    Attributes:
        losses: the mean training loss of each epoch, ``num_epochs`` floats.
        metrics: name -> one value per epoch, from the ``metrics`` callback (may be empty).
    """

    losses: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    def plot(self, title: str = "Training loss per epoch") -> Figure:
        """Draw the loss curve (and each metric in a panel of its own); returns the figure."""
        panels = 1 + len(self.metrics)
        fig, axes = plt.subplots(1, panels, figsize=(4 * panels, 3), squeeze=False)
        epochs = list(range(1, len(self.losses) + 1))
        plot_lines(epochs, {"loss": self.losses}, "epoch", "loss", title=title, ax=axes[0, 0])
        for ax, (name, values) in zip(axes[0, 1:], self.metrics.items()):
            plot_lines(epochs, {name: values}, "epoch", name, title=name, ax=ax)
        fig.tight_layout()
        return fig


def train(
    net: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Batch],
    num_epochs: int,
    metrics: Callable[[nn.Module], Mapping[str, float]] | None = None,
    progress: bool = True,
) -> TrainingHistory:
    """Train ``net`` for ``num_epochs`` passes over ``batches``.

    Each step computes ``loss_fn(net(inputs), targets)`` (``net(*inputs)`` when ``inputs`` is a
    tuple or list), a scalar, back-propagates it and takes an optimizer step. The recorded loss of
    an epoch is the mean over its batches.

    Args:
        net: the model; put in training mode for the loop.
        loss_fn: ``(predictions, targets) -> scalar tensor``.
        optimizer: an optimizer over ``net``'s parameters.
        batches: a re-iterable collection of ``(inputs, targets)`` pairs: a list, or a
            ``DataLoader``, e.g. ``DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
            generator=torch.Generator().manual_seed(0))``. ``inputs`` is one tensor (passed as
            ``net(inputs)``) or a tuple/list of positional arguments (``net(*inputs)``). A
            generator is not re-iterable: it would be empty from the second epoch on.
        num_epochs: number of passes, >= 1.
        metrics: optional ``net -> {name: value}`` evaluated after each epoch (in eval mode,
            without gradients), e.g. held-out accuracy.
        progress: show a progress bar over epochs with the last loss.

    Returns:
        A :class:`TrainingHistory`; call its ``plot()`` for the loss curve.

    Raises:
        TypeError: if ``net`` is not an ``nn.Module``, ``loss_fn`` or ``metrics`` not callable,
            ``optimizer`` not an optimizer, ``num_epochs`` not an int, ``progress`` not a bool,
            or a batch not a tuple or list.
        ValueError: if ``num_epochs < 1``, a batch does not hold two items, ``batches`` is empty
            in an epoch, or the loss is not a scalar.
        FloatingPointError: if a loss becomes NaN or infinite (the message names the epoch;
            lower the learning rate).
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    if metrics is not None and not callable(metrics):
        raise TypeError(f"metrics must be None or callable, got {type(metrics).__name__}")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}")
    if not isinstance(num_epochs, int) or isinstance(num_epochs, bool):
        raise TypeError(f"num_epochs must be an int >= 1, got {type(num_epochs).__name__}")
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be an int >= 1, got {num_epochs!r}")
    history = TrainingHistory()
    bar = tqdm(range(1, num_epochs + 1), desc="epochs", disable=not progress)
    for epoch in bar:
        net.train()
        total, count = 0.0, 0
        for batch in batches:
            if not isinstance(batch, (tuple, list)):
                raise TypeError(
                    f"each batch must be an (inputs, targets) pair, got {type(batch).__name__}"
                )
            if len(batch) != 2:
                raise ValueError(
                    f"each batch must be an (inputs, targets) pair, got {len(batch)} items"
                )
            inputs, targets = batch
            optimizer.zero_grad()
            loss = loss_fn(net(*_as_args(inputs)), targets)
            if loss.dim() != 0:
                raise ValueError(
                    f"loss_fn must return a scalar, got shape {tuple(loss.shape)}; "
                    "reduce it with .mean() or .sum()"
                )
            if not math.isfinite(loss.item()):
                raise FloatingPointError(
                    f"loss became {loss.item()} in epoch {epoch}; try a smaller learning rate"
                )
            loss.backward()
            optimizer.step()
            total, count = total + loss.item(), count + 1
        if count == 0:
            raise ValueError(
                f"batches is empty in epoch {epoch}: nothing to train on (a generator is used "
                "up after one epoch; pass a list or a DataLoader)"
            )
        history.losses.append(total / count)
        if metrics is not None:
            net.eval()
            with torch.no_grad():
                for name, value in metrics(net).items():
                    history.metrics.setdefault(name, []).append(float(value))
        bar.set_postfix(loss=f"{history.losses[-1]:.4g}")
    return history
