"""The encoder-decoder with and without Bahdanau attention, its loss, decoding and BLEU."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_utils import (
    AdditiveAttention,
    EncoderDecoder,
    MaskedSoftmaxCELoss,
    Seq2SeqAttentionDecoder,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    beam_search,
    bleu,
    exact_match,
    greedy_decode,
)

SRC_VOCAB, TGT_VOCAB, EMBED, HIDDENS = 11, 13, 8, 16


def make_net(attention: bool, num_layers: int = 2, seed: int = 0) -> EncoderDecoder:
    torch.manual_seed(seed)
    decoder = Seq2SeqAttentionDecoder if attention else Seq2SeqDecoder
    net = EncoderDecoder(
        Seq2SeqEncoder(SRC_VOCAB, EMBED, HIDDENS, num_layers),
        decoder(TGT_VOCAB, EMBED, HIDDENS, num_layers),
    ).eval()
    net.need_weights = True  # keep the attention weights for the checks below
    return net


def batch(batch_size=4, num_src_steps=7, num_steps=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, SRC_VOCAB, (batch_size, num_src_steps), generator=g)
    valid_lens = torch.randint(1, num_src_steps + 1, (batch_size,), generator=g)
    src = src.masked_fill(torch.arange(num_src_steps) >= valid_lens.unsqueeze(1), 0)
    dec_X = torch.randint(1, TGT_VOCAB, (batch_size, num_steps), generator=g)
    return src, valid_lens, dec_X


def test_encoder_shapes_and_zero_outputs_at_padding():
    encoder = Seq2SeqEncoder(SRC_VOCAB, EMBED, HIDDENS, num_layers=2)
    src, valid_lens, _ = batch()
    outputs, state = encoder(src, valid_lens)
    assert outputs.shape == (4, 7, HIDDENS) and state.shape == (2, 4, HIDDENS)
    padded = torch.arange(7) >= valid_lens.unsqueeze(1)
    assert (outputs[padded] == 0).all()
    last = outputs[torch.arange(4), valid_lens - 1]  # the top layer's state at the last valid token
    torch.testing.assert_close(state[-1], last)


@pytest.mark.parametrize("attention", [False, True])
def test_decoder_shapes(attention):
    net = make_net(attention)
    src, valid_lens, dec_X = batch()
    logits = net(src, dec_X, valid_lens)
    assert logits.shape == (4, 5, TGT_VOCAB)
    if attention:
        weights = net.decoder.attention_weights
        assert weights.shape == (4, 5, 7)
        torch.testing.assert_close(weights.sum(-1), torch.ones(4, 5))


def test_padded_source_positions_get_weight_exactly_zero():
    net = make_net(True)
    src, valid_lens, dec_X = batch(batch_size=6, num_src_steps=9, seed=3)
    net(src, dec_X, valid_lens)
    padded = (torch.arange(9) >= valid_lens.unsqueeze(1)).unsqueeze(1).expand(-1, 5, -1)
    assert (net.decoder.attention_weights[padded] == 0).all()


@pytest.mark.parametrize("attention", [False, True])
def test_changing_padded_source_tokens_changes_nothing(attention):
    net = make_net(attention)
    src, valid_lens, dec_X = batch(seed=4)
    other = src.clone()
    padded = torch.arange(7) >= valid_lens.unsqueeze(1)
    other[padded] = 5  # any real token where padding was
    assert not torch.equal(other, src) or not padded.any()
    torch.testing.assert_close(
        net(src, dec_X, valid_lens), net(other, dec_X, valid_lens), rtol=0, atol=0
    )


def test_step_by_step_equals_all_at_once_and_the_public_attention_layer():
    net = make_net(True, num_layers=1)
    src, valid_lens, dec_X = batch(seed=5)
    enc_all = net.encoder(src, valid_lens)
    logits = net.decoder(dec_X, net.decoder.init_state(enc_all, valid_lens))[0]
    all_weights = net.decoder.attention_weights
    state = net.decoder.init_state(enc_all, valid_lens)
    layer = net.decoder.attention
    layer.need_weights = True  # the scoring layers keep no weights by default
    for t in range(dec_X.shape[1]):
        query = state[1][-1].unsqueeze(1)  # (batch_size, 1, num_hiddens): s_{t-1}
        layer(query, enc_all[0], enc_all[0], valid_lens)  # the public AdditiveAttention forward
        step_logits, state = net.decoder(dec_X[:, t : t + 1], state)
        torch.testing.assert_close(step_logits[:, 0], logits[:, t])
        torch.testing.assert_close(all_weights[:, t : t + 1], layer.attention_weights)
    assert isinstance(layer, AdditiveAttention)


def test_one_decoder_step_is_the_nn_gru_on_one_step_and_unpadded_sources_need_no_mask():
    net = make_net(True, num_layers=2)
    x, h = torch.randn(4, EMBED + HIDDENS), torch.randn(2, 4, HIDDENS)
    _, expected = net.decoder.rnn(x.unsqueeze(1), h)  # the decoder steps its GRU cell by cell
    torch.testing.assert_close(net.decoder._gru_step(x, h), expected, rtol=0, atol=0)
    src, _, dec_X = batch()
    full = torch.full((4,), src.shape[1])  # no padding: the decoder skips the mask, same result
    torch.testing.assert_close(net(src, dec_X, full), net(src, dec_X, None), rtol=0, atol=0)


def test_gradients_reach_every_parameter():
    net = make_net(True).train()
    src, valid_lens, dec_X = batch()
    MaskedSoftmaxCELoss()(net(src, dec_X, valid_lens), dec_X).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_masked_loss_ignores_padding():
    torch.manual_seed(0)
    pred = torch.randn(2, 4, 6)
    label = torch.tensor([[3, 4, 2, 0], [5, 2, 0, 0]])
    loss = MaskedSoftmaxCELoss()(pred, label)
    manual = torch.cat([
        torch.nn.functional.cross_entropy(pred[0, :3], label[0, :3], reduction="none"),
        torch.nn.functional.cross_entropy(pred[1, :2], label[1, :2], reduction="none"),
    ]).mean()  # fmt: skip
    torch.testing.assert_close(loss, manual)
    changed = pred.clone()
    changed[0, 3], changed[1, 2:] = 100.0, -100.0  # logits at padding do not matter
    torch.testing.assert_close(MaskedSoftmaxCELoss()(changed, label), loss)
    by_lens = MaskedSoftmaxCELoss()(pred, label, torch.tensor([3, 2]))
    torch.testing.assert_close(by_lens, loss)
    per_token = MaskedSoftmaxCELoss(reduction="none")(pred, label)
    assert per_token.shape == (2, 4) and (per_token[label == 0] == 0).all()


@pytest.mark.parametrize("attention", [False, True])
def test_beam_search_with_one_beam_is_greedy(attention):
    net = make_net(attention, num_layers=1, seed=2)
    src, valid_lens, _ = batch(batch_size=5, seed=6)
    greedy, _ = greedy_decode(net, src, valid_lens, num_steps=8)
    for i in range(5):
        tokens, _ = beam_search(net, src[i], int(valid_lens[i]), num_steps=8, beam_size=1)
        row = greedy[i].tolist()
        expected = row[: row.index(2) + 1] if 2 in row else row
        assert tokens == expected


def test_beam_search_scores_at_least_as_well_as_greedy_without_normalisation():
    net = make_net(True, num_layers=1, seed=3)
    src, valid_lens, _ = batch(batch_size=4, seed=7)

    def log_prob(i, tokens):
        dec_X = torch.tensor([[1] + tokens[:-1]])
        logits = net(src[i : i + 1], dec_X, valid_lens[i : i + 1])
        return (
            torch.log_softmax(logits.double(), -1)[0, torch.arange(len(tokens)), tokens]
            .sum()
            .item()
        )

    for i in range(4):
        greedy, _ = beam_search(net, src[i], int(valid_lens[i]), 10, beam_size=1, alpha=0.0)
        beam, score = beam_search(net, src[i], int(valid_lens[i]), 10, beam_size=4, alpha=0.0)
        if greedy[-1] == 2 and beam[-1] == 2:
            assert log_prob(i, beam) >= log_prob(i, greedy) - 1e-9
            assert score == pytest.approx(log_prob(i, beam), abs=1e-6)


def test_greedy_decode_returns_attention_and_eos_after_the_end():
    net = make_net(True, num_layers=1)
    src, valid_lens, _ = batch()
    tokens, weights = greedy_decode(net, src, valid_lens, 6, save_attention_weights=True)
    assert tokens.shape == (4, 6) and weights.shape == (4, 6, 7)
    for row in tokens.tolist():
        if 2 in row:
            assert set(row[row.index(2) :]) == {2}


def test_bleu_hand_computed():
    assert bleu("a b c d", "a b c d") == 1.0
    assert bleu([], ["a"]) == 0.0
    # pred "a b", label "a b c": p1 = 1, p2 = 1, brevity exp(1 - 3/2)
    assert bleu("a b", "a b c", k=2) == pytest.approx(math.exp(-0.5))
    # pred "a a b", label "a b b": p1 = 2/3 (second "a" unmatched), p2 = 1/2 ("a a" unmatched)
    assert bleu("a a b", "a b b", k=2) == pytest.approx((2 / 3) ** 0.5 * (1 / 2) ** 0.25)
    # longer than the label: no brevity penalty; k = 4 but only 3-grams exist in "x y z"
    assert bleu("x y z", "x y", k=4) == pytest.approx((2 / 3) ** 0.5 * (1 / 2) ** 0.25 * 0.0)
    # D2L's example values: pred "il est bon", label "il est bon ." -> exp(1 - 4/3) * 1
    assert bleu("il est bon", "il est bon .", k=2) == pytest.approx(math.exp(1 - 4 / 3))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abcd"), min_size=1, max_size=8),
    st.lists(st.sampled_from("abcd"), min_size=1, max_size=8),
)
def test_bleu_lies_in_unit_interval_and_is_one_on_equality(pred, label):
    score = bleu(pred, label)
    assert 0.0 <= score <= 1.0
    assert bleu(label, label) == 1.0


def test_exact_match():
    assert exact_match([["a", "b"], ["c"]], [["a", "b"], ["d"]]) == 0.5
    assert exact_match(["a b"], [["a", "b"]]) == 1.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Seq2SeqEncoder(0, 4, 4, 1), ValueError, "vocab_size must be a positive int"),
        (
            lambda: Seq2SeqAttentionDecoder(5, 4, 4.0, 1),
            TypeError,
            "num_hiddens must be a positive int",
        ),
        (
            lambda: Seq2SeqDecoder(5, 4, 4, 1, dropout=1.5),
            ValueError,
            "dropout must be a probability",
        ),
        (lambda: Seq2SeqEncoder(5, 4, 4, 1)(torch.zeros(2, 3)), TypeError, "X must be an integer"),
        (
            lambda: Seq2SeqEncoder(5, 4, 4, 1)(torch.zeros(3, dtype=torch.long)),
            ValueError,
            "X must have shape",
        ),
        (
            lambda: Seq2SeqEncoder(5, 4, 4, 1)(
                torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 4])
            ),
            ValueError,
            r"valid_lens must lie in \[0, num_steps\]",
        ),
        (
            lambda: Seq2SeqEncoder(5, 4, 4, 1)(
                torch.zeros(2, 3, dtype=torch.long), torch.tensor([3.0, 1.0])
            ),
            TypeError,
            "valid_lens must have an integer dtype",
        ),
        (
            lambda: EncoderDecoder("encoder", Seq2SeqDecoder(5, 4, 4, 1)),
            TypeError,
            "encoder must be",
        ),
        (lambda: MaskedSoftmaxCELoss(reduction="sum"), ValueError, "reduction must be"),
        (
            lambda: MaskedSoftmaxCELoss()(
                torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long)
            ),
            ValueError,
            "pred must have shape",
        ),
        (lambda: bleu(3, "a"), TypeError, "pred_seq must be a string"),
        (lambda: bleu("a", "a", k=0), ValueError, "k must be a positive int"),
        (lambda: exact_match([], []), ValueError, "non-empty and equally long"),
        (
            lambda: greedy_decode(make_net(False), torch.zeros(2, 3), torch.tensor([1, 2]), 4),
            TypeError,
            "src must be",
        ),
        (
            lambda: greedy_decode(
                make_net(False), torch.zeros(2, 3, dtype=torch.long), torch.tensor([1, 2]), 0
            ),
            ValueError,
            "num_steps must be a positive int",
        ),
        (
            lambda: beam_search(make_net(True), torch.ones(3, dtype=torch.long), 3, 4, beam_size=0),
            ValueError,
            "beam_size must be a positive int",
        ),
        (
            lambda: greedy_decode(
                "net", torch.zeros(2, 3, dtype=torch.long), torch.tensor([1, 2]), 4
            ),
            TypeError,
            "net must be",
        ),
    ],
)
def test_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- one API: the core, one lengths rule 0..n, empty inputs, NaN under the mask, clear errors


def test_need_weights_is_the_library_switch_false_by_default_and_set_from_the_parent():
    decoder = Seq2SeqAttentionDecoder(TGT_VOCAB, EMBED, HIDDENS, 1)
    net = EncoderDecoder(Seq2SeqEncoder(SRC_VOCAB, EMBED, HIDDENS, 1), decoder)
    src, valid_lens, dec_X = batch()
    net(src, dec_X, valid_lens)
    assert not net.need_weights and net.cross_attention_weights is None
    net.need_weights = True
    assert decoder.need_weights
    net(src, dec_X, valid_lens)
    assert net.cross_attention_weights.shape == (4, 5, 7)
    assert Seq2SeqAttentionDecoder(5, 4, 4, 1, need_weights=True).need_weights


def test_the_attention_decoder_keeps_its_own_weights_and_imports_no_private_name():
    import ast
    import pathlib

    net = make_net(True)
    src, valid_lens, dec_X = batch()
    net(src, dec_X, valid_lens)
    assert net.decoder.attention.attention_weights is None, "no write into another module"
    root = pathlib.Path(__file__).resolve().parents[1] / "attention_utils"
    for name in ("seq2seq.py", "encoder_decoder.py", "decoding.py", "training.py"):
        for node in ast.walk(ast.parse((root / name).read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not any(a.name.startswith("_") for a in node.names), (name, node.lineno)


def test_zero_lengths_give_zero_outputs_the_initial_state_and_zero_weights():
    net = make_net(True, num_layers=2)
    src, valid_lens, dec_X = batch()
    valid_lens = valid_lens.clone()
    valid_lens[1] = 0
    outputs, state = net.encoder(src, valid_lens)
    assert (outputs[1] == 0).all() and (state[:, 1] == 0).all(), "a GRU over no token"
    others = [0, 2, 3]
    ref_out, ref_state = net.encoder(src[others], valid_lens[others])
    torch.testing.assert_close(outputs[others], ref_out)
    torch.testing.assert_close(state[:, others], ref_state)
    logits = net(src, dec_X, valid_lens)
    assert torch.isfinite(logits).all()
    weights = net.decoder.attention_weights
    assert (weights[1] == 0).all(), "a source of length 0 gets zero weights"
    torch.testing.assert_close(weights[others].sum(-1), torch.ones(3, 5))


@pytest.mark.parametrize("attention", [False, True])
def test_empty_batches_and_empty_sequences_give_empty_outputs(attention):
    net = make_net(attention)
    src, valid_lens, dec_X = batch()
    assert net(src[:0], dec_X[:0], valid_lens[:0]).shape == (0, 5, TGT_VOCAB)
    assert net(src, dec_X[:, :0], valid_lens).shape == (4, 0, TGT_VOCAB)
    outputs, state = net.encoder(src[:, :0], torch.zeros(4, dtype=torch.long))
    assert outputs.shape == (4, 0, HIDDENS) and (state == 0).all() and state.shape == (2, 4, 16)
    outputs, state = net.encoder(src[:, :0])
    assert outputs.shape == (4, 0, HIDDENS) and state.shape == (2, 4, HIDDENS)
    state = net.encode(src, valid_lens)
    logits, after = net.decode(dec_X[:, :0], state)
    assert logits.shape == (4, 0, TGT_VOCAB)
    assert all(a is b for a, b in zip(after, state) if a is not None), "no step: same state"
    if attention:
        assert net.cross_attention_weights.shape == (4, 0, 7)


def test_nan_logits_at_padded_positions_do_not_leak_into_the_loss_or_its_gradient():
    torch.manual_seed(0)
    pred = torch.randn(2, 4, 6)
    label = torch.tensor([[3, 4, 2, 0], [5, 2, 0, 0]])
    clean = MaskedSoftmaxCELoss()(pred, label)
    for valid_len in (None, torch.tensor([3, 2])):
        poisoned = pred.clone()
        poisoned[0, 3], poisoned[1, 2:] = float("nan"), float("nan")
        poisoned.requires_grad_(True)
        loss = MaskedSoftmaxCELoss()(poisoned, label, valid_len)
        torch.testing.assert_close(loss, clean)
        loss.backward()
        assert torch.isfinite(poisoned.grad).all() and (poisoned.grad[1, 2:] == 0).all()
    none = MaskedSoftmaxCELoss(reduction="none")(poisoned.detach(), label)
    assert torch.isfinite(none).all()
    empty = MaskedSoftmaxCELoss()(pred, label, torch.tensor([0, 0]))
    assert empty == 0, "no valid token: loss 0"


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (  # token ids outside the vocabulary, each named as the caller passed it
            lambda: make_net(True)(batch()[0] + SRC_VOCAB, batch()[2], batch()[1]),
            ValueError,
            r"enc_X's token ids must lie in \[0, vocab_size\) = \[0, 11\)",
        ),
        (
            lambda: make_net(True)(batch()[0], batch()[2] + TGT_VOCAB, batch()[1]),
            ValueError,
            r"dec_X's token ids must lie in \[0, vocab_size\) = \[0, 13\)",
        ),
        (lambda: make_net(False).encode(batch()[0] - 20, None), ValueError, "src's token ids"),
        (
            lambda: MaskedSoftmaxCELoss()(torch.randn(4, 5, 13), batch()[2] + 13),
            ValueError,
            "label's token ids must lie in",
        ),
        (
            lambda: make_net(True)(batch()[0], batch()[2][:2], batch()[1]),
            ValueError,
            "dec_X must have enc_X's batch_size 4",
        ),
        (  # lengths: the library's one rule, 0..num_steps, integer, shape (batch_size,)
            lambda: make_net(True).encode(batch()[0], torch.tensor([1, 2, 8, 3])),
            ValueError,
            r"src_valid_lens must lie in \[0, num_steps\] = \[0, 7\]",
        ),
        (
            lambda: make_net(True).encode(batch()[0], torch.tensor([1, 2, -1, 3])),
            ValueError,
            "src_valid_lens must lie in",
        ),
        (
            lambda: make_net(True).encode(batch()[0], torch.tensor([[1, 2, 3, 3]])),
            ValueError,
            r"src_valid_lens must have shape \(batch_size,\)",
        ),
        (
            lambda: make_net(True).encode(batch()[0], torch.ones(4, 1, dtype=torch.long)),
            ValueError,
            r"src_valid_lens must have shape \(batch_size,\) = \(4,\)",
        ),
        (
            lambda: make_net(True).decoder.init_state(
                make_net(True).encoder(batch()[0]), torch.tensor([1, 2, 8, 3])
            ),
            ValueError,
            r"enc_valid_lens must lie in \[0, num_steps\] = \[0, 7\]",
        ),
        (
            lambda: make_net(True).decoder.init_state(
                make_net(True).encoder(batch()[0]), torch.tensor([1.0, 2.0, 3.0, 3.0])
            ),
            TypeError,
            "enc_valid_lens must have an integer dtype",
        ),
        (  # states: another model's width, another batch, not a state at all
            lambda: make_net(True).decoder(
                batch()[2], [torch.zeros(4, 7, 8), torch.zeros(2, 4, HIDDENS), None]
            ),
            ValueError,
            r"enc_outputs must have shape .* num_hiddens = 16",
        ),
        (
            lambda: make_net(True).decode(batch()[2][:3], make_net(True).encode(*batch()[:2])),
            ValueError,
            "X has batch_size 3 but the state's enc_outputs 4",
        ),
        (
            lambda: make_net(False).decode(batch()[2][:3], make_net(False).encode(*batch()[:2])),
            ValueError,
            r"hidden_state must have shape \(num_layers, batch_size, num_hiddens\) = \(2, 3, 16\)",
        ),
        (
            lambda: make_net(False).decoder(batch()[2], "state"),
            TypeError,
            r"state must be the list \[context, hidden_state\]",
        ),
        (
            lambda: make_net(True).decoder(batch()[2], [1, 2]),
            ValueError,
            r"state must be the list \[enc_outputs, hidden_state, enc_valid_lens\]",
        ),
        (
            lambda: Seq2SeqDecoder(TGT_VOCAB, EMBED, 32, 2).init_state(
                make_net(False).encoder(batch()[0])
            ),
            ValueError,
            "hidden_state must have shape",
        ),
        (
            lambda: Seq2SeqAttentionDecoder(5, 4, 4, 1, need_weights="False"),
            TypeError,
            "need_weights must be True or False",
        ),
    ],
)
def test_bad_inputs_get_clear_errors_naming_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call()
    assert type(info.value) is error
