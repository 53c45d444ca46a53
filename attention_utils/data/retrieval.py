"""The retrieval task of chapter 03: each query names one key, and the answer is that key's value.

A dictionary lookup made soft. Every example holds ``num_keys`` key-value pairs; the keys are
symbols of a small vocabulary, written in one code, and the queries name the same symbols in
another code of another length. A scoring function can only find the named key by learning how
the two codes correspond, so after training its attention weights show where each query looks.
The values are fresh random vectors in every example: they cannot be memorised, only retrieved.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import require_positive_int

__all__ = ["retrieval_data", "RetrievalData"]


@dataclass(frozen=True)
class RetrievalData:
    """Examples of the retrieval task, split into training and held-out examples.

    Attributes:
        queries: ``(num_examples, num_keys, query_size)``: query ``i`` of an example names the key
            ``named[:, i]``, in the query code of its symbol.
        keys: ``(num_examples, num_keys, key_size)``: each key is the key code of a symbol; the
            symbols of one example are distinct.
        values: ``(num_examples, num_keys, value_size)``, standard normal, new in every example.
        targets: ``(num_examples, num_keys, value_size)``: the value of the key each query names.
        named: ``(num_examples, num_keys)``, int64: the index of the key each query names; a
            permutation of ``0 .. num_keys - 1`` in every example, so every key is named once.
        num_train: the first ``num_train`` examples are for training, the rest are held out.
    """

    queries: torch.Tensor
    keys: torch.Tensor
    values: torch.Tensor
    targets: torch.Tensor
    named: torch.Tensor
    num_train: int

    def split(self, part: str) -> tuple[torch.Tensor, ...]:
        """``(queries, keys, values, targets, named)`` of the ``"train"`` or ``"test"`` examples.

        Raises:
            ValueError: if ``part`` is neither ``"train"`` nor ``"test"``.
        """
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', got {part!r}")
        rows = slice(None, self.num_train) if part == "train" else slice(self.num_train, None)
        tensors = (self.queries, self.keys, self.values, self.targets, self.named)
        return tuple(t[rows] for t in tensors)


def retrieval_data(
    num_train: int = 1000,
    num_test: int = 200,
    num_keys: int = 6,
    vocab_size: int = 16,
    query_size: int = 8,
    key_size: int = 12,
    value_size: int = 4,
    seed: int = 0,
) -> RetrievalData:
    """Make the retrieval task of chapter 03 (no download).

    Each of ``vocab_size`` symbols has a key code, a standard normal vector of length
    ``key_size``, and a query code, an independent one of length ``query_size``. An example draws
    ``num_keys`` distinct symbols as its keys, a standard normal value for each, and
    ``num_keys`` queries that name its keys in a random order. The target of a query is the value
    of the key it names.

    Args:
        num_train: number of training examples, >= 1.
        num_test: number of held-out examples, >= 1 (the same codes, new symbol sets and values).
        num_keys: key-value pairs per example, between 2 and ``vocab_size``.
        vocab_size: number of symbols, >= 2.
        query_size: length of a query vector, >= 1.
        key_size: length of a key vector, >= 1.
        value_size: length of a value vector, >= 1.
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`RetrievalData`; the same arguments always give the same tensors (float32).

    Raises:
        TypeError: if a size or ``seed`` is not an int.
        ValueError: if a size is below its minimum or ``num_keys > vocab_size``.
    """
    sizes = {
        "num_train": num_train,
        "num_test": num_test,
        "num_keys": num_keys,
        "vocab_size": vocab_size,
        "query_size": query_size,
        "key_size": key_size,
        "value_size": value_size,
    }
    for name, size in sizes.items():
        require_positive_int(name, size)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 2 <= num_keys <= vocab_size:
        raise ValueError(
            f"num_keys must be between 2 and vocab_size = {vocab_size}, got {num_keys}"
        )
    generator = torch.Generator().manual_seed(seed)
    key_codes = torch.randn(vocab_size, key_size, generator=generator)  # (vocab, key_size)
    query_codes = torch.randn(vocab_size, query_size, generator=generator)  # (vocab, query_size)
    num_examples = num_train + num_test
    shuffled = torch.rand(num_examples, vocab_size, generator=generator).argsort(dim=-1)
    symbols = shuffled[:, :num_keys]  # (num_examples, num_keys): distinct symbols per example
    values = torch.randn(num_examples, num_keys, value_size, generator=generator)
    order = torch.rand(num_examples, num_keys, generator=generator)  # (num_examples, num_keys)
    named = order.argsort(dim=-1)  # (num_examples, num_keys): a permutation per example
    keys = key_codes[symbols]  # (num_examples, num_keys, key_size)
    queries = query_codes[symbols.gather(1, named)]  # (num_examples, num_keys, query_size)
    index = named[..., None].expand(-1, -1, value_size)  # (num_examples, num_keys, value_size)
    targets = values.gather(1, index)  # (num_examples, num_keys, value_size)
    return RetrievalData(queries, keys, values, targets, named, num_train)
