"""One decoder interface: greedy_decode and beam_search on any model with the decoder contract.

The contract (attention_utils/decoding.py): ``encode(src, src_valid_lens) -> state``,
``decode(X, state) -> (logits, state)``, ``reorder_state(state, index)`` and
``cross_attention_weights``. A small fake model implements it by hand, so these tests say what
the decoders need and nothing more; the RNN encoder-decoder of chapter 06 and, where it follows
the contract, chapter 07's Transformer are decoded by the same functions.
"""

import ast
import pathlib

import pytest
import torch
from torch import nn

import attention_utils as au
from attention_utils import (
    EncoderDecoder,
    Seq2SeqAttentionDecoder,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    beam_search,
    greedy_decode,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
V, BOS, EOS = 7, 1, 2


class FakeModel(nn.Module):
    """Logits ``table[last token] + memory``, where ``memory`` sums the source's embeddings.

    The state is ``(memory, number of tokens decoded so far)``; the weights over the source are
    uniform over each sentence's valid positions. Deterministic given its seed.
    """

    def __init__(self, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.table = nn.Parameter(torch.randn(V, V, generator=g))
        self.src_embedding = nn.Parameter(torch.randn(V, V, generator=g))
        self.dropout = nn.Dropout(0.5)  # must be off in eval mode, or decoding is random
        self.need_weights = False
        self.cross_attention_weights = None
        self.calls = []

    def encode(self, src, src_valid_lens):
        num_src_steps = src.shape[1]
        if src_valid_lens is None:
            src_valid_lens = torch.full((src.shape[0],), num_src_steps, device=src.device)
        valid = torch.arange(num_src_steps, device=src.device) < src_valid_lens.unsqueeze(1)
        memory = (self.src_embedding[src] * valid.unsqueeze(-1)).sum(1)  # (batch_size, V)
        return memory, valid, 0

    def decode(self, X, state):
        memory, valid, steps = state
        self.calls.append((X.clone(), steps, self.training))
        logits = self.dropout(self.table[X] + memory.unsqueeze(1))  # (batch_size, num_steps, V)
        if self.need_weights:
            weights = valid.float() / valid.sum(1, keepdim=True).clamp(min=1)
            self.cross_attention_weights = weights.unsqueeze(1).expand(-1, X.shape[1], -1)
        else:
            self.cross_attention_weights = None
        return logits, (memory, valid, steps + X.shape[1])

    def reorder_state(self, state, index):
        memory, valid, steps = state
        return memory[index], valid[index], steps


def _source(batch_size=3, num_src_steps=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(3, V, (batch_size, num_src_steps), generator=g)
    lens = torch.randint(1, num_src_steps + 1, (batch_size,), generator=g)
    return src, lens


def _by_hand(net, src, lens, num_steps):
    """Step-by-step argmax with the full prefix recomputed: what greedy decoding means."""
    X = torch.full((src.shape[0], 1), BOS)
    for _ in range(num_steps):
        with torch.no_grad():  # the whole prefix at once from a fresh state: nothing carried
            logits, _ = net.decode(X, net.encode(src, lens))
        X = torch.cat([X, logits[:, -1:].argmax(-1)], dim=1)
    tokens = X[:, 1:]
    for row in tokens:  # eos repeated after the first eos
        hits = (row == EOS).nonzero()
        if len(hits):
            row[int(hits[0]) :] = EOS
    return tokens


def _rnn(attention=True, seed=0):
    torch.manual_seed(seed)
    decoder = Seq2SeqAttentionDecoder if attention else Seq2SeqDecoder
    return EncoderDecoder(Seq2SeqEncoder(V, 4, 8, 1), decoder(V, 4, 8, 1))


def test_greedy_decode_on_the_fake_model_is_step_by_step_argmax():
    net = FakeModel().eval()
    src, lens = _source()
    tokens, weights = greedy_decode(net, src, lens, 6, BOS, EOS)
    assert weights is None
    assert tokens.dtype == torch.long and tokens.shape == (3, 6)
    assert torch.equal(tokens, _by_hand(net, src, lens, 6))


def test_greedy_decode_restores_the_mode_and_the_weights_switch():
    net = FakeModel().train()
    src, lens = _source()
    tokens, weights = greedy_decode(net, src, lens, 4, BOS, EOS, save_attention_weights=True)
    assert all(not training for _, _, training in net.calls), "decoded in eval mode"
    assert net.training and net.need_weights is False, "mode and switch restored"
    assert weights.shape == (3, 4, 5)
    valid = torch.arange(5) < lens.view(3, 1, 1)
    steps = int((tokens != EOS).sum(1).max()) + 1  # steps actually run before all ended
    torch.testing.assert_close(weights[:, :steps].sum(-1), torch.ones(3, min(steps, 4)))
    assert (weights.masked_select(~valid.expand(-1, 4, -1)) == 0).all()
    net.eval()
    greedy_decode(net, src, lens, 4, BOS, EOS)
    assert not net.training


def test_greedy_decode_restores_the_mode_when_the_model_raises():
    class Broken(FakeModel):
        def decode(self, X, state):
            raise RuntimeError("broken")

    net = Broken().train()
    with pytest.raises(RuntimeError, match="broken"):
        greedy_decode(net, *_source(), 4, BOS, EOS)
    assert net.training


def test_beam_search_on_the_fake_model_reorders_and_finds_greedy_with_one_beam():
    net = FakeModel(seed=3)
    src, lens = _source(seed=3)
    greedy, _ = greedy_decode(net, src, lens, 8, BOS, EOS)
    for i in range(3):
        tokens, score = beam_search(net, src[i], int(lens[i]), 8, 1, bos=BOS, eos=EOS)
        row = greedy[i].tolist()
        assert tokens == (row[: row.index(EOS) + 1] if EOS in row else row)
        assert isinstance(tokens, list) and isinstance(score, float)
        wide, wide_score = beam_search(net, src[i], lens[i], 8, 4, alpha=0.0, bos=BOS, eos=EOS)
        assert isinstance(wide, list) and isinstance(wide_score, float)


@pytest.mark.parametrize("attention", [False, True])
def test_the_rnn_follows_the_contract_and_decodes_like_the_fake(attention):
    net = _rnn(attention)
    net.need_weights = True
    src, lens = _source(4, 6, seed=1)
    net.train()
    tokens, weights = greedy_decode(net, src, lens, 5, BOS, EOS, save_attention_weights=attention)
    assert net.training and net.need_weights, "train mode and the switch restored"
    state = net.encode(src, lens)
    X, expected = torch.full((4, 1), BOS), []
    net.eval()
    with torch.no_grad():
        for _ in range(5):  # the RNN carries its state: one token per call
            logits, state = net.decode(X, state)
            X = logits.argmax(-1)
            expected.append(X)
    expected = torch.cat(expected, dim=1)
    for row, exp in zip(tokens, expected):
        end = (exp == EOS).nonzero()
        stop = int(end[0]) + 1 if len(end) else 5
        assert torch.equal(row[:stop], exp[:stop])
    if attention:
        assert weights.shape == (4, 5, 6)
        assert net.cross_attention_weights.shape == (4, 1, 6)
    else:
        assert weights is None and net.cross_attention_weights is None


def test_save_attention_weights_on_a_model_without_attention_fails_clearly():
    with pytest.raises(ValueError, match="cross_attention_weights"):
        greedy_decode(_rnn(False), *_source(), 3, BOS, EOS, save_attention_weights=True)


def test_the_attention_rnn_turns_its_weights_on_for_decoding_and_back_off():
    net = _rnn(True)
    net.need_weights = False
    _, weights = greedy_decode(net, *_source(), 3, BOS, EOS, save_attention_weights=True)
    assert weights is not None and net.need_weights is False
    net(*_source()[:1], torch.full((3, 2), BOS), _source()[1])
    assert net.cross_attention_weights is None, "need_weights False keeps no weights"


def test_decoding_uses_the_device_of_src():
    src, lens = _source()
    for net in (FakeModel(), _rnn(True)):
        tokens, weights = greedy_decode(net, src, lens, 3, BOS, EOS, save_attention_weights=True)
        assert tokens.device == src.device and weights.device == src.device
    if torch.cuda.is_available():  # a reader with a GPU: model and inputs moved there
        net = _rnn(True).cuda()
        tokens, weights = greedy_decode(
            net, src.cuda(), lens.cuda(), 3, BOS, EOS, save_attention_weights=True
        )
        assert tokens.is_cuda and weights.is_cuda
        cpu, _ = greedy_decode(net.cpu(), src, lens, 3, BOS, EOS)
        assert torch.equal(tokens.cpu(), cpu)
        beam_search(net.cuda(), src[0].cuda(), lens[0].cuda(), 3, 2, bos=BOS, eos=EOS)


def _creations_without_device(path):
    """Calls torch.full/zeros/ones/tensor/arange/empty in ``path`` that pass no ``device=``."""
    tree = ast.parse(path.read_text())
    makers = {"full", "zeros", "ones", "tensor", "arange", "empty", "randn", "rand"}
    missing = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in makers
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "torch"
            and not any(k.arg == "device" for k in node.keywords)
        ):
            missing.append(f"{path.name}:{node.lineno}")
    return missing


def test_the_decoders_and_the_rnn_create_no_tensor_without_a_device():
    files = ["decoding.py", "seq2seq.py", "encoder_decoder.py", "data/teacher_forcing.py"]
    missing = [m for f in files for m in _creations_without_device(ROOT / "attention_utils" / f)]
    assert missing == []


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: greedy_decode(nn.Linear(2, 2), *_source(), 3), TypeError, "net must implement"),
        (lambda: greedy_decode("net", *_source(), 3), TypeError, "net must be a torch.nn.Module"),
        (
            lambda: greedy_decode(FakeModel(), torch.zeros(2, 3), None, 3),
            TypeError,
            "src must be an integer tensor",
        ),
        (
            lambda: greedy_decode(FakeModel(), torch.zeros(3, dtype=torch.long), None, 3),
            ValueError,
            r"src must have shape \(batch_size, num_steps\)",
        ),
        (
            lambda: greedy_decode(FakeModel(), _source()[0], torch.tensor([1, 2]), 3),
            ValueError,
            r"src_valid_lens must have shape \(batch_size,\)",
        ),
        (
            lambda: greedy_decode(FakeModel(), _source()[0], torch.tensor([1.0, 2.0, 3.0]), 3),
            TypeError,
            "src_valid_lens must have an integer dtype",
        ),
        (
            lambda: greedy_decode(FakeModel(), _source()[0], torch.tensor([1, 2, 6]), 3),
            ValueError,
            r"src_valid_lens must lie in \[0, num_src_steps\]",
        ),
        (lambda: greedy_decode(FakeModel(), *_source(), 3, eos=V), ValueError, "eos must be a"),
        (lambda: greedy_decode(FakeModel(), *_source(), 3, eos=-1), ValueError, "eos must be"),
        (lambda: greedy_decode(_rnn(), *_source(), 3, bos=V), ValueError, "bos must be a token"),
        (lambda: greedy_decode(FakeModel(), *_source(), 3, bos=1.0), TypeError, "bos must be"),
        (
            lambda: greedy_decode(FakeModel(), *_source(), 3, save_attention_weights="yes"),
            TypeError,
            "save_attention_weights must be True or False",
        ),
        (
            lambda: beam_search(FakeModel(), _source()[0], 3, 3, 2),
            ValueError,
            "src must hold one sentence",
        ),
        (
            lambda: beam_search(_rnn(), _source()[0][0], 9, 3, 2),
            ValueError,
            r"src_valid_lens must lie in \[0, num_src_steps\]",
        ),
    ],
)
def test_bad_inputs_to_the_decoders(call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call()
    assert type(info.value) is error


def test_same_types_for_every_model_of_the_contract():
    src, lens = _source()
    kinds = set()
    for net in (FakeModel(), _rnn(False), _rnn(True)):
        tokens, _ = greedy_decode(net, src, lens, 3, BOS, EOS)
        best, score = beam_search(net, src[0], int(lens[0]), 3, 2, bos=BOS, eos=EOS)
        kinds.add((type(tokens), tokens.dtype, type(best), type(score)))
    assert kinds == {(torch.Tensor, torch.long, list, float)}
    assert hasattr(au, "greedy_decode") and hasattr(au, "beam_search")


def _transformer(seed=0, use_cache=True):
    torch.manual_seed(seed)
    net = au.Transformer(V, V, 16, 32, 4, 2, 0.0)
    net.use_cache = use_cache
    return net


@pytest.mark.parametrize("use_cache", [True, False])
def test_the_same_greedy_decode_decodes_a_transformer_as_step_by_step_argmax(use_cache):
    net = _transformer(use_cache=use_cache).train()
    src, lens = _source(3, 6, seed=2)
    tokens, weights = greedy_decode(net, src, lens, 6, BOS, EOS, save_attention_weights=True)
    assert net.training and not net.need_weights, "mode and switch restored"
    net.eval()
    assert torch.equal(tokens, _by_hand(net, src, lens, 6))
    assert weights.shape == (3, 6, 6)
    valid = torch.arange(6) < lens.view(3, 1, 1)
    assert (weights.masked_select(~valid.expand(-1, 6, -1)) == 0).all()
    best, score = beam_search(net, src[0], int(lens[0]), 6, 1, bos=BOS, eos=EOS)
    row = tokens[0].tolist()
    assert best == (row[: row.index(EOS) + 1] if EOS in row else row)
    wide, _ = beam_search(net, src[0], int(lens[0]), 6, 3, bos=BOS, eos=EOS)
    assert isinstance(wide, list) and isinstance(score, float)


def test_a_transformer_and_the_rnn_return_the_same_types():
    src, lens = _source()
    kinds = set()
    for net in (_transformer(), _rnn(True)):
        tokens, weights = greedy_decode(net, src, lens, 3, BOS, EOS, save_attention_weights=True)
        best, score = beam_search(net, src[0], int(lens[0]), 3, 2, bos=BOS, eos=EOS)
        kinds.add(
            (type(tokens), tokens.dtype, type(weights), weights.dtype, type(best), type(score))
        )
    assert len(kinds) == 1
