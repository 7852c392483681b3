"""Incremental story detection: each new public post joins the story of the recent posts it
repeats or paraphrases, in the same transaction that stores it.

Why MinHash LSH, and why rensa: the Jaccard similarity of two posts' shingles
(:mod:`app.stories.features`) is estimated from 96 hash minima, and an LSH index of 32
bands of 3 finds the recent posts likely above the threshold in a few dictionary look-ups,
so the cost of one post does not grow with the number stored. rensa (Rust) does the
hashing and the index at about 7 µs a post; datasketch's pure-Python MinHash took about
330 µs, too slow for the ingest rate (``bench/stories.py`` measures it).

Bounds: the index holds at most ``max_slots`` recent posts and none older than
``expire_s``; a post that is a near-exact copy of one indexed joins without being indexed
itself; at most ``max_candidates`` candidates are verified per post. At start the index is
rebuilt from the newest stored mentions, so a restart neither forgets nor duplicates.

A post joins the story of its most similar indexed post in a story when their Jaccard
reaches ``threshold`` (estimated by the index to find candidates, then counted exactly on
their features) and the post is like the story's anchor too (``anchor_threshold``); to be
alike, two posts must also share something besides the names every post of the moment
carries (the topics' query terms, and stems most of the last few posts say whatever they
tell: :class:`~app.stories.features.RecentStems`), so that what a story shares is what its
posts say, not whom they are about. The anchor is the post the story began with, and it
never moves; against it a query term counts as one word, not as its spelling too (every
post of the topic spells "Lumio X" alike, and "is it safe to charge my Lumio X
overnight?" was as near "my Lumio X is overheating while charging" as a paraphrase). Likeness is not transitive: A like B and B like C says nothing of A and C, and a story that took whatever was
like any member chained everyday posts that share a detail or two ("the camera", "in
Lisbon", "browsing colours") into stories of a thousand that said nothing in common. Held
to its anchor, every member is near the story's start. Lone posts the newcomer matches join
with it on the same condition. When it matches posts of two stories at ``merge_threshold``
or more, the two merge (the smaller into the larger) only if their anchors are alike too,
and the larger's anchor stays: merged or not, every member is at most two steps from the
anchor. The label (the member most often matched) is only shown; it never decides who
joins. A story goes quiet when nobody repeats it and expires (leaves the index) after
``expire_s``.

Private posts (direct messages, followers-only) are never grouped: a story is content for
a wall, and a private post never is.
"""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rensa import RMinHash, RMinHashLSH

from app.analysis.tokens import Doc, trend_terms
from app.model import Mention
from app.store.schema import ALL
from app.stories.features import Parts, RecentStems, Shingler, jaccard

NUM_PERM = 96
BANDS = 32
SEED = 1729
#: how many of a story's authors with most reach are kept
TOP_AUTHORS = 5
#: seconds of data between sweeps of the stories kept in memory and in the store
SWEEP_S = 600.0
#: a label is at most this long (the wall cuts it anyway; the mention keeps the whole text)
LABEL_MAX = 280


@dataclass(frozen=True, slots=True)
class StoryParams:
    """How alike two posts must be, and how much the detector keeps in memory."""

    threshold: float = 0.4
    #: a post of fewer than ``short_stems`` stems ("love this beer") needs this much
    short_threshold: float = 0.6
    short_stems: int = 4
    merge_threshold: float = 0.6
    #: a post like one member of a story must be this like the post the story began with
    #: (its anchor), and two stories merge only if their anchors are
    anchor_threshold: float = 0.3
    #: at or above this a post is a copy: it joins without being indexed itself
    copy_threshold: float = 0.9
    #: a stem in ``common_share`` of the last ``recent_posts`` distinct posts is a name
    #: (a trend's, a product's): posts alike must share something besides the names
    recent_posts: int = 5
    common_share: float = 0.8
    name_groups: int = 3
    #: a candidate's estimated Jaccard must reach this to be compared exactly
    minhash_gate: float = 0.3
    max_slots: int = 50_000
    max_candidates: int = 10
    expire_s: float = 24 * 3600.0
    #: a story quiet this long leaves the store (its mentions stay, as retention keeps them)
    keep_s: float = 30 * 86400.0


