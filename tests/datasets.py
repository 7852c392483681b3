"""Public data sets the tests and benchmarks use, fetched from the package registry once.

The ``vaderSentiment==3.3.2`` source distribution carries 4,200 tweets rated by humans
(``additional_resources/hutto_ICWSM_2014.tar.gz`` → ``tweets_GroundTruth.txt``: id, mean
rating −4…4, text). It is downloaded with pip into ``.peers/`` (not committed).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".peers" / "vader"


def _sdist() -> Path:
    found = sorted(CACHE.glob("vaderSentiment-3.3.2.tar.gz"))
    if found:
        return found[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         "-d", str(CACHE), "vaderSentiment==3.3.2"],
        check=True,
    )  # fmt: skip
    return next(CACHE.glob("vaderSentiment-3.3.2.tar.gz"))


def vader_ground_truth() -> list[tuple[float, str]]:
    """(mean human rating −4…4, tweet text) for the 4,200 rated tweets."""
    target = CACHE / "tweets_GroundTruth.txt"
    if not target.exists():
        with tarfile.open(_sdist()) as outer:
            member = outer.extractfile(
                "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
            )
            assert member is not None
            with tarfile.open(fileobj=member) as inner:
                data = inner.extractfile("hutto_ICWSM_2014/tweets_GroundTruth.txt")
                assert data is not None
                target.write_bytes(data.read())
    rows = []
    for line in target.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.rstrip("\r").split("\t", 2)
        if len(parts) == 3:
            rows.append((float(parts[1]), parts[2]))
    return rows
