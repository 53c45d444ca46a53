"""The book's synthetic datasets: regression (02), retrieval (03), sentences (04), images (05)."""

import pytest
import torch

from attention_utils import (
    AGENT_ADJECTIVES,
    AGENTS,
    PLACE_ADJECTIVES,
    PLACES,
    channel_shapes_data,
    coreference_data,
    kernel_regression_data,
    make_sentence,
    regression_truth,
    retrieval_data,
)


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
    torch.testing.assert_close(data.x_test[-1], torch.tensor(4.9))
    torch.testing.assert_close(data.y_truth, 2 * torch.sin(data.x_test) + data.x_test**0.8)


def test_noise_has_the_requested_spread():
    data = kernel_regression_data(n_train=20000, noise_std=0.5, seed=1)
    residual = data.y_train - regression_truth(data.x_train)
    assert abs(residual.mean().item()) < 0.02
    torch.testing.assert_close(residual.std(), torch.tensor(0.5), rtol=0.03, atol=0)


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


# --- the "it" sentences of chapter 04 ---------------------------------------------------------


def test_sentences_are_deterministic_and_the_global_rng_untouched():
    torch.manual_seed(3)
    before = torch.get_rng_state()
    a, b = coreference_data(seed=1), coreference_data(seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    for name in ("train_tokens", "train_referents", "test_tokens", "test_referents"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert a.held_out == b.held_out
    assert a.held_out != coreference_data(seed=2).held_out


@pytest.mark.parametrize("heldout_per_noun", [1, 2, 5])
def test_held_out_pairs_never_appear_in_training(heldout_per_noun):
    data = coreference_data(heldout_per_noun=heldout_per_noun)
    assert len(data.held_out) == heldout_per_noun * (len(AGENTS) + len(PLACES))
    train = {frozenset(data.decode(s)) for s in data.train_tokens}
    for noun, adjective in data.held_out:
        assert not any(noun in words and adjective in words for words in train), (noun, adjective)
    for sentence in data.test_tokens:
        words = set(data.decode(sentence))
        assert any(noun in words and adjective in words for noun, adjective in data.held_out)
    total = len(AGENTS) * len(PLACES) * 6 * (len(AGENT_ADJECTIVES) + len(PLACE_ADJECTIVES))
    assert len(data.train_tokens) + len(data.test_tokens) == total
    assert len(data.test_tokens) == total * heldout_per_noun // len(AGENT_ADJECTIVES)


def test_labels_follow_the_adjective():
    data = coreference_data()
    for tokens, referent, second in zip(data.test_tokens, data.test_referents, data.test_second):
        words = data.decode(tokens)
        assert words[data.it_position] == "it"
        adjective = words[data.adjective_position]
        assert bool(second) == (adjective in PLACE_ADJECTIVES)
        assert data.vocab[referent] == words[data.noun_positions[int(second)]]
    assert data.decode(
        data.encode(make_sentence("dog", "cross", "river", "wide"))
    ) == make_sentence("dog", "cross", "river", "wide")


# --- the channel-shapes images of chapter 05 --------------------------------------------------


def test_channel_shapes_data_deterministic_and_shaped():
    a = channel_shapes_data(n_train=10, n_test=6, seed=3)
    b = channel_shapes_data(n_train=10, n_test=6, seed=3)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert a.x_train.shape == (10, 8, 16, 16) and a.x_test.shape == (6, 8, 16, 16)
    assert a.positions.shape == (6, 2)
    clean = channel_shapes_data(n_train=5, n_test=5, noise_std=1e-6, seed=0)
    for image, label, (r, c) in zip(clean.x_test, clean.y_test, clean.positions):
        assert image[label, r, c] > 0.99  # the cross's centre is in the class channel
        torch.testing.assert_close(image[label].sum(), torch.tensor(5.0), atol=1e-3, rtol=0)
    with pytest.raises(ValueError):
        channel_shapes_data(num_classes=9, channels=8)


# --- the retrieval task of chapter 03 ---------------------------------------------------------


def test_retrieval_same_seed_same_data_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = retrieval_data(num_train=50, num_test=10, seed=3)
    b = retrieval_data(num_train=50, num_test=10, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    for name in ("queries", "keys", "values", "targets", "named"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.values, retrieval_data(num_train=50, num_test=10, seed=4).values)


def test_retrieval_layout_and_what_each_query_names():
    data = retrieval_data(
        num_train=30,
        num_test=20,
        num_keys=5,
        vocab_size=9,
        query_size=3,
        key_size=7,
        value_size=2,
        seed=1,
    )
    assert data.queries.shape == (50, 5, 3) and data.keys.shape == (50, 5, 7)
    assert data.values.shape == data.targets.shape == (50, 5, 2)
    assert data.named.dtype == torch.int64 and data.named.shape == (50, 5)
    # every key is named exactly once per example, and a query's target is its key's value
    assert torch.equal(data.named.sort(dim=-1).values, torch.arange(5).expand(50, 5))
    for e in (0, 17, 49):
        for i in range(5):
            assert torch.equal(data.targets[e, i], data.values[e, data.named[e, i]])
    # the keys of an example are distinct symbols, and the same symbol has the same code everywhere:
    # two queries are equal exactly when the keys they name are equal
    named_keys = data.keys.gather(1, data.named[..., None].expand(-1, -1, 7))  # (50, 5, 7)
    flat_keys = named_keys.reshape(-1, 7)
    flat_queries = data.queries.reshape(-1, 3)
    same_key = (flat_keys[:, None] == flat_keys[None]).all(-1)
    same_query = (flat_queries[:, None] == flat_queries[None]).all(-1)
    assert torch.equal(same_key, same_query)
    assert same_key.sum() > same_key.shape[0], "symbols recur (9 symbols, 50 examples)"
    for e in range(50):
        assert len({tuple(k.tolist()) for k in data.keys[e]}) == 5


def test_retrieval_split():
    data = retrieval_data(num_train=30, num_test=20, seed=0)
    train, test = data.split("train"), data.split("test")
    assert [t.shape[0] for t in train] == [30] * 5 and [t.shape[0] for t in test] == [20] * 5
    assert torch.equal(torch.cat([train[1], test[1]]), data.keys)
    with pytest.raises(ValueError, match="part must be 'train' or 'test'"):
        data.split("validation")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_train": 0}, ValueError, "num_train must be a positive int"),
        ({"num_keys": 2.0}, TypeError, "num_keys must be a positive int"),
        ({"num_keys": 1}, ValueError, "num_keys must be between 2 and vocab_size"),
        (
            {"num_keys": 17, "vocab_size": 16},
            ValueError,
            "num_keys must be between 2 and vocab_size = 16",
        ),
        ({"query_size": -1}, ValueError, "query_size must be a positive int"),
        ({"seed": None}, TypeError, "seed must be an int"),
    ],
)
def test_retrieval_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        retrieval_data(**kwargs)
