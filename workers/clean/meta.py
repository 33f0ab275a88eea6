"""Page metadata from the parsed HTML tree: meta tags, JSON-LD and visible date stamps.

trafilatura's own metadata gives a date without time and one author string; news pages
state more (publication time with zone, canonical URL, section, tags, editor), in Open Graph
and article: tags, schema.org JSON-LD, and outlet-specific names (Kompas' content_*).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from schemas import DateSource
from workers.clean.body import word_count
from workers.clean.dates import Stated, parse_date_line

# Meta keys for the publication time, most specific first.
_DATE_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "content_publisheddate", "pubdate", "publishdate", "publish-date", "publish_date", "article.published",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dcterms.created", "dc.date",
    "date", "datecreated",
)  # fmt: skip
_AUTHOR_KEYS = (
    "content_author",
    "dable:author",
    "byl",
    "parsely-author",
    "sailthru.author",
    "author",
    "article:author",
)
_AUTHOR_KEY = re.compile(r"[:._-]author$")
_AUTHOR_LABEL = re.compile(r"^(?:written by|author|autor|auteur|penulis|by)$", re.IGNORECASE)
_EDITOR_KEYS = ("content_editor", "editor")
_SECTION_KEYS = ("article:section", "content_category", "articlesection", "section", "category")
_TAG_KEYS = ("article:tag", "news_keywords", "keywords", "tags")
_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "blogposting", "liveblogposting", "report",
}  # fmt: skip
# JSON-LD inside a commented CDATA section ("//<![CDATA[ {…} //]]>"), as older CMS templates write scripts.
_CDATA = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$")
_GENERIC_TAG = re.compile(r"^(?:berita|news|portal|info)\b.{0,30}$|^(?:terkini|hari ini|terbaru)$", re.I)

# Tags beyond this many are site-wide keyword stuffing, not the article's topics.
MAX_TAGS = 20
# Enough visible stamps to find the article's among those of related links.
MAX_VISIBLE_DATES = 10
# A text node longer than this (indentation included) is more than a date stamp.
VISIBLE_DATE_MAX_CHARS = 300


@dataclass
class PageMeta:
    """Metadata a page states about its article."""

    canonical: str | None = None
    site_name: str | None = None
    publisher: str | None = None
    title: str | None = None
    dates: list[str] = field(default_factory=list)  # stated in metadata, most specific first
    ld_authors: list[str] = field(default_factory=list)  # JSON-LD author persons
    ld_organisations: list[str] = field(default_factory=list)  # JSON-LD authors typed as organisations
    authors: list[str] = field(default_factory=list)  # author meta tags
    editors: list[str] = field(default_factory=list)
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    is_article: bool = False  # the page calls itself an article (og:type, JSON-LD @type)
    modified: str | None = (
        None  # when the page says it was last changed (article:modified_time, dateModified)
    )
    stated_words: int | None = None  # the article's length the page states (JSON-LD articleBody, wordCount)
    description: str | None = None  # the page's summary of its article (og:description, description)


def read_meta(tree: HtmlElement, base_url: str | None) -> PageMeta:
    """Collect canonical URL, site name, dates, people, section, tags and image from a page."""
    metas = _meta_values(tree)
    ld = _json_ld_article(tree)

    def first(*keys: str) -> str | None:
        """The first non-empty value among the meta keys, in order."""
        return next((v for k in keys for v in metas.get(k, []) if v), None)

    page = PageMeta(
        canonical=_absolute(_canonical_href(tree) or first("og:url") or _ld_text(ld.get("url")), base_url),
        site_name=first("og:site_name", "application-name"),
        publisher=_ld_name(ld.get("publisher")),
        title=first("og:title", "twitter:title") or _ld_text(ld.get("headline")),
        section=first(*_SECTION_KEYS) or _ld_text(ld.get("articleSection")),
        image=_absolute(first("og:image", "twitter:image") or _ld_image(ld.get("image")), base_url),
        is_article=bool(ld) or (first("og:type") or "").lower() == "article",
        stated_words=_stated_words(ld),
        description=first("og:description", "description", "twitter:description")
        or _ld_text(ld.get("description")),
    )
    page.dates = [v for k in _DATE_KEYS[:3] for v in metas.get(k, [])]
    page.dates += (
        [Stated(stated, DateSource.json_ld)] if (stated := _ld_text(ld.get("datePublished"))) else []
    )
    page.dates += [v for k in _DATE_KEYS[3:] for v in metas.get(k, [])]
    page.modified = first("article:modified_time", "og:updated_time") or _ld_text(ld.get("dateModified"))
    page.dates += [t.get("datetime") for t in tree.iter("time") if t.get("datetime")]
    page.ld_authors = _ld_people(ld.get("author"), ld.get("@nodes", {}))
    page.ld_organisations = _ld_people(ld.get("author"), ld.get("@nodes", {}), organisations=True)
    page.authors = [v for k in _author_keys(metas) for v in metas.get(k, []) if not v.startswith("http")]
    page.editors = [v for k in _EDITOR_KEYS for v in metas.get(k, [])] + _ld_names(
        ld.get("editor"), people_only=True
    )
    page.tags = _tags(next((metas[k] for k in _TAG_KEYS if metas.get(k)), []) or _ld_list(ld.get("keywords")))
    return page


def _stated_words(ld: dict) -> int | None:
    """Words of the article by its JSON-LD: its articleBody, else its wordCount."""
    body = ld.get("articleBody")
    if isinstance(body, str) and body.strip():
        return word_count(body)
    try:
        return int(str(ld.get("wordCount"))) or None
    except ValueError:
        return None


def _meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    """Content of every <meta> and itemprop element, by lower-cased name, property or itemprop."""
    values: dict[str, list[str]] = {}
    for element in tree.xpath("//meta[@content] | //*[@itemprop][@content or @datetime]"):
        key = (
            (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        )
        value = (element.get("content") or element.get("datetime") or "").strip()
        if key and value:
            values.setdefault(key, []).append(value)
    return values


def _canonical_href(tree: HtmlElement) -> str | None:
    """The href of <link rel="canonical">, if any and not empty."""
    for link in tree.xpath("//link[@rel='canonical'][@href]"):
        href = link.get("href", "").strip()
        if href:
            return href
    return None


def _absolute(url: str | None, base_url: str | None) -> str | None:
    """An absolute http(s) URL, or None."""
    if not url:
        return None
    url = urljoin(base_url or "", url.strip())
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname else None


def _json_ld_article(tree: HtmlElement) -> dict:
    """The first schema.org article object in the page's JSON-LD, or {}; its "@nodes" are all objects by @id."""
    nodes: dict[str, dict] = {}
    found: dict = {}
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(_CDATA.sub("", script.text_content()) or "null", strict=False)
        except ValueError:
            continue  # broken JSON-LD is common; the meta tags may still serve
        for item in _walk(data):
            if isinstance(item.get("@id"), str) and len(item) > 1:  # a node, not a bare reference
                nodes.setdefault(item["@id"], item)
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if not found and any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
                found = item
    return {**found, "@nodes": nodes} if found else {}


