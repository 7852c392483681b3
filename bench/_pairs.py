"""Public sets of short posts labelled by people: which posts say the same thing.

Read by ``bench/stories.py`` from a path given on its command line or in the environment,
never shipped: their texts are other people's tweets, and neither set states a licence.

* **PIT-2015** (SemEval-2015 Task 1, Twitter Paraphrase Corpus; Xu, Callison-Burch and
  Dolan): sentences of tweets on one trending topic, paired with another of the same topic.
  ``dev.data`` (4,727 pairs): five Mechanical Turk workers each, ``(n, m)`` with ``n``
  saying paraphrase; 3–5 of 5 is a paraphrase, 0–1 is not, 2 is debatable and dropped.
  ``test.data`` (972 pairs, tweets of another time): one expert's 0–5; 4–5 is a paraphrase,
  0–2 is not, 3 is dropped (the official evaluation, 838 pairs). Columns: topic id, topic
  name, sentence 1, sentence 2, label, then the tagged sentences.
* **Twitter URL Corpus** (Lan, Qiu, He and Xu, EMNLP 2017): tweets linking to one news
  article, each pair rated by six workers: ``sentence1 \\t sentence2 \\t (n,6) \\t url``;
  4–6 of 6 is a paraphrase, 0–2 is not, 3 is dropped (its test set: 9,324 pairs).
* Any other pair file as ``text_a \\t text_b \\t 0|1``, and cluster files as
  ``cluster \\t text``: one post a line, the posts of one cluster telling one story.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_VOTES = re.compile(r"^\(\s*(\d)\s*,\s*(\d)\s*\)$")


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    same: bool
    #: what both posts are about, where the set says (PIT-2015: the trend's name)
    topic: str = ""


def _verdict(label: str, pit: bool) -> bool | None:
    """A pair's label as paraphrase or not, or None when the raters were split."""
    label = label.strip()
    votes = _VOTES.match(label)
    if votes:
        yes, second = int(votes[1]), int(votes[2])
        if second == 6:  # Twitter URL Corpus: (yes, 6)
            return True if yes >= 4 else False if yes <= 2 else None
        # PIT-2015 train and dev: (yes, no) of five
        return True if yes >= 3 else False if yes <= 1 else None
    if pit and label in ("0", "1", "2", "3", "4", "5"):  # PIT-2015 test: an expert's 0-5
        return True if label >= "4" else False if label <= "2" else None
    if label.lower() in ("0", "1", "true", "false"):  # a plain pair file
        return label.lower() in ("1", "true")
    raise ValueError(f"not a pair label: {label!r}")


def read_pairs(path: Path) -> list[Pair]:
    """The labelled pairs of one file, debatable ones dropped."""
    out: list[Pair] = []
    for cols in _rows(path):
        pit = len(cols) >= 5 and cols[0].isdigit()  # topic id, topic, a, b, label, tags
        if pit:
            topic, a, b, label = cols[1], cols[2], cols[3], cols[4]
        elif len(cols) >= 3:  # Twitter URL Corpus, or a plain pair file
            topic, a, b, label = "", cols[0], cols[1], cols[2]
        else:
            raise ValueError(f"{path}: a pair line has at least three columns: {cols!r}")
        same = _verdict(label, pit)
        if same is not None:  # as a source hands text on: entities ("&rsquo;") decoded
            out.append(Pair(_clean(a), _clean(b), same, topic.strip()))
    return out


def _clean(text: str) -> str:
    return html.unescape(text).strip()


def read_clusters(path: Path) -> list[tuple[str, str]]:
    """``(cluster, text)`` for every post of a cluster file."""
    out = []
    for cols in _rows(path):
        if len(cols) < 2:
            raise ValueError(f"{path}: a cluster line is 'cluster<TAB>text': {cols!r}")
        out.append((cols[0].strip(), _clean(cols[1])))
    return out


def _rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.strip():
                yield line.split("\t")


def pit_files(where: Path) -> list[Path]:
    """PIT-2015's labelled splits under ``where`` (a folder or one of its files)."""
    if where.is_file():
        return [where]
    names = ("train.data", "dev.data", "test.data")
    return [p for p in (where / n for n in names) if p.is_file()] if where.is_dir() else []


ROOT = Path(__file__).resolve().parent.parent
PIT_ENV = "WATCHFLOOR_PIT2015"
PIT_SOURCE = (
    "SemEval-2015 Task 1 (PIT-2015), github.com/cocoxu/SemEval-PIT2015: unpack"
    " data/SemEval-PIT2015-github.zip and put its data/*.data in .peers/pit2015/, or set"
    f" {PIT_ENV} to that folder or to one .data file"
)
URL_ENV = "WATCHFLOOR_TWITTER_URL"
URL_SOURCE = (
    "Twitter URL Corpus (Lan et al., EMNLP 2017), github.com/lanwuwei/Twitter-URL-Corpus"
    " (its authors send the set; castorini/data's twitterPPDB/Twitter_URL_Corpus_testNew"
    ".larger.txt is its test file): put it in .peers/twitter-url/Twitter_URL_Corpus_test.txt"
    f" or set {URL_ENV} to its path"
)


def public_sets() -> tuple[dict[str, Path], dict[str, str]]:
    """The public pair sets at hand (name → file), and where to get the missing ones."""
    found: dict[str, Path] = {}
    missing: dict[str, str] = {}
    named = os.environ.get(PIT_ENV)
    pit = pit_files(Path(named) if named else ROOT / ".peers" / "pit2015")
    for path in pit:
        found[f"pit2015_{path.stem}"] = path
    if not pit:
        missing["pit2015"] = PIT_SOURCE
    named = os.environ.get(URL_ENV)
    url = Path(named) if named else ROOT / ".peers" / "twitter-url" / "Twitter_URL_Corpus_test.txt"
    if url.is_file():
        found["twitter_url_test"] = url
    else:
        missing["twitter_url_test"] = URL_SOURCE
    return found, missing
