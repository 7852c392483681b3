"""The topic query language: which mentions belong to a topic.

A query reads like a search on X/Twitter::

    acme OR #acme OR "acme phone" NOT hiring

means ``(acme OR #acme OR "acme phone") AND NOT hiring``.

Grammar (``OR``, ``AND`` and ``NOT`` are operators only in capitals; ``or`` is a word)::

    query   := all EOF
    all     := any ( [AND] any )*           adjacency means AND
    any     := unary ( OR unary )*          OR binds tighter than AND, as on X
    unary   := ( NOT | "-" ) unary | primary      NOT takes the next term or group;
                                                  "-" must touch it: -hiring, -(a OR b)
    primary := WORD | #HASHTAG | @HANDLE | "PHRASE" | ( all )

What each term matches (all case-insensitive, after the folding of
:mod:`app.analysis.tokens`, in any script):

* ``acme`` — the whole word anywhere: ``Acme``, ``#acme``, ``@acme``, ``acme's``,
  ``acme-powered``; not ``acmeless``.
* ``#acme`` — only the hashtag.
* ``@acme`` — a mention of the account ``acme`` on any server (``@acme``,
  ``@acme@mastodon.example``, ``@acme.bsky.social``); ``@acme@mastodon.example`` or
  ``@acme.bsky.social`` match exactly that account.
* ``"acme phone"`` — the words one after another (punctuation between them ignored;
  smart quotes “…” work too); inside a phrase ``#acme`` counts as the word ``acme`` and
  a handle must match exactly. A bare term that folds into several words (``acme.com``,
  ``acme-phone``) is a phrase too, as on the big networks.
* A term in a script written without spaces (Chinese, Japanese, Korean, Thai, Lao,
  Khmer, Myanmar) matches as a substring of the text: there are no word boundaries.

A query must look for something: one that matches a post containing none of its terms
(``NOT hiring``, ``acme OR -hiring``) would tag nearly every post, and is refused.
Errors are :class:`QueryError` with the 0-based position of the fault.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from app.analysis.tokens import Doc, has_unspaced_script, phrase_units, tokenize

__all__ = ["And", "Node", "Not", "Or", "Phrase", "Query", "QueryError", "Term", "parse"]

#: deepest nesting of parentheses accepted (keeps the parser and matcher off the stack limit)
MAX_DEPTH = 64

_QUOTES = frozenset('"“”„')
_DELIMITERS = frozenset("()") | _QUOTES

# ---------------------------------------------------------------------------- errors


class QueryError(ValueError):
    """A query that does not parse; ``position`` is a 0-based index into ``query``."""

    def __init__(self, message: str, position: int, query: str) -> None:
        super().__init__(message, position, query)
        self.message = message
        self.position = position
        self.query = query

    def __str__(self) -> str:
        shown = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in self.query)
        caret = _width(shown[: self.position])
        return f"{self.message} at position {self.position}\n  {shown}\n  {' ' * caret}^"


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide CJK counts two, combining marks none."""
    cols = 0
    for c in text:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me"):
            continue
        cols += 2 if unicodedata.east_asian_width(c) in "WF" else 1
    return cols


# ------------------------------------------------------------------------------ tree

TermKind = Literal["word", "hashtag", "handle", "substring"]


