"""The toy translation task of Part II (attention_utils/data/translation.py)."""

import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attention_utils import (
    ADJECTIVES,
    LINKS,
    NOUNS,
    Vocab,
    translate,
    translation_data,
)
from attention_utils.data.translation import _random_sentence


@pytest.fixture(scope="module")
def data():
    return translation_data(num_train=2000, num_test=108, seed=0)


def test_translate_mirrors_each_phrase_and_maps_words():
    target, alignment = translate("fast red car near young poor king".split())
    assert target == "voiture rouge rapide près de roi pauvre jeune".split()
    assert alignment == [2, 1, 0, 3, 3, 6, 5, 4]


def test_alignment_is_not_monotonic(data):
    # some target step looks further left than the step before it: real reordering
    gold = data.test.alignments
    steps_back = (gold[:, 1:] < gold[:, :-1]) & (gold[:, 1:] >= 0)
    assert steps_back.any(dim=1).float().mean() > 0.9


def test_same_seed_same_data_and_global_rng_untouched(data):
    torch.manual_seed(5)
    before = torch.get_rng_state()
    again = translation_data(num_train=2000, num_test=108, seed=0)
    assert torch.equal(torch.get_rng_state(), before)
    for split in ("train", "test"):
        a, b = getattr(data, split), getattr(again, split)
        for name in ("src", "src_valid_lens", "tgt", "tgt_valid_lens", "alignments"):
            assert torch.equal(getattr(a, name), getattr(b, name))
    other = translation_data(num_train=2000, num_test=108, seed=1)
    assert not torch.equal(other.train.src, data.train.src)


def test_test_split_depends_only_on_its_own_arguments(data):
    more = translation_data(num_train=500, num_test=108, seed=0)
    assert torch.equal(more.test.src, data.test.src)


def test_layout_and_reserved_tokens(data):
    for vocab in (data.src_vocab, data.tgt_vocab):
        assert vocab.to_tokens([0, 1, 2, 3]) == ["<pad>", "<bos>", "<eos>", "<unk>"]
        assert (vocab.pad, vocab.bos, vocab.eos, vocab.unk) == (0, 1, 2, 3)
    assert len(data.src_vocab) == 4 + len(NOUNS) + len(ADJECTIVES) + len(LINKS)
    assert data.num_steps == 31 and data.train.src.shape == (2000, 31)
    assert data.test.tgt.shape == (108, data.num_tgt_steps)
    for split in (data.train, data.test):
        n = len(split)
        positions = torch.arange(split.src.shape[1]).expand(n, -1)
        last = split.src_valid_lens.unsqueeze(1) - 1
        assert (split.src.gather(1, last) == 2).all(), "<eos> ends every source"
        assert ((split.src == 0) == (positions > last)).all(), "<pad> exactly after <eos>"
        positions = torch.arange(split.tgt.shape[1]).expand(n, -1)
        last = split.tgt_valid_lens.unsqueeze(1) - 1
        assert (split.tgt.gather(1, last) == 2).all()
        assert ((split.tgt == 0) == (positions > last)).all()
        assert ((split.alignments == -1) == (split.tgt == 0)).all()
        assert (split.alignments < split.src_valid_lens.unsqueeze(1)).all()


def test_lengths_train_mostly_short_test_even(data):
    lengths = data.test.lengths
    assert lengths.min() == 4 and lengths.max() == 30
    assert torch.equal(torch.bincount(lengths)[4:], torch.full((27,), 4))
    train = data.train.lengths.float()
    assert train.min() >= 4 and train.max() <= 30
    assert train.median() < 13 and (train > 20).float().mean() < 0.3


def test_sentences_match_tensors_and_test_is_held_out(data):
    for split in (data.train, data.test):
        for i in (0, len(split) - 1):
            words, target = split.sentences[i]
            assert data.src_vocab.decode(split.src[i]) == list(words)
            assert data.tgt_vocab.decode(split.tgt[i]) == list(target)
    train = {words for words, _ in data.train.sentences}
    assert not train & {words for words, _ in data.test.sentences}
    assert len({words for words, _ in data.test.sentences}) == len(data.test)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(0, 1000))
