"""The one small training loop the chapters share: a progress bar, a loss per epoch, a curve.

It is the loop of D2L's chapters (Zhang et al., *Dive into Deep Learning*, 2023,
arXiv:2106.11342) without the live animation: zero the gradients, compute the loss, step, and
record the epoch's mean loss, with what sequence models need on top: gradient clipping, a
learning-rate schedule stepped per update, and a budget counted in updates. The progress bar is
tqdm's (``tqdm.auto``: a widget in Jupyter, text in a terminal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from tqdm.auto import tqdm

from .checks import require_bool, require_positive, require_positive_int
from .plotting import plot_lines

__all__ = ["TrainingHistory", "train", "warmup_lr", "warmup_scheduler"]

#: A batch: the model's input (one tensor, or a tuple/list of positional inputs), and the targets.
Batch = tuple[torch.Tensor | tuple[torch.Tensor, ...] | list[torch.Tensor], torch.Tensor]


def _as_args(inputs: object) -> tuple:
    """A tensor is the model's one argument; a tuple or list holds its positional arguments."""
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


@dataclass
class TrainingHistory:
    """What :func:`train` recorded.

    Attributes:
        losses: the mean training loss of each epoch (the last one may be partial when
            ``max_steps`` stops the loop mid-epoch), one float per epoch.
        step_losses: the loss of every update, in order, one float per optimizer step.
        learning_rates: the learning rate of each update (the first parameter group's, read
            before the step), one float per optimizer step.
        metrics: name -> one value per epoch, from the ``metrics`` callback (may be empty).
    """

    losses: list[float] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        """The number of optimizer steps taken."""
        return len(self.step_losses)

    def plot(self, title: str = "Training loss per epoch", per_step: bool = False) -> Figure:
        """Draw the loss curve (and each metric in a panel of its own); returns the figure.

        With ``per_step=True`` the first panel shows the loss of every update instead of the
        mean of each epoch.
        """
        panels = 1 + len(self.metrics)
        fig, axes = plt.subplots(1, panels, figsize=(4 * panels, 3), squeeze=False)
        if per_step:
            steps = list(range(1, len(self.step_losses) + 1))
            plot_lines(
                steps, {"loss": self.step_losses}, "update", "loss", title=title, ax=axes[0, 0]
            )
        else:
            epochs = list(range(1, len(self.losses) + 1))
            plot_lines(epochs, {"loss": self.losses}, "epoch", "loss", title=title, ax=axes[0, 0])
        epochs = list(range(1, len(self.losses) + 1))
        for ax, (name, values) in zip(axes[0, 1:], self.metrics.items()):
            plot_lines(epochs, {name: values}, "epoch", name, title=name, ax=ax)
        fig.tight_layout()
        return fig


def _check_train_arguments(
    net, loss_fn, optimizer, num_epochs, metrics, progress, grad_clip, scheduler, max_steps
) -> None:
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
    require_bool("progress", progress)
    if num_epochs is None and max_steps is None:
        raise ValueError("give num_epochs or max_steps (or both): the loop needs a budget")
    if num_epochs is not None:
        if not isinstance(num_epochs, int) or isinstance(num_epochs, bool):
            raise TypeError(f"num_epochs must be an int >= 1, got {type(num_epochs).__name__}")
        if num_epochs < 1:
            raise ValueError(f"num_epochs must be an int >= 1, got {num_epochs!r}")
    if max_steps is not None:
        require_positive_int("max_steps", max_steps)
    if grad_clip is not None:
        require_positive("grad_clip", grad_clip)
    if scheduler is not None:
        if isinstance(scheduler, ReduceLROnPlateau) or not isinstance(scheduler, LRScheduler):
            raise TypeError(
                "scheduler must be a torch.optim.lr_scheduler scheduler stepped once per update "
                f"(LambdaLR, OneCycleLR, warmup_scheduler, ...), got {type(scheduler).__name__}"
                + (
                    "; ReduceLROnPlateau needs a metric, step it yourself in metrics"
                    if isinstance(scheduler, ReduceLROnPlateau)
                    else ""
                )
            )
        if scheduler.optimizer is not optimizer:
            raise ValueError("scheduler must schedule the optimizer passed as optimizer")


