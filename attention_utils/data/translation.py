"""A toy translation task for Part II: English noun phrases into a "toy French" that reorders them.

The task stands in for the English--French corpus of Bahdanau, Cho and Bengio, *Neural Machine
Translation by Jointly Learning to Align and Translate*, ICLR 2015, arXiv:1409.0473, so that a
model trains on a laptop CPU in seconds and nothing is downloaded. Their Figure 3 shows the
reordering it imitates: "European Economic Area" becomes "zone économique européenne".

A source sentence is a chain of noun phrases joined by links::

    sentence = phrase (link phrase)*        phrase = adjective{0..3} noun

and its translation maps every word to a French word, keeps the order of phrases and links, and
puts each phrase in mirror order: the noun first, then its adjectives from last to first::

    fast red car near young poor king  ->  voiture rouge rapide près de roi pauvre jeune

Only adjectives whose French form does not change with gender are used, so there is no agreement to
learn; "near" becomes two words ("près de"), so source and target lengths differ and one source
word aligns to two target words. Every target word knows the source position it translates (the
gold alignment), so the attention weights of a model can be scored against it.

Training lengths are drawn with probability proportional to 1 / length, so most training sentences
are short; the test split has the same number of sentences for every length up to ``max_len``,
and is drawn from its own generator, so it does not depend on ``num_train``. Everything is
deterministic given the seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

__all__ = [
    "ADJECTIVES",
    "LINKS",
    "NOUNS",
    "TranslationBatch",
    "TranslationData",
    "TranslationSplit",
    "Vocab",
    "translate",
    "translation_data",
]

#: English noun -> French noun.
NOUNS = {
    "cat": "chat", "dog": "chien", "house": "maison", "car": "voiture", "bird": "oiseau",
    "tree": "arbre", "river": "rivière", "book": "livre", "city": "ville", "garden": "jardin",
    "horse": "cheval", "boat": "bateau", "bridge": "pont", "road": "route", "table": "table",
    "window": "fenêtre", "door": "porte", "child": "enfant", "king": "roi", "mountain": "montagne",
    "flower": "fleur", "chair": "chaise", "apple": "pomme", "train": "train",
}  # fmt: skip
#: English adjective -> French adjective (all the same in masculine and feminine).
ADJECTIVES = {
    "red": "rouge", "yellow": "jaune", "fast": "rapide", "calm": "calme", "sad": "triste",
    "dirty": "sale", "free": "libre", "young": "jeune", "rich": "riche", "poor": "pauvre",
    "empty": "vide", "wide": "large", "strange": "étrange", "simple": "simple",
    "fragile": "fragile", "famous": "célèbre",
}  # fmt: skip
#: English link -> its French words ("near" takes two).
LINKS = {
    "and": ("et",), "with": ("avec",), "near": ("près", "de"), "under": ("sous",),
    "behind": ("derrière",),
}  # fmt: skip

RESERVED = ("<pad>", "<bos>", "<eos>", "<unk>")
MAX_ADJECTIVES = 3


class Vocab:
    """Tokens <-> indices; the reserved ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>`` come first.

    The names follow D2L's ``Vocab`` (Zhang et al., *Dive into Deep Learning*, 2023,
    arXiv:2106.11342): ``vocab[token]`` gives an index (``<unk>``'s for an unknown token, a list
    for a list), ``vocab.to_tokens(indices)`` goes back; ``encode``/``decode`` handle whole
    sentences.

    Args:
        tokens: the words, in the order of their indices after the four reserved ones; no
            duplicates, no reserved token.

    Attributes:
        idx_to_token: all tokens, reserved ones first (``<pad>`` is 0, ``<bos>`` 1, ``<eos>`` 2,
            ``<unk>`` 3).
        token_to_idx: the inverse mapping.
        pad, bos, eos, unk: the reserved indices.
    """

    def __init__(self, tokens: Iterable[str]) -> None:
        tokens = list(tokens)
        if not all(isinstance(t, str) for t in tokens):
            raise TypeError("tokens must be strings")
        if len(set(tokens)) != len(tokens) or set(tokens) & set(RESERVED):
            raise ValueError("tokens must be distinct and must not contain a reserved token")
        self.idx_to_token: tuple[str, ...] = RESERVED + tuple(tokens)
        self.token_to_idx = {token: i for i, token in enumerate(self.idx_to_token)}
        self.pad, self.bos, self.eos, self.unk = range(4)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens: str | Sequence[str]) -> int | list[int]:
        if isinstance(tokens, str):
            return self.token_to_idx.get(tokens, self.unk)
        return [self[token] for token in tokens]

    def to_tokens(self, indices: int | Sequence[int] | torch.Tensor) -> str | list[str]:
        """Index -> token, or a sequence of indices -> a list of tokens."""
        if isinstance(indices, torch.Tensor):
            indices = indices.tolist()
        if isinstance(indices, int):
            return self.idx_to_token[indices]
        return [self.idx_to_token[int(i)] for i in indices]

    def encode(self, words: Sequence[str], eos: bool = True) -> list[int]:
        """Words -> indices, ``<eos>`` appended unless ``eos=False``; unknown words -> ``<unk>``."""
        if isinstance(words, str):
            raise TypeError("words must be a list of words, not one string; use sentence.split()")
        get, unk = self.token_to_idx.get, self.unk
        return [get(word, unk) for word in words] + ([self.eos] if eos else [])

    def decode(self, indices: Sequence[int] | torch.Tensor) -> list[str]:
        """Indices -> words, up to the first ``<eos>``, skipping ``<pad>`` and ``<bos>``."""
        words = []
        for token in self.to_tokens(
            list(indices) if not isinstance(indices, torch.Tensor) else indices
        ):
            if token == "<eos>":
                break
            if token not in ("<pad>", "<bos>"):
                words.append(token)
        return words

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens)"


def translate(words: Sequence[str]) -> tuple[list[str], list[int]]:
    """Translate an English sentence of the task and give the gold alignment.

    Args:
        words: e.g. ``["old", "red", "car", "near", "small", "house"]`` (a chain of phrases
            ``adjective{0..3} noun`` joined by links).

    Returns:
        ``(target, alignment)``: the French words, and for each of them the index of the source
        word it translates, e.g. ``(["voiture", "rouge", ...], [2, 1, ...])``.

    Raises:
        TypeError: if ``words`` is a string rather than a list of words.
        ValueError: if a word is unknown or the sentence is not a chain of phrases.
    """
    if isinstance(words, str):
        raise TypeError("words must be a list of words, not one string; use sentence.split()")
    words = list(words)
    target: list[str] = []
    alignment: list[int] = []
    adjectives: list[int] = []  # positions of the current phrase's adjectives
    expect_phrase = True
    for i, word in enumerate(words):
        if word in ADJECTIVES and expect_phrase:
            adjectives.append(i)
            if len(adjectives) > MAX_ADJECTIVES:
                raise ValueError(f"words: a phrase has at most {MAX_ADJECTIVES} adjectives")
        elif word in NOUNS and expect_phrase:
            target.append(NOUNS[word])
            alignment.append(i)
            for j in reversed(adjectives):  # mirror order: the last adjective comes first
                target.append(ADJECTIVES[words[j]])
                alignment.append(j)
            adjectives, expect_phrase = [], False
        elif word in LINKS and not expect_phrase:
            target.extend(LINKS[word])
            alignment.extend([i] * len(LINKS[word]))
            expect_phrase = True
        else:
            raise ValueError(
                f"words: {word!r} at position {i} does not fit the pattern "
                "adjective{0..3} noun (link adjective{0..3} noun)*"
            )
    if expect_phrase:
        raise ValueError("words must end with a noun (a sentence is a chain of complete phrases)")
    return target, alignment


def _random_sentence(length: int, rng: random.Random) -> list[str]:
    """A random source sentence of exactly ``length`` words."""
    nouns, adjectives, links = list(NOUNS), list(ADJECTIVES), list(LINKS)
    words: list[str] = []
    remaining = length
    while remaining > 0:
        if words:
            words.append(rng.choice(links))
            remaining -= 1
        # a phrase of p words; what is left must be empty or hold a link and a noun
        choices = [
            p for p in range(1, min(MAX_ADJECTIVES + 1, remaining) + 1) if remaining - p != 1
        ]
        p = rng.choice(choices)
        words.extend(rng.sample(adjectives, p - 1))  # distinct adjectives within a phrase
        words.append(rng.choice(nouns))
        remaining -= p
    return words


class TranslationBatch(NamedTuple):
    """One mini-batch, columns trimmed to its longest sentence.

    Attributes:
        src: ``(batch_size, num_src_steps)`` source indices, ending in ``<eos>``, then ``<pad>``.
        src_valid_lens: ``(batch_size,)`` source lengths including ``<eos>``.
        tgt: ``(batch_size, num_tgt_steps)`` target indices, ending in ``<eos>``, then ``<pad>``.
        tgt_valid_lens: ``(batch_size,)`` target lengths including ``<eos>``.
    """

    src: torch.Tensor
    src_valid_lens: torch.Tensor
    tgt: torch.Tensor
    tgt_valid_lens: torch.Tensor


@dataclass(frozen=True)
class TranslationSplit:
    """The sentences of one split as padded index tensors.

    Attributes:
        src: ``(n, num_steps)`` long, source indices, ``<eos>`` after the last word, then ``<pad>``.
        src_valid_lens: ``(n,)`` long, number of source tokens including ``<eos>``.
        tgt: ``(n, num_tgt_steps)`` long, target indices laid out the same way.
        tgt_valid_lens: ``(n,)`` long, number of target tokens including ``<eos>``.
        alignments: ``(n, num_tgt_steps)`` long, the source position each target token
            translates (``<eos>`` aligns with the source ``<eos>``), -1 at padding.
        sentences: ``n`` pairs ``(source words, target words)``, without ``<eos>``.
    """

    src: torch.Tensor
    src_valid_lens: torch.Tensor
    tgt: torch.Tensor
    tgt_valid_lens: torch.Tensor
    alignments: torch.Tensor
    sentences: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]

    def __len__(self) -> int:
        return self.src.shape[0]

    @property
    def lengths(self) -> torch.Tensor:
        """``(n,)`` source lengths in words (without ``<eos>``)."""
        return self.src_valid_lens - 1

    def batches(
        self, batch_size: int, shuffle: bool = True, seed: int = 0, by_length: bool = True
    ) -> list[TranslationBatch]:
        """Cut the split into mini-batches, each trimmed to its longest source and target.

        Args:
            batch_size: sentences per batch (the last batch may be smaller).
            shuffle: shuffle the order of the batches (and, without ``by_length``, the sentences),
                with a private generator seeded by ``seed``.
            seed: the seed of that generator.
            by_length: put sentences of similar length together (sorted by source length, stable),
                so that little compute goes to padding.

        Returns:
            A list of :class:`TranslationBatch`, which every epoch can iterate again.

        Raises:
            TypeError: if ``batch_size`` or ``seed`` is not an int.
            ValueError: if ``batch_size < 1``.
        """
        for name, value in (("batch_size", batch_size), ("seed", seed)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}")
        generator = torch.Generator().manual_seed(seed)
        n = len(self)
        if by_length:
            order = torch.argsort(self.src_valid_lens, stable=True)
        elif shuffle:
            order = torch.randperm(n, generator=generator)
        else:
            order = torch.arange(n)
        chunks = list(order.split(batch_size))
        if shuffle:
            chunks = [chunks[i] for i in torch.randperm(len(chunks), generator=generator).tolist()]
        batches = []
        for index in chunks:
            src_len = int(self.src_valid_lens[index].max())
            tgt_len = int(self.tgt_valid_lens[index].max())
            batches.append(
                TranslationBatch(
                    self.src[index, :src_len],  # (batch_size, num_src_steps)
                    self.src_valid_lens[index],  # (batch_size,)
                    self.tgt[index, :tgt_len],  # (batch_size, num_tgt_steps)
                    self.tgt_valid_lens[index],  # (batch_size,)
                )
            )
        return batches


@dataclass(frozen=True)
class TranslationData:
    """The toy translation task: vocabularies and the train and test splits.

    Attributes:
        src_vocab: English :class:`Vocab` (reserved tokens, then nouns, adjectives, links).
        tgt_vocab: French :class:`Vocab`.
        train: the training :class:`TranslationSplit`; lengths drawn with probability
            proportional to 1 / length, so most sentences are short.
        test: the test :class:`TranslationSplit`: the same number of sentences of every length
            from ``min_len`` to ``max_len``, none of them in ``train``.
        min_len, max_len: the shortest and longest source sentence, in words.
    """

    src_vocab: Vocab
    tgt_vocab: Vocab
    train: TranslationSplit
    test: TranslationSplit
    min_len: int
    max_len: int

    @property
    def num_steps(self) -> int:
        """Width of the source tensors: ``max_len + 1`` (room for ``<eos>``)."""
        return self.max_len + 1

    @property
    def num_tgt_steps(self) -> int:
        """Width of the target tensors: the longest possible translation plus ``<eos>``."""
        return self.train.tgt.shape[1]


def _make_split(
    lengths: list[int],
    rng: random.Random,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    num_steps: int,
    num_tgt_steps: int,
    exclude: set[tuple[str, ...]],
    distinct: bool,
) -> TranslationSplit:
    """Draw one sentence per entry of ``lengths``, none in ``exclude`` (all distinct if asked)."""
    sentences, alignments, seen = [], [], set(exclude)
    for length in lengths:
        for _ in range(1000):  # draw again on a sentence in ``seen``
            words = tuple(_random_sentence(length, rng))
            if words not in seen:
                break
        else:
            raise ValueError(
                f"min_len: too few distinct sentences of length {length}; raise min_len"
            )
        if distinct:
            seen.add(words)
        target, alignment = translate(words)
        sentences.append((words, tuple(target)))
        alignments.append(alignment)
    src_rows, tgt_rows, align_rows = [], [], []
    for (words, target), alignment in zip(sentences, alignments):
        s, t = src_vocab.encode(words), tgt_vocab.encode(target)
        src_rows.append(s + [src_vocab.pad] * (num_steps - len(s)))
        tgt_rows.append(t + [tgt_vocab.pad] * (num_tgt_steps - len(t)))
        align_rows.append(alignment + [len(words)] + [-1] * (num_tgt_steps - len(t)))
    src = torch.tensor(src_rows, dtype=torch.long).reshape(-1, num_steps)  # (n, num_steps)
    tgt = torch.tensor(tgt_rows, dtype=torch.long).reshape(-1, num_tgt_steps)  # (n, num_tgt_steps)
    gold = torch.tensor(align_rows, dtype=torch.long).reshape(-1, num_tgt_steps)
    src_valid_lens = (src != src_vocab.pad).sum(dim=1)  # (n,)
    tgt_valid_lens = (tgt != tgt_vocab.pad).sum(dim=1)  # (n,)
    return TranslationSplit(src, src_valid_lens, tgt, tgt_valid_lens, gold, tuple(sentences))


def translation_data(
    num_train: int = 20000,
    num_test: int = 540,
    max_len: int = 30,
    min_len: int = 4,
    seed: int = 0,
) -> TranslationData:
    """Make the toy English -> French task (see the module docstring), deterministic given ``seed``.

    Args:
        num_train: training sentences; their lengths ``L`` in ``[min_len, max_len]`` are drawn
            with probability proportional to ``1 / L``.
        num_test: test sentences, spread evenly over the lengths ``min_len .. max_len`` (the
            first ``num_test mod count`` lengths get one more); the test split depends only on
            ``seed``, ``num_test``, ``min_len`` and ``max_len``.
        max_len: the longest source sentence, in words (without ``<eos>``).
        min_len: the shortest one, >= 1.
        seed: seed of private ``random.Random`` generators; the global random state is untouched.

    Returns:
        A :class:`TranslationData`.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if a count is < 1, ``min_len < 1`` or ``max_len < min_len``.
    """
    for name, value in (
        ("num_train", num_train), ("num_test", num_test), ("max_len", max_len),
        ("min_len", min_len), ("seed", seed),
    ):  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    for name, value in (("num_train", num_train), ("num_test", num_test), ("min_len", min_len)):
        if value < 1:
            raise ValueError(f"{name} must be a positive int, got {value}")
    if max_len < min_len:
        raise ValueError(f"max_len must be >= min_len = {min_len}, got {max_len}")
    src_vocab = Vocab(list(NOUNS) + list(ADJECTIVES) + list(LINKS))
    french = list(NOUNS.values()) + list(ADJECTIVES.values())
    french += [w for words in LINKS.values() for w in words]
    tgt_vocab = Vocab(dict.fromkeys(french))  # "table" and "train" are the same in both
    num_steps = max_len + 1
    num_tgt_steps = max_len + (max_len + 1) // 2 + 1  # at most one "near" (2 words) per 2 words

    all_lengths = list(range(min_len, max_len + 1))
    test_lengths = [all_lengths[i % len(all_lengths)] for i in range(num_test)]
    test_lengths.sort()
    test_rng = random.Random(f"translation-test-{seed}")
    test = _make_split(
        test_lengths, test_rng, src_vocab, tgt_vocab, num_steps, num_tgt_steps, set(), True
    )
    train_rng = random.Random(f"translation-train-{seed}")
    weights = [1.0 / length for length in all_lengths]
    train_lengths = train_rng.choices(all_lengths, weights=weights, k=num_train)
    exclude = {words for words, _ in test.sentences}
    train = _make_split(
        train_lengths, train_rng, src_vocab, tgt_vocab, num_steps, num_tgt_steps, exclude, False
    )
    return TranslationData(src_vocab, tgt_vocab, train, test, min_len, max_len)
