"""Main text: one walk over the page collects text blocks, scoring picks the article's container.

The walk never mutates the tree: boilerplate subtrees (navigation, share bars, consent
banners, ad slots, captions, hidden and template elements...) are skipped while walking,
so the metadata readers and site profiles still see the whole page. Each block of text
remembers the element that holds it; the container is the element whose blocks carry
the most paragraph-like text (long, few links), extended to sibling blocks that also
look like article text. The walk is iterative, so 10,000-deep nesting cannot overflow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

import lxml.html
from lxml.html import HtmlElement

from newsarchive.urls import absolute_url

# Never article text, whatever their attributes say.
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "svg", "math", "canvas", "video",
        "audio", "object", "embed", "button", "select", "textarea", "input", "option", "picture",
        "head", "title", "meta", "link", "source", "label", "figcaption",
    }
)
# Page furniture by tag, unless the element holds most of the page's text (some sites wrap
# the whole story in an <aside> or a <form>).
FURNITURE_TAGS = frozenset(
    {"nav", "aside", "footer", "header", "figure", "dialog", "menu", "form", "fieldset"}
)
# Elements that start and end a text block.
BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "body", "h1", "h2", "h3", "h4", "h5", "h6",
        "li", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "tr", "td", "th",
        "thead", "tbody", "tfoot", "caption", "center", "address", "hr", "details", "summary",
        "hgroup",
    }
)
INLINE_TAGS = frozenset(
    {"a", "span", "strong", "b", "em", "i", "u", "small", "sup", "sub", "mark", "abbr", "cite", "q",
     "time", "code", "font", "s", "del", "ins", "kbd", "var", "dfn", "bdi", "bdo", "wbr", "nobr"}
)
#: tag of the marker block standing for a skipped related-links box
RELATED = "#related"
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ROLES_SKIPPED = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "dialog", "alertdialog", "menu",
     "menubar", "toolbar", "search", "tablist", "figure"}
)

# class/id vocabulary of boilerplate. Substrings are distinctive enough to match anywhere
# ("social-share-bar", "newsletterSignup"); words must be whole tokens ("ad", not "header").
_BOILER_SUBSTR = re.compile(
    r"share|sharing|social|cookie|consent|gdpr|newsletter|subscri|signup|sign-up|related|"
    r"readalso|read-also|alsoread|also-read|readmore|read-more|recommend|mostread|most-read|"
    r"mostpopular|most-popular|popular|trending|morefrom|more-from|moreon|more-on|advert|"
    r"sponsor|promo|comment(?!ar)|disqus|caption|credit|breadcrumb|sidebar|toolbar|paywall|"
    r"outbrain|taboola|plista|byline|author|skiplink|skip-link|sr-only|visually-hidden|"
    r"visuallyhidden|screen-reader|screenreader|modal|popup|overlay|banner|slideshow|gallery|"
    r"carousel|player|teaser|copyright|footer|masthead|navbar|navigation|dropdown|tooltip|"
    r"timestamp|dateline-meta|print-only|noprint|no-print|infobox|factbox|toc|"
    r"table-of-contents|jump-link|login|donate|bookmark|rating|reaction|feedback|"
    r"pagination|pager|follow|audio|podcast|video|embed|keywords|article-tags|tag-list|"
    r"taglist|tags-|-tags|topics|rubric|kicker|headline-meta|article-meta|meta-info|"
    r"publish|updated|date-time|datetime|posted|reading-time|readtime|(?<![a-z0-9])more-|"
    r"(?:info|fact|facts|fakten|expandable|hinweis|teaser|promo|author|more|link|links|news|side|"
    r"extra|quote|pic|img|image|photo|bild|media|video)-?box",
)
_BOILER_WORD = re.compile(
    r"(?<![a-z0-9])(?:ad|ads|adv|adslot|adunit|anzeige|werbung|pub|reklama|meta|tags?|date|"
    r"time|hide|hidden|is-hidden|d-none|print|lead|intro|summary|standfirst|dek|deck|subtitle|"
    r"subline|source|header|nav|menu|aside|rail|foot|share|disclaimer|legal|bio|profile|contact|"
    r"related|see-also|seealso|teaser|image|img|photo|picture|figure|thumb|thumbnail|icon|logo|"
    r"avatar|badge|cta|button|btn|search|lang|language|switcher|more|links|info|note|notice|"
    r"alert|extra|stats|counter|label|media|embed|tweet|byline|credits?|captions?|caption-text)"
    r"(?![a-z0-9])",
)
# Tokens that mark the article text itself; they veto a boilerplate match on the same element.
_CONTENT_WORD = re.compile(
    r"article-?body|articlebody|article-?text|articletext|article-?content|story-?body|"
    r"storybody|story-?text|post-?body|post-?content|entry-?content|main-?content|"
    r"body-?text|bodytext|text-?content|rich-?text|richtext|article__body|content__body|"
    r"paragraph|textblock|text-block|prose|copy",
)
_RELATED = re.compile(
    r"related|read-?also|also-?read|see-?also|more-?on|more-?from|recommend|(?<![a-z0-9])links?(?![a-z0-9])|"
    r"-links(?![a-z0-9])|links-|further|weiterlesen|mehr-zum|lesen-sie|по-теме|читайте"
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SPACE = re.compile(r"\s+")
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\[\[.*?\]\]")
# Whole paragraphs that are labels of ads, related-links boxes, share bars and the like.
_LABEL = re.compile(
    r"^(?:advertisement|advertising|ad|ads|anzeige|werbung|реклама|publicidad|publicité|publicite|"
    r"pubblicità|reklame|reklam|advertentie|sponsored|sponsored content|gesponsert|"
    r"read also|read more|also read|see also|more|more on this|more from .{1,40}|related|"
    r"related articles?|related stories|related news|related content|recommended|"
    r"lesen sie auch|lesen sie mehr|mehr zum thema|weitere artikel|das könnte sie auch interessieren|"
    r"auch interessant|zum thema|читайте также|читать также|смотрите также|по теме|"
    r"lire aussi|à lire aussi|a lire aussi|sur le même sujet|leer más|lea también|lee también|"
    r"te puede interesar|leggi anche|potrebbe interessarti|leia também|leia mais|czytaj też|"
    r"czytaj także|přečtěte si také|share|share this|share this article|share on .{1,20}|"
    r"copy link|link copied|print|email|tweet|loading|loading\.{3}|load more|show more|"
    r"click here|subscribe|sign up|newsletter|comments?|\d+ comments?|listen|listen to this article|"
    r"follow us|follow|back to top|top stories|most read|most popular|trending|"
    r"image|photo|video|foto|bild|quelle|source|credit|getty images|imago|reuters|afp|ap|dpa|"
    r"read next|related coverage|related topics|more coverage|related links|"
    r"benzer haberler|ilgili haberler|ilgili konular|bu haberi paylaşın|paylaş|"
    r"читайте також|поделиться|поділитися|相关新闻|相关阅读|延伸阅读|阅读下一篇|分享到|分享|纠错|"
    r"關聯新聞|相關新聞|関連記事|관련 기사|관련기사|"
    r"\[?\d+(?:\s*-\s*\d+)?\s*(?:min(?:ute)?s?|мин|dk|dakika|分钟)\.?\s*(?:read|reading|de lecture|"
    r"lesezeit|чтения|okuma(?: süresi)?)?|(?:reading time|lesezeit|lesedauer|temps de lecture|"
    r"время чтения|okuma süresi|阅读时间)\s*[:：]?\s*\d+\s*\w*\.?)"
    r"\s*[:.!…：]*$",
    re.I,
)
# Lines that start like a "read also"/"related" pointer.
_POINTER = re.compile(
    r"^(?:read also|read more|also read|see also|related|more|watch|lesen sie auch|lesen sie mehr|"
    r"read next|related coverage|related news|читайте також|benzer haberler|ilgili haberler|"
    r"mehr zum thema|auch interessant|weiterlesen|читайте также|lire aussi|à lire aussi|"
    r"leer más|lea también|leggi anche|leia também|czytaj też|czytaj także)\s*[:|›»>\-–—]|"
    r"^(?:>>|»|→|►|▶|click here|klicken sie hier|hier klicken|cliquez ici|haga clic aquí)",
    re.I,
)
_WORD = re.compile(r"\w+")


@dataclass(slots=True)
class Block:
    """One run of text between block boundaries, with the element that holds it."""

    owner: HtmlElement
    tag: str
    text: str
    link_chars: int
    links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def link_density(self) -> float:
        """Share of the block's characters inside links."""
        return self.link_chars / max(1, len(self.text))