def train(
    net: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Batch],
    num_epochs: int | None = None,
    metrics: Callable[[nn.Module], Mapping[str, float]] | None = None,
    progress: bool = True,
    *,
    grad_clip: float | None = None,
    scheduler: LRScheduler | None = None,
    max_steps: int | None = None,
) -> TrainingHistory:
    """Train ``net`` for ``num_epochs`` passes over ``batches``, or for ``max_steps`` updates.

    Each update computes ``loss_fn(net(inputs), targets)`` (``net(*inputs)`` when ``inputs`` is
    a tuple or list), a scalar, back-propagates it, clips the gradients' global norm to
    ``grad_clip`` if given (``nn.utils.clip_grad_norm_``: ``g <- g * min(1, c / ||g||)``, Pascanu
    et al., 2013, arXiv:1211.5063), takes an optimizer step and then a scheduler step. The
    recorded loss of an epoch is the mean over its batches; every update's loss is kept too.

    With ``max_steps`` the loop stops after that many updates, in the middle of an epoch if need
    be; without ``num_epochs`` it goes through ``batches`` as many times as it takes (so a list of
    batches is cycled in order, as ``batches[step % len(batches)]`` would).

    Args:
        net: the model; put in training mode for the loop.
        loss_fn: ``(predictions, targets) -> scalar tensor``.
        optimizer: an optimizer over ``net``'s parameters.
        batches: a re-iterable collection of ``(inputs, targets)`` pairs: a list, or a
            ``DataLoader``, e.g. ``DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
            generator=torch.Generator().manual_seed(0))``. ``inputs`` is one tensor (passed as
            ``net(inputs)``) or a tuple/list of positional arguments (``net(*inputs)``). A
            generator is not re-iterable: it would be empty from the second epoch on.
        num_epochs: number of passes, >= 1, or None to let ``max_steps`` alone decide.
        metrics: optional ``net -> {name: value}`` evaluated after each epoch (in eval mode,
            without gradients), e.g. held-out accuracy.
        progress: show a progress bar (over epochs, or over updates when only ``max_steps`` is
            given) with the last loss.
        grad_clip: the largest global gradient norm, a positive number, or None (no clipping).
        scheduler: a ``torch.optim.lr_scheduler`` scheduler of ``optimizer`` (e.g.
            ``warmup_scheduler``), stepped after every update, or None.
        max_steps: the number of updates, >= 1, or None (whole epochs only).

    Returns:
        A :class:`TrainingHistory`; call its ``plot()`` for the loss curve.

    Raises:
        TypeError: if ``net`` is not an ``nn.Module``, ``loss_fn`` or ``metrics`` not callable,
            ``optimizer`` not an optimizer, ``num_epochs`` or ``max_steps`` not an int,
            ``progress`` not a bool, ``grad_clip`` not a number, ``scheduler`` not a per-update
            scheduler (``ReduceLROnPlateau`` is not), or a batch not a tuple or list.
        ValueError: if neither ``num_epochs`` nor ``max_steps`` is given, either is < 1,
            ``grad_clip`` is not positive and finite, ``scheduler`` belongs to another optimizer,
            a batch does not hold two items, ``batches`` is empty in an epoch, or the loss is not
            a scalar.
        FloatingPointError: if a loss becomes NaN or infinite (the message names the epoch and
            the update; lower the learning rate).
    """
    _check_train_arguments(
        net, loss_fn, optimizer, num_epochs, metrics, progress, grad_clip, scheduler, max_steps
    )
    history = TrainingHistory()
    by_steps = num_epochs is None
    bar = tqdm(
        total=max_steps if by_steps else num_epochs,
        desc="updates" if by_steps else "epochs",
        disable=not progress,
    )
    epoch = 0
    while (num_epochs is None or epoch < num_epochs) and (
        max_steps is None or history.num_steps < max_steps
    ):
        epoch += 1
        net.train()
        total, count = 0.0, 0
        for batch in batches:
            inputs, targets = _unpack(batch)
            loss = loss_fn(net(*_as_args(inputs)), targets)
            if loss.dim() != 0:
                raise ValueError(
                    f"loss_fn must return a scalar, got shape {tuple(loss.shape)}; "
                    "reduce it with .mean() or .sum()"
                )
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"loss became {value} in epoch {epoch} (update {history.num_steps + 1}); "
                    "try a smaller learning rate"
                )
            optimizer.zero_grad()
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(net.parameters(), max_norm=grad_clip)
            history.learning_rates.append(float(optimizer.param_groups[0]["lr"]))
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            history.step_losses.append(value)
            total, count = total + value, count + 1
            if by_steps:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4g}")
            if max_steps is not None and history.num_steps >= max_steps:
                break
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
        if not by_steps:
            bar.update(1)
            bar.set_postfix(loss=f"{history.losses[-1]:.4g}")
    bar.close()
    return history


def _unpack(batch: object) -> tuple[object, torch.Tensor]:
    if not isinstance(batch, (tuple, list)):
        raise TypeError(f"each batch must be an (inputs, targets) pair, got {type(batch).__name__}")
    if len(batch) != 2:
        raise ValueError(f"each batch must be an (inputs, targets) pair, got {len(batch)} items")
    return batch[0], batch[1]


# --- the Transformer's warm-up schedule (chapter 07) ---------------------------------------


def warmup_lr(step: int, num_hiddens: int, warmup_steps: int) -> float:
    """The learning rate of Vaswani et al. (NeurIPS 2017, arXiv:1706.03762, sec. 5.3).

    ``lr = num_hiddens^-0.5 * min(step^-0.5, step * warmup_steps^-1.5)``: it grows linearly for
    ``warmup_steps`` steps, peaks at ``(num_hiddens * warmup_steps)^-0.5``, then decays as
    ``step^-0.5``.

    Args:
        step: the optimisation step, counted from 1.
        num_hiddens: the model width ``d_model``.
        warmup_steps: length of the linear warm-up.

    Returns:
        the learning rate, a float.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if an argument is not positive.
    """
    for name, value in (
        ("step", step),
        ("num_hiddens", num_hiddens),
        ("warmup_steps", warmup_steps),
    ):
        require_positive_int(name, value)
    return num_hiddens**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


def warmup_scheduler(
    optimizer: torch.optim.Optimizer, num_hiddens: int, warmup_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that multiplies the optimizer's learning rate by :func:`warmup_lr`.

    Call ``scheduler.step()`` after every ``optimizer.step()``; the first step uses
    ``warmup_lr(1, ...)``. With the optimizer's ``lr=1.0`` this is exactly the paper's schedule;
    another ``lr`` scales it (the "factor" of the Annotated Transformer).

    Args:
        optimizer: the optimizer whose learning rate is scheduled.
        num_hiddens, warmup_steps: as :func:`warmup_lr`.

    Returns:
        ``torch.optim.lr_scheduler.LambdaLR``.

    Raises:
        TypeError: if ``optimizer`` is not a ``torch.optim.Optimizer`` or a size not an int.
        ValueError: if a size is not positive.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    warmup_lr(1, num_hiddens, warmup_steps)  # checks the arguments
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: warmup_lr(i + 1, num_hiddens, warmup_steps)
    )
