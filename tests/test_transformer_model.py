"""The encoder-decoder Transformer: the decoding contract, KV cache, PyTorch's twin, errors."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_utils import TorchTransformer, Transformer, TransformerState

SRC_V, TGT_V = 11, 13


def _model(norm_first=False, dropout=0.0, seed=0, num_blks=2, max_len=1000, bias=False):
    torch.manual_seed(seed)
    return Transformer(
        SRC_V, TGT_V, 16, 32, 4, num_blks, dropout, max_len, bias, norm_first=norm_first
    ).eval()


def _batch(seed=1, batch_size=3, src_len=7, tgt_len=5):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, SRC_V, (batch_size, src_len), generator=g)
    tgt = torch.randint(0, TGT_V, (batch_size, tgt_len), generator=g)
    lens = torch.tensor([src_len, 3, 1, src_len - 2, 4][:batch_size])
    return src, tgt, lens


def _greedy(model, src, lens, bos, num_steps, use_cache=True):
    """Greedy decoding written against the contract: encode, then decode one token at a time."""
    state = model.encode(src, lens, use_cache=use_cache)
    X = torch.full((src.shape[0], 1), bos, dtype=torch.long)
    tokens, logits = [], []
    for _ in range(num_steps):
        step_logits, state = model.decode(X, state)  # (batch_size, 1, vocab_size)
        logits.append(step_logits[:, -1])
        X = step_logits[:, -1].argmax(-1, keepdim=True)
        tokens.append(X)
    return torch.cat(tokens, 1), torch.stack(logits, 1)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("bias", [False, True])
def test_as_torch_equal(norm_first, need_weights, bias):
    model = _model(norm_first, bias=bias)
    # non-default LayerNorm weights, so a misplaced norm cannot go unnoticed
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    model.need_weights = need_weights
    twin = model.as_torch()
    assert isinstance(twin, TorchTransformer) and not twin.training
    assert isinstance(twin.transformer, torch.nn.Transformer)
    src, tgt, lens = _batch()
    with torch.no_grad():
        torch.testing.assert_close(
            model(src, tgt, lens), twin(src, tgt, lens), rtol=1e-5, atol=1e-5
        )
        torch.testing.assert_close(model(src, tgt), twin(src, tgt), rtol=1e-5, atol=1e-5)
    n_ours = sum(p.numel() for p in model.parameters())
    n_theirs = sum(p.numel() for p in twin.parameters())
    assert n_theirs - n_ours == (0 if bias else 6 * 4 * 16)  # PyTorch's zero attention biases


def test_as_torch_equal_in_training_without_dropout():
    model = _model(dropout=0.0).train()
    twin = model.as_torch()
    assert twin.training
    src, tgt, lens = _batch()
    torch.testing.assert_close(model(src, tgt, lens), twin(src, tgt, lens), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_causal_future_tokens_change_nothing_earlier(norm_first):
    model = _model(norm_first)
    src, tgt, lens = _batch(tgt_len=6)
    out = model(src, tgt, lens)
    for t in range(1, 6):
        changed = tgt.clone()
        changed[:, t:] = (changed[:, t:] + 1) % TGT_V
        out2 = model(src, changed, lens)
        torch.testing.assert_close(out2[:, :t], out[:, :t], rtol=0, atol=0)
        assert not torch.allclose(out2[:, t:], out[:, t:])


_MODELS = {norm_first: _model(norm_first) for norm_first in (False, True)}


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), norm_first=st.booleans())
def test_padding_invariance(seed, norm_first):
    model = _MODELS[norm_first]
    src, tgt, lens = _batch(seed)
    out = model(src, tgt, lens)
    g = torch.Generator().manual_seed(seed + 1)
    noise = torch.randint(0, SRC_V, src.shape, generator=g)
    padded = torch.arange(src.shape[1])[None, :] >= lens[:, None]
    out2 = model(torch.where(padded, noise, src), tgt, lens)
    torch.testing.assert_close(out2, out, rtol=1e-6, atol=1e-6)


def test_padding_matters_without_valid_lens():
    model = _model()
    src, tgt, lens = _batch()
    changed = src.clone()
    changed[2, 1:] = (changed[2, 1:] + 1) % SRC_V
    assert not torch.allclose(model(changed, tgt), model(src, tgt))


@pytest.mark.parametrize("norm_first", [False, True])
def test_kv_cache_equals_recomputation(norm_first):
    model = _model(norm_first).double()
    src, _, lens = _batch()
    tok_c, log_c = _greedy(model, src, lens, 1, 12, use_cache=True)
    tok_r, log_r = _greedy(model, src, lens, 1, 12, use_cache=False)
    assert tok_c.shape == (3, 12) and log_c.shape == (3, 12, TGT_V)
    assert torch.equal(tok_c, tok_r)
    torch.testing.assert_close(log_c, log_r, rtol=0, atol=1e-12)
    # and the recomputed logits are the teacher-forced forward pass on the generated tokens
    dec_in = torch.cat([torch.ones(3, 1, dtype=torch.long), tok_r[:, :-1]], dim=1)
    torch.testing.assert_close(model(src, dec_in, lens), log_r, rtol=0, atol=1e-12)


def test_kv_cache_float32_tokens_equal():
    model = _model()
    src, _, lens = _batch()
    tok_c, log_c = _greedy(model, src, lens, 1, 20)
    tok_r, log_r = _greedy(model, src, lens, 1, 20, use_cache=False)
    assert torch.equal(tok_c, tok_r)
    torch.testing.assert_close(log_c, log_r, rtol=1e-5, atol=1e-5)


def test_cache_size():
    model = _model()
    src, _, lens = _batch()
    caches = model.decoder.init_cache()
    enc = model.encoder(src, lens)
    for _ in range(4):
        model.decoder(torch.zeros(3, 1, dtype=torch.long), enc, lens, caches)
    assert caches[0].self_attention.keys.shape == (3, 4, 4, 4)
    assert caches[0].cross_attention.keys.shape == (3, 4, 7, 4)
    per_token = sum(c.self_attention.nbytes for c in caches) // (3 * 4)
    assert per_token == 2 * 2 * 16 * 4  # keys and values, 2 layers, 16 wide, float32


def test_gradients_reach_every_parameter():
    model = _model(dropout=0.1).train()
    src, tgt, lens = _batch()
    model(src, tgt, lens).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())




# --- the decoding contract ------------------------------------------------------------------


def test_decode_all_at_once_equals_forward_and_step_by_step():
    model = _model().double()
    src, tgt, lens = _batch()
    expected = model(src, tgt, lens)
    for use_cache in (True, False):
        state = model.encode(src, lens, use_cache=use_cache)
        assert isinstance(state, TransformerState) and state.offset == 0
        logits, state = model.decode(tgt, state)
        torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)
        assert state.offset == 5
        state = model.encode(src, lens, use_cache=use_cache)
        steps = []
        for t in range(5):
            step, state = model.decode(tgt[:, t : t + 1], state)
            steps.append(step)
        torch.testing.assert_close(torch.cat(steps, 1), expected, rtol=0, atol=1e-12)


def test_reorder_state_selects_rows_and_copies_the_caches():
    model = _model().double()
    src, tgt, lens = _batch()
    state = model.encode(src, lens)
    _, state = model.decode(tgt[:, :2], state)
    index = torch.tensor([2, 0, 0])
    picked = model.reorder_state(state, index)
    logits, _ = model.decode(tgt[index, 2:3], picked)
    expected = model(src[index], tgt[index, :3], lens[index])[:, 2:3]
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)
    assert state.caches[0].self_attention.num_steps == 2, "the original state is untouched"
    without_cache = model.reorder_state(model.encode(src, lens, use_cache=False), index)
    logits, _ = model.decode(tgt[index, :3], without_cache)
    torch.testing.assert_close(logits, model(src[index], tgt[index, :3], lens[index]))
    with pytest.raises(ValueError, match="index"):
        model.reorder_state(state, torch.tensor([3]))
    with pytest.raises(TypeError, match="index"):
        model.reorder_state(state, torch.tensor([0.0]))


def test_cross_attention_weights_follow_need_weights():
    model = _model()
    src, tgt, lens = _batch()
    state = model.encode(src, lens)
    model.decode(tgt[:, :1], state)
    assert model.cross_attention_weights is None
    model.need_weights = True
    state = model.encode(src, lens)
    _, state = model.decode(tgt[:, :1], state)
    _, state = model.decode(tgt[:, 1:3], state)
    weights = model.cross_attention_weights
    assert weights.shape == (3, 2, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2))
    assert weights[2, :, 1:].abs().max() == 0  # example 2 has one valid source token
    expected = model.decoder.cross_attention_weights[-1].mean(1)
    torch.testing.assert_close(weights, expected)


def test_need_weights_false_leaves_every_sub_layer_without_weights():
    model = _model()
    model.need_weights = True
    src, tgt, lens = _batch()
    model(src, tgt, lens)
    holders = [m for m in model.modules() if hasattr(m, "need_weights")]
    assert len(holders) == 1 + 2 + 4 + 6  # the model, two stacks, four blocks, six attentions
    assert all(m.need_weights for m in holders)
    model.need_weights = False
    model(src, tgt, lens)
    assert all(m.need_weights is False for m in holders)
    assert model.cross_attention_weights is None
    assert model.encoder.attention_weights == [None, None]
    assert model.decoder.self_attention_weights == [None, None]
    assert model.decoder.cross_attention_weights == [None, None]
    for m in model.modules():
        for name in ("attention_weights", "self_attention_weights", "cross_attention_weights"):
            value = getattr(m, name, None)
            assert value is None or value == [None, None], (type(m).__name__, name)


def test_empty_batch_gives_empty_outputs():
    model = _model()
    src = torch.zeros(0, 7, dtype=torch.long)
    tgt = torch.zeros(0, 5, dtype=torch.long)
    lens = torch.zeros(0, dtype=torch.long)
    assert model(src, tgt, lens).shape == (0, 5, TGT_V)
    state = model.encode(src, lens)
    logits, state = model.decode(tgt[:, :1], state)
    assert logits.shape == (0, 1, TGT_V)


def test_tensors_take_the_device_and_dtype_of_the_inputs():
    model = _model().double()
    src, tgt, lens = _batch()
    state = model.encode(src, lens, use_cache=False)
    assert state.prefix.device == src.device and state.prefix.dtype == src.dtype
    logits, _ = model.decode(tgt, state)
    assert logits.dtype == torch.float64


def test_decode_errors_name_the_argument():
    model = _model()
    src, tgt, lens = _batch()
    state = model.encode(src, lens)
    with pytest.raises(ValueError, match=r"X's token ids must lie in \[0, vocab_size\) = \[0, 13"):
        model.decode(tgt + TGT_V, state)
    with pytest.raises(ValueError, match="src's token ids"):
        model.encode(src - 1, lens)
    with pytest.raises(ValueError, match="batch_size"):
        model.decode(tgt[:2], state)
    with pytest.raises(TypeError, match="state must be a TransformerState"):
        model.decode(tgt, (None,))
    with pytest.raises(TypeError, match="use_cache"):
        model.encode(src, lens, use_cache="yes")
    with pytest.raises(ValueError, match="max_len = 8"):
        short = _model(max_len=8)
        short.decode(torch.zeros(3, 9, dtype=torch.long), short.encode(src[:, :8], lens))


def test_bad_inputs():
    model = _model()
    src, tgt, lens = _batch()
    with pytest.raises(TypeError, match="src"):
        model(src.float(), tgt, lens)
    with pytest.raises(ValueError, match="tgt"):
        model(src, tgt + TGT_V, lens)
    with pytest.raises(ValueError, match="batch_size"):
        model(src, tgt[:2], lens)
    with pytest.raises(ValueError, match="valid_lens"):
        model(src, tgt, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="valid_lens"):
        model(src, tgt, torch.tensor([1, 2, 99]))
    with pytest.raises(TypeError, match="valid_lens"):
        model(src, tgt, lens.float())
    with pytest.raises(ValueError, match="src_valid_lens"):
        model(src, tgt, lens[:, None].expand(3, 7))
    with pytest.raises(TypeError, match="norm_first"):
        Transformer(5, 5, 8, 16, 2, 1, 0.0, norm_first="yes")
    with pytest.raises(TypeError):  # norm_first is keyword only
        Transformer(5, 5, 8, 16, 2, 1, 0.0, 100, False, True)
    with pytest.raises(ValueError, match="divisible"):
        Transformer(5, 5, 10, 16, 4, 1, 0.0)
    with pytest.raises(ValueError, match="num_blks"):
        Transformer(5, 5, 8, 16, 2, 0, 0.0)
    with pytest.raises(TypeError, match="caches"):
        model.decoder(tgt, model.encoder(src, lens), lens, caches=[None, None])
    blk = model.decoder.blks[0]
    with pytest.raises(ValueError, match="enc_outputs"):
        blk(torch.randn(3, 5, 16), torch.randn(3, 7, 8))
    with pytest.raises(ValueError, match="batch_size"):
        blk(torch.randn(3, 5, 16), torch.randn(2, 7, 16))
    with pytest.raises(TypeError, match="cache"):
        blk(torch.randn(3, 5, 16), torch.randn(3, 7, 16), cache="x")
    with pytest.raises(TypeError, match="model"):
        TorchTransformer(torch.nn.Linear(2, 2))


# --- weight tying (Vaswani et al. sec. 3.4) and beam search with the cache ---


def test_tie_weights_makes_the_target_embedding_the_output_projection():
    torch.manual_seed(0)
    tied = Transformer(SRC_V, TGT_V, 16, 32, 4, 2, 0.0, tie_weights=True).eval()
    torch.manual_seed(0)
    untied = Transformer(SRC_V, TGT_V, 16, 32, 4, 2, 0.0).eval()
    assert tied.tie_weights and not untied.tie_weights
    assert tied.decoder.dense.weight is tied.decoder.embedding.weight
    assert tied.encoder.embedding.weight is not tied.decoder.embedding.weight
    n_tied = sum(p.numel() for p in tied.parameters())
    n_untied = sum(p.numel() for p in untied.parameters())
    assert n_untied - n_tied == TGT_V * 16, "one (tgt_vocab_size, num_hiddens) matrix fewer"
    src, tgt, lens = _batch()
    H = {}

    def keep_input(module, inputs, output):  # returns None: the output is left as it is
        H["h"] = inputs[0]  # (batch_size, num_steps, num_hiddens)

    hook = tied.decoder.dense.register_forward_hook(keep_input)
    logits = tied(src, tgt, lens)
    hook.remove()
    E, b = tied.decoder.embedding.weight, tied.decoder.dense.bias
    torch.testing.assert_close(logits, H["h"] @ E.T + b)  # logits = H E^T + b
    tied.train()
    tied(src, tgt, lens).sum().backward()
    grad = tied.decoder.embedding.weight.grad
    assert grad is not None and grad[tgt.unique()].abs().sum() > 0
    # the tied gradient is the sum of both uses: rows of tokens never fed still get the output's
    unseen = sorted(set(range(TGT_V)) - set(tgt.unique().tolist()))
    assert unseen and grad[unseen].abs().sum() > 0
    with torch.no_grad():  # one matrix: changing the embedding changes the projection
        tied.decoder.embedding.weight[0, 0] += 1.0
    assert tied.decoder.dense.weight[0, 0] == tied.decoder.embedding.weight[0, 0]
    with pytest.raises(TypeError, match="tie_weights"):
        Transformer(SRC_V, TGT_V, 16, 32, 4, 2, 0.0, tie_weights=1)


def test_tied_model_matches_torch_twin_and_state_dict_round_trips():
    model = Transformer(SRC_V, TGT_V, 16, 32, 4, 2, 0.0, tie_weights=True).eval()
    src, tgt, lens = _batch()
    with torch.no_grad():
        torch.testing.assert_close(model(src, tgt, lens), model.as_torch()(src, tgt, lens))
    copy = Transformer(SRC_V, TGT_V, 16, 32, 4, 2, 0.0, tie_weights=True).eval()
    copy.load_state_dict(model.state_dict())
    assert copy.decoder.dense.weight is copy.decoder.embedding.weight
    with torch.no_grad():
        torch.testing.assert_close(copy(src, tgt, lens), model(src, tgt, lens))


@pytest.mark.parametrize("beam_size", [1, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_beam_search_with_the_cache_equals_beam_search_without(beam_size, seed):
    from attention_utils import beam_search

    model = _model(seed=seed, dropout=0.1)  # eval(): dropout off while decoding
    model.double()  # ties between beams cannot flip on rounding
    src, _, lens = _batch(seed=seed + 10, batch_size=5)
    for i in range(5):
        results = {}
        for use_cache in (True, False):
            model.use_cache = use_cache
            results[use_cache] = beam_search(
                model, src[i], int(lens[i]), 9, beam_size, alpha=0.75, bos=1, eos=2
            )
        (tokens_c, score_c), (tokens_r, score_r) = results[True], results[False]
        assert tokens_c == tokens_r
        assert abs(score_c - score_r) < 1e-9
    model.use_cache = True


def test_beam_search_reorders_the_cache_with_the_beams():
    """Beams that swap rows: the cache of a reordered state decodes like recomputation."""
    model = _model(seed=3).double()
    src, tgt, lens = _batch(seed=4, batch_size=3)
    index = torch.tensor([2, 2, 0, 1])
    cached = model.encode(src, lens, use_cache=True)
    plain = model.encode(src, lens, use_cache=False)
    with torch.no_grad():
        _, cached = model.decode(tgt[:, :3], cached)
        _, plain = model.decode(tgt[:, :3], plain)
        cached, plain = model.reorder_state(cached, index), model.reorder_state(plain, index)
        step = tgt[index, 3:4]
        out_c, _ = model.decode(step, cached)
        out_r, _ = model.decode(step, plain)
        full = model(src[index], tgt[index, :4], lens[index])[:, 3:4]
    torch.testing.assert_close(out_c, out_r)
    torch.testing.assert_close(out_c, full)
