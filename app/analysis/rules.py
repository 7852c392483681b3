"""Needs-response rules: which mentions go to the queue, how urgent they are, and why.

Only mentions about us (a topic of a queued kind, a mention of our account, or a
notification addressed to us) are queued; the reasons travel with the item so an
operator sees why it is there.

Complaints and questions to us come before praise: a post the scorer calls negative
weighs more than a question, a question more than a bare mention of our account, and
praise addressed to us stays in the queue at the lowest priority (someone says thank you
back). A ``?`` inside a link asks nothing; a post in a language the scorer cannot read
is queued for a person to read.
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
        reasons: list[str] = []
        points = 0
        if about_us:
            if addressed:
                reasons.append("addressed to our account")
                points += 1
            if self.rules.questions and "?" in mention.text and "?" in without_links(mention.text):
                reasons.append("asks us a question")
                points += 1
            label = mention.sentiment_label
            if mention.sentiment <= _VERY_NEGATIVE:
                reasons.append(f"very negative ({mention.sentiment:+.2f})")
                points += 3
            elif mention.sentiment <= self.rules.negative_threshold or label == "negative":
                reasons.append(f"negative ({mention.sentiment:+.2f})")
                points += 2
            elif label == UNSCORED and addressed:
                reasons.append(f"in a language not scored ({mention.language}): read it")
                points += 1
            followers = mention.author_followers or 0
            if self.rules.follower_threshold and followers >= self.rules.follower_threshold:
                reasons.append(f"influential author ({followers:,} followers)")
                points += 2
        if points >= 5:
            priority = Priority.URGENT
        elif points >= 3:
            priority = Priority.HIGH
        elif points >= 2:
            priority = Priority.NORMAL
        else:
            priority = Priority.LOW  # tagged in passing: queued, answered when time allows
        needs = bool(reasons)
        mention.needs_response = needs
        mention.priority = int(priority)
        mention.reasons = reasons