def _walk(data: object) -> Iterator[dict]:
    """Every JSON object in a JSON-LD document, @graph included."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, (dict, list)):
                yield from _walk(value)
    elif isinstance(data, list):
        for item in data:
            yield from _walk(item)


def _ld_text(value: object) -> str | None:
    """A JSON-LD value as text (first item of a list, @id of a reference)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@id") or value.get("name")
    return str(value).strip() if value else None


def _ld_name(value: object) -> str | None:
    """The name of a JSON-LD person or organisation."""
    names = _ld_names(value)
    return names[0] if names else None


def _ld_names(value: object, people_only: bool = False) -> list[str]:
    """Names of JSON-LD persons or organisations (a string, an object or a list of either)."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if people_only and isinstance(item, dict) and "organization" in str(item.get("@type", "")).lower():
            continue  # publishers listed as author
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names


def _ld_people(value: object, nodes: dict[str, dict], organisations: bool = False) -> list[str]:
    """Names of the JSON-LD persons in an author value (with `organisations`, of the organisations instead).

    Given and family names are joined, @id references followed, nested lists read ([{Person}, [{Person}]]).
    """
    items = value if isinstance(value, list) else [value]
    items = [inner for item in items for inner in (item if isinstance(item, list) else [item])]
    names = []
    for item in items:
        if isinstance(item, dict) and not item.get("name") and isinstance(item.get("@id"), str):
            item = nodes.get(item["@id"], item)
        typed_organisation = isinstance(item, dict) and "organization" in str(item.get("@type", "")).lower()
        if typed_organisation != organisations:
            continue  # publishers listed as author are read apart
        if isinstance(item, dict) and not item.get("name"):
            item = " ".join(str(item.get(k) or "") for k in ("givenName", "familyName")).strip()
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return names


def _author_keys(metas: dict[str, list[str]]) -> list[str]:
    """Meta keys holding author names: the known ones, any "…:author" or "….author", a labelled Twitter datum."""
    keys = [key for key in _AUTHOR_KEYS if key in metas]
    keys += [key for key in metas if key not in keys and _AUTHOR_KEY.search(key)]
    for key, labels in metas.items():
        if key.startswith("twitter:label") and any(_AUTHOR_LABEL.match(label) for label in labels):
            keys.append(key.replace("label", "data"))
    return keys


def _ld_image(value: object) -> str | None:
    """The URL of a JSON-LD image (string, ImageObject or list)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return value if isinstance(value, str) else None


def _ld_list(value: object) -> list[str]:
    """A JSON-LD list-ish value (list or comma-separated string) as a list of strings."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _tags(values: list[str]) -> list[str]:
    """Distinct tags from tag metas or keyword strings, without SEO filler ("berita terkini")."""
    tags: list[str] = []
    for value in values:
        for tag in value.split(","):
            tag = tag.strip().lstrip("#").strip()
            if tag and not _GENERIC_TAG.match(tag) and tag.lower() not in (t.lower() for t in tags):
                tags.append(tag)
    return tags[:MAX_TAGS]


def visible_dates(tree: HtmlElement) -> Iterator[str]:
    """Texts in the page that say nothing but a date ("Senin, 28 April 2025 21:14 WIB"), in page order.

    A text may end in one more field after a bar ("Selasa, 23 Februari 2016 15:06 WIB | 998 Views"): its date part counts.
    """
    found = 0
    for node in tree.xpath("//body//text()"):
        if len(node) > VISIBLE_DATE_MAX_CHARS:
            continue  # cheap test first: a page has thousands of text nodes
        text = " ".join(node.split())
        if not parse_date_line(text):  # a stamp with a counter after a bar: "… 15:06 WIB | 998 Views"
            text = text.rpartition(" | ")[0]
        if text and parse_date_line(text):
            yield text
            found += 1
            if found == MAX_VISIBLE_DATES:
                return
