"""End-to-end memory networks: tying, position encoding, hop attention and padding."""

import pytest
import torch

from attention_utils import MemoryNetwork, babi_data, position_encoding


@pytest.fixture(scope="module")
def data():
    return babi_data(task=2, num_train=20, num_test=5, seed=0)


def _net(data, num_hops=3, **kwargs):
    torch.manual_seed(0)
    return MemoryNetwork(len(data.vocab), 8, num_hops, data.stories.shape[1], **kwargs)


def test_position_encoding_is_the_papers_formula():
    J, d = 4, 3
    weights = position_encoding(torch.tensor([J]), 6, d)[0]  # (6, d)
    for j in range(1, J + 1):
        for k in range(1, d + 1):
            expected = (1 - j / J) - (k / d) * (1 - 2 * j / J)
            assert weights[j - 1, k - 1].item() == pytest.approx(expected)
    assert (weights[J:] == 0).all()  # word slots past the sentence


def test_logits_shape_and_adjacent_weight_tying(data):
    net = _net(data)
    logits = net(data.stories, data.questions)
    assert logits.shape == (len(data.answers), len(data.vocab))
    # K + 1 tables for K hops: A^1 = B = E_0, C^k = A^(k+1) = E_k, W = E_K^T
    assert len(net.embeddings) == 4 and len(net.temporal) == 4
    assert sum(p.numel() for p in net.parameters()) == 4 * (len(data.vocab) + 8) * 8


def test_hop_attention_sums_to_one_and_padded_memories_get_exactly_zero(data):
    net = _net(data)
    net.need_weights = True
    net(data.stories, data.questions)
    assert len(net.attention_weights) == 3
    filled = torch.arange(data.stories.shape[1]) < data.num_sentences[:, None]
    assert not filled.all(), "the fixture should have padded memories"
    for weights in net.attention_weights:  # (batch_size, memory_size)
        assert (weights[~filled] == 0).all()
        torch.testing.assert_close(weights.sum(-1), torch.ones(len(weights)))


def test_padding_slots_and_words_change_nothing(data):
    net = _net(data).eval()
    stories, questions = data.stories[:3], data.questions[:3]
    longer = torch.nn.functional.pad(stories, (0, 2))  # two more pad words per sentence
    torch.testing.assert_close(net(stories, questions), net(longer, questions))
    fewer = stories[:, : int(data.num_sentences[:3].max())]  # drop all-pad rows at the end
    torch.testing.assert_close(net(stories, questions), net(fewer, questions))


def test_without_need_weights_the_fused_path_gives_the_same_answer(data):
    net = _net(data)
    fused = net(data.stories, data.questions)
    assert net.attention_weights is None
    net.need_weights = True
    torch.testing.assert_close(net(data.stories, data.questions), fused, atol=1e-5, rtol=1e-5)


def test_temporal_encoding_tells_a_story_from_its_reverse(data):
    """Without temporal or position encoding a hop sees a set of bags of words."""
    plain = _net(data, temporal_encoding=False, position_encoding=False)
    timed = _net(data)
    stories, questions = data.stories[:1, :4], data.questions[:1]  # four sentences, no padding
    reverse = stories.flip(1)
    torch.testing.assert_close(plain(stories, questions), plain(reverse, questions))
    assert not torch.allclose(timed(stories, questions), timed(reverse, questions))


def test_gradients_reach_every_table(data):
    net = _net(data, num_hops=2)
    net(data.stories, data.questions).logsumexp(-1).sum().backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
        if name.startswith("embeddings"):
            assert (parameter.grad[0] == 0).all()  # the pad row is never trained
