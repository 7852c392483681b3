"""The tokenizer: words in any script, #hashtags, @handles, no links, no emoji."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.analysis import tokens
from app.analysis.tokens import STOPWORDS, Doc, fold, tokenize, trend_terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("ACME rocks #Acme", ["acme", "rocks", "#acme"]),
        ("don't stop-the-press", ["don't", "stop-the-press"]),
        ("Acme’s phone", ["acme's", "phone"]),  # typographic apostrophe
        ("thanks @Acme", ["thanks", "@acme"]),
        ("cc @acme@Mastodon.Example.", ["cc", "@acme@mastodon.example"]),
        ("(@acme.bsky.social)", ["@acme.bsky.social"]),
        ("mail help@acme.example now", ["mail", "help", "acme", "example", "now"]),
        ("C# and c#sharp", ["c", "and", "c", "sharp"]),
        ("see https://acme.example/jobs?x=1 and www.acme.example/a", ["see", "and"]),
        ("(https://acme.example/x)", []),
        ("🔥🔥 love it ❤️ 👍🏽", ["love", "it"]),
        ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),  # vowel signs are marks, kept inside the word
        ("cafe\u0301 café", ["café", "café"]),  # decomposed and composed fold alike
        ("ＡＣＭＥ ＃lumio", ["acme", "#lumio"]),  # fullwidth forms
        ("Straße STRASSE", ["strasse", "strasse"]),
        ("我爱苹果手机 #苹果", ["我爱苹果手机", "#苹果"]),
        ("1️⃣ 2024-25 $1,299", ["1\ufe0f\u20e3", "2024-25", "1", "299"]),
        ("-- - ... !!!", []),
        ("", []),
    ],
)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_doc_forms_let_a_word_find_hashtags_handles_and_compounds() -> None:
    doc = Doc.from_text("#Acme's rival @globex@social.example and acme-powered o’brien")
    assert doc.tokens == [
        "#acme",
        "s",
        "rival",
        "@globex@social.example",
        "and",
        "acme-powered",
        "o'brien",
    ]
    for form in (
        "#acme",
        "acme",
        "@globex",
        "globex",
        "acme-powered",
        "powered",
        "o'brien",
        "brien",
    ):
        assert form in doc.forms
    assert "social" not in doc.forms  # a handle's server is not a word of the post
    assert "#globex" not in doc.forms


def test_bluesky_handle_gives_its_first_label_as_local_part() -> None:
    doc = Doc.from_text("ping @acme.bsky.social")
    assert {"@acme.bsky.social", "@acme", "acme"} <= doc.forms
    assert "bsky" not in doc.forms


def test_units_flatten_hashtags_and_compounds_for_phrases() -> None:
    doc = Doc.from_text("The #Acme-phone, by @acme@m.example: don't")
    assert doc.units == ["the", "acme", "phone", "by", "@acme@m.example", "don", "t"]


def test_text_is_folded() -> None:
    assert Doc.from_text("ＡＣＭＥ Straße").text == "acme strasse"


def test_trend_terms() -> None:
    doc = Doc.from_text(
        "RT @acme: The new #LumioX is great, the new LumioX battery is 5000mAh!! "
        "2024 https://lumio.example/x l'appareil Nexa's c'est très bien 👍"
    )
    assert trend_terms(doc) == [
        "new",
        "#lumiox",
        "great",
        "lumiox",
        "battery",
        "5000mah",
        "appareil",
        "nexa",
    ]


def test_trend_terms_skip_unspaced_runs_but_keep_their_hashtags() -> None:
    assert trend_terms(Doc.from_text("我爱苹果手机 #苹果 iphone")) == ["#苹果", "iphone"]


def test_stopwords_cover_four_languages() -> None:
    assert {"the", "and", "les", "und", "los", "pour", "nicht", "porque"} <= STOPWORDS
    assert all(fold(w) == w for w in STOPWORDS)


# ------------------------------------------------------------------ properties

_URL = re.compile(r"(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.)\S+")

# fragments that exercise every branch, mixed with any character at all
_texty = st.lists(
    st.one_of(
        st.sampled_from(list(" \t\n#@'-’.,:!?()/\"acmeAéß5_")),
        st.sampled_from(
            ["https://", "www.", "\u0301", "\u093f", "\u200d", "🔥", "ＡＣ", "苹果", "ก", "İ"]
        ),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
).map("".join)


@settings(deadline=None)
@given(_texty)
def test_tokens_are_folded_and_stable(text: str) -> None:
    for token in tokenize(text):
        assert token
        assert fold(token) == token
        assert tokenize(token) == [token], token  # a token reads back as itself


@settings(deadline=None)
@given(_texty)
def test_fast_path_equals_the_plain_regex(text: str) -> None:
    """Chunking on whitespace first gives exactly what the token regex gives on the whole text."""
    folded = fold(text)
    assert tokenize(text) == tokens._TOKEN.findall(_URL.sub(" ", folded))


@settings(deadline=None)
@given(_texty)
def test_doc_invariants(text: str) -> None:
    doc = Doc.from_text(text)
    assert set(doc.tokens) <= doc.forms
    assert set(doc.units) <= doc.forms
    assert all(not t.startswith("@") and not t.isdigit() for t in trend_terms(doc))
    assert fold(text) == doc.text
    assert fold(doc.text) == doc.text
