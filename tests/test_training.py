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


# --- gradient clipping, a scheduler stepped per update, a budget in updates


def _mse(p, t):
    return ((p.squeeze(-1) - t) ** 2).mean()


def _batches():
    x, y = _regression_problem()
    return [((x[i : i + 16],), y[i : i + 16]) for i in range(0, 64, 16)]  # 4 batches


def test_max_steps_stops_mid_epoch_and_cycles_the_batches_in_order():
    seen = []

    class Spy(nn.Linear):
        def forward(self, x):
            seen.append(x)
            return super().forward(x)

    net = Spy(3, 1)
    batches = _batches()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    history = train(net, _mse, opt, batches, max_steps=6, progress=False)
    assert history.num_steps == 6 and len(history.step_losses) == 6
    assert len(history.losses) == 2, "one whole epoch of 4 updates, then 2 of the next"
    assert history.losses[1] == pytest.approx(sum(history.step_losses[4:]) / 2)
    for step, x in enumerate(seen):
        assert torch.equal(x, batches[step % 4][0][0]), "as batches[step % len(batches)]"
    # num_epochs and max_steps together: whichever ends first
    assert train(net, _mse, opt, batches, 1, max_steps=10, progress=False).num_steps == 4
    assert train(net, _mse, opt, batches, 3, max_steps=5, progress=False).num_steps == 5


def test_max_steps_equals_a_hand_written_loop_with_clipping_and_a_scheduler():
    batches = _batches()

    def setup():
        torch.manual_seed(0)
        net = nn.Linear(3, 1)
        opt = torch.optim.Adam(net.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 / (1 + s))
        return net, opt, sched

    net, opt, sched = setup()
    history = train(
        net, _mse, opt, batches, grad_clip=0.5, scheduler=sched, max_steps=7, progress=False
    )
    by_hand, losses = setup(), []
    net2, opt2, sched2 = by_hand
    for step in range(7):
        (x,), y = batches[step % len(batches)]
        loss = _mse(net2(x), y)
        opt2.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net2.parameters(), max_norm=0.5)
        opt2.step()
        sched2.step()
        losses.append(loss.item())
    assert history.step_losses == losses
    for p, q in zip(net.parameters(), net2.parameters()):
        assert torch.equal(p, q)
    assert history.learning_rates == pytest.approx([0.1 / (1 + s) for s in range(7)])


def test_grad_clip_bounds_the_gradient_norm_the_optimizer_sees():
    norms = []

    class Recorder(torch.optim.SGD):
        def step(self, closure=None):
            grads = [p.grad for group in self.param_groups for p in group["params"]]
            norms.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item())
            return super().step(closure)

    x, y = _regression_problem()
    net = nn.Linear(3, 1)
    train(
        net,
        _mse,
        Recorder(net.parameters(), lr=1e-3),
        [((x,), 100 * y)],
        3,
        grad_clip=0.25,
        progress=False,
    )
    assert max(norms) <= 0.25 + 1e-6


def test_warmup_scheduler_drives_the_learning_rate_if_present():
    import attention_utils as au

    net = nn.Linear(3, 1)
    opt = torch.optim.Adam(net.parameters(), lr=1.0)
    history = train(
        net,
        _mse,
        opt,
        _batches(),
        scheduler=au.warmup_scheduler(opt, 16, 4),
        max_steps=8,
        progress=False,
    )
    expected = [au.warmup_lr(s, 16, 4) for s in range(1, 9)]
    assert history.learning_rates == pytest.approx(expected)


def test_per_step_plot():
    net = nn.Linear(3, 1)
    history = train(
        net,
        _mse,
        torch.optim.SGD(net.parameters(), lr=0.01),
        _batches(),
        max_steps=5,
        progress=False,
    )
    fig = history.plot(per_step=True)
    assert fig.axes[0].get_xlabel() == "update"
    assert len(fig.axes[0].lines[0].get_xdata()) == 5
