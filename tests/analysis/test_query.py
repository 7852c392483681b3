"""The topic query language: every construct, every error (at the right position), and properties."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.analysis.query import And, Not, Or, Phrase, Query, QueryError, Term, parse
from app.analysis.tokens import Doc, tokenize


def matches(query: str, text: str) -> bool:
    return parse(query).matches(Doc.from_text(text))


# ------------------------------------------------------------------ constructs

DESIGN_QUERY = 'acme OR #acme OR "acme phone" NOT hiring'


def test_design_example_precedence() -> None:
    q = parse(DESIGN_QUERY)
    assert str(q) == '(acme OR #acme OR "acme phone") AND NOT hiring'
    assert q.root == And(
        (
            Or((Term("word", "acme"), Term("hashtag", "#acme"), Phrase(("acme", "phone")))),
            Not(Term("word", "hiring")),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Loving my new Acme!", True),
        ("#ACME forever", True),
        ("the acme-phone is here", True),
        ("Acme is hiring engineers", False),
        ("HIRING at acme", False),
        ("acmeless day", False),
        ("nothing to see", False),
    ],
)
def test_design_example_matches(text: str, expected: bool) -> None:
    assert parse(DESIGN_QUERY).matches(Doc.from_text(text)) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # plain words: whole word, any case, also as hashtag, handle and inside compounds
        ("acme", "ACME rocks", True),
        ("acme", "#Acme", True),
        ("acme", "thanks @acme@mastodon.example", True),
        ("acme", "Acme's phone", True),
        ("acme", "acme-powered", True),
        ("acme", "acmes", False),
        ("acme", "https://acme.example/jobs", False),  # links are not words
        ("acme", "email help@acme.example", True),  # an address gives its words
        ("straße", "STRASSE", True),  # casefold, not lower
        ("ＡＣＭＥ", "acme", True),  # fullwidth folds
        ("café", "cafe\u0301", True),  # composed and decomposed
        ("हिन्दी", "मुझे हिन्दी पसंद है", True),
        ("привет", "ПРИВЕТ мир", True),
        ("or", "this or that", True),  # lowercase or is a word
        ("5G", "5g coverage", True),
        # hashtags match only the hashtag
        ("#acme", "#ACME day", True),
        ("#acme", "acme day", False),
        ("#acme", "#acmephone", False),
        # handles: the local part on any server, or exactly a full handle
        ("@acme", "hi @acme", True),
        ("@acme", "hi @acme@mastodon.example", True),
        ("@acme", "hi @acme.bsky.social", True),
        ("@acme", "hi acme", False),
        ("@acme", "hi @acmecorp", False),
        ("@acme@mastodon.example", "hi @Acme@Mastodon.Example", True),
        ("@acme@mastodon.example", "hi @acme@other.example", False),
        ("@acme@mastodon.example", "hi @acme", False),
        ("@acme.bsky.social", "hi @acme.bsky.social!", True),
        ("@acme.bsky.social", "hi @acme@bsky.social", False),
        # phrases: consecutive words, punctuation between ignored
        ('"acme phone"', "my Acme phone broke", True),
        ('"acme phone"', "my acme-phone broke", True),
        ('"acme phone"', "my #acme phone broke", True),
        ('"acme phone"', "my phone, acme", False),
        ('"acme phone"', "acme makes a phone", False),
        ("“acme phone”", "acme phone", True),  # smart quotes
        ('"new acme phone"', "the new new acme phone", True),
        ('"acme"', "#acme", True),  # a one-word phrase is a word
        ("acme.example", "visit acme.example today", True),  # several words in one bare term
        ("acme-phone", "acme phone", True),
        ("don't", "I don't know", True),
        # unspaced scripts match as substrings
        ("苹果", "我爱苹果手机", True),
        ("苹果", "我爱华为手机", False),
        ("スマートフォン", "新しいスマートフォンを買った", True),
        ("โทรศัพท์", "ฉันชอบโทรศัพท์ใหม่", True),
        ('"苹果 手机"', "我爱苹果手机", True),
        # operators
        ("acme globex", "acme and globex", True),
        ("acme globex", "acme only", False),
        ("acme AND globex", "globex, acme", True),
        ("acme OR globex", "globex only", True),
        ("acme -hiring", "acme hiring", False),
        ("acme -hiring", "acme firing", True),
        ("acme NOT (hiring OR jobs)", "acme jobs", False),
        ("acme -(hiring OR jobs)", "acme news", True),
        ('acme -"job offer"', "acme job offer", False),
        ('acme -"job offer"', "acme offer job", True),
        ("acme NOT NOT hiring", "acme hiring", True),
        ("acme and globex", "acme globex", False),  # "and" is a word here, and absent
    ],
)
def test_constructs(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("query", "normal"),
    [
        ("a b OR c", "a AND (b OR c)"),
        ("a OR b c", "(a OR b) AND c"),
        ("(a b) OR c", "(a AND b) OR c"),
        ("a OR b AND c OR d", "(a OR b) AND (c OR d)"),
        ("NOT a b", "NOT a AND b"),
        ("-a b", "NOT a AND b"),
        ("b NOT a OR c", "b AND (NOT a OR c)"),  # NOT takes the next term only
        ("b -(a OR c)", "b AND NOT (a OR c)"),
        ("((a))", "a"),
        ("(a OR (b OR c)) d", "(a OR b OR c) AND d"),
        ("--a", "a"),
        ("ACME #Acme @Acme", "acme AND #acme AND @acme"),
        ("'x'", "x"),
        ("acme-phone", '"acme phone"'),
        ('"acme,   phone!"', '"acme phone"'),
    ],
)
def test_normal_form(query: str, normal: str) -> None:
    assert str(parse(query)) == normal


def test_positive_terms() -> None:
    q = parse(
        '(acme OR #lumio OR @acme@m.example OR "acme phone" OR 苹果) NOT hiring -(jobs OR #career)'
    )
    assert q.positive_terms() == {"acme", "#acme", "#lumio", "@acme@m.example", "phone", "苹果"}
    assert parse("acme NOT NOT globex").positive_terms() == {"acme", "#acme", "globex", "#globex"}


def test_query_equality_follows_the_tree() -> None:
    assert parse("a b") == parse("a AND b")
    assert hash(parse("a OR b")) == hash(parse("(a OR b)"))
    assert parse("a b") != parse("a OR b")
    assert repr(parse("a b")) == "Query('a AND b')"


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("", "the query is empty", 0),
        ("   ", "the query is empty", 0),
        ("acme OR", "expected a term after OR", 7),
        ("acme OR #acme OR ", "expected a term after OR", 17),
        ("acme OR OR b", "expected a term after OR", 8),
        ("acme AND", "expected a term after AND", 8),
        ("acme AND OR b", "expected a term after AND", 9),
        ("acme NOT", "expected a term after NOT", 8),
        ("acme NOT )", "expected a term after NOT", 9),
        ("OR acme", "expected a term before OR", 0),
        ("AND acme", "expected a term before AND", 0),
        ("(OR acme)", "expected a term after (", 1),
        ("acme ()", "expected a term after (", 6),
        ("acme (", "expected a term after (", 6),
        ("acme (b OR c", "missing ) to close this (", 5),
        ("a (b (c)", "missing ) to close this (", 2),
        ("acme)", "unexpected ) with no ( before it", 4),
        (") acme", "unexpected ) with no ( before it", 0),
        ('acme "phone', "unclosed quote", 5),
        ('acme ""', "phrase has no word", 5),
        ('acme "🔥!"', "phrase has no word", 5),
        ("acme 🔥", "'🔥' has no word", 5),
        ("acme https://acme.example", "has no word", 5),
        ("acme - b", "expected a term right after -", 6),
        ("acme -", "expected a term right after -", 6),
        ("acme (b -)", "expected a term right after -", 9),
        ("acme -OR b", "expected a term after -", 6),
        ("NOT hiring", "the query looks for nothing", 0),
        ("  -hiring -jobs", "the query looks for nothing", 2),
        ("acme OR -hiring", "the query looks for nothing", 0),
        ("(" * 65 + "a" + ")" * 65, "parentheses nested deeper than 64", 64),
    ],
)
def test_errors(query: str, message: str, position: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    err = caught.value
    assert message in err.message
    assert err.position == position
    assert err.query == query
    assert isinstance(err, ValueError)


def test_error_text_points_a_caret_at_the_position() -> None:
    with pytest.raises(QueryError) as caught:
        parse("acme OR #acme OR")
    assert str(caught.value) == (
        "expected a term after OR at position 16\n  acme OR #acme OR\n                  ^"
    )


def test_caret_accounts_for_wide_characters_and_hides_control_characters() -> None:
    with pytest.raises(QueryError) as caught:
        parse("苹果 OR\t")
    assert str(caught.value).splitlines()[1:] == ["  苹果 OR ", "          ^"]


def test_deep_but_allowed_nesting_parses() -> None:
    assert str(parse("(" * 64 + "a" + ")" * 64)) == "a"


# ------------------------------------------------------------------ properties

_query_chars = st.lists(
    st.one_of(
        st.sampled_from(
            ["OR", "AND", "NOT", " OR ", " AND ", " NOT ", " ", "(", ")", '"', "“", "-"]
        ),
        st.sampled_from(
            ["acme", "#acme", "@acme", "@a@b.c", "x.y", "a-b", "苹果", "🔥", "#", "@", "'"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=25,
).map("".join)


@settings(deadline=None, max_examples=300)
@given(st.one_of(_query_chars, st.text(max_size=30)))
def test_any_input_parses_or_fails_cleanly(query: str) -> None:
    try:
        q = parse(query)
    except QueryError as err:
        assert 0 <= err.position <= len(query)
        assert f"at position {err.position}" in str(err)
    else:
        # the normal form parses back to the same tree and is itself normal
        again = parse(str(q))
        assert again == q
        assert str(again) == str(q)


# An independent reference: a small AST of our own, rendered to text in several styles,
# evaluated with plain boolean logic over the atoms' own matches.

ATOMS = [
    "acme",
    "phone",
    "hiring",
    "or",
    "don't",
    "#acme",
    "#globex",
    "@acme",
    "@acme@mastodon.example",
    "@acme.bsky.social",
    '"acme phone"',
    '"phone acme"',
    "acme-phone",
    "苹果",
    "スマートフォン",
]

DOC_WORDS = [
    "acme",
    "Acme",
    "ACME",
    "#Acme",
    "acme's",
    "acmeless",
    "phone",
    "phone,",
    "hiring!",
    "or",
    "OR",
    "don't",
    "#globex",
    "globex.",
    "@acme",
    "@acme@mastodon.example",
    "@acme@other.example",
    "@acme.bsky.social",
    "acme-phone",
    "苹果手机",
    "スマートフォン",
    "https://acme.example/hiring",
    "🔥",
]

docs = st.lists(st.sampled_from(DOC_WORDS), max_size=8).map(lambda ws: Doc.from_text(" ".join(ws)))


@dataclass(frozen=True)
class Ref:
    op: str  # "atom" | "not" | "and" | "or"
    atom: str = ""
    kids: tuple[Ref, ...] = ()


def _atom_matches(atom: str, doc: Doc) -> bool:
    return parse(atom).matches(doc)


def evaluate(ref: Ref, doc: Doc) -> bool:
    if ref.op == "atom":
        return _atom_matches(ref.atom, doc)
    if ref.op == "not":
        return not evaluate(ref.kids[0], doc)
    if ref.op == "and":
        return all(evaluate(k, doc) for k in ref.kids)
    return any(evaluate(k, doc) for k in ref.kids)


refs = st.recursive(
    st.sampled_from(ATOMS).map(lambda a: Ref("atom", a)),
    lambda kids: st.one_of(
        kids.map(lambda k: Ref("not", kids=(k,))),
        st.lists(kids, min_size=2, max_size=3).map(lambda ks: Ref("and", kids=tuple(ks))),
        st.lists(kids, min_size=2, max_size=3).map(lambda ks: Ref("or", kids=tuple(ks))),
    ),
    max_leaves=8,
)


@dataclass(frozen=True)
class Style:
    full_parens: bool
    and_op: str  # " AND " or " " (adjacency)
    not_op: str  # "NOT " or "-"


def render(ref: Ref, style: Style) -> str:
    """Text for ``ref``: fully parenthesised, or with only the parentheses X's precedence needs."""

    def wrap(kid: Ref, needed: bool) -> str:
        text = render(kid, style)
        return f"({text})" if kid.op != "atom" and (needed or style.full_parens) else text

    if ref.op == "atom":
        return ref.atom
    if ref.op == "not":  # NOT takes the next term or group
        return style.not_op + wrap(ref.kids[0], needed=ref.kids[0].op in ("and", "or"))
    if ref.op == "and":  # OR binds tighter: an OR inside an AND needs no parentheses
        return style.and_op.join(wrap(k, needed=False) for k in ref.kids)
    return " OR ".join(wrap(k, needed=k.op == "and") for k in ref.kids)


