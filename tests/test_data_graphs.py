"""Chapter 11's data: the marked-neighbour graph, the dictionary lookup, bAbI-style stories."""

import torch

from attention_utils import babi_data, dictionary_lookup_data, marked_neighbour_data


def _equal(a, b):
    def same(x, y):
        if isinstance(x, torch.Tensor):
            return torch.equal(x, y)
        if hasattr(x, "idx_to_token"):  # a Vocab
            return x.idx_to_token == y.idx_to_token
        return x == y

    return all(same(x, y) for x, y in zip(vars(a).values(), vars(b).values()))


def test_marked_neighbour_graph_is_deterministic_and_as_documented():
    data = marked_neighbour_data(num_nodes=40, num_classes=3, degree=5, seed=1)
    assert _equal(data, marked_neighbour_data(num_nodes=40, num_classes=3, degree=5, seed=1))
    assert not torch.equal(data.X, marked_neighbour_data(num_nodes=40, seed=2).X[:, :4])
    colours, marked = data.X[:, :3].argmax(-1), data.X[:, 3] == 1
    assert data.X.shape == (40, 4) and marked.sum() == 20
    assert (data.adjacency.sum(-1) == 5).all() and not data.adjacency.diagonal().any()
    assert ((data.adjacency & marked).sum(-1) == 1).all()  # exactly one marked in-neighbour
    assert data.adjacency[torch.arange(40), data.marked_neighbour].all()
    assert torch.equal(data.labels, colours[data.marked_neighbour])
    assert not (data.train_mask & data.test_mask).any() and (data.train_mask | data.test_mask).all()


def test_dictionary_lookup_is_deterministic_and_each_query_names_one_key():
    data = dictionary_lookup_data(num_keys=4, num_train=30, num_test=10, seed=3)
    assert _equal(data, dictionary_lookup_data(num_keys=4, num_train=30, num_test=10, seed=3))
    k = 4
    assert data.X.shape == (40, 2 * k, 2 * k) and data.labels.shape == (40, k)
    keys, queries = data.X[:, :k], data.X[:, k:]
    assert (queries[..., k:] == 0).all()
    key_attribute, key_value = keys[..., :k].argmax(-1), keys[..., k:].argmax(-1)
    asked = queries[..., :k].argmax(-1)  # (num_graphs, k)
    assert torch.equal(key_attribute.gather(1, data.target_key), asked)
    assert torch.equal(key_value.gather(1, data.target_key), data.labels)
    assert (data.labels.sort(-1).values == torch.arange(k)).all()  # every value asked once
    expected = torch.zeros(2 * k, 2 * k, dtype=torch.bool)
    expected[k:, :k] = True
    assert torch.equal(data.adjacency, expected)


def test_babi_is_deterministic_and_answers_follow_from_the_supporting_facts():
    data = babi_data(task=2, num_train=50, num_test=20, seed=4)
    assert _equal(data, babi_data(task=2, num_train=50, num_test=20, seed=4))
    vocab = data.vocab
    for b in range(len(data.answers)):
        n = int(data.num_sentences[b])
        assert (data.stories[b, n:] == vocab.pad).all() and (data.stories[b, :n, 0] != 0).all()
        taken, moved = data.supporting[b].tolist()
        pickup = vocab.decode(data.stories[b, taken])
        move = vocab.decode(data.stories[b, moved])
        assert pickup[-1] == vocab.decode(data.questions[b])[-1]  # the object asked about
        assert move[0] == pickup[0] and move[-1] == vocab.to_tokens(int(data.answers[b]))
        later = [vocab.decode(data.stories[b, t]) for t in range(moved + 1, n)]
        assert not any(s[0] == move[0] and s[-1] in data_places() for s in later)
    assert (data.num_facts == 2).all()
    assert data.text(0).splitlines()[-1].startswith("where is the ")


def data_places():
    from attention_utils import BABI_PLACES

    return BABI_PLACES


def test_babi_single_facts_and_the_mixed_training_set():
    one = babi_data(task=1, num_train=30, num_test=10, seed=5)
    assert (one.num_facts == 1).all() and (one.supporting[:, 1] == -1).all()
    rows = torch.arange(40)
    last_moves = one.stories[rows, one.supporting[:, 0]]  # (40, sentence_len)
    assert torch.equal(last_moves[:, 0], one.questions[:, 2])  # the person asked about
    mixed = babi_data(task=2, num_train=40, num_test=10, single_fact_fraction=0.25, seed=6)
    assert int((mixed.num_facts[:40] == 1).sum()) == 10
    assert (mixed.num_facts[40:] == 2).all()  # held-out questions all need two facts
    small = babi_data(num_train=30, num_test=1, num_people=2, num_places=3, num_objects=1)
    words = set(small.vocab.to_tokens(small.stories.flatten().unique()))
    assert words <= {"<pad>", "mary", "john", "kitchen", "garden", "hallway", "football"} | set(
        "the went moved to journeyed travelled picked up got grabbed".split()
    )