@dataclass(frozen=True, slots=True)
class Term:
    """One folded token; ``kind`` says how it is matched."""

    kind: TermKind
    value: str

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive tokens (as folded by the tokenizer), at least two."""

    tokens: tuple[str, ...]

    def __str__(self) -> str:
        return '"' + " ".join(self.tokens) + '"'


@dataclass(frozen=True, slots=True)
class Not:
    child: Node

    def __str__(self) -> str:
        inner = str(self.child)
        return f"NOT ({inner})" if isinstance(self.child, And | Or) else f"NOT {inner}"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " AND ".join(f"({c})" if isinstance(c, Or) else str(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]

    def __str__(self) -> str:
        return " OR ".join(f"({c})" if isinstance(c, And) else str(c) for c in self.children)


Node: TypeAlias = Term | Phrase | Not | And | Or
Matcher: TypeAlias = Callable[[Doc], bool]

# ------------------------------------------------------------------------------ lexer

_Kind = Literal["word", "phrase", "(", ")", "OR", "AND", "NOT", "-", "end"]


_OPERATORS: dict[str, _Kind] = {"OR": "OR", "AND": "AND", "NOT": "NOT"}


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: _Kind
    text: str
    pos: int


def _lex(query: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(_Lexeme("(" if c == "(" else ")", c, i))
            i += 1
        elif c in _QUOTES:
            end = next((j for j in range(i + 1, n) if query[j] in _QUOTES), -1)
            if end < 0:
                raise QueryError("unclosed quote", i, query)
            out.append(_Lexeme("phrase", query[i + 1 : end], i))
            i = end + 1
        elif c == "-":
            if i + 1 >= n or query[i + 1].isspace() or query[i + 1] == ")":
                raise QueryError("expected a term right after -", i + 1, query)
            out.append(_Lexeme("-", c, i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _DELIMITERS:
                j += 1
            word = query[i:j]
            out.append(_Lexeme(_OPERATORS.get(word, "word"), word, i))
            i = j
    out.append(_Lexeme("end", "", n))
    return out


# ----------------------------------------------------------------------------- parser


def _term(token: str) -> Term:
    if token[0] == "#":
        return Term("hashtag", token)
    if token[0] == "@":
        return Term("handle", token)
    if has_unspaced_script(token):
        return Term("substring", token)
    return Term("word", token)


def _atom(tokens: list[str]) -> Term | Phrase:
    """One token is a term; several (or a compound like ``acme-phone``) are a phrase."""
    if len(tokens) == 1:
        t = tokens[0]
        if t[0] in "#@" or ("'" not in t and "-" not in t):
            return _term(t)
    units = phrase_units(tokens)
    return _term(units[0]) if len(units) == 1 else Phrase(tuple(units))


def _and(children: list[Node]) -> Node:
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, And) else (c,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(children: list[Node]) -> Node:
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, Or) else (c,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = _lex(query)
        self.i = 0

    def error(self, message: str, pos: int) -> QueryError:
        return QueryError(message, pos, self.query)

    @property
    def peek(self) -> _Lexeme:
        return self.lexemes[self.i]

    def advance(self) -> _Lexeme:
        lex = self.lexemes[self.i]
        self.i += 1
        return lex

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise self.error("the query is empty", 0)
        node = self.all(0)
        if self.peek.kind == ")":
            raise self.error("unexpected ) with no ( before it", self.peek.pos)
        return node

    def all(self, depth: int, after: str | None = None) -> Node:
        items = [self.any(depth, after)]
        while self.peek.kind not in ("end", ")"):
            after = None
            if self.peek.kind == "AND":
                after = self.advance().text
            items.append(self.any(depth, after))
        return _and(items)

    def any(self, depth: int, after: str | None) -> Node:
        items = [self.unary(depth, after)]
        while self.peek.kind == "OR":
            items.append(self.unary(depth, self.advance().text))
        return _or(items)

    def unary(self, depth: int, after: str | None) -> Node:
        negate = False
        while self.peek.kind in ("NOT", "-"):
            negate = not negate
            after = self.advance().text
        node = self.primary(depth, after)
        return Not(node) if negate else node

    def primary(self, depth: int, after: str | None) -> Node:
        lex = self.peek
        if lex.kind in ("word", "phrase"):
            self.advance()
            tokens = tokenize(lex.text)
            if not tokens:
                what = "phrase" if lex.kind == "phrase" else f"{lex.text!r}"
                raise self.error(
                    f"{what} has no word, #hashtag or @handle to look for "
                    "(links, emoji and punctuation are not searchable)",
                    lex.pos,
                )
            return _atom(tokens)
        if lex.kind == "(":
            if depth >= MAX_DEPTH:
                raise self.error(f"parentheses nested deeper than {MAX_DEPTH}", lex.pos)
            self.advance()
            node = self.all(depth + 1, "(")
            if self.peek.kind != ")":
                raise self.error("missing ) to close this (", lex.pos)
            self.advance()
            return node
        if after is not None:
            raise self.error(f"expected a term after {after}", lex.pos)
        if lex.kind == ")":
            raise self.error("unexpected ) with no ( before it", lex.pos)
        raise self.error(f"expected a term before {lex.text}", lex.pos)


# ---------------------------------------------------------------------------- matcher


def _set_term(node: Node) -> str | None:
    """The one string a term is found by in :attr:`Doc.forms`, or None if it needs more."""
    if isinstance(node, Term) and node.kind != "substring":
        return node.value
    return None


def _compile(node: Node) -> Matcher:
    if isinstance(node, Term):
        value = node.value
        if node.kind == "substring":
            return lambda doc: value in doc.text
        return lambda doc: value in doc.forms
    if isinstance(node, Phrase):
        return _compile_phrase(node.tokens)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda doc: not inner(doc)
    if isinstance(node, Or):
        # terms found by a set look-up are tested together in one C call
        keys = frozenset(k for c in node.children if (k := _set_term(c)) is not None)
        rest = [_compile(c) for c in node.children if _set_term(c) is None]
        if not rest:
            return lambda doc: not keys.isdisjoint(doc.forms)
        if not keys:
            return lambda doc: any(m(doc) for m in rest)
        if len(rest) == 1:
            (other,) = rest
            return lambda doc: not keys.isdisjoint(doc.forms) or other(doc)
        return lambda doc: not keys.isdisjoint(doc.forms) or any(m(doc) for m in rest)
    # And: the common "... NOT a NOT b" tail becomes one disjointness test
    banned = frozenset(
        k for c in node.children if isinstance(c, Not) and (k := _set_term(c.child)) is not None
    )
    parts = [
        _compile(c)
        for c in node.children
        if not (isinstance(c, Not) and _set_term(c.child) is not None)
    ]
    if banned:
        parts.append(lambda doc: banned.isdisjoint(doc.forms))
    if len(parts) == 2:
        first, second = parts
        return lambda doc: first(doc) and second(doc)
    return lambda doc: all(m(doc) for m in parts)


def _compile_phrase(units: tuple[str, ...]) -> Matcher:
    if any(has_unspaced_script(u) for u in units):
        spaced, joined = " ".join(units), "".join(units)
        return lambda doc: spaced in doc.text or joined in doc.text
    needed = frozenset(units)
    first, size = units[0], len(units)

    def match(doc: Doc) -> bool:
        if not needed <= doc.forms:
            return False
        seq = doc.units
        start = 0
        try:
            while True:
                start = seq.index(first, start)
                if tuple(seq[start : start + size]) == units:
                    return True
                start += 1
        except ValueError:
            return False

    return match


# ------------------------------------------------------------------------------ query

_EMPTY = Doc.from_text("")


class Query:
    """A parsed topic query: :meth:`matches` a :class:`Doc`; ``str()`` is its normal form."""

    __slots__ = ("matches", "root")

    #: ``matches(doc) -> bool``: the compiled query (a closure, called once per mention and topic)
    matches: Matcher

    def __init__(self, root: Node) -> None:
        self.root = root
        self.matches = _compile(root)

    def positive_terms(self) -> set[str]:
        """The words, hashtags and handles the query looks for (not those under a NOT).

        A word also yields its hashtag (``acme`` → ``#acme``), since it matches that too;
        trending skips these, as they are frequent in the topic by construction.
        """
        found: set[str] = set()
        stack: list[tuple[Node, bool]] = [(self.root, True)]
        while stack:
            node, positive = stack.pop()
            if isinstance(node, Not):
                stack.append((node.child, not positive))
            elif isinstance(node, And | Or):
                stack.extend((c, positive) for c in node.children)
            elif not positive:
                continue
            elif isinstance(node, Term):
                found.add(node.value)
                if node.kind == "word":
                    found.add("#" + node.value)
            else:
                found.update(t for t in node.tokens if len(t) > 1)
        return found

    def __str__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"Query({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)


def parse(query: str) -> Query:
    """Parse a topic query; raise :class:`QueryError` pointing at the fault."""
    root = _Parser(query).parse()
    parsed = Query(root)
    if parsed.matches(_EMPTY):
        start = len(query) - len(query.lstrip())
        raise QueryError(
            "the query looks for nothing: it matches posts that contain none of its terms "
            "(only NOT terms, or an OR with a NOT); add a term to look for",
            start,
            query,
        )
    return parsed
