"""Post HTML → plain text."""

from __future__ import annotations

from app.sources.html import clean_text, html_to_text


def test_mastodon_status_markup_reads_as_written() -> None:
    html = (
        '<p><span class="h-card" translate="no"><a href="https://m.test/@ana" class="u-url mention">'
        '@<span>ana</span></a></span> loving the <a href="https://m.test/tags/lumio" '
        'class="mention hashtag" rel="tag">#<span>lumio</span></a> &amp; its camera :blobcat:<br>'
        'see <a href="https://lumio.example/reviews/x-pro-2026" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="ellipsis">lumio.example/reviews/x-p</span>'
        '<span class="invisible">ro-2026</span></a></p><p>second &lt;paragraph&gt; &quot;quoted&quot;</p>'
    )
    assert html_to_text(html) == (
        "@ana loving the #lumio & its camera :blobcat:\n"
        "see https://lumio.example/reviews/x-pro-2026\n\n"
        'second <paragraph> "quoted"'
    )


def test_links_with_words_keep_their_address_and_nothing_is_fetched() -> None:
    html = ('<div>Read <a href="https://globex.test/pr/1">our statement</a>'
            '<img src="https://tracker.test/p.gif" alt="logo"><script>alert(1)</script>'
            "<style>p{}</style><ul><li>one</li><li>two</li></ul></div>")  # fmt: skip
    text = html_to_text(html)
    assert text == "Read our statement (https://globex.test/pr/1)logo\n\n• one\n• two"
    assert "tracker" not in text and "alert" not in text


def test_broken_markup_and_plain_text_survive() -> None:
    assert html_to_text("<p>unclosed <b>bold <i>and <a href='x'>more") == "unclosed bold and more"
    assert html_to_text("just text,   spaced") == "just text,   spaced"
    assert html_to_text("") == ""
    # line breaks in <pre> survive; indentation does not (posts are prose, not code)
    assert html_to_text("<pre>  keep\n  this</pre>") == "keep\nthis"


def test_hostile_characters_are_neutralised() -> None:
    assert clean_text("a\ud800b\x00c\u202ed\r\ne") == "a\ufffdbcd\ne"
    assert html_to_text("<p>x&#xD800;y</p>") == "x\ufffdy"
    assert html_to_text("cafe\u0301") == "café"  # NFC, as stored and searched