@dataclass
class MainText:
    """What the text layer found: paragraphs, related links and the container."""

    paragraphs: list[str]
    read_also: list[dict[str, str]]
    container: HtmlElement | None = None
    #: the element holding each paragraph (empty when the text came from JSON-LD)
    owners: list[HtmlElement] = field(default_factory=list)
    #: why the text is empty ("empty_body: ..."), see Article.warnings
    warnings: list[str] = field(default_factory=list)


# State and responsive modifiers say nothing about what an element is ("with-lead", "hidden-xs").
_MODIFIER = re.compile(
    r"(?:has|with|no|is-not|show|without)-[a-z0-9_-]+|"
    r"(?:hidden|visible|d-none)-(?:xs|sm|md|lg|xl|print)[a-z0-9_-]*|"
    r"(?:[a-z0-9]+-)?overflow(?:-[xy])?-[a-z]+|"  # "overflow-hidden" clips, it does not hide
    r"[a-z0-9_-]+-(?:enabled|disabled|active|open|closed|visible|loaded)|"
    # CMS taxonomy classes name the article's topics, not the element ("tag-social-media")
    r"(?:tag|category|categories|postid|post|status|format|type|term|topic|section|"
    r"page-id|page-template|parent-pageid|single|author)-[a-z0-9_-]+"
)
# Utility classes ("print:hidden", "w-[368px]", "!mt-0") describe looks, not roles.
_UTILITY_MARKS = (":", "[", "/", "!")