@dataclass(slots=True)
class _Slot:
    """An indexed post: enough to start a story with it later, without reading it back."""

    key: int
    mention_id: str
    ts: float
    minhash: RMinHash
    text: str
    network: str
    author: str
    followers: int
    topics: tuple[str, ...]
    label: str
    story: int | None = None
    hits: int = 0
    #: says little (few stems): it joins only a close match
    short: bool = False
    #: its features stem by stem (which of its stems are names changes with the stream)
    parts: Parts = ()


@dataclass(slots=True)
class Story:
    """A story's figures, kept in memory while it may still grow."""

    id: int
    label: str
    label_mention: str
    first_ts: float
    last_ts: float
    size: int = 0
    sentiment: dict[str, int] = field(default_factory=dict)
    networks: dict[str, int] = field(default_factory=dict)
    topics: dict[str, int] = field(default_factory=dict)
    #: author → (followers, network, the author as stored); only the ones with most reach
    #: are kept
    authors: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    label_hits: int = -1
    #: the least reach among the kept authors once the list is full: anyone below it
    #: would leave at once, so they are turned away without a search
    floor: int = -1
    #: the authors as stored, until they change (they rarely do once the list is full)
    authors_json: str | None = None

    def add(self, ts: float, label: str, network: str, author: str, followers: int,
            topics: Sequence[str]) -> None:  # fmt: skip
        self.size += 1
        if ts < self.first_ts:
            self.first_ts = ts
        if ts > self.last_ts:
            self.last_ts = ts
        sentiment, networks = self.sentiment, self.networks
        sentiment[label] = sentiment.get(label, 0) + 1
        networks[network] = networks.get(network, 0) + 1
        if topics:
            counts = self.topics
            for topic in topics:
                counts[topic] = counts.get(topic, 0) + 1
        if author and followers >= self.floor:
            self._author(author, followers, network)

    def _author(self, author: str, followers: int, network: str) -> None:
        if followers < self.floor:  # it would be the first to leave
            return
        authors = self.authors
        known = authors.get(author)
        if known is None or known[0] < followers:
            # encoded once, as json.dumps(..., ensure_ascii=False) writes it: the list is
            # written each time it changes, most authors in it unchanged
            entry = f"[{_string(author)}, {_string(network)}, {int(followers)}]"
            authors[author] = (followers, network, entry)
            self.authors_json = None
            if len(authors) > TOP_AUTHORS:
                del authors[min(authors, key=lambda a: authors[a][0])]
            if len(authors) >= TOP_AUTHORS:
                self.floor = min(v[0] for v in authors.values())

    def absorb(self, other: Story) -> None:
        self.size += other.size
        self.first_ts = min(self.first_ts, other.first_ts)
        self.last_ts = max(self.last_ts, other.last_ts)
        for mine, theirs in ((self.sentiment, other.sentiment), (self.networks, other.networks),
                             (self.topics, other.topics)):  # fmt: skip
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        for author, (followers, network, _) in other.authors.items():
            self._author(author, followers, network)
        if other.label_hits > self.label_hits:
            self.label, self.label_mention, self.label_hits = (
                other.label, other.label_mention, other.label_hits)  # fmt: skip

    def row(self) -> tuple[object, ...]:
        s = self.sentiment
        if self.authors_json is None:
            authors = sorted(self.authors.values(), key=_reach, reverse=True)
            self.authors_json = "[" + ", ".join([a[2] for a in authors]) + "]"
        return (
            self.id, self.label, self.label_mention, self.size, self.first_ts, self.last_ts,
            s.get("positive", 0), s.get("neutral", 0), s.get("negative", 0),
            s.get("unscored", 0), _counts(self.networks), _counts(self.topics),
            self.authors_json,
        )  # fmt: skip

    @classmethod
    def from_row(cls, r: sqlite3.Row) -> Story:
        story = cls(r["id"], r["label"], r["label_mention"], r["first_ts"], r["last_ts"],
                    size=r["size"])  # fmt: skip
        story.sentiment = {"positive": r["pos"], "neutral": r["neu"], "negative": r["neg"],
                           "unscored": r["unscored"]}  # fmt: skip
        story.networks = json.loads(r["networks"])
        story.topics = json.loads(r["topics"])
        story.authors_json = r["authors"]
        for author, network, followers in json.loads(r["authors"]):
            f = int(followers or 0)
            story.authors[author] = (f, network, f"[{_string(author)}, {_string(network)}, {f}]")
        if len(story.authors) >= TOP_AUTHORS:
            story.floor = min(v[0] for v in story.authors.values())
        return story


