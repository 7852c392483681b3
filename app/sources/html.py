"""Post HTML → plain text a person can read on the wall.

Mastodon statuses and feed summaries arrive as HTML. What the reader needs is the text:
paragraphs and line breaks kept, ``@user`` mentions and ``#tags`` as they read, links as
their address (Mastodon hides part of a long URL in invisible spans; the whole address
is kept), entities unescaped, scripts and styles dropped, and nothing that could make the
program fetch anything later (images become their alt text). The stdlib parser is used
because it never raises on broken markup.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "blockquote", "pre", "ul", "ol",
    "table", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "hr", "dl",
}  # fmt: skip
_LINE = {"li", "tr", "dt", "dd"}
_SKIP = {"script", "style", "template", "noscript", "head", "title", "iframe", "object"}
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0/C1 controls except tab and newline, plus bidi overrides that can disguise text
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []  # (href, position in out) of open <a>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self.out.append("\n\n")
            if tag == "pre":
                self.pre += 1
        elif tag in _LINE:
            self.out.append("\n• " if tag == "li" else "\n")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.out.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.out.append("\n\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.out[start:]).strip()
            if _should_show_href(href, shown):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        self.out.append(data)


def _should_show_href(href: str, shown: str) -> bool:
    """Show a link's address after its words, unless the words are the address or a tag."""
    if not href.startswith(("http://", "https://")) or not shown:
        return False
    if shown.startswith(("@", "#")):
        return False
    bare = re.sub(r"^https?://(www\.)?", "", href).rstrip("/")
    shown_bare = re.sub(r"^https?://(www\.)?", "", shown).rstrip("/…").rstrip(".")
    return not (bare.startswith(shown_bare) or shown_bare.startswith(bare))


def clean_text(text: str) -> str:
    """Make any text safe to store and show: no lone surrogates, no control characters."""
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: paragraphs as blank lines, ``<br>`` as newlines."""
    if "<" not in html and "&" not in html:
        return _tidy(clean_text(html))
    parser = _Text()
    parser.feed(clean_text(html))
    parser.close()
    return _tidy("".join(parser.out))


def _tidy(text: str) -> str:
    lines = [line.strip(" \t") for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
