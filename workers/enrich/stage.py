"""The enrich stage itself: one article in, the article with entities, sentiment, keywords, profile out."""

from __future__ import annotations

from schemas import Article, Entity
from workers.sources import SourceRegistry

from .entities import extract_entities
from .keywords import extract_keywords, keywords_from_words
from .profile import refine_source
from .sentiment import SplitText, score_article, score_sentiment
from .tokens import words

# Names, a place, an organisation and loaded words: one call loads the gazetteer, cue lists and lexicon.
_WARM_UP_TEXT = (
    "Presiden Joko Widodo mengunjungi Jakarta bersama Kementerian Keuangan. Banjir merusak rumah warga."
)


def enrich(article: Article, registry: SourceRegistry) -> Article:
    """A copy of the article with entities, sentiment, keywords and a refined source profile."""
    source = refine_source(article, registry)
    # the outlet itself and the article's journalists are metadata, not entities the article talks about
    exclude = [source.name, article.source.name, *article.authors, *article.editors]
    entities = extract_entities(article.text, exclude=exclude, language=article.language)
    title_words, split = words(article.title), SplitText(article.text)
    sentiment, entities = score_article(title_words, article.text, entities, article.language, split)
    text_words = split.words()
    return article.model_copy(
        update={
            "source": source,
            "entities": entities,
            "sentiment": sentiment,
            "keywords": keywords_from_words(title_words, text_words, entities),
        }
    )


def warm_up() -> None:
    """Load the gazetteer, cue lists, stopwords, sentiment lexicon and model now rather than on the first article."""
    entities = extract_entities(_WARM_UP_TEXT)
    score_sentiment(_WARM_UP_TEXT, [a for e in entities for a in e.aliases])
    extract_keywords("", _WARM_UP_TEXT, entities)


def reuse_enrichment(article: Article, canonical: Article) -> Article:
    """A syndicated copy with the canonical's entities, sentiment and keywords (positions dropped: texts differ)."""
    entities = [_without_positions(e) for e in canonical.entities]
    return article.model_copy(
        update={
            "entities": entities,
            "sentiment": canonical.sentiment.model_copy() if canonical.sentiment else None,
            "keywords": list(canonical.keywords),
        }
    )


def _without_positions(entity: Entity) -> Entity:
    return entity.model_copy(update={"positions": [], "aliases": list(entity.aliases)})
