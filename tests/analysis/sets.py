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
* ``brand_emotions``: "Judge Emotion About Brands and Products" — 9,093 tweets about Apple and
  Google products (SXSW, March 2011), each labelled by Crowdflower contributors for the
  emotion it shows towards a brand or product; published by CrowdFlower on data.world
  (``crowdflower/brands-and-product-emotions``) as Public Domain. The shipped classifier
  is trained on it (with ``care_dev``). Read from ``WATCHFLOOR_BRAND_EMOTIONS`` or
  ``.peers/brands/``, never stored in the repository.
* ``apple_tweets``: "Apple Twitter Sentiment" — 3,886 tweets with ``#AAPL`` or ``@apple``
  (December 2014) labelled negative/neutral/positive about Apple by Crowdflower
  contributors (data.world ``crowdflower/apple-twitter-sentiment``; its licence is not
  stated where it is published, so nothing shipped is built from it). The classifier's
  regularisation and the rules added with it were chosen on it. Read from
  ``WATCHFLOOR_APPLE_TWEETS`` or ``.peers/apple/``.
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


PEERS = DATA.parent.parent.parent / ".peers"
#: the public sets read from outside the repository: name → (environment variable, default
#: path, where to get it)
PUBLIC_SETS = {
    "airline_tweets": (AIRLINE_ENV, PEERS / "airline" / "Tweets.csv", AIRLINE_SOURCE),
    "brand_emotions": (
        "WATCHFLOOR_BRAND_EMOTIONS",
        PEERS / "brands" / "judge-1377884607_tweet_product_company.csv",
        "judge-1377884607_tweet_product_company.csv of"
        " https://data.world/crowdflower/brands-and-product-emotions (Public Domain): set"
        " WATCHFLOOR_BRAND_EMOTIONS to its path or put it in .peers/brands/",
    ),
    "apple_tweets": (
        "WATCHFLOOR_APPLE_TWEETS",
        PEERS / "apple" / "Apple-Twitter-Sentiment-DFE.csv",
        "Apple-Twitter-Sentiment-DFE.csv of https://data.world/crowdflower/apple-twitter-sentiment:"
        " set WATCHFLOOR_APPLE_TWEETS to its path or put it in .peers/apple/",
    ),
}


def public_path(name: str) -> Path | None:
    """Where one of :data:`PUBLIC_SETS` is, if it is here."""
    env, default, _ = PUBLIC_SETS[name]
    named = os.environ.get(env)
    path = Path(named) if named else default
    return path if path.is_file() else None


def airline_path() -> Path | None:
    """Where the airline tweets are, if they are here."""
    return public_path("airline_tweets")


def public_set(name: str, path: Path) -> list[tuple[str, str]]:
    """(label, text) of one of :data:`PUBLIC_SETS`: its labelled rows, nothing else."""
    if name == "airline_tweets":
        return airline_tweets(path)
    # both Crowdflower exports are Latin-1 with Windows line ends
    with path.open(encoding="latin-1", newline="") as f:
        rows = list(csv.DictReader(f))
    if name == "apple_tweets":
        labels = {"1": "negative", "3": "neutral", "5": "positive"}
        pairs = [(labels.get(r.get("sentiment", "")), r.get("text", "")) for r in rows]
    else:
        labels = {
            "Negative emotion": "negative",
            "No emotion toward brand or product": "neutral",
            "Positive emotion": "positive",
        }  # "I can't tell" is no label
        key = "is_there_an_emotion_directed_at_a_brand_or_product"
        pairs = [(labels.get(r.get(key, "")), r.get("tweet_text", "")) for r in rows]
    return [(g, html.unescape(t)) for g, t in pairs if g and t]


def airline_tweets(path: Path) -> list[tuple[str, str]]:
    """(label, text) of every tweet of the Twitter US Airline Sentiment set."""
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["airline_sentiment"], html.unescape(row["text"])) for row in csv.DictReader(f)]
