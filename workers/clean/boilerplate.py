"""In-body boilerplate: the line rules shared by the HTML and the plain-text paths.

Indonesian news pages (and the texts copied out of them) carry the same furniture inside
the article body: "Baca juga" links, promotion of the outlet's Google News or WhatsApp
channel, share and comment prompts, photo captions, syndication footers, disclaimers,
related-article lists, the field block of monitoring tools, and editor sign-offs such as
"(ant/red)". trafilatura keeps most of it because it sits in the article's own markup.
"""

from __future__ import annotations

import re

from workers.clean.dates import parse_date_line

# Promotions and cross-links: a line that starts like this is never article prose.
_PROMO = re.compile(
    r"""^[\W_]*(?:
        (?:baca|simak|lihat|tonton|saksikan|cek|dengarkan)\s+(?:juga|pula|selengkapnya|berita|artikel|video|update|informasi|breaking\s+news)
      | pilih\s+saluran\s+andalanmu
      | baca\s*:
      | artikel\s+ini\s+(?:telah|sudah)\s+(?:tayang|terbit|dimuat)
      | dapatkan\s+(?:update|info|informasi|berita|notifikasi)
      | (?:ikuti|follow|gabung|bergabung|join)\b.{0,80}\b(?:google\s+news|whats\s?app|telegram|instagram|channel|saluran|tiktok|youtube)
      | (?:klik|click)\s+(?:di\s*sini|link|tautan|here)
      | (?:read|see)\s+(?:also|more|next)\b
      | (?:related|terkait)\s*:
      | (?:sign\s+up|subscribe)\s+(?:for|to)\b
      | download\s+(?:aplikasi|app)
      | (?:you\s+(?:may|might)\s+also\s+like|related\s+posts?\b|also\s+on\s+\S+\.\w+|like\s+this\s+story)
      | (?:get|receive)\s+the\s+latest\b.{0,60}\b(?:inbox|newsletters?|updates)
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# Whole lines that are page furniture (navigation, share and comment widgets, ads, headings
# of related lists). Anchored at both ends, so prose that merely contains these words stays.
_FURNITURE = re.compile(
    r"""^[\W_]*(?:
        scroll\s+(?:to\s+top|down|to\s+continue(?:\s+with\s+content)?|untuk\s+(?:melanjutkan|lanjut)(?:\s+membaca)?)
      | (?:back|kembali)\s+(?:to\s+top|ke\s+atas)
      | load\s+more | tampilkan\s+lebih\s+banyak | muat\s+lebih\s+banyak
      | advertisement | iklan | ads | sponsored | konten\s+sponsor
      | (?:share|bagikan|sebarkan)(?:\s+(?:artikel|berita|this(?:\s+article)?))?(?:\s*[:\W].{0,40})?
      | (?:berikan|tulis|lihat|tampilkan)?\s*komentar(?:\s+anda)?
      | comments? | \d+\s+(?:comments?|komentar|shares?)
      | (?:berita|artikel|video|topik|foto)\s+(?:terkait|lainnya|pilihan|terpopuler|terbaru)
      | (?:related|more)\s+(?:articles?|stories|news)
      | terpopuler | rekomendasi | populer | editor'?s?\s+picks?
      | halaman\s+(?:selanjutnya|berikutnya|sebelumnya|\d+(?:\s+dari\s+\d+)?)
      | (?:selanjutnya|sebelumnya|next|prev(?:ious)?)
      | \d+(?:\s+\d+)*(?:\s+(?:selanjutnya|berikutnya|next))?
      | tags?|topik
      | (?:facebook|twitter|whats\s?app|telegram|line|linkedin|e-?mail|copy\s+link|salin\s+tautan|pinterest|x)(?:[\s|,/·•]+(?:facebook|twitter|whats\s?app|telegram|line|linkedin|e-?mail|copy\s+link|salin\s+tautan|pinterest|x))*
    )[\W_]*$""",
    re.IGNORECASE | re.VERBOSE,
)

# Photo, video and graphic credits and captions.
_CAPTION = re.compile(
    r"^[(\[]?\s*(?:foto|photo|ilustrasi|sumber\s+foto|sumber\s+gambar|gambar|image|video|grafis|infografis|"
    r"fotografer|photographer|kredit\s+foto|credit)\s*(?:\([^)]*\)\s*)?[:：|]",
    re.IGNORECASE,
)

# Field lines of monitoring tools and press-release distributors ("Sentimen: negatif (78%)",
# "Kab/Kota: Moskow", "Sektor: Top Story"): a known field name, alone or with a short value.
_FIELD = re.compile(
    r"""^(?:
        (?:sentimen|sentiment|informasi\s+tambahan|tokoh\s+terkait|tokoh|grup\s+musik|kab(?:upaten)?\s*/\s*kota
          |provinsi|jenis\s+media|tipe\s+media|kategori\s+media|sektor|sector|tone|isu|narasumber|wilayah
          |kata\s+kunci|keywords?|tags?|topik|sumber|source)
        (?:\s*[:：]\s*.{0,120})?
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# Disclaimers and footers after which a page holds nothing of the article any more: at the start
# of a line, or (the last two) anywhere in it. Two patterns, because one unanchored alternation
# would be tried at every position of every line.
_END_MARKER_START = re.compile(
    r"""[\W_]*(?:
        isi\s+komentar\s+(?:sepenuhnya|menjadi)
      | artikel\s+ini\s+(?:telah|sudah)\s+(?:tayang|terbit|dimuat)
      | artikel\s+ini\s+disediakan\s+oleh
      | (?:copyright|hak\s+cipta)\s*(?:©|\(c\)|\d{4})
      | ©
      | disclaimer\s*:
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_END_MARKER_ANYWHERE = re.compile(
    r"\b(?:tidak\s+memberikan\s+jaminan\s+atau\s+pernyataan|all\s+rights\s+reserved)\b", re.I
)

# A line that is just a URL or a bare domain ("Pikiran-Rakyat.com").
_BARE_LINK = re.compile(
    r"^(?:https?://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*\.(?:com|co\.id|id|net|org|co|tv|news))/?$", re.I
)

# Related-article lists pasted from pages render as runs of one-column table rows
# ("Judul berita |") between separator rows ("---|"). A lone one-cell row is a pull quote, and
# rows of several cells are a data table: both stay.
_TABLE_SEPARATOR = re.compile(r"^(?:\|?\s*:?-{2,}:?\s*\|?\s*)+$")
_ONE_CELL_ROW = re.compile(r"^\|?[^|]+\s\|\s*$")

_ALPHANUMERIC = re.compile(r"[^\W_]")

# A promotion label alone on its line ("Baca Juga", "BACA JUGA :", "Related articles").
_PROMO_LABEL = re.compile(
    r"^[\W_]*(?:(?:baca|simak|lihat)\s+(?:juga|pula)|berita\s+terkait|artikel\s+terkait|related(?:\s+articles)?|"
    r"read\s+(?:also|more))[\W_]*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…\"”’']\s*$")
# Headlines listed under a promotion label: up to this many, each up to this many words.
PROMO_MAX_HEADLINES = 5
HEADLINE_MAX_WORDS = 20

# "(Baca juga: ...)" in the middle of a paragraph.
_INLINE_PAREN_PROMO = re.compile(r"\s*\(\s*(?:baca|simak|lihat)\s+(?:juga|pula)\b[^)]{0,300}\)", re.I)
# "... kata dia. Baca juga: Judul lain" at the end of a paragraph.
# Only after a sentence end, and capitalised or followed by a colon: "kita lihat juga" is prose.
_INLINE_TAIL_PROMO = re.compile(
    r"(?<=[.!?\"”’)])\s+(?:(?:Baca|BACA|Simak|SIMAK|Lihat|LIHAT)\s+(?:juga|Juga|JUGA|pula|Pula|PULA)\b"
    r"|(?i:baca|simak|lihat)\s+(?i:juga|pula)\s*[:：]).*$"
)
# Words allowed after an inline promo marker before it is more likely prose than a linked headline.
_INLINE_PROMO_MAX_WORDS = 25

# Sign-offs closing the last paragraph: "(ant/red)", "(kpl/pur/tch)", "(Cas/Isk)", "***", "(*)".
_SIGNOFF = re.compile(
    r"\s*(?:\((?:[a-z]{2,5}(?:\s*/\s*[a-z]{2,5}){1,4}|[a-z]{2,5}|\*+)\)|\[[a-z]{2,5}(?:/[a-z]{2,5})*\]|\*{3,})\s*$",
    re.I,
)

_SIGNOFF_LAST = (")", "]", "*")

# End markers only end the body when they sit in its second half: near the top, the same words
# are a quoted notice, and cutting there would lose the article.
END_MARKER_MIN_POSITION = 0.5


def is_boilerplate(line: str) -> bool:
    """True for a whole line that is furniture, a promotion, a caption, a tool field or a date stamp."""
    return bool(
        _PROMO.match(line)
        or _FURNITURE.match(line)
        or _CAPTION.match(line)
        or _FIELD.match(line)
        or is_end_marker(line)
        or _BARE_LINK.match(line)
        or _TABLE_SEPARATOR.match(line)
        or not _ALPHANUMERIC.search(line)
        or parse_date_line(line) is not None
    )


def is_end_marker(line: str) -> bool:
    """True for a disclaimer or footer line after which nothing belongs to the article."""
    return bool(_END_MARKER_START.match(line) or _END_MARKER_ANYWHERE.search(line))


def strip_signoff(line: str) -> str:
    """Remove a trailing editor sign-off ("(ant/red)", "***") from a paragraph."""
    if line.rstrip()[-1:] not in _SIGNOFF_LAST:
        return line  # cheap test first: most paragraphs end in a full stop
    match = _SIGNOFF.search(line)
    if not match:
        return line
    initials = match.group(0).strip(" ()[]")
    # A single parenthesised word is a sign-off only in lower case: "(AS)" or "(PBB)" is an
    # abbreviation explained in the sentence.
    if initials.isalpha() and not initials.islower():
        return line
    return line[: match.start()].rstrip()


def strip_inline_promos(line: str) -> str:
    """Cut "(Baca juga: …)" and a trailing "Baca juga: <headline>" out of a paragraph."""
    line = _INLINE_PAREN_PROMO.sub("", line)
    match = _INLINE_TAIL_PROMO.search(line)
    if match and len(match.group(0).split()) <= _INLINE_PROMO_MAX_WORDS:
        line = line[: match.start()].rstrip()
    return line


def filter_lines(lines: list[str]) -> list[str]:
    """Drop boilerplate lines, cut the body at a closing disclaimer, strip inline promos and sign-offs."""
    kept: list[str] = []
    skip_headlines = 0
    for index, line in enumerate(lines):
        if is_end_marker(line) and index >= len(lines) * END_MARKER_MIN_POSITION:
            break
        if skip_headlines and _is_headline(strip_inline_promos(line)):
            skip_headlines -= 1
            continue
        skip_headlines = 0
        if is_boilerplate(line) or _in_link_list(lines, index):
            # "Baca juga" on a line of its own: the linked headlines follow on the next lines
            skip_headlines = PROMO_MAX_HEADLINES if _PROMO_LABEL.match(line) else 0
            continue
        # Table borders left by text renderers ("| | Headline …") are not text.
        line = strip_signoff(strip_inline_promos(line)).strip(" |")
        if line and not is_boilerplate(line):
            kept.append(line)
    return kept


def _in_link_list(lines: list[str], index: int) -> bool:
    """True for a one-cell table row next to another one or to a separator row (a list of links)."""
    if not _ONE_CELL_ROW.match(lines[index]):
        return False
    neighbours = lines[max(index - 1, 0) : index] + lines[index + 1 : index + 2]
    return any(_ONE_CELL_ROW.match(line) or _TABLE_SEPARATOR.match(line) for line in neighbours)


def _is_headline(line: str) -> bool:
    """True for a line shaped like a linked headline: short, no sentence end."""
    return len(line.split()) <= HEADLINE_MAX_WORDS and not _SENTENCE_END.search(line)