#: one encoder each, made once (``json.dumps`` with options makes a new one every call)
_encode = json.JSONEncoder().encode
_encode_text = json.JSONEncoder(ensure_ascii=False).encode
#: one string as JSON, as ``_encode_text`` writes it
_string: Callable[[str], str] = json.encoder.encode_basestring


def _reach(author: tuple[int, str, str]) -> int:
    return author[0]


#: names (networks, topics) as JSON strings: a story's counts are written every batch it
#: grows in, and its names are the same few each time
_NAMES: dict[str, str] = {}


def _counts(counts: dict[str, int]) -> str:
    """``{name: n}`` as ``json.dumps`` writes it, names encoded once (a few times faster)."""
    names = _NAMES
    parts = []
    for name, n in counts.items():
        encoded = names.get(name)
        if encoded is None:
            if len(names) > 10_000:
                names.clear()
            encoded = names[name] = _encode(name)
        parts.append(f"{encoded}: {n}")
    return "{" + ", ".join(parts) + "}"


_UPSERT_STORY = """
INSERT INTO stories (id, label, label_mention, size, first_ts, last_ts, pos, neu, neg,
    unscored, networks, topics, authors)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET label = excluded.label, label_mention = excluded.label_mention,
    size = excluded.size, first_ts = excluded.first_ts, last_ts = excluded.last_ts,
    pos = excluded.pos, neu = excluded.neu, neg = excluded.neg, unscored = excluded.unscored,
    networks = excluded.networks, topics = excluded.topics, authors = excluded.authors
"""

_UPSERT_ROLLUP = """
INSERT INTO story_rollups (topic, bucket, story_id, n) VALUES (?, ?, ?, ?)
ON CONFLICT (topic, bucket, story_id) DO UPDATE SET n = n + excluded.n
"""


#: (a post's topics, minute, story) → posts, for ``story_rollups``
_Rollups = dict[tuple[tuple[str, ...], int, int], int]