@lru_cache(maxsize=65536)
def _names(cls: str | None, ident: str | None) -> str:
    """Class and id tokens, camelCase split and lowercased, without modifier and utility tokens."""
    tokens = []
    for token in ((cls or "") + " " + (ident or "")).split():
        if any(mark in token for mark in _UTILITY_MARKS):
            continue
        token = _CAMEL.sub(r"\1-\2", token).lower()
        if not _MODIFIER.fullmatch(token):
            tokens.append(token)
    return " ".join(tokens)


def _class_id(el: HtmlElement) -> str:
    return _names(el.get("class"), el.get("id"))


NOT, WEAK, STRONG, HARD = 0, 1, 2, 3


def boilerplate_level(el: HtmlElement, tag: str) -> int:
    """How surely an element's tag or attributes mark it as page furniture, not article text.

    HARD is never article text (scripts, hidden elements, unrendered AngularJS templates);
    STRONG (a "most read" box, a share bar) and WEAK (a header tag, a "meta" class) are
    ignored by the walk when the element holds much of the page's text.
    """
    if tag in SKIP_TAGS:
        return HARD
    keys = el.keys()
    if not keys:
        return WEAK if tag in FURNITURE_TAGS else NOT
    if not _HIDING_ATTRS.isdisjoint(keys) and _is_hidden(el, keys):
        return HARD
    if tag in FURNITURE_TAGS:
        return WEAK
    if tag in INLINE_TAGS:
        return NOT  # a link or highlight inside a sentence is part of the sentence
    get = el.get
    return _attribute_level(tag, get("class"), get("id"), get("role"), get("itemprop"))


