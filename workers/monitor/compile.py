"""A parsed query compiled for each search engine, with the meaning the rule matcher gives it.

Both engines search four derived fields, written from an article by `search_fields`: the
folded tokens of the title and of the text (exact words and phrases), and the stem candidates of
every token (workers.monitor.query.roots: bare words and prefixes). The tokens are computed here,
in Python, by the functions the rule matcher uses, and handed to the engine already split by
spaces, so the engine's own tokeniser, stemmer and accent folding never decide what matches:
a query finds in SQLite FTS5 and in Elasticsearch what it finds as a rule.
"""

from __future__ import annotations

from typing import Any

from workers.monitor.query import And, Node, Not, Or, Prefix, Term, roots, tokens

# The derived fields: (exact tokens, stem candidates) of each searchable article field.
EXACT = {"title": "title_tokens", "text": "text_tokens"}
STEMS = {"title": "title_roots", "text": "text_roots"}
SEARCH_FIELDS = (*EXACT.values(), *STEMS.values())


def search_fields(title: str, text: str) -> dict[str, str]:
    """The derived search fields of an article: space-separated folded tokens and stem candidates."""
    out = {}
    for name, value in (("title", title), ("text", text)):
        words = tokens(value)
        out[EXACT[name]] = " ".join(words)
        out[STEMS[name]] = " ".join(root for word in words for root in roots(word))
    return out


def _columns(leaf: Term | Prefix) -> list[str]:
    table = EXACT if isinstance(leaf, Term) and leaf.exact else STEMS
    return [table[leaf.field]] if leaf.field else list(table.values())


def has_not(node: Node) -> bool:
    """True when the query negates something anywhere (FTS5 has no unary NOT)."""
    if isinstance(node, Not):
        return True
    if isinstance(node, And | Or):
        return any(has_not(child) for child in node.children)
    return False


# --- SQLite FTS5 ----------------------------------------------------------------------------


def fts_match(node: Node) -> str:
    """An FTS5 MATCH expression for a query without NOT (each word quoted: no FTS5 syntax leaks in)."""
    if isinstance(node, Term | Prefix):
        columns = "{" + " ".join(_columns(node)) + "}"
        if isinstance(node, Prefix):
            return f'{columns} : "{node.stem}"*'
        return f'{columns} : "{" ".join(node.words)}"'
    if isinstance(node, And | Or):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(fts_match(child) for child in node.children) + ")"
    raise ValueError("fts_match takes a query without NOT")


def fts_where(node: Node, rowid: str = "a.rowid", table: str = "articles_fts") -> tuple[str, list[str]]:
    """A SQL condition on `rowid` with its parameters: NOT-free subtrees become one MATCH each."""
    if not has_not(node):
        return f"{rowid} IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)", [fts_match(node)]
    if isinstance(node, Not):
        sql, params = fts_where(node.child, rowid, table)
        return f"NOT ({sql})", params
    assert isinstance(node, And | Or)
    parts = [fts_where(child, rowid, table) for child in node.children]
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]


# --- Elasticsearch --------------------------------------------------------------------------


def _any(clauses: list[dict]) -> dict:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def es_query(node: Node, prefix: str = "search.") -> dict[str, Any]:
    """The Elasticsearch query of a parsed query, on the derived fields under `prefix`."""
    if isinstance(node, Prefix):
        return _any([{"prefix": {prefix + column: node.stem}} for column in _columns(node)])
    if isinstance(node, Term):
        if len(node.words) == 1:
            return _any([{"term": {prefix + column: node.words[0]}} for column in _columns(node)])
        phrase = " ".join(node.words)
        return _any([{"match_phrase": {prefix + column: phrase}} for column in _columns(node)])
    if isinstance(node, Not):
        return {"bool": {"must_not": [es_query(node.child, prefix)]}}
    children = [es_query(child, prefix) for child in node.children]
    if isinstance(node, And):
        return {"bool": {"must": children}}
    return {"bool": {"should": children, "minimum_should_match": 1}}
