"""Needs-response rules: which mentions go to the queue, how urgent they are, and why.

Only mentions about us (a topic of a queued kind, a mention of our account, or a
notification addressed to us) are queued; the reasons travel with the item so an
operator sees why it is there.

The priority is a ladder a care lead can read, one rung per kind of post. Reach (an
influential author) queues a post about us that is not addressed to us, and moves a
complaint up to P1, but never lifts praise or a question past a complaint:

* **P1** — a complaint that is very negative, or a complaint from an influential author;
* **P2** — any other complaint (the scorer calls it negative);
* **P3** — a question, or a post to our account that is neither complaint nor praise (it
  may be a complaint the scorer missed: a person reads it), or one in a language the
  scorer cannot read;
* **P4** — praise to our account: it stays in the queue, low (someone says thank you back).

The first reason says which rung and why, the rest are the facts it rests on. A ``?``
inside a link asks nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.analysis.tokens import without_links
from app.config import Brand, Rules, TopicKind
from app.model import UNSCORED, Mention, Priority

_VERY_NEGATIVE = -0.75


def normalise_handle(handle: str) -> str:
    """``Acme.bsky.social`` → ``@acme.bsky.social``; ``@Acme@mastodon.example`` kept whole."""
    handle = handle.strip().casefold()
    return handle if handle.startswith("@") else f"@{handle}"


class ResponseRules:
    def __init__(self, brand: Brand, rules: Rules, topic_kinds: dict[str, TopicKind]) -> None:
        self.rules = rules
        self.queued_topics = {
            name for name, kind in topic_kinds.items() if kind in rules.queue_kinds
        }
        full = {normalise_handle(a) for a in brand.accounts}
        # a Mastodon mention shows as "@acme" in the post text; accept the local part too
        local = {"@" + h.split("@")[1] for h in full if h.count("@") == 2}
        self.handles = frozenset(full | local)
        self.own_authors = frozenset(h.lstrip("@") for h in full) | frozenset(
            h.lstrip("@") for h in local
        )

    def judge(self, mention: Mention, tokens: Iterable[str]) -> None:
        """Set ``needs_response``, ``priority`` and ``reasons`` on an analysed mention."""
        if mention.author.casefold().lstrip("@") in self.own_authors:
            mention.needs_response, mention.priority, mention.reasons = False, Priority.LOW, []
            return
        addressed = mention.directed_at_us or not self.handles.isdisjoint(tokens)
        about_us = addressed or not self.queued_topics.isdisjoint(mention.topics)
        if not about_us:
            mention.needs_response, mention.priority, mention.reasons = False, Priority.LOW, []
            return
        facts: list[str] = []
        if addressed:
            facts.append("addressed to our account")
        asks = self.rules.questions and "?" in mention.text and "?" in without_links(mention.text)
        if asks:
            facts.append("asks us a question")
        score, label = mention.sentiment, mention.sentiment_label
        complaint = label != UNSCORED and (
            score <= self.rules.negative_threshold or label == "negative"
        )
        very = complaint and score <= _VERY_NEGATIVE
        if complaint:
            facts.append(f"{'very negative' if very else 'negative'} ({score:+.2f})")
        elif label == UNSCORED:
            facts.append(f"in a language not scored ({mention.language}): read it")
        elif label == "positive":
            facts.append(f"positive ({score:+.2f})")
        followers = mention.author_followers or 0
        threshold = self.rules.follower_threshold
        influential = bool(threshold) and followers >= threshold
        if influential:
            facts.append(f"influential author ({followers:,} followers)")
        if complaint and (very or influential):
            priority = Priority.URGENT
            headline = (
                "P1 · "
                + (
                    "a very negative complaint"
                    if very
                    else "a complaint from an influential author"
                )
                + ": answer first"
            )
        elif complaint:
            priority = Priority.HIGH
            headline = "P2 · a complaint: before questions and praise"
        elif asks:
            priority, headline = Priority.NORMAL, "P3 · a question for us"
        elif label == UNSCORED and addressed:
            priority, headline = (
                Priority.NORMAL,
                "P3 · to our account in a language not scored: read it",
            )
        elif (addressed or influential) and label != "positive":
            priority = Priority.NORMAL
            headline = (
                "P3 · to our account, neither complaint nor praise: read it"
                if addressed
                else "P3 · an influential author on us, neither complaint nor praise: read it"
            )
        elif addressed or influential:
            priority = Priority.LOW
            headline = "P4 · praise: thank them when time allows"
        else:
            # about us, not to us, asking nothing and no complaint: not ours to answer
            mention.needs_response, mention.priority, mention.reasons = False, Priority.LOW, []
            return
        mention.needs_response = True
        mention.reasons = [headline, *facts]
        mention.priority = int(priority)
