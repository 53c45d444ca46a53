"""The decoder and the whole Transformer: PyTorch's twin, causality, padding, KV cache, errors."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_utils import (
    TorchTransformer,
    Transformer,
    TransformerDecoder,
    TransformerDecoderBlock,
    warmup_lr,
    warmup_scheduler,
)

SRC_V, TGT_V = 11, 13


def _model(norm_first=False, dropout=0.0, seed=0, num_layers=2, max_len=1000):
    torch.manual_seed(seed)
    return Transformer(SRC_V, TGT_V, 16, 32, 4, num_layers, dropout, norm_first, max_len).eval()


def _batch(seed=1, batch_size=3, src_len=7, tgt_len=5):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, SRC_V, (batch_size, src_len), generator=g)
    tgt = torch.randint(0, TGT_V, (batch_size, tgt_len), generator=g)
    lens = torch.tensor([src_len, 3, 1, src_len - 2, 4][:batch_size])
    return src, tgt, lens


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_as_torch_equal(norm_first, need_weights):
    model = _model(norm_first)
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
    assert n_ours == n_theirs


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
    tok_c, log_c = model.greedy_decode(src, lens, bos_token=1, num_steps=12, use_cache=True)
    tok_r, log_r = model.greedy_decode(src, lens, bos_token=1, num_steps=12, use_cache=False)
    assert tok_c.shape == (3, 12) and log_c.shape == (3, 12, TGT_V)
    assert torch.equal(tok_c, tok_r)
    torch.testing.assert_close(log_c, log_r, rtol=0, atol=1e-12)
    # and the recomputed logits are the teacher-forced forward pass on the generated tokens
    dec_in = torch.cat([torch.ones(3, 1, dtype=torch.long), tok_r[:, :-1]], dim=1)
    torch.testing.assert_close(model(src, dec_in, lens), log_r, rtol=0, atol=1e-12)


def test_kv_cache_float32_tokens_equal():
    model = _model()
    src, _, lens = _batch()
    tok_c, log_c = model.greedy_decode(src, lens, 1, 20)
    tok_r, log_r = model.greedy_decode(src, lens, 1, 20, use_cache=False)
    assert torch.equal(tok_c, tok_r)
    torch.testing.assert_close(log_c, log_r, rtol=1e-5, atol=1e-5)


def test_greedy_decode_restores_training_mode_and_cache_size():
    model = _model(dropout=0.1).train()
    src, _, lens = _batch()
    model.greedy_decode(src, lens, 0, 3)
    assert model.training
    caches = model.decoder.init_cache()
    enc = model.encoder(src, lens)
    model.eval()
    for t in range(4):
        model.decoder(torch.zeros(3, 1, dtype=torch.long), enc, lens, caches)
    assert caches[0].self_attention.keys.shape == (3, 4, 4, 4)
    assert caches[0].cross_attention.keys.shape == (3, 4, 7, 4)
    per_token = sum(c.self_attention.nbytes for c in caches) // (3 * 4)
    assert per_token == 2 * 2 * 16 * 4  # keys and values, 2 layers, 16 wide, float32


def test_attention_weights_shapes():
    model = _model()
    src, tgt, lens = _batch()
    model(src, tgt, lens)
    dec = model.decoder
    assert [w.shape for w in dec.self_attention_weights] == [(3, 4, 5, 5)] * 2
    assert [w.shape for w in dec.cross_attention_weights] == [(3, 4, 5, 7)] * 2
    cross = dec.cross_attention_weights[0]
    assert cross[2, :, :, 1:].abs().max() == 0  # example 2 has one valid source token
    assert torch.triu(dec.self_attention_weights[1], diagonal=1).abs().max() == 0


def test_block_and_decoder_shapes():
    torch.manual_seed(0)
    blk = TransformerDecoderBlock(16, 32, 4, 0.0)
    X, E = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    assert blk(X, E, torch.tensor([7, 2])).shape == (2, 5, 16)
    dec = TransformerDecoder(TGT_V, 16, 32, 4, 2, 0.0)
    assert dec(torch.zeros(2, 5, dtype=torch.long), E).shape == (2, 5, TGT_V)


def test_gradients_reach_every_parameter():
    model = _model(dropout=0.1).train()
    src, tgt, lens = _batch()
    model(src, tgt, lens).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_warmup_lr():
    assert warmup_lr(4000, 512, 4000) == pytest.approx((512 * 4000) ** -0.5)
    assert warmup_lr(1, 512, 4000) == pytest.approx(512**-0.5 * 4000**-1.5)
    assert warmup_lr(16000, 512, 4000) == pytest.approx(512**-0.5 * 16000**-0.5)
    lrs = [warmup_lr(s, 64, 10) for s in range(1, 50)]
    assert max(lrs) == lrs[9]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = warmup_scheduler(opt, 64, 10)
    seen = []
    for _ in range(12):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([warmup_lr(s, 64, 10) for s in range(1, 13)])


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
    with pytest.raises(ValueError, match="divisible"):
        Transformer(5, 5, 10, 16, 4, 1, 0.0)
    with pytest.raises(ValueError, match="num_layers|num_blks"):
        Transformer(5, 5, 8, 16, 2, 0, 0.0)
    with pytest.raises(ValueError, match="bos_token"):
        model.greedy_decode(src, lens, TGT_V, 3)
    with pytest.raises(TypeError, match="bos_token"):
        model.greedy_decode(src, lens, 1.0, 3)
    with pytest.raises(ValueError, match="num_steps"):
        model.greedy_decode(src, lens, 1, 0)
    with pytest.raises(ValueError, match="max_len"):
        _model(max_len=8).greedy_decode(src, lens, 1, 9)
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
    with pytest.raises(TypeError, match="optimizer"):
        warmup_scheduler("sgd", 16, 10)
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_lr(1, 16, 0)


def test_encoder_and_decoder_flags_are_keyword_only():
    """need_weights and norm_first come in another order in the encoder's and the decoder's
    signatures; keyword-only, a positional call cannot swap them silently."""
    import inspect

    import attention_utils as au

    for cls in (au.TransformerEncoderBlock, au.TransformerEncoder, au.TransformerDecoderBlock,
                au.TransformerDecoder):
        parameters = inspect.signature(cls).parameters
        for name in ("need_weights", "norm_first"):
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, (cls.__name__, name)
