"""Shared fixtures: a tiny made-up corpus with exact answers, a hashing embedder, a built index,
and the real bundled model loaded once per session for the tests marked ``model``.

Fixture names are prefixed (``tiny_``) so they never shadow the module-level fixtures other test
files define for themselves (``corpus``, ``documents``, ``passages``, ``searcher``, ``store``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.embedders import HashingEmbedder, SentenceTransformerEmbedder
from qa.index import CorpusIndex, build_index
from qa.search import Searcher
from qa.settings import SearchSettings

# Three documents on unrelated topics, so a question with the right words has one exact answer.
# The beekeeping page keeps its web furniture (navigation, date, share buttons, an advert line)
# and an FAQ whose questions become sections.
BEEKEEPING = """\
Skip to content
Home » Garden » Bees
A Beginner's Guide to Beekeeping
Posted on May 2, 2024

Keeping honey bees in a backyard hive is easier than most people expect. A single colony needs \
a sunny spot sheltered from the wind, a source of fresh water within a short flight, and an \
inspection by the beekeeper every week or two during the warm season.

Choosing a Hive

The Langstroth hive is the most common design, with removable wooden frames stacked in boxes \
called supers. A top-bar hive is cheaper to build and lets the bees draw their own comb, but it \
yields less honey and is harder to move.

Harvesting Honey

Honey is ready to harvest when the bees have capped at least eighty percent of the cells with \
wax. Remove the frames on a calm afternoon, slice off the wax cappings with a warm knife, and \
spin the frames in an extractor.
Advertisement

Frequently Asked Questions

Do bee stings hurt?

A sting causes sharp pain and swelling for a day or two. Wearing a veil and gloves and moving \
slowly around the hive prevents most stings.

How much honey does one hive produce?

A strong colony in a good summer produces around twenty-five kilograms of surplus honey that \
the beekeeper can take without starving the bees.

Leave a Reply
Share this:
Facebook
© 2024 Garden Notes. All rights reserved.
"""

BREAD = """\
Baking Sourdough Bread

A sourdough starter is a living culture of wild yeast and lactic acid bacteria kept in a jar of \
flour and water. Feed the starter twice a day with equal weights of flour and water, and it \
will double in size within six hours when it is ready to bake with.

Mixing and Proofing

Mix the flour, water, salt and starter, then fold the dough every half hour for two hours to \
build gluten strength. Let the dough proof overnight in the refrigerator, where the cold slows \
fermentation and deepens the sour flavour.

Baking

Bake the loaf in a preheated Dutch oven at 250 degrees Celsius for twenty minutes with the lid \
on, which traps steam so the crust stays soft while the bread rises. Remove the lid and bake \
another twenty-five minutes until the crust is deep brown.
"""

BICYCLE = """\
Bicycle Maintenance Basics

Tyre Pressure

Road bicycle tyres should be inflated to between six and eight bar, while mountain bike tyres \
run at a much lower pressure of about two bar for grip on loose trails. Check the pressure with \
a gauge before every ride because tubes slowly lose air.

Chain Care

Clean the chain with a degreaser and a stiff brush whenever it looks black and gritty. After \
cleaning, apply one drop of chain lubricant to each roller, spin the pedals, and wipe off the \
excess so the chain does not collect dirt.

Brake Pads

Replace rim brake pads when the grooves in the rubber have worn away. Worn pads squeal, stop \
poorly in the rain, and can damage the wheel rims.
"""

TINY_DOCUMENTS = {
    "beekeeping.txt": BEEKEEPING,
    "bread.txt": BREAD,
    "bicycle.txt": BICYCLE,
}

# Questions whose words point at exactly one passage: (question, source, section).
LEXICAL_QUESTIONS = [
    ("When can I harvest honey from capped cells?", "beekeeping.txt", "Harvesting Honey"),
    ("Which hive design has removable wooden frames?", "beekeeping.txt", "Choosing a Hive"),
    ("Do bee stings hurt?", "beekeeping.txt", "Do bee stings hurt?"),
    ("How often should I feed a sourdough starter?", "bread.txt", ""),
    ("How long should the dough proof in the refrigerator?", "bread.txt", "Mixing and Proofing"),
    ("What pressure should road bicycle tyres be inflated to?", "bicycle.txt", "Tyre Pressure"),
    ("How do I clean a bicycle chain?", "bicycle.txt", "Chain Care"),
    ("When should I replace rim brake pads?", "bicycle.txt", "Brake Pads"),
]

# Hashing vectors carry no meaning: a question's cosine with its own answer passage is only
# about 0.08-0.6 here, and words none of the documents use score 0. This threshold separates the
# two on the tiny corpus (the real model's calibrated 0.35 is meaningless for hashed words).
TINY_THRESHOLD = 0.05
NONSENSE = "zebra xylophone"


def write_tiny_corpus(folder: Path) -> Path:
    """Write the tiny corpus into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TINY_DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A fresh copy of the tiny corpus (tests may edit it)."""
    return write_tiny_corpus(tmp_path / "corpus")


@pytest.fixture
def hashing_embedder() -> HashingEmbedder:
    """The deterministic stand-in embedder. 1024 buckets rather than the default 256: fewer hash
    collisions, so a word absent from the corpus does not land on a corpus word's bucket."""
    return HashingEmbedder(dim=1024)


@pytest.fixture
def tiny_index(tiny_corpus: Path, tmp_path: Path, hashing_embedder: HashingEmbedder) -> CorpusIndex:
    """The tiny corpus built into ``tmp_path/index`` (fresh per test: tests may damage it)."""
    return build_index(tiny_corpus, tmp_path / "index", hashing_embedder)


@pytest.fixture(scope="module")
def tiny_searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    """A read-only searcher over the tiny corpus, shared by a module's tests."""
    root = tmp_path_factory.mktemp("tiny")
    embedder = HashingEmbedder(dim=1024)
    index = build_index(write_tiny_corpus(root / "corpus"), root / "index", embedder)
    return Searcher(index, embedder, SearchSettings(abstain_threshold=TINY_THRESHOLD))


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once for every test marked ``model``."""
    embedder = SentenceTransformerEmbedder()
    embedder.warm_up()
    return embedder
