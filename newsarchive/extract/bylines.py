"""Authors and topics: cleaning what pages state, and reading a visible byline when they state nothing.

Names keep their order, lose "By"/"Von"/"Par" and job titles, and are deduplicated on
their letters only ("sophie-foster" repeats "Sophie Foster"). Organisations stay when the
page names only an organisation; a site's own name gives way to a person's name from the
visible byline.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from itertools import islice

from lxml.html import HtmlElement

from newsarchive.extract.dateline import WIRES

__all__ = [
    "clean_authors",
    "clean_topics",
    "dom_authors",
    "dom_topics",
    "norm_name",
    "only_site_names",
    "short_text",
    "signature_lines",
    "split_agencies",
]

# "di"/"da"/"de" only in lower case: "De Rosa", "Da Silva", "Di Maio" are names
_BY = re.compile(
    r"^\s*(?:(?i:by|von|par|por|door|av|af|od|autor(?:in|es|en)?|author|authors|written by|"
    r"text|texto|reporting by|story by|words by|от|автор|авторы|tekst)|di|da|de)(?:\s*[:\-]\s*|\s+)(?=\S)",
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
_ROLE_ONLY = re.compile(
    rf"^(?:(?:senior|chief|staff|political|sports?|deputy|associate|[A-Z][a-z]+)\s+)?(?:{_ROLE_WORDS})$",
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
            if _ROLE_ONLY.match(part.strip()):
                continue  # "Jane Doe, Staff Writer": the second part is her job
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
    # a short site name ("MDR", "NTV") only as a whole first word: "MDR Thüringen" is the broadcaster
    first = norm_name(name.split()[0]) if name.split() else ""
    return any(s in (key, first) or (len(s) >= 4 and s in key) or (len(key) >= 4 and key in s)
               for s in site_names)


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
# a pre-filter evaluated in C (each contains() over every element costs ~1 ms a page)
_BYLINE_XPATH = "//*[@class][contains(@class,'uthor') or contains(@class,'yline') or contains(@class,'utor')]"
_PROFILE_HREF = re.compile(r"/(?:authors?|autor(?:en)?|autoren|journalist|profile|people|staff|writers?)/",
                           re.IGNORECASE)


def short_text(el: HtmlElement, limit: int = 120, budget: int = 40) -> str | None:
    """The element's text with pieces space-joined, or None when it is not short.

    Walks at most ``budget`` elements, so asking many candidates costs little even on
    huge or 10,000-deep pages (``text_content()`` would read each whole subtree).
    """
    pieces: list[str] = []
    stack: list[tuple[HtmlElement, bool]] = [(el, False)]
    seen = size = 0
    while stack:
        node, tail_only = stack.pop()
        if tail_only:
            if node.tail and node is not el:
                pieces.append(node.tail)
                size += len(node.tail)
            continue
        seen += 1
        if seen > budget or size > limit * 4:
            return None
        if node.text and isinstance(node.tag, str):
            pieces.append(node.text)
            size += len(node.text)
        stack.append((node, True))
        if len(node) > budget:
            return None
        stack.extend((child, False) for child in reversed(node))
    text = " ".join(" ".join(pieces).split())
    return text if len(text) <= limit else None


def _spaced_text(el: HtmlElement) -> str:
    return short_text(el, 200) or ""


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
            inner = el.xpath(".//*[@itemprop='name']")  # microdata Person: its name, not its job title
            names = clean_authors([_spaced_text(inner[0] if inner else el)])
            if names:
                return names
    for el in doc.xpath(_BYLINE_XPATH)[:300]:
        attrs = f"{el.get('class', '')} {el.get('id', '')}"
        if not _BYLINE_ATTR.search(attrs) or el.tag in ("script", "style", "meta", "img", "body", "html"):
            continue
        if _inside_foreign(el):
            continue
        links = [a for a in islice(el.iter("a"), 20) if _PROFILE_HREF.search(a.get("href", ""))]
        if links:
            names = clean_authors(_spaced_text(a) for a in links)
            if names:
                return names
        text = short_text(el, 80)
        if text is None or len(text) < 3 or any(ch.isdigit() for ch in text):
            continue
        names = clean_authors([text])
        if names:
            return names
    return _labelled_authors(doc)


_AUTHOR_LABEL = re.compile(
    r"^\s*(?:autor(?:in)?(?:\s*/\s*autor(?:in)?)?|autoren|author|authors|auteur|auteurs|autore|autori|"
    r"written by|text|texto|tekst|reporter|автор|авторы)\s*:?\s*$",
    re.IGNORECASE,
)


def _labelled_authors(doc: HtmlElement) -> list[str]:
    """Names after a visible "Author:" label: ``<li><strong>Autorin/Autor</strong> Jana Roth</li>``."""
    for count, el in enumerate(doc.iter("strong", "b", "dt", "th", "span", "label")):
        if count > 20_000:
            break
        if not el.text or not _AUTHOR_LABEL.match(el.text) or len(el):
            continue
        if el.tag in ("dt", "th"):
            holder = el.getnext()
            text = short_text(holder, 80) if holder is not None else None
        else:
            text = el.tail.strip() if el.tail and el.tail.strip() else None
            if text is None and el.getparent() is not None:
                whole = short_text(el.getparent(), 120)
                text = whole[len(el.text.strip()) :] if whole and whole.startswith(el.text.strip()) else None
        if text and not _inside_foreign(el):
            names = clean_authors([text])
            if names:
                return names
    return []


_TOPIC_SPLIT = re.compile(r"\s*[,;|]\s*")
# machine values publishers put among keywords: ids, uuids, "nlp category: x", layout flags
_TOPIC_JUNK = re.compile(
    r"^(?:[\d\W_]+|[0-9a-f]{8}-[0-9a-f-]{27,}|[0-9a-f]{16,}|\w*(?:image|inset|layout|template|wc)\w*|"
    r"[a-z]+[A-Z_]\w*|_[\w-]+)$"  # the last two: "wcmImage", "_Prio_3": CMS flags, not topics
)
_TOPIC_KEY = re.compile(r"^([\w ]{2,24}):\s*(.+)$")
_TOPIC_KEY_KEEP = re.compile(r"^(?:category|categories|subject|topic|topics|tag|tags|keyword|keywords|"
                             r"section|thema|rubrik)$", re.IGNORECASE)
_TAG_HREF = re.compile(
    r"/(?:tags?|topics?|thema|themen|schlagw(?:o|ö)rter|schlagwort|stichw(?:o|ö)rter|keywords?|"
    r"temas?|argomenti|sujets?|etiquetas?|tagged|label|hashtag)(?:/|-|$|\?)",
    re.IGNORECASE,
)
_TAG_BOX = re.compile(r"tags|topics|keywords|schlagw|stichw|themen|etiquetas", re.IGNORECASE)
#: page chrome anywhere; a header or footer only outside an <article> (inside, it is the article's)
_CHROME = re.compile(r"nav|menu|breadcrumb|sidebar|related|teaser|trending|popular", re.IGNORECASE)


def _topic(part: str) -> str | None:
    """One keyword cleaned, or None when it is a machine value rather than a topic."""
    topic = " ".join(part.split()).strip(" .#\"'")
    keyed = _TOPIC_KEY.match(topic)
    if keyed:
        # "Subject: Politics" -> "Politics"; "Day: Friday", "WC: 1000-1999" are not topics
        if not _TOPIC_KEY_KEEP.match(keyed.group(1).strip()):
            return None
        topic = keyed.group(2).strip()
    if not topic or len(topic) > 80 or _URLISH.search(topic) or _TOPIC_JUNK.match(topic):
        return None
    return topic


def dom_topics(doc: HtmlElement) -> list[str]:
    """Tag links in the article (``rel=tag`` or /tag/, /topics/, /thema/ URLs), outside page chrome."""
    links: list[tuple[HtmlElement, str, list[HtmlElement]]] = []
    for count, a in enumerate(doc.iter("a")):
        if count > 5000:
            break  # a page with more links than this is an index, not an article
        if a.get("rel") != "tag" and not _TAG_HREF.search(a.get("href", "")):
            continue
        text = _spaced_text(a)
        if not text or len(text) > 50 or len(text.split()) > 5 or _in_chrome(a):
            continue
        links.append((a, text, list(islice(a.iterancestors(), 8))))
    # a tag list is the nearest element holding two tag links or more, however deep each link is
    # wrapped (li, span, a framework's button); keyed by the element itself, whose proxy stays alive
    shared = Counter(ancestor for _, _, ancestors in links for ancestor in ancestors)
    groups: dict[HtmlElement, list[str]] = {}
    for _, text, ancestors in links:
        container = next((x for x in ancestors if shared[x] >= 2), None)
        if container is not None:
            groups.setdefault(container, []).append(text)
    # the article's own tag list is its longest group of tag links (dicts keep insertion order)
    best = max(groups.values(), key=len, default=[])
    return best if len(best) >= 2 else []


def _in_chrome(el: HtmlElement) -> bool:
    """Whether a tag link sits in navigation or another page-wide block rather than a tag list.

    Inside an <article> or <main>, its own header and footer hold its tags. A tag box
    ("related-topics", "entry-footer__tags") is the article's, unless it sits in a header outside
    the article: that is the site's menu of hot topics.
    """
    ancestors = list(el.iterancestors())
    own = next((i for i, node in enumerate(ancestors) if node.tag in ("article", "main")), len(ancestors))
    inside = own < len(ancestors)
    boxed = False
    for depth, node in enumerate(ancestors[:own]):
        attrs = f"{node.get('class', '')} {node.get('id', '')}".lower()
        header = node.tag == "header" or node.get("role") == "banner" or "header" in attrs
        if boxed:
            if header and not inside:
                return True
        elif depth >= 12:
            return False
        elif _TAG_BOX.search(attrs):
            boxed = True
        elif node.tag in ("nav", "aside") or _CHROME.search(attrs) or (
                not inside and (header or node.tag == "footer" or "footer" in attrs)):
            return True
    return False


# more keywords than this is a site-wide dump, not the article's tags
_MAX_TOPICS = 60


def clean_topics(raw: Iterable[str], *, junk: Iterable[str] = ()) -> list[str]:
    """Publisher keywords: comma lists split, case-insensitively deduped, site names dropped."""
    drop = {norm_name(j) for j in junk if j}
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value or len(out) >= _MAX_TOPICS:
            continue
        for part in _TOPIC_SPLIT.split(html.unescape(value[:20_000])):
            if len(out) >= _MAX_TOPICS:
                break
            topic = _topic(part)
            if topic is None:
                continue
            key = topic.casefold()
            if key in seen or norm_name(topic) in drop:
                continue
            seen.add(key)
            out.append(topic)
    return out


# "Reuters Editorial", "AP Staff", "AFP, MANILA", "Sputnik International": an agency's desk, not a person
_DESK = re.compile(
    r"^(?:the\s+)?(?P<agency>.+?)(?:\s*,\s*[^,]{2,30}|\s+(?:editorial|editors?|staff|desk|newsroom|news|"
    r"news agency|agency|international|online|wire|reporters?|team|redaktion|редакция|haber merkezi|"
    r"türkçe|english|русский|українська))$",
    re.IGNORECASE,
)


def agency_of(name: str) -> str | None:
    """The canonical agency a byline name stands for ("Reuters Editorial" -> "Reuters"), or None."""
    key = " ".join(name.split()).casefold().removeprefix("the ").strip(" .")
    if key in WIRES:
        return WIRES[key]
    desk = _DESK.match(key)
    if desk and desk.group("agency").strip() in WIRES:
        return WIRES[desk.group("agency").strip()]
    return None


def split_agencies(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(people, canonical agency names): news agencies and their desks are not authors."""
    people: list[str] = []
    agencies: list[str] = []
    for name in names:
        agency = agency_of(name)
        if agency is None:
            people.append(name)
        elif agency not in agencies:
            agencies.append(agency)
    return people, agencies


