"""Article metadata of an HTML page: what the page states, with trafilatura's readings as fallback.

The page's own statements (meta.py: meta tags, JSON-LD, credit lines) come first. trafilatura's
metadata pass costs a third of its extraction time (htmldate's date search and the author
search copy and scan the whole tree), so its parts run only for what the page does not state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_sitename
from trafilatura.settings import set_date_params

from workers.clean import date_text
from workers.clean.credits import NAME_MAX_WORDS, person_names
from workers.clean.dateline import is_domain_like
from workers.clean.dates import Stated, parse_date
from workers.clean.meta import PageMeta, visible_dates

date_text.install()  # htmldate reads date text in Kliping's languages only (date_text.py: 20-50× faster)

# Byline markup: rel/itemprop author, the class name "author", links to /author/ pages. Reached
# through the attributes (3 times faster than testing every element of the body).
_BYLINE = etree.XPath(
    "//@rel[.='author']/.. | //@itemprop[.='author']/.. | //@class[contains(., 'author')]/.."
    " | //a/@href[contains(., '/author/')]/.."
)
# A labelled field in a side column or fact box: "<li><strong>Autorin/Autor</strong> Roman Goncharenko</li>".
_FIELD_LABELS = ("strong", "b", "dt", "th")
FIELD_LABEL_MAX_CHARS = 20
_AUTHOR_FIELD = re.compile(
    r"^(?:autor(?:in)?(?:\s*/\s*autor(?:in)?)?|authors?|auteur|written by)\s*:?$", re.IGNORECASE
)
# More names than this in byline markup are a list of the site's writers, not the article's.
MAX_BYLINES = 4
_ACCOUNTS = frozenset({"admin", "administrator", "editor", "redaksi", "staff", "user"})
_AUTHOR_CLASS = re.compile(r"(?:^|\s)author(?:\s|$)")  # the class name "author" itself
_PICTURE_CLASS = re.compile(r"(?:^|\s)(?:photo|image|caption|foto)", re.IGNORECASE)  # a class name's start
_DOMAIN = re.compile(r"[\w-]+(?:\.[^\W\d_]{2,})+")
_LETTER = re.compile(r"[^\W\d_]")
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_ZONE = re.compile(r"\b(?:WIB|WITA|WIT|GMT|UTC)\b|[+-]\d{2}:?\d{2}\b", re.IGNORECASE)


def date_candidates(tree: HtmlElement, meta: PageMeta, url: str | None) -> Iterator[str]:
    """Publication date candidates, best first: stated in metadata, shown on the page, htmldate's day.

    A generator: the page is searched only when the metadata gives no usable date, and htmldate
    (which searches the whole page again) runs only when its answer is needed. Pages also show the dates of related
    links; when the stamps shown fall on several days, those on the day htmldate settles on go
    first. Among stamps of one day the fullest (time and zone) comes first: listings abbreviate.
    """
    yield from meta.dates
    shown = list(visible_dates(tree))
    days = {value.date() for value in map(parse_date, shown) if value}
    searched = len(days) > 1
    day = find_date(tree, **set_date_params(), url=url) if searched else None
    yield from sorted(shown, key=lambda text: (not _on_day(text, day), -_fullness(text)))
    if not searched:
        day = find_date(tree, **set_date_params(), url=url)  # the last resort
    if day:
        yield Stated(day, guess=True)


def people(
    *sources: list[str],
    not_person: Callable[[str], bool] = lambda name: False,
    co_author: Callable[[str], bool] = lambda name: False,
) -> list[str]:
    """Distinct person names from the first source that gives any (credit lines, JSON-LD, meta tags, …).

    Sources are not merged: a later one adds organisations and places more often than people
    (a Korean meta tag "순천, 광양 구현모 기자" beside the JSON-LD person "구현모"). trafilatura's
    own author search is not used: it copies and scans the whole tree (a sixth of the extraction
    time on pages without an author tag); bylines() reads the same byline markup. `not_person`
    drops names known to be something else (the site's own name as author). A `co_author` (a wire
    agency: "Adam Vidler", "AP") is kept after the persons of its source, never alone.
    """
    for source in sources:
        names: list[str] = []
        agencies: list[str] = []
        for value in source:
            head = value.split(",")[0].strip()
            if not_person(head) and not co_author(head):
                continue  # an outlet's address ("hessenschau.de, Frankfurt, Germany"), no persons in it
            for name in person_names(value):
                if name.lower() in (n.lower() for n in names + agencies):
                    continue
                if co_author(name):
                    agencies.append(name)
                elif not not_person(name):
                    names.append(name)
        if names:
            return names + agencies
    return []


def organisations(typed: list[str], *sources: list[str]) -> list[str]:
    """The organisations the first source that states any names gives as the article's author ("BBC News", "AFP").

    For pages that name no person: the site's own name or a wire agency stated as author in JSON-LD
    or an author meta tag is what the page says about who wrote it (Fundus's pages count them as
    authors: 19 of fundus-dev's 116 pages credit only an organisation). `typed` are JSON-LD authors
    typed as organisations; a name from the other sources must look like one: a capital, a letter
    of a script without case, or a domain ("nieuwsblad.be"). CMS accounts ("admin", "kei_eno") are
    not. Byline markup is not used: links to /author/ pages also lead to the site's section and
    team pages. A value is kept whole ("Le Figaro et AFP"); URLs, numbers (CMS ids) and values
    longer than a name are not names.
    """
    for index, source in enumerate([typed, *sources]):
        names: list[str] = []
        for value in source:
            value = " ".join(value.split()).strip(" ,;|")
            if (
                _LETTER.search(value)
                and not value.startswith(("http", "www."))
                and "@" not in value
                and len(value.split()) <= NAME_MAX_WORDS
                and (index == 0 or _looks_like_name(value))
                and value.lower() not in (n.lower() for n in names)
            ):
                names.append(value)
        if names:
            return names
    return []


def _looks_like_name(value: str) -> bool:
    """True for an organisation's name as a page states it, not a CMS account ("admin", "gto", "kei_eno")."""
    if value.lower() in _ACCOUNTS or "_" in value:
        return False
    return bool(_DOMAIN.fullmatch(value)) or any(
        c.isupper() or (c.isalpha() and c.lower() == c.upper()) for c in value
    )


def bylines(tree: HtmlElement) -> list[str]:
    """Author names the page shows in byline markup: labelled fields ("Autor: …"), rel/itemprop/class author,
    links to /author/ pages."""
    names = []
    for label in tree.iter(*_FIELD_LABELS):
        text = label.text
        if text and len(text) < FIELD_LABEL_MAX_CHARS and _AUTHOR_FIELD.match(text.strip()):
            value = _field_value(label)
            if value and value not in names:
                names.append(value)
    for element in _BYLINE(tree):
        if element.tag in ("html", "body") or not _is_byline(element) or _in_picture(element):
            continue  # an author archive's page, "author-bio" or "authors-list" classes, a photo credit
        named = element.xpath(".//*[@itemprop='name']")
        element = named[0] if named else element
        text = " ".join((element.get("content") or element.text_content()).split())
        if text and text not in names:
            names.append(text)
        if len(names) == MAX_BYLINES:
            break
    return names


def _field_value(label: HtmlElement) -> str:
    """The value after a field's label: the text following it, else the next element's."""
    value = label.tail if label.tail and label.tail.strip() else ""
    following = label.getnext()
    value = value or (following.text_content() if following is not None else "")
    return " ".join(value.split())


def _is_byline(element: HtmlElement) -> bool:
    """True for byline markup: rel or itemprop author, a link to an /author/ page, the class name "author"."""
    if "author" in (element.get("rel"), element.get("itemprop")) or "/author/" in (element.get("href") or ""):
        return True
    return bool(_AUTHOR_CLASS.search(element.get("class") or ""))


def _in_picture(element: HtmlElement) -> bool:
    """True for an element inside a figure, or a block whose class says photo, image or caption."""
    for parent in element.iterancestors():
        if parent.tag in ("figure", "figcaption") or _PICTURE_CLASS.search(parent.get("class") or ""):
            return True
    return False


def site_names(tree: HtmlElement, meta: PageMeta) -> list[str]:
    """Names the site gives itself: Open Graph site name, JSON-LD publisher, else from the <title>."""
    names = [name for name in (meta.site_name, meta.publisher) if name]
    return names or [name for name in [extract_sitename(tree)] if name]


def section(meta: PageMeta) -> str | None:
    """The site section the page states, unless it only gives its domain.

    trafilatura's category search (links to /category/ pages) is not used: on the evaluation
    data it finds nothing on the Indonesian pages and menu items on the English ones.
    """
    value = meta.section
    if not value or is_domain_like(value) or value.startswith("http"):
        return None
    return value.strip()


def _fullness(text: str) -> int:
    """How much a date text states beyond the day: a time, and a zone."""
    return bool(_TIME.search(text)) + bool(_ZONE.search(text))


def _on_day(text: str, day: str | None) -> bool:
    """True when a date text falls on the given ISO day."""
    value = parse_date(text)
    return bool(day and value and value.date().isoformat() == day)