styles = st.builds(
    Style, st.booleans(), st.sampled_from([" AND ", " "]), st.sampled_from(["NOT ", "-"])
)


@settings(deadline=None, max_examples=200)
@given(refs, styles, st.lists(docs, min_size=5, max_size=5))
def test_rendered_queries_match_like_the_reference(
    ref: Ref, style: Style, sample: list[Doc]
) -> None:
    text = render(ref, style)
    if evaluate(ref, Doc.from_text("")):
        with pytest.raises(QueryError, match="looks for nothing"):
            parse(text)
        return
    q = parse(text)
    again = parse(str(q))
    for doc in sample:
        expected = evaluate(ref, doc)
        assert q.matches(doc) is expected, (text, str(q), doc)
        assert again.matches(doc) is expected


anchored = st.sampled_from(["acme", "#acme", "@acme", '"acme phone"', "苹果"])
operand = st.sampled_from(ATOMS)


@settings(deadline=None, max_examples=150)
@given(anchored, operand, operand, st.lists(docs, min_size=5, max_size=5))
def test_de_morgan_and_friends(x: str, a: str, b: str, sample: list[Doc]) -> None:
    """Textbook equivalences hold on every document (x keeps each query looking for something)."""
    pairs = [
        (f"{x} NOT ({a} OR {b})", f"{x} NOT {a} NOT {b}"),
        (f"{x} -({a} AND {b})", f"{x} (NOT {a} OR NOT {b})"),
        (f"{x} NOT NOT {a}", f"{x} {a}"),
        (f"{x} -{a}", f"{x} NOT {a}"),
        (f"{x} {a} OR {b}", f"{x} AND ({b} OR {a})"),
        (f"{x} ({a} OR {b}) AND {b}", f"{x} {b}"),  # absorption
        (f"{x} ({a} OR {b})", f"({x} {a}) OR ({x} {b})"),  # distribution
        (f"{x} {a} {b}", f"{b} AND {a} AND {x}"),
    ]
    for left, right in pairs:
        ql, qr = parse(left), parse(right)
        for doc in sample:
            assert ql.matches(doc) is qr.matches(doc), (left, right, doc)


@settings(deadline=None, max_examples=200)
@given(st.lists(st.sampled_from(DOC_WORDS), min_size=1, max_size=8).map(" ".join), st.data())
def test_every_token_of_a_post_finds_that_post(text: str, data: st.DataObject) -> None:
    found = tokenize(text)
    assume(found)
    token = data.draw(st.sampled_from(found))
    assert parse(token).matches(Doc.from_text(text)), token


def test_queries_are_equal_by_their_normal_form() -> None:
    """Equal queries (one topic's config reloaded) are one; a different query is not."""
    assert parse("acme OR  #acme") == parse("(acme OR #acme)")
    assert parse("acme OR #acme") != parse("acme #acme")
    assert parse("globex") == Query(Term("word", "globex")) != Query(Term("hashtag", "globex"))
    assert len({parse("a b"), parse("a AND b"), parse("b a")}) == 2
