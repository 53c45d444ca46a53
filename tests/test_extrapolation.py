"""The swappable-position language model: relative schemes are translation-invariant in a window."""

import pytest
import torch

import attention_utils as au


def _net(position, num_layers=1, seed=0):
    torch.manual_seed(seed)
    return au.PositionalLM(12, 16, 4, num_layers, position, max_len=40).double().eval()


def _tokens(n=30, seed=0):
    return torch.randint(12, (2, n), generator=torch.Generator().manual_seed(seed))


def test_copy_back_data_targets_the_token_offset_steps_back():
    tokens, targets = au.copy_back_data(3, 9, 5, 2, torch.Generator().manual_seed(0))
    assert tokens.shape == targets.shape == (3, 9)
    assert (targets[:, :2] == -1).all()
    assert torch.equal(targets[:, 2:], tokens[:, :-2])


@pytest.mark.parametrize("position", au.POSITION_METHODS)
def test_a_window_as_long_as_the_input_changes_nothing(position):
    net, tokens = _net(position, num_layers=2), _tokens()
    torch.testing.assert_close(net(tokens, window=30), net(tokens))
    assert net(tokens).shape == (2, 30, 12)


@pytest.mark.parametrize("position", au.POSITION_METHODS)
def test_in_a_window_only_relative_schemes_are_translation_invariant(position):
    """The last step's logits through a window of 4, from the whole input or from its tail."""
    net, tokens = _net(position, num_layers=2), _tokens()
    full = net(tokens, window=4)[:, -1]
    tail = net(tokens[:, -7:], window=4)[:, -1]  # 2 layers reach 2 * 3 steps back
    same = torch.allclose(full, tail, rtol=0, atol=1e-10)
    assert same == (position in ("rope", "alibi", "none"))


@pytest.mark.parametrize("position", ["rope", "alibi", "none"])
def test_sinks_are_seen_by_every_query(position):
    net, tokens = _net(position), _tokens()
    changed = tokens.clone()
    changed[:, 0] = (tokens[:, 0] + 1) % 12
    assert torch.allclose(net(tokens, window=3)[:, -1], net(changed, window=3)[:, -1])
    assert not torch.allclose(
        net(tokens, window=3, num_sinks=1)[:, -1], net(changed, window=3, num_sinks=1)[:, -1]
    )


def test_weights_are_kept_on_request_and_rows_sum_to_one():
    net = _net("alibi", num_layers=2)
    net.need_weights = True
    net(_tokens(10), window=3, num_sinks=1)
    assert len(net.attention_weights) == 2
    weights = net.attention_weights[0]  # (2, 4, 10, 10)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 10, dtype=torch.float64))
    assert (weights.triu(1) == 0).all()
    net.need_weights = False
    net(_tokens(10))
    assert net.attention_weights is None


def test_training_learns_to_copy_the_previous_token():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: more threads only wait for each other
    try:
        torch.manual_seed(0)
        net = au.PositionalLM(8, 32, 8, 1, "rope", max_len=32)
        g = torch.Generator().manual_seed(0)
        loss = au.train_lm(net, lambda n: au.copy_back_data(16, n, 8, 1, g), 16, 80, 1e-2)
        test = torch.Generator().manual_seed(1)
        batches = lambda n: au.copy_back_data(32, n, 8, 1, test)  # noqa: E731
        accuracy = au.accuracy_by_length(net, batches, [16])
    finally:
        torch.set_num_threads(threads)
    assert loss < 0.1 and min(accuracy) > 0.95, (loss, accuracy)
    assert net.training  # accuracy_by_length restores the mode
