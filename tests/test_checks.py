"""checks.py: the library's one rule for bad arguments (TypeError for a type, ValueError for a
value, the message naming the argument), tested function by function."""

import numpy as np
import pytest
import torch
from torch import nn

from attention_utils import checks as C


def test_check_shape():
    C.check_shape(torch.zeros(2, 3), (2, 3))
    with pytest.raises(ValueError, match=r"expected shape \(2, 4\), got \(2, 3\)"):
        C.check_shape(torch.zeros(2, 3), (2, 4))
    with pytest.raises(TypeError, match="tensor must be a torch.Tensor"):
        C.check_shape([1, 2], (2,))
    with pytest.raises(TypeError, match="shape must be a sequence of ints"):
        C.check_shape(torch.zeros(2), (2.0,))


@pytest.mark.parametrize(
    ("check", "good", "bad_type", "bad_value"),
    [
        (C.require_positive_int, 3, 3.0, 0),
        (C.require_positive, 0.5, "0.5", float("inf")),
        (C.require_real, -2.0, None, float("nan")),
        (C.require_probability, 0.1, "0.1", 1.0),
    ],
)
def test_number_checks_name_the_argument(check, good, bad_type, bad_value):
    assert check("size", good) == good
    with pytest.raises(TypeError, match="size must be"):
        check("size", bad_type)
    with pytest.raises(ValueError, match="size must be"):
        check("size", bad_value)
    with pytest.raises(TypeError, match="size must be"):
        check("size", True)  # a bool is not a number here


def test_numpy_numbers_are_accepted():
    assert C.require_positive_int("n", np.int64(4)) == 4
    assert C.require_positive("x", np.float32(0.5)) == 0.5


def test_require_int_bool_choice_tensor_dtype():
    assert C.require_int("offset", 0, minimum=0) == 0
    with pytest.raises(ValueError, match="offset must be an int >= 0"):
        C.require_int("offset", -1, minimum=0)
    with pytest.raises(TypeError, match="flag must be True or False, got str"):
        C.require_bool("flag", "False")
    assert C.require_choice("mode", "a", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match=r"mode must be one of \['a', 'b'\]"):
        C.require_choice("mode", "c", ["a", "b"])
    with pytest.raises(TypeError, match="X must be a floating-point tensor"):
        C.require_tensor("X", torch.zeros(2, dtype=torch.long))
    with pytest.raises(TypeError, match="X has dtype torch.float64"):
        C.require_dtype("X", torch.zeros(2, dtype=torch.float64), nn.Linear(2, 2))


def test_check_tokens():
    X = torch.tensor([[0, 4], [2, 1]])
    assert C.check_tokens("src", X, 5) is X
    assert C.check_tokens("bos", 3, 5) == 3
    assert C.check_tokens("src", torch.zeros(0, 3, dtype=torch.long), 5).shape == (0, 3)
    with pytest.raises(ValueError, match=r"src's token ids must lie in \[0, vocab_size\) = "
                       r"\[0, 4\), got values from 0 to 4"):
        C.check_tokens("src", X, 4)
    with pytest.raises(ValueError, match=r"bos must be a token id in \[0, vocab_size\)"):
        C.check_tokens("bos", 5, 5)
    with pytest.raises(TypeError, match="tgt must be an integer tensor of token ids"):
        C.check_tokens("tgt", X.float(), 5)
    with pytest.raises(TypeError, match="tgt must be an integer tensor"):
        C.check_tokens("tgt", X.bool(), 5)
    with pytest.raises(TypeError, match="bos must be an integer tensor"):
        C.check_tokens("bos", True, 5)
    with pytest.raises(ValueError, match=r"X must have shape \(batch_size, num_steps\)"):
        C.check_tokens("X", X[0], 5)
    assert C.check_tokens("X", X + 100) is not None  # no vocabulary: any id


def test_check_valid_lens():
    lens = torch.tensor([0, 3])
    assert C.check_valid_lens(lens, 2, 4, 3) is lens
    C.check_valid_lens(torch.ones(2, 4, dtype=torch.long), 2, 4, 3)
    with pytest.raises(ValueError, match=r"valid_lens must lie in \[0, num_keys\] = \[0, 2\]"):
        C.check_valid_lens(lens, 2, 4, 2)
    C.check_valid_lens(lens, 2, 4, 2, check_range=False)
    with pytest.raises(TypeError, match="valid_lens must have an integer dtype"):
        C.check_valid_lens(lens.float(), 2, 4, 3)
    with pytest.raises(ValueError, match=r"valid_lens must have shape \(batch_size,\) = \(3,\)"):
        C.check_valid_lens(lens, 3, 4, 3)
    with pytest.raises(TypeError, match="valid_lens must be None or an integer torch.Tensor"):
        C.check_valid_lens([1, 2], 2, 4, 3)


def test_attention_input_checks():
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    C.check_qkv(q, k, v, query_size=4, key_size=4)
    with pytest.raises(ValueError, match="same num_keys"):
        C.check_qkv(q, k, v[:, :4])
    with pytest.raises(TypeError, match="share a dtype"):
        C.check_qkv(q, k.double(), v)
    with pytest.raises(ValueError, match="at least one key"):
        C.check_qkv(q, k[:, :0], v[:, :0])
    with pytest.raises(ValueError, match="query_size=5"):
        C.check_qkv(q, k, v, query_size=5)
    with pytest.raises(ValueError, match="of the same d"):
        C.check_same_d(q, torch.randn(2, 5, 3))
    C.check_attn_mask(torch.ones(3, 5, dtype=torch.bool), torch.float32, torch.Size((2, 3, 5)))
    with pytest.raises(ValueError, match="attn_mask must broadcast"):
        C.check_attn_mask(torch.ones(4, 5, dtype=torch.bool), torch.float32, torch.Size((2, 3, 5)))
    with pytest.raises(TypeError, match="attn_mask must be a bool tensor"):
        C.check_attn_mask(torch.ones(3, 5, dtype=torch.long), torch.float32, torch.Size((2, 3, 5)))


def test_check_pool_inputs_and_require_sequence():
    scores, values = torch.randn(2, 3, 5), torch.randn(2, 5, 4)
    C.check_pool_inputs(scores, values, None)
    with pytest.raises(ValueError, match="values must have num_keys = 5 rows"):
        C.check_pool_inputs(scores, values[:, :4], None)
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        C.check_pool_inputs(scores, values, torch.ones(3, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        C.check_pool_inputs(scores, values, torch.ones(4, 5, dtype=torch.bool))
    assert C.require_sequence("enc_outputs", values, 4, "num_hiddens") is values
    with pytest.raises(ValueError, match=r"enc_outputs must have shape \(batch_size, num_steps, "
                       r"num_hiddens=8\)"):
        C.require_sequence("enc_outputs", values, 8, "num_hiddens")


def test_feature_map_checks():
    x = torch.randn(2, 8, 5, 5)
    assert C.require_feature_map(x, 8) is x
    with pytest.raises(ValueError, match=r"x must have shape \(batch_size, 4, height, width\)"):
        C.require_feature_map(x, 4)
    with pytest.raises(ValueError, match="must be >= reduction"):
        C.require_reduction(4, 8)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        C.require_odd_kernel_size(4)
    assert C.require_odd_kernel_size(3) == 3
