"""bAbI-style stories for chapter 11's memory networks, made on the spot (never downloaded).

A story is a few short sentences about people moving between places and picking up objects,
followed by a question whose answer is one word:

    1 mary went to the kitchen        task 1 (single supporting fact): "where is mary" -> kitchen,
    2 john picked up the football     supported by sentence 1 (mary's last move).
    3 john moved to the garden        task 2 (two supporting facts): "where is the football" ->
    4 mary journeyed to the office    garden, supported by sentences 2 (who holds it) and 3 (where
                                      that person went last).

The sentences imitate the first two tasks of Weston et al., "Towards AI-complete question
answering: a set of prerequisite toy tasks", 2015, arXiv:1502.05698, with a smaller world
(no dropping, no "back to"), so that a memory network learns them in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import require_choice, require_int, require_positive_int
from .translation import Vocab

__all__ = [
    "BABI_OBJECTS",
    "BABI_PEOPLE",
    "BABI_PLACES",
    "BabiData",
    "babi_data",
]

BABI_PEOPLE = ("mary", "john", "sandra", "daniel")
BABI_PLACES = ("kitchen", "garden", "hallway", "bathroom", "office", "bedroom")
BABI_OBJECTS = ("football", "apple", "milk")
_MOVES = ("went to", "moved to", "journeyed to", "travelled to")
_TAKES = ("picked up", "got", "grabbed")


@dataclass(frozen=True)
class BabiData:
    """Stories, questions and answers as padded token ids (``vocab.pad`` = 0).

    Attributes:
        stories: ``(num_stories, memory_size, sentence_len)``, int64: sentence t of a story in
            row t, left-aligned; rows past the story and words past a sentence are ``<pad>``.
        questions: ``(num_stories, question_len)``, int64, padded.
        answers: ``(num_stories,)``, int64: the answer word's id.
        supporting: ``(num_stories, 2)``, int64: the rows of the supporting sentences, in the
            order a reader uses them: who picked up the object, then where that person went
            last (which may come first in the story); for a one-fact question the row of the
            person's last move, then -1.
        num_facts: ``(num_stories,)``, int64: 1 or 2, the question's supporting facts.
        num_sentences: ``(num_stories,)``, int64: the rows that hold a sentence.
        vocab: the :class:`~attention_utils.data.translation.Vocab` of every word.
        num_train: the first ``num_train`` stories are for training, the rest are held out.
    """

    stories: torch.Tensor
    questions: torch.Tensor
    answers: torch.Tensor
    supporting: torch.Tensor
    num_facts: torch.Tensor
    num_sentences: torch.Tensor
    vocab: Vocab
    num_train: int

    def text(self, index: int) -> str:
        """Story ``index`` as numbered lines, then the question and its answer."""
        lines = []
        for t in range(int(self.num_sentences[index])):
            lines.append(f"{t + 1} " + " ".join(self.vocab.decode(self.stories[index, t])))
        question = " ".join(self.vocab.decode(self.questions[index]))
        answer = self.vocab.to_tokens(int(self.answers[index]))
        return "\n".join(lines + [f"{question}? {answer}"])


def _vocab() -> Vocab:
    words = {"the", "where", "is"}
    for phrase in _MOVES + _TAKES:
        words.update(phrase.split())
    words.update(BABI_PEOPLE + BABI_PLACES + BABI_OBJECTS)
    return Vocab(sorted(words))


def _story(task: int, facts: int, num_sentences: int, world: tuple, rng: torch.Generator):
    """One story: (sentences as word lists, question words, answer word, supporting rows).

    ``task`` 2 lets people pick up objects; ``facts`` is the question's: 1 asks where a person
    is, 2 where an object is.
    """
    people, places, objects = world

    def pick(options):
        return options[int(torch.randint(len(options), (1,), generator=rng))]

    while True:
        sentences, place, holder, moves = [], {}, {}, {}
        for t in range(num_sentences):
            free = [o for o in objects if o not in holder]
            person = pick(people)
            if task == 2 and free and float(torch.rand((), generator=rng)) < 0.3:
                thing = pick(free)
                holder[thing] = (person, t)
                sentences.append([person, *pick(_TAKES).split(), "the", thing])
            else:
                where = pick(places)
                place[person], moves[person] = where, t
                sentences.append([person, *pick(_MOVES).split(), "the", where])
        if facts == 1 and moves:
            person = pick(sorted(moves))
            return sentences, ["where", "is", person], place[person], [moves[person], -1]
        askable = sorted(o for o, (who, _) in holder.items() if who in moves)
        if facts == 2 and askable:
            thing = pick(askable)
            who, taken = holder[thing]
            return sentences, ["where", "is", "the", thing], place[who], [taken, moves[who]]


def _count(name: str, value: object, most: int) -> int:
    require_positive_int(name, value)
    if value > most:
        raise ValueError(f"{name} must be between 1 and {most}, got {value}")
    return value


def babi_data(
    task: int = 2,
    num_train: int = 1000,
    num_test: int = 200,
    min_sentences: int = 4,
    max_sentences: int = 8,
    num_people: int = 4,
    num_places: int = 6,
    num_objects: int = 3,
    single_fact_fraction: float = 0.0,
    seed: int = 0,
) -> BabiData:
    """Make bAbI-style stories with one or two supporting facts (no download).

    Each story has a uniformly random number of sentences in ``[min_sentences, max_sentences]``.
    Task 1: every sentence moves a random person to a random place; the question asks where a
    person who moved is, the answer is their last place. Task 2: each sentence is, with
    probability 0.3 while an object is still free, a random person picking up a free object,
    otherwise a move; the question asks where an object is whose holder has moved, and the
    answer is the holder's last place (objects are never dropped). A story that allows no
    question is drawn again.

    Args:
        task: 1 (single supporting fact) or 2 (two supporting facts).
        num_train, num_test: numbers of stories, >= 1.
        min_sentences: shortest story, >= 1 (task 1) or >= 2 (task 2).
        max_sentences: longest story, >= ``min_sentences``; also the memory size.
        num_people, num_places, num_objects: how many of :data:`BABI_PEOPLE`,
            :data:`BABI_PLACES` and :data:`BABI_OBJECTS` the stories use (the first ones); at
            least 1 each and at most 4, 6 and 3. The vocabulary always holds every word.
        single_fact_fraction: task 2 only: this share of the *training* stories (rounded) ask
            where a person is (one supporting fact) instead of where an object is, as bAbI's
            joint training mixes tasks; the held-out stories all ask two-fact questions. In
            [0, 1).
        seed: seed of a private ``torch.Generator``; the global random state is not touched.

    Returns:
        A :class:`BabiData`; the same arguments give the same tensors and words.

    Raises:
        TypeError: if an argument is not an int.
        ValueError: if ``task`` is not 1 or 2, or a size is below its minimum.

    Source: Weston et al., "Towards AI-complete question answering: a set of prerequisite toy
    tasks", 2015, arXiv:1502.05698 (tasks 1 and 2).
    """
    if not isinstance(task, int) or isinstance(task, bool):
        raise TypeError(f"task must be an int, 1 or 2, got {type(task).__name__}")
    require_choice("task", str(task), ("1", "2"))
    require_positive_int("num_train", num_train)
    require_positive_int("num_test", num_test)
    require_int("min_sentences", min_sentences, minimum=task)
    require_int("max_sentences", max_sentences, minimum=min_sentences)
    world = (
        BABI_PEOPLE[: _count("num_people", num_people, len(BABI_PEOPLE))],
        BABI_PLACES[: _count("num_places", num_places, len(BABI_PLACES))],
        BABI_OBJECTS[: _count("num_objects", num_objects, len(BABI_OBJECTS))],
    )
    if not isinstance(single_fact_fraction, (int, float)) or isinstance(
        single_fact_fraction, bool
    ):
        raise TypeError(
            f"single_fact_fraction must be a number, got {type(single_fact_fraction).__name__}"
        )
    if not 0 <= single_fact_fraction < 1 or (task == 1 and single_fact_fraction):
        raise ValueError(
            "single_fact_fraction must lie in [0, 1), and be 0 for task 1, got "
            f"{single_fact_fraction!r}"
        )
    require_int("seed", seed)
    rng = torch.Generator().manual_seed(seed)
    vocab = _vocab()
    num_stories = num_train + num_test
    lengths = torch.randint(min_sentences, max_sentences + 1, (num_stories,), generator=rng)
    single = torch.full((num_stories,), task == 1)  # (num_stories,): one-fact questions
    num_single = round(single_fact_fraction * num_train)
    single[torch.randperm(num_train, generator=rng)[:num_single]] = True
    made = [
        _story(task, 1 if one else 2, int(n), world, rng)
        for n, one in zip(lengths.tolist(), single.tolist())
    ]
    sentence_len = max(len(s) for story, *_ in made for s in story)
    question_len = max(len(question) for _, question, *_ in made)
    stories = torch.zeros(num_stories, max_sentences, sentence_len, dtype=torch.long)
    questions = torch.zeros(num_stories, question_len, dtype=torch.long)
    for b, (story, question, _, _) in enumerate(made):
        for t, sentence in enumerate(story):
            stories[b, t, : len(sentence)] = torch.tensor(vocab[sentence])
        questions[b, : len(question)] = torch.tensor(vocab[question])
    answers = torch.tensor([vocab[answer] for _, _, answer, _ in made])
    supporting = torch.tensor([facts for *_, facts in made])
    num_facts = (supporting >= 0).sum(-1)
    return BabiData(stories, questions, answers, supporting, num_facts, lengths, vocab, num_train)