class StoryDetector:
    """The in-memory index of recent posts and the stories they form (writer thread only)."""

    def __init__(self, ignore: Iterable[str] = (), params: StoryParams | None = None) -> None:
        """``ignore``: the topics' query terms (every post of a topic says them)."""
        self.params = params or StoryParams()
        self._shingler = Shingler(ignore)
        p = self.params
        self._recent = RecentStems(p.recent_posts, p.common_share, p.name_groups,
                                   self._shingler.query_stems)  # fmt: skip
        #: the last slot whose features were worked out afresh (not a copy's)
        self._fresh: _Slot | None = None
        self._lsh = RMinHashLSH(threshold=self.params.threshold, num_perm=NUM_PERM,
                                num_bands=BANDS)  # fmt: skip
        self._slots: dict[int, _Slot] = {}
        self._order: deque[int] = deque()
        self._stories: dict[int, Story] = {}
        #: merged story → the story it joined (followed until a live one)
        self._merged: dict[int, int] = {}
        #: terms of recent posts → the first post with them, so copies skip the hashing
        self._copies: dict[tuple[str, ...], _Slot] = {}
        #: terms that say too little to be grouped ("lol 😂"), so their repeats skip the shingles
        self._silent: set[tuple[str, ...]] = set()
        self._next_key = 0
        self._next_story = 1
        self._swept = self._pruned = float("-inf")
        #: the post each story began with: every member is near it (kept after it leaves
        #: the index, for as long as the story is kept)
        self._anchor: dict[int, _Slot] = {}
        self._loaded = False

    # -- ingest ----------------------------------------------------------------------

    def add(self, conn: sqlite3.Connection, mentions: Sequence[Mention]) -> set[int]:
        """Group freshly stored mentions into stories, inside the caller's transaction.

        Returns the ids of the stories that changed.
        """
        if not self._loaded:  # this batch is stored already: it is not history
            self.rebuild(conn, skip={m.id for m in mentions})
        members: list[tuple[str, int, float]] = []
        rollups: _Rollups = {}
        touched: set[int] = set()
        moved: list[tuple[int, int]] = []
        newest = 0.0
        copies, slots, stories = self._copies, self._slots, self._stories
        for m in mentions:
            if m.private:
                continue
            ts = m.ts
            if ts > newest:
                newest = ts
            terms = tuple(m.terms) or tuple(
                trend_terms(Doc.from_text(f"{m.title}\n{m.text}" if m.title else m.text))
            )
            same = copies.get(terms)
            if same is not None and same.key in slots:
                # a copy of an indexed post joins its story, or starts one with it if it
                # was alone (nothing else it is like was, or it would be in a story): no
                # signature, query, index entry or slot (most of a busy hour's posts)
                self._next_key += 1
                same.hits += 1
                if same.story is None:
                    target = self._start(same, members, rollups)
                else:
                    target = self._root(same.story)
                story = stories[target]
                if same.hits > story.label_hits:
                    self._set_label(story, same)
                self._join(target, m.id, ts, m.sentiment_label, m.network, m.author,
                           m.author_followers or 0, tuple(m.topics), members, rollups)  # fmt: skip
                touched.add(target)
                continue
            slot = self._slot(m.id, ts, terms, m.text, m.network, m.author,
                              m.author_followers or 0, tuple(m.topics), m.sentiment_label)  # fmt: skip
            if slot is None:
                continue
            self._place(slot, members, rollups, touched, moved)
            if self._fresh is slot:
                self._recent.add(slot.parts, self._group(slot))
        if newest:
            self._expire(newest, keep=touched)
        self._write(conn, members, rollups, touched, moved)
        if newest:
            self._prune(conn, newest)
        return touched

    def _slot(self, mention_id: str, ts: float, terms: Sequence[str], text: str, network: str,
              author: str, followers: int, topics: tuple[str, ...], label: str) -> _Slot | None:  # fmt: skip
        key_terms = tuple(terms)
        # a copy of a recent post (a boost, a copy-paste campaign) reuses its signature:
        # the same terms make the same one
        same = self._copies.get(key_terms)
        fresh = same is None
        if same is not None:
            mh, short, parts = same.minhash, same.short, same.parts
        else:
            if key_terms in self._silent:
                return None
            shingles = self._shingler.shingles(terms)
            if not shingles:
                if len(self._silent) >= self.params.max_slots:
                    self._silent.clear()
                self._silent.add(key_terms)
                return None
            mh = RMinHash(num_perm=NUM_PERM, seed=SEED)
            mh.update(shingles)
            parts = self._shingler.last_parts
            query = self._shingler.query_stems
            said = sum(1 for p in parts if p[0] not in query)
            short = said < self.params.short_stems
        key = self._next_key
        self._next_key += 1
        slot = _Slot(key, mention_id, ts, mh, text[:LABEL_MAX], network, author, followers,
                     topics, label, short=short, parts=parts)  # fmt: skip
        if fresh:
            self._fresh = slot
            if len(self._copies) >= self.params.max_slots:
                self._copies.clear()
            self._copies[key_terms] = slot
        return slot

    def _group(self, slot: _Slot) -> int:
        """What ``slot`` tells: its story, or itself alone."""
        return self._root(slot.story) if slot.story is not None else -1 - slot.key

    @staticmethod
    def _set_label(story: Story, slot: _Slot) -> None:
        story.label, story.label_mention, story.label_hits = slot.text, slot.mention_id, slot.hits

    def _near_anchor(self, story_id: int, slot: _Slot,
                     mine: tuple[set[str], set[str]] | None = None) -> bool:  # fmt: skip
        """Is ``slot`` near the post ``story_id`` began with (or is it that post)?"""
        anchor = self._anchor.get(story_id)
        if anchor is None or anchor is slot:
            return True
        return self._alike(slot, anchor, (mine or self._recent.features(slot.parts))[1])

    def _alike(self, slot: _Slot, anchor: _Slot, said: set[str] | None = None) -> bool:
        """Does ``slot`` tell what ``anchor`` (a story's first post) does? Alike at
        ``anchor_threshold``, a query term counted as one word, and sharing more than names."""
        recent = self._recent
        if said is None:
            said = recent.features(slot.parts)[1]
        if said.isdisjoint(recent.features(anchor.parts)[1]):
            return False
        alike = jaccard(recent.spoken(slot.parts), recent.spoken(anchor.parts))
        return alike >= self.params.anchor_threshold

    def _root(self, story: int) -> int:
        while story in self._merged:
            story = self._merged[story]
        return story

    def _place(self, slot: _Slot, members: list[tuple[str, int, float]], rollups: _Rollups,
               touched: set[int], moved: list[tuple[int, int]]) -> None:  # fmt: skip
        """Join the story of the most similar indexed post (or start one with it).

        A copy of an indexed post in a story never comes here: :meth:`add` joins it.
        """
        p = self.params
        matches: list[tuple[float, _Slot]] = []
        features = self._recent.features
        mine: tuple[set[str], set[str]] | None = None
        best_j = 0.0
        for key in self._lsh.query(slot.minhash)[: p.max_candidates]:
            other = self._slots.get(key)
            if other is None or other.ts < slot.ts - p.expire_s:  # expired, not dropped yet
                continue
            j = slot.minhash.jaccard(other.minhash)
            if j < p.minhash_gate:
                continue
            # alike, and in more than the names every post of the moment carries
            if mine is None:
                mine = features(slot.parts)
            every, said = features(other.parts)
            w = jaccard(mine[0], every)
            if (w >= (p.short_threshold if slot.short or other.short else p.threshold)
                    and not mine[1].isdisjoint(said)):  # fmt: skip
                matches.append((w, other))
                if j > best_j:
                    best_j = j
        if not matches or mine is None:
            self._index(slot)
            return
        matches.sort(key=lambda x: -x[0])
        # the story to join: that of the most similar post in one (a story beats a lone
        # post) whose anchor the newcomer is near too; a likeness to a member alone is a
        # bridge, and bridges chain unrelated posts into one story
        chosen: int | None = None
        for _, o in matches:
            if o.story is not None:
                sid = self._root(o.story)
                if self._near_anchor(sid, slot, mine):
                    chosen = sid
                    break
        if chosen is None:
            lone = [o for _, o in matches if o.story is None]
            if not lone:
                self._index(slot)
                return
            chosen = self._start(lone[0], members, rollups)
        target = chosen
        for j, other in matches:
            other.hits += 1
            if other.story is None:
                if self._near_anchor(target, other):
                    self._join_slot(other, target, members, rollups)
            elif j >= p.merge_threshold:
                root = self._root(other.story)
                if root != target and self._anchors_alike(root, target):
                    target = self._merge(root, target, moved, touched)
            story = self._stories[target]
            if (other.hits > story.label_hits and other.story is not None
                    and self._root(other.story) == target):  # fmt: skip
                self._set_label(story, other)
        self._join_slot(slot, target, members, rollups)
        touched.add(target)
        if best_j < p.copy_threshold:
            self._index(slot)

    def _anchors_alike(self, a: int, b: int) -> bool:
        first, second = self._anchor.get(a), self._anchor.get(b)
        if first is None or second is None:
            return False
        return self._alike(first, second)

    def _index(self, slot: _Slot) -> None:
        self._lsh.insert(slot.key, slot.minhash)
        self._slots[slot.key] = slot
        self._order.append(slot.key)
        if len(self._order) > self.params.max_slots:
            self._drop(self._order.popleft())

    def _drop(self, key: int) -> None:
        slot = self._slots.pop(key, None)
        if slot is not None:
            self._lsh.remove(key)

    def _start(self, first: _Slot, members: list[tuple[str, int, float]],
               rollups: _Rollups) -> int:  # fmt: skip
        story = Story(self._next_story, first.text, first.mention_id, first.ts, first.ts)
        self._next_story += 1
        self._stories[story.id] = story
        self._anchor[story.id] = first
        self._join_slot(first, story.id, members, rollups)
        return story.id

    def _join_slot(self, slot: _Slot, story_id: int, members: list[tuple[str, int, float]],
                   rollups: _Rollups) -> None:  # fmt: skip
        slot.story = story_id
        self._join(story_id, slot.mention_id, slot.ts, slot.label, slot.network, slot.author,
                   slot.followers, slot.topics, members, rollups)  # fmt: skip

    def _join(self, story_id: int, mention_id: str, ts: float, label: str, network: str,
              author: str, followers: int, topics: tuple[str, ...],
              members: list[tuple[str, int, float]], rollups: _Rollups) -> None:  # fmt: skip
        self._stories[story_id].add(ts, label, network, author, followers, topics)
        members.append((mention_id, story_id, ts))
        # counted per topic list here, per topic when written: one count a post
        k = (topics, int(ts // 60) * 60, story_id)
        rollups[k] = rollups.get(k, 0) + 1

    def _merge(self, a: int, b: int, moved: list[tuple[int, int]], touched: set[int]) -> int:
        """The smaller of two stories joins the larger; returns the one that stays."""
        big, small = (a, b) if self._stories[a].size >= self._stories[b].size else (b, a)
        self._stories[big].absorb(self._stories.pop(small))
        self._anchor.pop(small, None)  # the larger one's anchor stays
        self._merged[small] = big
        moved.append((small, big))
        touched.discard(small)
        touched.add(big)
        return big

    def _expire(self, now: float, keep: set[int] | frozenset[int] = frozenset()) -> None:
        """Posts older than the horizon leave the index; stories with no post left, memory
        — but for those in ``keep`` (this batch's, still to be written: a late copy in a
        batch that reaches a day further starts a story none of whose posts stay indexed)."""
        horizon = now - self.params.expire_s
        order, slots = self._order, self._slots
        while order and (order[0] not in slots or slots[order[0]].ts < horizon):
            self._drop(order.popleft())
        if now - self._swept < SWEEP_S and len(self._stories) <= 2 * self.params.max_slots:
            return
        self._swept = now
        live = {self._root(s.story) for s in slots.values() if s.story is not None}
        live |= {self._root(k) for k in keep}
        self._stories = {k: v for k, v in self._stories.items() if k in live}
        self._anchor = {k: v for k, v in self._anchor.items() if k in live}
        self._merged = {k: v for k, v in self._merged.items() if self._root(v) in live}

    def _prune(self, conn: sqlite3.Connection, now: float) -> None:
        """Stories quiet for ``keep_s`` leave the store, with their members and rollups."""
        if now - self._pruned < SWEEP_S:
            return
        self._pruned = now
        horizon = now - self.params.keep_s
        conn.execute("DELETE FROM story_rollups WHERE bucket < ?", (horizon,))
        conn.execute(
            "DELETE FROM story_members WHERE story_id IN"
            " (SELECT id FROM stories WHERE last_ts < ?)",
            (horizon,),
        )
        conn.execute("DELETE FROM stories WHERE last_ts < ?", (horizon,))

    # -- storage ---------------------------------------------------------------------

    def _write(self, conn: sqlite3.Connection, members: list[tuple[str, int, float]],
               rollups: _Rollups, touched: set[int],
               moved: list[tuple[int, int]]) -> None:  # fmt: skip
        for small, big in moved:
            conn.execute("UPDATE story_members SET story_id = ? WHERE story_id = ?", (big, small))
            conn.execute(
                "INSERT INTO story_rollups (topic, bucket, story_id, n)"
                " SELECT topic, bucket, ?, n FROM story_rollups WHERE story_id = ? AND true"
                " ON CONFLICT (topic, bucket, story_id) DO UPDATE SET n = n + excluded.n",
                (big, small),
            )
            conn.execute("DELETE FROM story_rollups WHERE story_id = ?", (small,))
            conn.execute("UPDATE stories SET merged_into = ? WHERE id = ?", (big, small))
        # a story id of this batch changes only if it merged in this batch
        root = {small: self._root(small) for small, _ in moved}
        final = [(mid, root.get(sid, sid), ts) for mid, sid, ts in members] if root else members
        conn.executemany(
            "INSERT INTO story_members (mention_id, story_id, ts) VALUES (?, ?, ?)"
            " ON CONFLICT (mention_id) DO UPDATE SET story_id = excluded.story_id",
            final,
        )
        merged: dict[tuple[str, int, int], int] = {}
        for (topics, bucket, sid), n in rollups.items():
            sid = root.get(sid, sid)
            for topic in (ALL, *topics):
                k = (topic, bucket, sid)
                merged[k] = merged.get(k, 0) + n
        # in key order: each row lands next to the one before in the table's b-tree
        conn.executemany(_UPSERT_ROLLUP, [(*k, merged[k]) for k in sorted(merged)])
        conn.executemany(_UPSERT_STORY, [self._stories[root.get(s, s)].row() for s in touched])

    def rebuild(
        self, conn: sqlite3.Connection, now: float | None = None, skip: set[str] | None = None
    ) -> None:
        """Fill the index from the newest stored public mentions (at start), but ``skip``."""
        self._loaded = True
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM stories").fetchone()
        self._next_story = top + 1
        (newest,) = conn.execute("SELECT max(ts) FROM mentions").fetchone()
        if newest is None:
            return
        horizon = (now if now is not None else newest) - self.params.expire_s
        factory, conn.row_factory = conn.row_factory, sqlite3.Row
        try:
            rows = conn.execute(
                "SELECT m.id, m.text, m.title, m.ts, m.network, m.author, m.author_followers,"
                " m.topics, m.sentiment_label, sm.story_id FROM mentions m"
                " LEFT JOIN story_members sm ON sm.mention_id = m.id"
                " WHERE m.private = 0 AND m.ts >= ? ORDER BY m.rowid DESC LIMIT ?",
                (horizon, self.params.max_slots),
            ).fetchall()
            ids = {r["story_id"] for r in rows if r["story_id"] is not None}
            for start in range(0, len(ids), 500):
                chunk = sorted(ids)[start : start + 500]
                for r in conn.execute(
                    f"SELECT * FROM stories WHERE id IN ({','.join('?' * len(chunk))})", chunk
                ):
                    if r["merged_into"] is None:
                        self._stories[r["id"]] = Story.from_row(r)
                    else:
                        self._merged[r["id"]] = r["merged_into"]
        finally:
            conn.row_factory = factory
        for r in reversed(rows):
            if skip and r["id"] in skip:
                continue
            text = f"{r['title']}\n{r['text']}" if r["title"] else r["text"]
            slot = self._slot(r["id"], r["ts"], trend_terms(Doc.from_text(text)), r["text"],
                              r["network"], r["author"], r["author_followers"] or 0,
                              tuple(json.loads(r["topics"])), r["sentiment_label"])  # fmt: skip
            if slot is None:
                continue
            fresh = self._fresh is slot
            if r["story_id"] is not None:
                root = self._root(r["story_id"])
                if root in self._stories:
                    slot.story = root
                    # the anchor is not stored: the label (a member near it) stands in,
                    # else the oldest member still indexed
                    if self._stories[root].label_mention == slot.mention_id:
                        self._anchor[root] = slot
                    else:
                        self._anchor.setdefault(root, slot)
            if fresh:
                self._recent.add(slot.parts, self._group(slot))
            self._index(slot)
