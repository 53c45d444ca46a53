"""The sentences of chapter 04: an adjective decides what "it" refers to.

Winograd schemas (Levesque, Davis and Morgenstern, *The Winograd Schema Challenge*, KR 2012).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "AGENT_ADJECTIVES",
    "AGENTS",
    "coreference_data",
    "CoreferenceData",
    "make_sentence",
    "PLACE_ADJECTIVES",
    "PLACES",
    "VERBS",
]

#
# The example is the one the Transformer made famous: in "The animal didn't cross the street
# because it was too tired", *it* is the animal; with "too wide" it is the street. Sentences of
# this kind are Winograd schemas (Levesque, Davis and Morgenstern, *The Winograd Schema
# Challenge*, KR 2012); the attention picture of "it" comes from Vaswani et al., *Attention Is All
# You Need*, NeurIPS 2017, arXiv:1706.03762, and the Google AI blog post that accompanied it.
#
# Every sentence here follows one template::
#
#     the AGENT didn't VERB the PLACE because it was too ADJECTIVE .
#
# An agent adjective (tired, hungry, ...) makes *it* the agent, a place adjective (wide, busy,
# ...) makes it the place. Some (noun, adjective) pairs in which the noun is the referent are held
# out: no training sentence contains both words of such a pair, and the test set is made of
# exactly those sentences, so a model must combine what it learnt about the noun and about the
# adjective separately. Everything is deterministic given the seed; nothing is downloaded.

AGENTS = ("animal", "dog", "boy", "girl", "cat", "horse", "child", "farmer")
PLACES = ("street", "river", "road", "bridge", "field", "square", "tunnel", "hall")
VERBS = ("cross", "enter", "reach", "use", "visit", "leave")
AGENT_ADJECTIVES = ("tired", "hungry", "scared", "sleepy", "weak", "lazy")
PLACE_ADJECTIVES = ("wide", "busy", "long", "crowded", "dark", "noisy")

#: Positions of the words in every sentence (the template has no optional words).
AGENT_POSITION, PLACE_POSITION, IT_POSITION, ADJECTIVE_POSITION = 1, 5, 7, 10
NUM_STEPS = 12


def make_sentence(agent: str, verb: str, place: str, adjective: str) -> list[str]:
    """The template ``the AGENT didn't VERB the PLACE because it was too ADJECTIVE .`` as words.

    Args:
        agent: one of :data:`AGENTS`.
        verb: one of :data:`VERBS`.
        place: one of :data:`PLACES`.
        adjective: one of :data:`AGENT_ADJECTIVES` or :data:`PLACE_ADJECTIVES`.

    Returns:
        The 12 words of the sentence, e.g. ``["the", "animal", "didn't", ..., "tired", "."]``.

    Raises:
        TypeError: if a word is not a str.
        ValueError: if a word is not in its list (the message lists the allowed words).
    """
    for name, word, allowed in (
        ("agent", agent, AGENTS),
        ("verb", verb, VERBS),
        ("place", place, PLACES),
        ("adjective", adjective, AGENT_ADJECTIVES + PLACE_ADJECTIVES),
    ):
        if not isinstance(word, str):
            raise TypeError(f"{name} must be a str, one of {allowed}, got {type(word).__name__}")
        if word not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {word!r}")
    return [
        "the",
        agent,
        "didn't",
        verb,
        "the",
        place,
        "because",
        "it",
        "was",
        "too",
        adjective,
        ".",
    ]


@dataclass(frozen=True)
class CoreferenceData:
    """Train and test sentences with the referent of "it".

    Attributes:
        vocab: the words; a sentence's token ``t`` is the word ``vocab[t]``.
        train_tokens: shape ``(n_train, num_steps)`` with ``num_steps = 12``, dtype long.
        train_referents: the token of the noun that "it" refers to, shape ``(n_train,)``.
        train_second: 1 where the referent is the second noun (the place), else 0, ``(n_train,)``.
        test_tokens, test_referents, test_second: the same for the held-out sentences.
        held_out: the held-out (noun, adjective) pairs; every test sentence contains one, no
            training sentence contains both words of any.
        it_position: position of "it" in every sentence (7).
        noun_positions: positions of the agent and the place, ``(1, 5)``.
        adjective_position: position of the adjective (10).
    """

    vocab: tuple[str, ...]
    train_tokens: torch.Tensor
    train_referents: torch.Tensor
    train_second: torch.Tensor
    test_tokens: torch.Tensor
    test_referents: torch.Tensor
    test_second: torch.Tensor
    held_out: tuple[tuple[str, str], ...]
    it_position: int = IT_POSITION
    noun_positions: tuple[int, int] = (AGENT_POSITION, PLACE_POSITION)
    adjective_position: int = ADJECTIVE_POSITION

    @property
    def num_steps(self) -> int:
        return NUM_STEPS

    def encode(self, words: list[str]) -> torch.Tensor:
        """Words -> tokens of shape ``(len(words),)``; raises ValueError for an unknown word."""
        index = {word: i for i, word in enumerate(self.vocab)}
        unknown = [w for w in words if w not in index]
        if unknown:
            raise ValueError(f"unknown words {unknown}; the vocabulary is {self.vocab}")
        return torch.tensor([index[w] for w in words], dtype=torch.long)

    def decode(self, tokens: torch.Tensor) -> list[str]:
        """Tokens of shape ``(num_steps,)`` -> words."""
        return [self.vocab[int(t)] for t in tokens]


def coreference_data(heldout_per_noun: int = 1, seed: int = 0) -> CoreferenceData:
    """Make every sentence of the template and split it into train and held-out test sets.

    For each noun, ``heldout_per_noun`` adjectives of its own kind (agent adjectives for agents,
    place adjectives for places) are drawn with a private generator; the pairs are chosen so that
    every adjective is held out with about as many nouns as every other. A sentence whose
    referent and adjective form a held-out pair goes to the test set, all others to training.
    Since the adjective decides the referent, no training sentence contains both words of a
    held-out pair.

    With the default lists: 8 agents x 6 verbs x 8 places x 12 adjectives = 4608 sentences, of
    which ``heldout_per_noun / 6`` are held out (768 for 1).

    Args:
        heldout_per_noun: adjectives held out per noun, 1 to 5 (at least one of each noun's
            adjectives stays in training).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`CoreferenceData`; the same arguments always give the same tensors.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if ``heldout_per_noun`` is not between 1 and 5.
    """
    for name, value in (("heldout_per_noun", heldout_per_noun), ("seed", seed)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    num_adjectives = len(AGENT_ADJECTIVES)
    if not 1 <= heldout_per_noun <= num_adjectives - 1:
        raise ValueError(
            f"heldout_per_noun must be between 1 and {num_adjectives - 1}, got {heldout_per_noun}"
        )
    generator = torch.Generator().manual_seed(seed)
    held_out: list[tuple[str, str]] = []
    for nouns, adjectives in ((AGENTS, AGENT_ADJECTIVES), (PLACES, PLACE_ADJECTIVES)):
        # A random Latin-square layout: noun i holds out adjectives shift + i, shift + i + 1, ...
        order = torch.randperm(len(adjectives), generator=generator).tolist()
        for i, noun in enumerate(nouns):
            for j in range(heldout_per_noun):
                held_out.append((noun, adjectives[order[(i + j) % len(adjectives)]]))
    held = set(held_out)

    words = ["the", "didn't", "because", "it", "was", "too", "."]
    vocab = tuple(words + list(AGENTS) + list(PLACES) + list(VERBS))
    vocab = vocab + AGENT_ADJECTIVES + PLACE_ADJECTIVES
    index = {word: i for i, word in enumerate(vocab)}
    splits: dict[bool, tuple[list[list[int]], list[int], list[int]]] = {
        False: ([], [], []),
        True: ([], [], []),
    }
    for agent in AGENTS:
        for verb in VERBS:
            for place in PLACES:
                for adjective in AGENT_ADJECTIVES + PLACE_ADJECTIVES:
                    second = adjective in PLACE_ADJECTIVES
                    referent = place if second else agent
                    tokens, referents, seconds = splits[(referent, adjective) in held]
                    tokens.append([index[w] for w in make_sentence(agent, verb, place, adjective)])
                    referents.append(index[referent])
                    seconds.append(int(second))

    def as_tensors(split: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        tokens, referents, seconds = splits[split]
        return (
            torch.tensor(tokens, dtype=torch.long),  # (n, num_steps)
            torch.tensor(referents, dtype=torch.long),  # (n,)
            torch.tensor(seconds, dtype=torch.long),  # (n,)
        )

    return CoreferenceData(vocab, *as_tensors(False), *as_tensors(True), tuple(held_out))
