"""Human-rated and hand-labelled sentiment sets for the tests and ``bench/sentiment.py``.

* VADER's four rated sets (MIT, in the ``vaderSentiment==3.3.2`` source distribution,
  ``additional_resources/hutto_ICWSM_2014.tar.gz``): tweets, Amazon review snippets, movie
  review snippets, New York Times editorial snippets — a mean human rating −4…4 per text.
  A rating of at least :data:`RATED_BAND` counts as positive, at most −:data:`RATED_BAND`
  as negative, the rest neutral.
* ``care_dev`` and ``care_check`` (``tests/analysis/data``): customer-care posts addressed to
  brands, labelled by hand for this project. The care rules are tuned on ``care_dev`` only.
* ``care_fresh``: 66 more, written and labelled later (other brands, other wording) and
  committed before the triage ladder and any rule change that followed; never tuned on.
* ``airline_tweets``: the Twitter US Airline Sentiment set — 14,640 tweets to six US
  airlines (February 2015) labelled negative/neutral/positive by Crowdflower contributors
  ("Data for Everyone"; on Kaggle as ``crowdflower/twitter-airline-sentiment``, licence
  CC BY-NC-SA 4.0). Non-commercial: it is read only by the benchmark, from the file
  ``Tweets.csv`` named by ``WATCHFLOOR_AIRLINE_TWEETS`` or in ``.peers/airline/``; nothing
  shipped is built from it, and nothing is tuned on it.
"""

from __future__ import annotations

import csv
import html
import os
import tarfile
from pathlib import Path

from tests.datasets import CACHE, _sdist

DATA = Path(__file__).resolve().parent / "data"
RATED_BAND = 0.5
VADER_SETS = ("tweets", "amazonReviewSnippets", "movieReviewSnippets", "nytEditorialSnippets")
CARE_SETS = ("care_dev", "care_check", "care_fresh")
AIRLINE_ENV = "WATCHFLOOR_AIRLINE_TWEETS"
AIRLINE_SOURCE = (
    "Tweets.csv of https://www.kaggle.com/datasets/crowdflower/twitter-airline-sentiment"
    f" (CC BY-NC-SA 4.0): set {AIRLINE_ENV} to its path or put it in .peers/airline/"
)


def vader_rated(name: str) -> list[tuple[float, str]]:
    """(mean human rating −4…4, text) of one of VADER's rated sets."""
    target = CACHE / f"{name}_GroundTruth.txt"
    if not target.exists():
        with tarfile.open(_sdist()) as outer:
            member = outer.extractfile(
                "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
            )
            assert member is not None
            with tarfile.open(fileobj=member) as inner:
                data = inner.extractfile(f"hutto_ICWSM_2014/{name}_GroundTruth.txt")
                assert data is not None
                target.write_bytes(data.read())
    rows = []
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.rstrip("\r").split("\t", 2)
        if len(parts) == 3:
            rows.append((float(parts[1]), parts[2]))
    return rows


def rated_label(rating: float) -> str:
    if rating >= RATED_BAND:
        return "positive"
    if rating <= -RATED_BAND:
        return "negative"
    return "neutral"


def care_set(name: str) -> list[tuple[str, str]]:
    """(label, text) of a hand-labelled care set."""
    rows = []
    for line in (DATA / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


def airline_path() -> Path | None:
    """Where the airline tweets are, if they are here."""
    named = os.environ.get(AIRLINE_ENV)
    path = Path(named) if named else DATA.parent.parent.parent / ".peers" / "airline" / "Tweets.csv"
    return path if path.is_file() else None


def airline_tweets(path: Path) -> list[tuple[str, str]]:
    """(label, text) of every tweet of the Twitter US Airline Sentiment set."""
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["airline_sentiment"], html.unescape(row["text"])) for row in csv.DictReader(f)]
