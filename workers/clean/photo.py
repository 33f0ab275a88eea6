"""Photo pages: a news photo or gallery whose story is told in its captions.

Indonesian outlets publish photo stories ("FotoBisnis", "Foto", galleries on photo.* hosts)
next to their articles: one caption of 20-30 words, or a gallery with a caption per picture.
They are news to monitor, but too short for the article minimum, and trafilatura often reads
the gallery's link furniture instead of the captions.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from workers.clean.body import word_count
from workers.clean.meta import PageMeta

# A host or path segment naming photos: detik's /readfoto/, /foto/, photo.liputan6.com, /galeri/.
_PHOTO_PART = re.compile(
    r"(?:^|[/.])(?:read)?(?:foto|fotos|photo|photos|galeri|gallery|galleries|potret)(?=[/.\-_]|$)", re.I
)
_SPACES = re.compile(r"\s+")

# Under this many words even a caption says too little to monitor. The detik photo story in the
# evaluation data (ops/evaluate_extraction.py) carries 23 words, the liputan6 gallery 25 to 30 per picture.
PHOTO_MIN_WORDS = 15
# Captions shorter than this are credits or labels ("Foto: Reuters"), not a picture's story.
CAPTION_MIN_WORDS = 6


def is_photo_page(url: str | None, meta: PageMeta) -> bool:
    """True for a page that calls itself an article and whose URL names photos."""
    if not url or not meta.is_article:
        return False
    parts = urlsplit(url)
    return bool(_PHOTO_PART.search(parts.hostname or "") or _PHOTO_PART.search(parts.path))


def caption_lines(tree: HtmlElement) -> list[str]:
    """The distinct picture captions of a page (<figcaption>), in page order."""
    lines: list[str] = []
    for caption in tree.iter("figcaption"):
        text = _SPACES.sub(" ", caption.text_content()).strip()
        if word_count(text) >= CAPTION_MIN_WORDS and text not in lines:
            lines.append(text)
    return lines