# a person's name as a signature: 2-4 capitalised words (initials, hyphens, apostrophes allowed)
_SIGNATURE = re.compile(r"^(?:[^\W\d_][\w'’.-]*\s+){1,3}[^\W\d_][\w'’.-]*$")


def _signed_by(text: str, owner: HtmlElement | None) -> str | None:
    """The name when a paragraph is only a name set in bold (a signature above or below the text)."""
    name = " ".join(text.split())
    if owner is None or len(name) > 40 or not _SIGNATURE.match(name):
        return None
    if not all(word[0].isupper() for word in name.split()):
        return None
    bold = " ".join(" ".join(b.text_content() for b in owner.iter("strong", "b")).split())
    return name if bold == name else None


def signature_lines(paragraphs: list[str], owners: list[HtmlElement]) -> tuple[list[str], list[str]]:
    """The paragraphs without a bold name-only first or last line, and the names those lines gave."""
    if len(owners) != len(paragraphs) or len(paragraphs) < 3:
        return paragraphs, []
    names: list[str] = []
    keep = list(paragraphs)
    last = _signed_by(keep[-1], owners[-1])
    if last:
        names.append(last)
        keep.pop()
    for i in range(min(2, len(keep))):
        first = _signed_by(keep[i], owners[i])
        if first:
            names.insert(0, first)
            del keep[i]
            break
    return keep, names
