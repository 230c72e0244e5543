"""Rich text of comments, rationales and contributions: a small explicit allow-list, via bleach.

People type plain text (blank lines between paragraphs, lines starting with "- " or "1." as
lists) and may use the few allowed tags directly. Everything else is escaped, never dropped
silently, so what someone wrote stays readable as text. Links keep only http, https and
mailto addresses and always carry rel="nofollow noopener". Never svg, math, noscript, style.
"""

from __future__ import annotations

import re
from functools import partial
from html.parser import HTMLParser

from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import Cleaner

ALLOWED_TAGS = frozenset({"p", "br", "em", "strong", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"

_HTML_BLOCK = re.compile(r"<\s*/?\s*(?:p|ul|ol|li|br)\b", re.IGNORECASE)
_BULLET = re.compile(r"^[-*•]\s+")
_NUMBERED = re.compile(r"^\d{1,3}[.)]\s+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _link_attributes(attrs: dict, new: bool = False) -> dict | None:
    """Give every kept link rel="nofollow noopener"; drop links whose address was refused."""
    if not attrs.get((None, "href")):
        return None  # bleach removed a javascript:, data: or other address: keep only the text
    attrs[(None, "rel")] = LINK_REL
    return attrs


_CLEANER = Cleaner(
    tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
    strip=False, strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_link_attributes], parse_email=False)],
)


def _structure(text: str) -> str:
    """Turn typed plain-text structure into paragraphs and lists (HTML input is left as it is)."""
    if _HTML_BLOCK.search(text):
        return text
    blocks = []
    for block in _BLANK_LINE.split(text.strip()):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{_BULLET.sub('', line)}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        elif len(lines) > 1 and all(_NUMBERED.match(line) for line in lines):
            items = "".join(f"<li>{_NUMBERED.sub('', line)}</li>" for line in lines)
            blocks.append(f"<ol>{items}</ol>")
        else:
            blocks.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(blocks)


def sanitise(text: str) -> str:
    """Return typed rich text as the sanitised HTML to store."""
    return _CLEANER.clean(_structure(text.replace("\r\n", "\n").replace("\r", "\n")))


def clean_html(html: str) -> str:
    """Sanitise stored HTML again before it is shown (idempotent on what `sanitise` returns)."""
    return _CLEANER.clean(html or "")


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag):
        if tag in ("p", "ul", "ol"):
            self.parts.append("\n\n")

    def handle_data(self, data):
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Return the readable text of sanitised HTML: paragraphs as blank lines, list items as "- "."""
    collector = _TextCollector()
    collector.feed(html or "")
    collector.close()
    text = "".join(collector.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _Editable(HTMLParser):
    """Turn sanitised HTML back into what one would type: blank lines, "- " items, inline tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.lists: list[list] = []  # per open list: [tag, counter]
        self.link: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "br":
            self.parts.append("\n")
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li":
            marker = "- "
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                marker = f"{self.lists[-1][1]}. "
            self.parts.append(marker)
        elif tag in ("em", "strong"):
            self.parts.append(f"<{tag}>")
        elif tag == "a":
            self.link = {"href": attributes.get("href") or "", "start": len(self.parts)}

    def handle_endtag(self, tag):
        if tag == "p":
            self.parts.append("\n\n")
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n")
        elif tag in ("em", "strong"):
            self.parts.append(f"</{tag}>")
        elif tag == "a" and self.link is not None:
            text = "".join(self.parts[self.link["start"]:])
            href = self.link["href"]
            if text.strip() not in (href, href.removeprefix("http://"), href.removeprefix("mailto:")):
                href_attr = href.replace("&", "&amp;").replace('"', "&quot;")
                self.parts[self.link["start"]:] = [f'<a href="{href_attr}">{text}</a>']
            self.link = None

    def handle_data(self, data):
        self.parts.append(data)


def editable_text(html: str) -> str:
    """Return stored rich text as text to edit; saving it again through `sanitise` keeps its meaning."""
    parser = _Editable()
    parser.feed(html or "")
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
