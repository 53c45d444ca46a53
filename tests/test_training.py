"""The shared training loop: lists of batches, standard DataLoaders, errors."""

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from attention_utils import train


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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


def test_train_errors_a_loss_can_make():
    # The argument errors are walked in tests/test_errors.py; these two come from the loss.
    x, y = _regression_problem()
    net = nn.Linear(3, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="loss_fn must return a scalar"):
        train(net, lambda p, t: (p.squeeze(-1) - t) ** 2, opt, [((x,), y)], 1, progress=False)
    mse = lambda p, t: ((p.squeeze(-1) - t) ** 2).mean()  # noqa: E731
    huge = torch.optim.SGD(net.parameters(), lr=1e30)
    with pytest.raises(FloatingPointError, match="in epoch"):
        train(net, mse, huge, [((x,), y)], 5, progress=False)


def test_train_takes_a_standard_seeded_dataloader():
    x, y = _regression_problem()
    mse = lambda p, t: ((p.squeeze(-1) - t) ** 2).mean()  # noqa: E731
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        net = nn.Linear(3, 1)
        loader = DataLoader(
            TensorDataset(x, y),
            batch_size=16,
            shuffle=True,
            generator=torch.Generator().manual_seed(1),
        )
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        histories.append(train(net, mse, opt, loader, num_epochs=20, progress=False).losses)
    assert histories[0][-1] < 0.05 * histories[0][0]
    assert histories[0] == histories[1], "the same seeds give the same shuffles and losses"


def test_train_unpacks_tuples_and_passes_a_tensor_whole():
    calls = []

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 1)

        def forward(self, a, b=None):
            calls.append(b is not None)
            return self.linear(a if b is None else a + b)

    x, y = _regression_problem()
    net = TwoInputs()
    mse = lambda p, t: ((p.squeeze(-1) - t) ** 2).mean()  # noqa: E731
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    train(net, mse, opt, [(x, y)], 1, progress=False)  # a tensor: one argument
    train(net, mse, opt, [((x, x), y)], 1, progress=False)  # a tuple: unpacked
    train(net, mse, opt, [([x, x], y)], 1, progress=False)  # a list: unpacked
    assert calls == [False, True, True]


def test_a_generator_of_batches_fails_clearly_in_the_second_epoch():
    x, y = _regression_problem()
    net = nn.Linear(3, 1)
    mse = lambda p, t: ((p.squeeze(-1) - t) ** 2).mean()  # noqa: E731
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="empty in epoch 2.*generator"):
        train(
            net,
            mse,
            opt,
            ((x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)),
            2,
            progress=False,
        )
    with pytest.raises(ValueError, match=r"\(inputs, targets\) pair, got 3 items"):
        train(net, mse, opt, [(x, y, y)], 1, progress=False)
    with pytest.raises(TypeError, match=r"\(inputs, targets\) pair, got Tensor"):
        train(net, mse, opt, [x], 1, progress=False)
