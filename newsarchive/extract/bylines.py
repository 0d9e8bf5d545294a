"""Authors and topics: cleaning what pages state, and reading a visible byline when they state nothing.

Names keep their order, lose "By"/"Von"/"Par" and job titles, and are deduplicated on
their letters only ("sophie-foster" repeats "Sophie Foster"). Organisations stay when the
page names only an organisation; a site's own name gives way to a person's name from the
visible byline.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from lxml.html import HtmlElement

__all__ = ["clean_authors", "clean_topics", "dom_authors", "norm_name", "only_site_names"]

_BY = re.compile(
    r"^\s*(?:by|von|par|por|di|da|de|door|av|af|od|autor(?:in|es|en)?|author|authors|written by|"
    r"text|texto|reporting by|story by|words by|от|автор|авторы|tekst)(?:\s*[:\-]\s*|\s+)(?=\S)",
    re.IGNORECASE,
)
_BY_GLUED = re.compile(r"^(?:By|Von|Par|Por)(?=[A-Z])")  # "ByEmma Mackenzie" from joined markup
_SPLIT = re.compile(
    r"\s*(?:[,;|&]|\s(?:and|und|et|y|e|i|og|och|en|и|та|ve|dan)\s)\s*",
    re.IGNORECASE,
)
_ROLE_WORDS = (
    r"writer|reporter|correspondent|editor|redakteur(?:in)?|journalist(?:in|e|a)?|contributor|"
    r"columnist|photographer|producer|analyst|intern|freelancer|kolumnist(?:in)?|korrespondent(?:in)?|"
    r"기자|特派員|記者|корреспондент|обозреватель"
)
_ROLE = re.compile(
    rf"(?:\s*[,|–—-]\s*|\s+)\(?(?:(?:senior|chief|staff|political|sports?|deputy|associate|"
    rf"[A-Z][a-z]+)\s+)?(?:{_ROLE_WORDS})\)?\s*$|\s*(?:기자|記者)$",
    re.IGNORECASE,
)
_URLISH = re.compile(r"^(?:https?:|www\.|/|@)|\.(?:com|org|net|html?)\b", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_JUNK = re.compile(r"^\(|\b(?:image|photo|foto|getty|shutterstock|istock|credit)\b", re.IGNORECASE)
_ALNUM = re.compile(r"\W+")


def norm_name(value: str) -> str:
    """Letters and digits only, casefolded: the identity of a name or site label."""
    return _ALNUM.sub("", value.casefold())


def _looks_like_list(value: str) -> bool:
    """A value holding several names ("A, B and C"), as opposed to "Smith, John"."""
    if _SPLIT.search(value) is None:
        return False
    if value.count(",") == 1 and not re.search(r"[;|&]|\s(?:and|und|et)\s", value):
        first, second = (p.strip() for p in value.split(","))
        # "Surname, Given" is one person
        return not (len(first.split()) == 1 and len(second.split()) == 1)
    return True


def clean_authors(raw: Iterable[str]) -> list[str]:
    """People's (or organisations') names: "By" and roles removed, URLs and credits skipped, deduped."""
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value:
            continue
        value = " ".join(html.unescape(value).split())
        if _URLISH.search(value) or _JUNK.search(value):
            continue
        value = _EMAIL.sub("", value)
        value = _BY.sub("", _BY_GLUED.sub("", value))
        parts = _SPLIT.split(value) if _looks_like_list(value) else [value]
        for part in parts:
            name = _ROLE.sub("", part.strip()).strip(" .,;:-–—|·*")
            name = _BY.sub("", name).strip()
            # a description ("professor at the faculty of ...") is not a name
            if not name or len(name) > 60 or len(name.split()) > 5 or not any(c.isalpha() for c in name):
                continue
            if _URLISH.search(name):
                continue
            key = norm_name(name)
            if not key or key in seen:
                continue
            seen.add(key)
            out.append(name)
    return out


def only_site_names(names: list[str], site_names: list[str]) -> bool:
    """Whether every name is the publishing site itself (its name or host label)."""
    if not names or not site_names:
        return False
    return all(_is_site(n, site_names) for n in names)


def _is_site(name: str, site_names: list[str]) -> bool:
    key = norm_name(name)
    return any(s == key or (len(s) >= 3 and (s in key or key in s)) for s in site_names)


def drop_site_names(names: list[str], site_names: list[str]) -> list[str]:
    """Names without the publishing site's own name, unless nothing else is left."""
    kept = [n for n in names if not _is_site(n, site_names)]
    return kept or names


_BYLINE_ATTR = re.compile(r"author|byline|writer|autor|verfasser|reporter", re.IGNORECASE)
_FOREIGN = re.compile(
    r"related|recommend|most-?read|popular|teaser|comment|form|footer|share|social|bio\b|"
    r"avatar|image|photo|caption|credit",
    re.IGNORECASE,
)
_PROFILE_HREF = re.compile(r"/(?:authors?|autor(?:en)?|autoren|journalist|profile|people|staff|writers?)/",
                           re.IGNORECASE)


def _spaced_text(el: HtmlElement) -> str:
    return " ".join(" ".join(t.split()) for t in el.itertext() if t.strip())


def _inside_foreign(el: HtmlElement) -> bool:
    node: HtmlElement | None = el
    for _ in range(10):
        if node is None:
            return False
        if node.tag in ("aside", "footer", "nav", "form"):
            return True
        attrs = f"{node.get('class', '')} {node.get('id', '')}"
        if _FOREIGN.search(attrs) and not _BYLINE_ATTR.search(attrs):
            return True
        node = node.getparent()
    return False


def dom_authors(doc: HtmlElement) -> list[str]:
    """Names from the first visible byline: author profile links, else the byline's text."""
    for el in doc.xpath("//*[@rel='author' or @itemprop='author']"):
        if not _inside_foreign(el):
            names = clean_authors([_spaced_text(el)])
            if names:
                return names
    for el in doc.xpath("//*[@class or @id]")[:5000]:
        attrs = f"{el.get('class', '')} {el.get('id', '')}"
        if not _BYLINE_ATTR.search(attrs) or el.tag in ("script", "style", "meta", "img", "body", "html"):
            continue
        if _inside_foreign(el):
            continue
        links = [a for a in el.iter("a") if _PROFILE_HREF.search(a.get("href", ""))]
        if links:
            names = clean_authors(_spaced_text(a) for a in links)
            if names:
                return names
        text = _spaced_text(el)
        if not 3 <= len(text) <= 80 or any(ch.isdigit() for ch in text):
            continue
        names = clean_authors([text])
        if names:
            return names
    return []


_TOPIC_SPLIT = re.compile(r"\s*[,;|]\s*")


def clean_topics(raw: Iterable[str], *, junk: Iterable[str] = ()) -> list[str]:
    """Publisher keywords: comma lists split, case-insensitively deduped, site names dropped."""
    drop = {norm_name(j) for j in junk if j}
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value:
            continue
        for part in _TOPIC_SPLIT.split(html.unescape(value)):
            topic = " ".join(part.split()).strip(" .#\"'")
            if not topic or len(topic) > 80 or _URLISH.search(topic):
                continue
            key = topic.casefold()
            if key in seen or norm_name(topic) in drop:
                continue
            seen.add(key)
            out.append(topic)
    return out