# Attributes that can hide an element or mark an unrendered AngularJS template ({{item.group_date}}).
_NG_TEMPLATE = frozenset(
    {"ng-repeat", "ng-if", "ng-show", "ng-hide", "ng-include", "ng-switch", "ng-switch-when", "ng-template"}
)
_HIDING_ATTRS = frozenset(
    {"hidden", "aria-hidden", "style"} | _NG_TEMPLATE | {"data-" + k for k in _NG_TEMPLATE}
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def _is_hidden(el: HtmlElement, keys: list[str]) -> bool:
    if "hidden" in keys:
        # React streaming SSR sends a suspended part as <div hidden id="S:0"> and a script moves
        # it into place: with Next.js that part is often the whole story
        return not (el.get("id") or "").startswith(("S:", "P:"))
    if el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style and ("none" in style or "hidden" in style) and _HIDDEN_STYLE.search(style):
        return True
    return any(k.removeprefix("data-") in _NG_TEMPLATE for k in keys)


@lru_cache(maxsize=65536)
def _attribute_level(tag: str, cls: str | None, ident: str | None, role: str | None,
                     itemprop: str | None) -> int:
    # Pages repeat the same class strings many times: cached on the attribute values.
    if role and role.lower() in _ROLES_SKIPPED:
        return WEAK
    if itemprop in ("articleBody", "text"):
        return NOT
    names = _names(cls, ident)
    if not names or _CONTENT_WORD.search(names) or tag in ("body", "html", "main"):
        return NOT
    if tag in ("p", "h2", "h3", "h4", "h5", "h6"):
        # Text elements only go for the unambiguous kinds (captions, credits, bylines, ads).
        return STRONG if _PARA_BOILER.search(names) else NOT
    if _STRONG_SUBSTR.search(names):
        return STRONG
    if _BOILER_SUBSTR.search(names) or _BOILER_WORD.search(names):
        return WEAK
    return NOT


_STRONG_SUBSTR = re.compile(
    r"share|sharing|social|cookie|consent|gdpr|newsletter|related|readalso|read-also|alsoread|"
    r"also-read|recommend|mostread|most-read|mostpopular|most-popular|morefrom|more-from|"
    r"advert|sponsor|promo|comment(?!ar)|disqus|caption|credit|breadcrumb|outbrain|taboola|plista|"
    r"byline|appetizer",
)


_PARA_BOILER = re.compile(
    r"caption|credit|byline|author|copyright|advert|(?<![a-z0-9])(?:ad|ads|lead|intro|teaser|"
    r"summary|standfirst|dek|deck|subtitle|date|time|meta|hidden|hide)(?![a-z0-9])|"
    r"sr-only|visually-hidden|screen-reader|timestamp|related|newsletter|promo|sponsor|share|"
    # the teaser above the story is the description field, not body text
    r"leadtext|lead-text|(?<![a-z0-9])lede(?![a-z0-9])",
)


# what the relaxed walk still skips: never story text, whatever the page's classes say
_RELAXED_SKIP = SKIP_TAGS | {"nav", "footer", "header", "menu", "dialog"}


def walk_blocks(root: HtmlElement, *, guard_share: float = 0.35, guard_chars: int = 2500,
                relaxed: bool = False) -> list[Block]:
    """Text blocks of the page in document order, boilerplate subtrees skipped.

    A furniture tag or boilerplate class on an element holding more than ``guard_share``
    of the page's text or more than ``guard_chars`` characters is ignored (a class like
    "page sidebar-layout" on the article wrapper); the scoring then decides. ``relaxed``
    skips only scripts, styles and the like: the last try before a body is given up.
    """
    total = len(root.text_content()) - sum(len(el.text or "") for el in root.iter("script", "style"))
    guard = min(guard_chars, max(200, int(total * guard_share)))
    strong_guard = max(guard, int(total * 0.5))
    blocks: list[Block] = []
    parts: list[str] = []
    links: list[tuple[str, str]] = []
    owners: list[HtmlElement] = [root]
    # Open <a> elements: (href, block number, index in parts); text added while one is
    # open counts as link text, also when the link wraps whole blocks (teaser cards).
    link_stack: list[tuple[str, int, int]] = []
    counts = [0, 0]  # characters of text, of link text, in the current block

    def add(text: str) -> None:
        parts.append(text)
        n = len(text.strip())
        counts[0] += n
        if link_stack:
            counts[1] += n

    def flush() -> None:
        nonlocal links
        if parts:
            text = "".join(parts)
            if "{" in text or "[[" in text:
                text = _TEMPLATE.sub(" ", text)
            text = " ".join(text.split())
            if text:
                owner = owners[-1]
                share = counts[1] / counts[0] if counts[0] else 0.0
                blocks.append(Block(owner, owner.tag, text, round(share * len(text)), links))
                links = []
            parts.clear()
        counts[0] = counts[1] = 0

    # Stack entries: (element, closing). Closing entries finish a block/link and add the tail.
    stack: list[tuple[HtmlElement, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag
        if closing:
            if tag == "a" and link_stack:
                href, number, start = link_stack.pop()
                if number == len(blocks) and href:
                    anchor = _SPACE.sub(" ", "".join(parts[start:])).strip()
                    if anchor:
                        links.append((anchor, href))
                elif href:
                    # A link around whole blocks (a teaser card): its title is the first block.
                    blocks[number].links.append((blocks[number].text, href))
            if tag in BLOCK_TAGS:
                flush()
                owners.pop()
            if el.tail:
                add(el.tail)
            continue
        if not isinstance(tag, str):  # comments, processing instructions
            if el.tail:
                add(el.tail)
            continue
        tag = tag.lower() if not tag.islower() else tag
        level = boilerplate_level(el, tag) if not relaxed else (HARD if tag in _RELAXED_SKIP else NOT)
        if level in (WEAK, STRONG):
            size = len(el.text_content())
            if size > (guard if level == WEAK else strong_guard):
                level = NOT
        if level:
            if tag in BLOCK_TAGS or tag in FURNITURE_TAGS:
                flush()
                if level != HARD and _RELATED.search(_class_id(el)):
                    # Kept as a marker: inside the article its links become read_also entries.
                    found = [(" ".join(a.text_content().split()), a.get("href") or "") for a in el.iter("a")]
                    blocks.append(Block(el, RELATED, "", 0, [(t, h) for t, h in found if t and h]))
            if el.tail:
                add(el.tail)
            continue
        if tag == "br":
            if parts and not parts[-1].strip() and "\n" in parts[-1]:
                flush()  # <br><br> separates paragraphs
            else:
                parts.append("\n")
            if el.tail:
                add(el.tail)
            continue
        if tag in BLOCK_TAGS:
            flush()
            owners.append(el)
        elif tag == "a":
            link_stack.append((el.get("href") or "", len(blocks), len(parts)))
        if el.text:
            add(el.text)
        stack.append((el, True))
        stack.extend([(child, False) for child in reversed(el)])
    flush()
    return blocks


def _content_weight(block: Block) -> float:
    """How much a block looks like article prose: long text, few links, sentence punctuation."""
    n = len(block.text)
    if n < 25 or block.link_density > 0.4 or block.tag in HEADING_TAGS:
        return 0.0
    weight = min(n, 800) * (1.0 - block.link_density)
    if n < 80 and not block.text.endswith((".", "!", "?", "…", '"', "»", "”", ":", "。", "！", "？", "」")):
        weight *= 0.3
    return weight


#: the container is widened until it holds this share of the page's prose (live blogs,
#: story stacks and text split by inline ads spread the article over sibling subtrees)
COVERAGE = 0.7
#: weight of text a sibling paragraph of the container needs to count as article text
SIBLING_PROSE = 60.0


def find_container(blocks: list[Block]) -> list[HtmlElement]:
    """Elements holding the article text, best first (empty when nothing looks like prose)."""
    scores: dict[int, float] = {}
    mass: dict[int, float] = {}
    elements: dict[int, HtmlElement] = {}
    own: dict[int, float] = {}  # prose held directly by a paragraph element
    total = 0.0
    for block in blocks:
        weight = _content_weight(block)
        if not weight:
            continue
        total += weight
        el: HtmlElement | None = block.owner
        own[id(el)] = own.get(id(el), 0.0) + weight
        if block.tag in ("p", "li", "dd", "td", "blockquote", "pre", "h2", "h3"):
            el = el.getparent() if el is not None else None
        decay = 1.0
        while el is not None:
            key = id(el)
            if key not in elements:
                elements[key] = el
            mass[key] = mass.get(key, 0.0) + weight
            if decay > 0.1:
                scores[key] = scores.get(key, 0.0) + weight * decay
                decay *= 0.5
            el = el.getparent()
    if not scores:
        return []
    best_key = max(scores, key=scores.__getitem__)
    best = elements[best_key]
    while mass[best_key] < COVERAGE * total:
        parent = best.getparent()
        if parent is None or id(parent) not in mass:
            break
        best, best_key = parent, id(parent)
    best_score = scores.get(best_key, 0.0)
    members = [best]
    # Article text split over sibling containers (text blocks between ad slots, a second
    # page part) or an intro paragraph beside the main text block: take siblings that
    # score well on their own, and sibling paragraphs of real prose.
    parent = best.getparent()
    if parent is not None:
        threshold = max(120.0, best_score * 0.2)
        for sibling in parent:
            key = id(sibling)
            if key != best_key and (scores.get(key, 0.0) >= threshold or own.get(key, 0.0) >= SIBLING_PROSE):
                members.append(sibling)
    return members


def main_text(root: HtmlElement, url: str | None = None, *, headline: str | None = None,
              hint: str | None = None, containers: Iterable[HtmlElement] = ()) -> MainText:
    """Paragraphs and read-also links of the article on the page rooted at ``root``.

    ``containers`` (from a site profile) replaces the container search when given.
    """
    found = _main_text(root, url, headline=headline, hint=hint, containers=containers)
    if found.paragraphs:
        return found
    if containers:
        # the profile's container came out empty (layout changed): the generic search decides
        found = _main_text(root, url, headline=headline, hint=hint)
    if not found.paragraphs:
        # print/AMP wrappers and short stories under boilerplate-looking classes: drop the rules
        found = _main_text(root, url, headline=headline, hint=hint, relaxed=True)
        if not _has_prose(found.paragraphs):
            # without the rules a page that holds no story yields its forms and notices
            found = MainText([], found.read_also, None)
    if not found.paragraphs and hint and hint.strip():
        found = _from_hint(hint, found.read_also, min_chars=1)
    if not found.paragraphs:
        found = _from_scripts(root, url, headline) or found
    if not found.paragraphs:
        found.warnings.append(_empty_reason(root))
    return found


#: a JSON string field of a page's inline script data holding the story as HTML ("contentHtml":
#: "\u003cp\u003e..."): pages rendered in the browser from a framework's state carry it only there
_SCRIPT_HTML = re.compile(
    r'"(?:contentHtml|content_html|bodyHtml|body_html|articleBody|content|body|html|text)"\s*:\s*'
    r'"((?:[^"\\]|\\.){200,})"'
)
#: an ad slot or template variable left in the text ("$$ARTICLEAD$$", "{{ad}}", "%%AD%%")
_PLACEHOLDER = re.compile(r"\$\$\w+\$\$|\{\{[^{}]{1,40}\}\}|%%\w+%%")


def _from_scripts(root: HtmlElement, url: str | None, headline: str | None) -> MainText | None:
    """The story of a page whose body is empty until JavaScript runs: the longest text among the
    HTML strings in its inline scripts' data, read as a page of its own."""
    best: MainText | None = None
    for script in root.iter("script"):
        source = script.text or ""
        if script.get("src") or not 200 <= len(source) <= 5_000_000:
            continue
        for match in _SCRIPT_HTML.finditer(source):
            try:
                fragment = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            if "<p" not in fragment:
                continue
            try:
                page = lxml.html.document_fromstring(
                    f"<html><body><article>{_PLACEHOLDER.sub('', fragment)}</article></body></html>")
            except (ValueError, lxml.etree.ParserError):  # NULs or control characters in the data
                continue
            found = _main_text(page, url, headline=headline, hint=None)
            if best is None or sum(map(len, found.paragraphs)) > sum(map(len, best.paragraphs)):
                best = found
    if best is None or not _has_prose(best.paragraphs):
        return None
    return best


#: the relaxed walk's text counts only with a paragraph this long (a third of it in CJK scripts)
RELAXED_PROSE = 120
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _has_prose(paragraphs: list[str]) -> bool:
    return any(len(p) >= RELAXED_PROSE or (len(p) >= RELAXED_PROSE // 3 and _CJK.search(p))
               for p in paragraphs)


def _empty_reason(root: HtmlElement) -> str:
    text = " ".join(p for p in (" ".join(t.split()) for t in root.xpath(
        "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")) if p)
    if len(text) < 200:
        return f"empty_body: the page holds {len(text)} characters of text"
    return "empty_body: no paragraph-like text found"


def _main_text(root: HtmlElement, url: str | None, *, headline: str | None, hint: str | None,
               containers: Iterable[HtmlElement] = (), relaxed: bool = False) -> MainText:
    blocks = walk_blocks(root, relaxed=relaxed)
    # lxml element proxies live only while referenced, so ``chosen`` keeps them (and their ids) alive.
    chosen = list(containers) or find_container(blocks)
    if not chosen:
        return _from_hint(hint)
    # A set of the elements themselves: it also keeps their proxies alive while we compare.
    inside: set[HtmlElement] = set()
    for el in chosen:
        inside.update(el.iter())
    title_key = _norm(headline) if headline else None
    paragraphs: list[str] = []
    owners: list[HtmlElement] = []
    read_also: list[dict[str, str]] = []
    seen_links: set[str] = set()
    for block in blocks:
        if block.owner not in inside:
            continue
        text = block.text
        if block.tag == "h1" or (title_key and _norm(text) == title_key):
            continue
        if block.tag == RELATED or _is_pointer(block):
            for title, href in block.links:
                link = absolute_url(url, href)
                if (link and link not in seen_links and len(title) > 15
                        and not _LEGAL_LINK.search(link + " " + title)):
                    seen_links.add(link)
                    read_also.append({"title": title, "url": link})
            continue
        if (len(text) < 80 and _LABEL.match(text)) or _is_noise(text):
            continue
        if paragraphs and paragraphs[-1] == text:
            continue
        paragraphs.append(text)
        owners.append(block.owner)
    if hint and sum(map(len, paragraphs)) < 0.25 * len(hint):
        # Pages rendered by JavaScript carry the story only in JSON-LD articleBody.
        return _from_hint(hint, read_also)
    if hint and len(hint) >= 500 and not containers:
        paragraphs, owners = _verify_with_hint(paragraphs, owners, hint)
    return MainText(paragraphs, read_also, chosen[0], owners)


def _verify_with_hint(
    paragraphs: list[str], owners: list[HtmlElement], hint: str
) -> tuple[list[str], list[HtmlElement]]:
    """Drop short paragraphs that JSON-LD articleBody leaves out, when it vouches for the rest.

    Only short ones go (box headings, key-point bullets, captions): long paragraphs missing
    from articleBody are more often the publisher's articleBody being shortened.
    """
    body = _squash(hint)
    found = [_squash(p) in body for p in paragraphs]
    covered = sum(len(p) for p, ok in zip(paragraphs, found, strict=True) if ok)
    if covered < 0.8 * sum(map(len, paragraphs)):
        return paragraphs, owners
    kept = [
        i for i, ok in enumerate(found)
        if ok or len(paragraphs[i]) >= SHORT_UNVOUCHED or owners[i].tag in HEADING_TAGS
    ]
    return [paragraphs[i] for i in kept], [owners[i] for i in kept]


#: paragraphs shorter than this are dropped when a trusted articleBody does not contain them
SHORT_UNVOUCHED = 150


def _squash(text: str) -> str:
    return "".join(_WORD.findall(text.casefold()))


def _from_hint(hint: str | None, read_also: list[dict[str, str]] | None = None,
               min_chars: int = 200) -> MainText:
    if not hint or len(hint) < min_chars:
        return MainText([], read_also or [], None)
    paragraphs = [_SPACE.sub(" ", p).strip() for p in re.split(r"\n\s*\n|\r?\n", hint)]
    return MainText([p for p in paragraphs if p], read_also or [], None)


def _is_pointer(block: Block) -> bool:
    """A block that points elsewhere (related links) rather than telling the story."""
    if block.link_density >= 0.6:
        return True
    return bool(block.links) and bool(_POINTER.match(block.text))


def _is_noise(text: str) -> bool:
    # A paragraph without any word characters (separators, bullets, stray punctuation), or
    # a short byline line ("By Jane Doe", "Von Max Muster") left outside a marked byline.
    if _WORD.search(text) is None:
        return True
    if len(text) < 60 and (_BYLINE.match(text) is not None or _CREDIT.match(text) is not None):
        return True
    if len(text) >= 100:
        return False
    if _STAMP_ONLY.match(text):
        return True
    stamp = _STAMP_WORDS.match(text)
    # What follows the word must be a date and time, not a sentence ("Published in 1999, the book...").
    return stamp is not None and len(_ALPHA_WORD.findall(text[stamp.end() :])) <= 4


_ALPHA_WORD = re.compile(r"[^\W\d_]{2,}")


# "Quelle: AFP", "Photo: Reuters": credit lines of images and graphics.
_CREDIT = re.compile(
    r"^(?:quelle|source|sources|photo|photos|foto|fotos|bild|bilder|credit|credits|image|images|"
    r"picture|fuente|fonte|zdroj|źródło|kilde|källa|kuva|фото|источник)\s*:", re.I
)
# "Updated 15.59 | Published 14.14", "Aktualisiert: 27.04.2024, 12:30 Uhr": time stamps, not story.
_STAMP_WORDS = re.compile(
    r"^(?:(?:last\s+)?updated|published|posted|aktualisiert|veröffentlicht|publié|mis à jour|"
    r"publicado|actualizado|pubblicato|aggiornato|uppdaterad|publicerad|opdateret|oppdateret|"
    r"oppdatert|publisert|julkaistu|päivitetty|zaktualizowano|opublikowano|aktualizováno|"
    r"publikováno|опубликовано|обновлено|stand(?=:))\b(?=[^.!?]*\d)",
    re.I,
)
_STAMP_ONLY = re.compile(
    r"^[\d\s.:/,|\-–—]+(?:uhr|h|am|pm|a\.m\.|p\.m\.|et|gmt|utc|cet|cest|msk)?\.?$", re.I
)


_BYLINE = re.compile(r"^(?:by|von|par|por|di|door|av|af|od|от|автор:?)\s+\w+(?:[\s.-]+\w+){0,4}\s*$", re.I)


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


# Headings of related-article boxes, in the usual wordings and languages (whole text of the heading).
_RELATED_HEADING = re.compile(
    r"^(?:read also|also read|read next|read more|related|related (?:news|articles?|stories|coverage|"
    r"content|posts|links|reading)|more (?:on this|on this story|stories|coverage)|see also|"
    r"further reading|you may also be interested in|"
    r"читайте также|читать также|читайте також|смотрите также|по теме|ещё по теме|еще по теме|"
    r"материалы по теме|новости по теме|"
    r"benzer haberler|ilgili haberler|bunlar da ilginizi çekebilir|"
    r"相关新闻|相关阅读|相关报道|延伸阅读|相關新聞|相關閱讀|延伸閱讀|"
    r"関連記事|関連ニュース|관련 ?기사|관련 ?뉴스|"
    r"lesen sie auch|mehr zum thema|lire aussi|à lire aussi|sur le même sujet|voir aussi|"
    r"lea también|lee también|noticias relacionadas|leggi anche|articoli correlati|"
    r"leia também|notícias relacionadas|czytaj też|czytaj także|اقرأ أيضا|اقرأ أيضاً)\s*[:：]?$",
    re.I,
)
# Elements that carry a box heading: iterating by tag is filtered in C (an XPath text search was 8x slower)
_HEADING_CARRIERS = ("h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "dt", "summary", "legend", "div",
                     "span", "p")
_CHROME_TAGS = frozenset({"nav", "footer", "header"})
#: a box with more links than this is a site index or a menu, not a related-articles box
MAX_BOX_LINKS = 30


def related_boxes(root: HtmlElement, url: str | None, skip: Iterable[str] = ()) -> list[dict[str, str]]:
    """Links of the boxes headed "Read also", "Related News", "Benzer haberler", "相关新闻"...

    The box is the smallest ancestor of the heading that holds article links besides the
    heading; boxes in navigation, headers and footers, and licensing/legal links, are not read.
    """
    out: list[dict[str, str]] = []
    seen = {u for u in skip if u}
    for el in root.iter(_HEADING_CARRIERS):
        text = el.text
        if not text or len(text) > 45 or not _RELATED_HEADING.match(text.strip()):
            continue
        found = _box_of(el)
        if found is None:
            continue
        for a in _box_links(*found):
            title = " ".join(a.text_content().split())
            link = absolute_url(url, a.get("href") or "")
            if (len(title) > 15 and link and link not in seen and _article_like(link)
                    and not _LEGAL_LINK.search(link + " " + title)):
                seen.add(link)
                out.append({"title": title, "url": link})
    return out


_LEGAL_LINK = re.compile(
    r"licen[cs]|copyright|terms|privacy|cookie|imprint|impressum|trust-principles|subscribe|"
    r"mailto:|javascript:|#$",
    re.I,
)


def _article_like(link: str) -> bool:
    """An article's URL (an id or a long slug), not a section front such as /business/technology/."""
    path = urlsplit(link).path
    if any(c.isdigit() for c in path):
        return True
    return any(len(part) >= 25 or part.count("-") >= 3 or part.endswith((".html", ".htm", ".php"))
               for part in path.split("/"))


def _box_of(heading: HtmlElement) -> tuple[HtmlElement, HtmlElement] | None:
    """(box, the box's child holding the heading): the nearest ancestor with links beside the heading."""
    el: HtmlElement | None = heading
    for _ in range(5):
        if el is None or el.tag in ("body", "html", "main", "article"):
            return None
        parent = el.getparent()
        if parent is None:
            return None
        links = sum(1 for a in parent.iter("a") if a.get("href") and not _contains(el, a))
        if links:
            if links > MAX_BOX_LINKS or _in_chrome(parent):
                return None
            return parent, el
        el = parent
    return None


#: text outside links above which an element is prose, not a list of links
PROSE_CHARS = 200


def _box_links(box: HtmlElement, head: HtmlElement) -> list[HtmlElement]:
    """The box's links; when the box is the story itself (a heading among its paragraphs), only
    the links after the heading, up to the next heading or paragraph of prose."""
    if _plain_chars(box) <= PROSE_CHARS:
        return list(box.iter("a"))
    links: list[HtmlElement] = []
    for sibling in head.itersiblings():
        if not isinstance(sibling.tag, str) or sibling.tag in HEADING_TAGS:
            break
        if _plain_chars(sibling) > PROSE_CHARS:
            break
        links.extend(sibling.iter("a"))
    return links


def _plain_chars(el: HtmlElement) -> int:
    """Characters of text outside links."""
    return len("".join(el.text_content().split())) - sum(
        len("".join(a.text_content().split())) for a in el.iter("a"))


def _contains(outer: HtmlElement, inner: HtmlElement) -> bool:
    node: HtmlElement | None = inner
    while node is not None:
        if node is outer:
            return True
        node = node.getparent()
    return False


def _in_chrome(el: HtmlElement) -> bool:
    node: HtmlElement | None = el
    while node is not None:
        if node.tag in _CHROME_TAGS or node.get("role") in ("navigation", "contentinfo", "banner"):
            return True
        node = node.getparent()
    return False


# Trailers and head lines that are not story text (general rules, any site):
# an editor's credit "【责任编辑:…】", "(END)"/"(完)" marks with the reporter's e-mail before
# them, a credit line "(c)AFP/Name", a byline "By NAME, Associated Press", licensing notes.
_BRACKETS_ONLY = re.compile(r"^(?:\s*【[^】]{0,60}】)+\s*$")
_EDITOR_CREDIT = re.compile(
    r"\s*[【\[（(]\s*(?:责任编辑|責任編輯|编辑|編輯|责编|責編|校对|审核|编审|监制|Editor|Редактор|Editör)"
    r"\s*[:：][^】\])）]{0,40}[】\])）]\s*$"
)
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_END_MARK = re.compile(rf"(?:\s*{_EMAIL})*\s*(?:[(（](?:END|End|完|끝)[)）]|-30-|###)\s*$")
_EMAILS_ONLY = re.compile(rf"^(?:\s*(?:{_EMAIL}|[/,;]))+\s*$")
_CREDIT_LINE = re.compile(
    r"(?:^|\s)[(（][cCｃ©][)）]\s*(?P<agency>AFP|AFPBB News|Reuters|AP|dpa|EFE|ANSA|Kyodo|Xinhua|Yonhap|"
    r"Sputnik|TASS|ТАСС|AA|Anadolu)\s*(?:/\s*(?P<name>[^\n/()]{2,60}?))?\s*$"
)
_WIRE_BYLINE = re.compile(
    r"^By\s+(?P<name>[^\W\d_][\w'’.\- ]{1,60}?),\s*(?:The\s+)?(?P<agency>Associated Press|AP|Reuters|"
    r"Agence France-Presse|AFP|Bloomberg|Anadolu Agency|Xinhua|Yonhap|Kyodo News|Kyodo|UPI|dpa)"
    r"(?:\s+[\w ]{0,30}(?:Writer|Correspondent|Reporter|Editor))?\s*$"
)
_LICENSE = re.compile(
    r"all rights reserved|tüm hakları saklıdır|все права защищены|усі права захищені|版权所有|版權所有|"
    r"無断転載|무단 ?전재|may not be (?:published|reproduced|redistributed|rewritten)|"
    r"haber akış sistemi|without (?:the )?(?:prior )?(?:written )?permission|"
    r"(?:^|\s)(?:©|\(c\))\s*\d{4}|copyright\s*(?:©\s*)?\d{4}|^©",
    re.I,
)


@dataclass
class Cleaned:
    """Paragraphs without trailers, and the people and agencies the credit lines named."""

    paragraphs: list[str]
    people: list[str] = field(default_factory=list)
    wires: list[str] = field(default_factory=list)

#: the site talking to its reader under the story: newsletters, channels, tip-offs, paywalls
_PROMO = re.compile(
    r"protected by recaptcha|^got a story\?|^do you have a story|^for more stories like this|"
    r"sign(?:ing)? up (?:to|for) (?:our|the) [\w\s-]{0,30}newsletter|"
    r"bookmark (?:our|the) (?:home ?page|website)|"
    r"^follow [\w.\s]{1,40} on (?:twitter|facebook|instagram|whatsapp|x\b)|"
    r"whats[ -]?app[- ](?:kanal|channel)|"
    r"^il vous reste [\d.,]+ ?% de cet article|réservée? aux abonnés|^fehler gefunden\?",
    re.I,
)


def clean_paragraphs(paragraphs: list[str]) -> Cleaned:
    """Remove editor credits, (END) trailers, e-mails, credit/licensing lines; keep what credits name."""
    out = Cleaned(list(paragraphs))
    ps = out.paragraphs
    # A wire byline in the first lines ("By JANE DOE, Associated Press")
    for i in range(min(3, len(ps))):
        m = _WIRE_BYLINE.match(ps[i]) if len(ps[i]) < 120 else None
        if m:
            out.people.append(m.group("name").strip())
            out.wires.append(m.group("agency"))
            del ps[i]
            break
    # Trailers sit in the last few paragraphs; several can follow each other.
    for _ in range(6):
        if not ps:
            break
        last = ps[-1]
        if _BRACKETS_ONLY.match(last) or _EMAILS_ONLY.match(last) or (
            len(last) < 400 and len(ps) > 1 and (_LICENSE.search(last) or _PROMO.search(last))
        ):
            ps.pop()
            continue
        credit = _CREDIT_LINE.search(last)
        if credit and (credit.start() == 0 or len(last) > 40 or last[: credit.start()].strip() == ""):
            out.wires.append(credit.group("agency"))
            if credit.group("name"):
                out.people.append(credit.group("name").strip())
            last = last[: credit.start()].rstrip()
        last = _END_MARK.sub("", last)
        last = _EDITOR_CREDIT.sub("", last).rstrip()
        if last != ps[-1]:
            if last:
                ps[-1] = last
            else:
                ps.pop()
            continue
        break
    return out