def test_random_sentences_have_the_length_and_translate(length, seed):
    words = _random_sentence(length, random.Random(seed))
    assert len(words) == length
    target, alignment = translate(words)
    assert sorted(set(alignment)) == list(range(length)), "every source word is translated"
    assert len(target) == length + words.count("near")


def test_batches_cover_the_split_once_and_are_trimmed(data):
    batches = data.train.batches(batch_size=128, seed=3)
    assert sum(len(b.src) for b in batches) == len(data.train)
    for b in batches:
        assert b.src.shape[1] == b.src_valid_lens.max() and b.tgt.shape[1] == b.tgt_valid_lens.max()
    assert [b.src.shape for b in batches] == [b.src.shape for b in data.train.batches(128, seed=3)]
    plain = data.test.batches(batch_size=1000, shuffle=False, by_length=False)
    assert torch.equal(plain[0].src, data.test.src)


def test_vocab_round_trip_and_unknown_words(data):
    vocab = data.src_vocab
    words = "red car and dog".split()
    assert vocab.decode(vocab.encode(words)) == words
    assert vocab.encode(["spaceship"], eos=False) == [vocab.unk]
    assert vocab["car"] == vocab.token_to_idx["car"] and vocab.to_tokens(vocab["car"]) == "car"
    assert vocab.decode(torch.tensor([1, vocab["car"], 2, vocab["dog"]])) == ["car"]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["car", "red"], "does not fit"),
        (["red", "car", "and"], "must end with a noun"),
        (["red", "fast", "sad", "calm", "car"], "at most 3 adjectives"),
        (["car", "spaceship"], "does not fit"),
        ([], "must end with a noun"),
    ],
)
def test_translate_rejects_bad_sentences(words, message):
    with pytest.raises(ValueError, match=message):
        translate(words)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_train": 0}, ValueError, "num_train must be a positive int"),
        ({"num_test": 2.0}, TypeError, "num_test must be an int"),
        ({"max_len": 3}, ValueError, "max_len must be >= min_len"),
        ({"min_len": 0}, ValueError, "min_len must be a positive int"),
        ({"seed": "0"}, TypeError, "seed must be an int"),
        ({"min_len": 1, "max_len": 1, "num_test": 30}, ValueError, "too few distinct"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        translation_data(**kwargs)


def test_bad_inputs_elsewhere(data):
    with pytest.raises(TypeError, match="words must be a list"):
        translate("red car")
    with pytest.raises(TypeError, match="words must be a list"):
        data.src_vocab.encode("red car")
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.train.batches(0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        data.train.batches(2.5)
    with pytest.raises(ValueError, match="distinct"):
        Vocab(["a", "a"])


def test_decoder_inputs_shift_the_target_right_behind_bos(data):
    from attention_utils import decoder_inputs

    Y = data.test.tgt[:3]
    X = decoder_inputs(Y, data.tgt_vocab.bos)
    assert X.shape == Y.shape and X.dtype == Y.dtype
    assert (X[:, 0] == data.tgt_vocab.bos).all() and torch.equal(X[:, 1:], Y[:, :-1])
    assert decoder_inputs(Y[:, :1], 7).tolist() == [[7]] * 3
    assert decoder_inputs(Y[:, :0], 1).shape == (3, 0)
    assert decoder_inputs(Y[:0], 1).shape == (0, Y.shape[1])
    Y32 = Y.to(torch.int32)
    assert decoder_inputs(Y32, 1).dtype == torch.int32
    with pytest.raises(TypeError, match="Y must be an integer tensor"):
        decoder_inputs(Y.float(), 1)
    with pytest.raises(ValueError, match="bos must be an int >= 0"):
        decoder_inputs(Y, -1)
    with pytest.raises(TypeError, match="bos must be an int"):
        decoder_inputs(Y, 1.0)
