"""Server-rendered HTML pages of the web view: search, story, entity, alerts (escaped, no build step)."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from urllib.parse import quote

from schemas import Article, SentimentLabel
from schemas.monitor import Alert
from workers.web.charts import tone_chart, volume_chart
from workers.web.desk import LIST_LIMIT, EntityView, Story, display_name, timeline, when

STYLE = """
*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff}main{max-width:60rem;margin:0 auto;padding:1rem}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:1rem}
form.search input[type=search]{flex:1 1 18rem;font-size:1.1rem;padding:.4rem}
form.search input,form.search select,form.search button{padding:.4rem;font-size:1rem}
a:focus,input:focus,select:focus,button:focus{outline:3px solid #f39c12;outline-offset:2px}
ol.hits{padding-left:1.5rem}ol.hits li{margin:.6rem 0}.meta{color:#555;font-size:.9rem}
.error{background:#fdecea;border-left:4px solid #c0392b;padding:.5rem 1rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}
.wide{overflow-x:auto}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
figure.chart{margin:0;background:#fff;border:1px solid #ddd;padding:.5rem}figure.chart svg{width:100%;height:10rem}
.tick{font-size:11px;fill:#555}.zero{stroke:#aaa}.tone{fill:none;stroke:#1f3a5f;stroke-width:2}
.negative{color:#c0392b}.positive{color:#27ae60}.neutral{color:#555}.state-failed{color:#c0392b}
.state-delivered{color:#27ae60}.state-pending,.state-sending{color:#b9770e}.text{white-space:pre-wrap}
kbd{border:1px solid #aaa;border-radius:3px;padding:0 .25rem;font-size:.85rem}
"""
# `/` focuses the search box; j / k move through the result links (like mail readers and feeds).
SCRIPT = """
document.addEventListener('keydown',function(e){
 var t=e.target.tagName;if(t==='INPUT'||t==='SELECT'||t==='TEXTAREA'){if(e.key==='Escape')e.target.blur();return;}
 if(e.key==='/'){e.preventDefault();var q=document.getElementById('q');if(q)q.focus();return;}
 if(e.key!=='j'&&e.key!=='k')return;
 var links=Array.prototype.slice.call(document.querySelectorAll('a.hit'));if(!links.length)return;
 var i=links.indexOf(document.activeElement);i=e.key==='j'?Math.min(i+1,links.length-1):Math.max(i-1,0);
 links[i].focus();e.preventDefault();});
"""


def layout(title: str, body: str, query: dict[str, str] | None = None) -> str:
    """A whole page: header with the search form, the body, the keyboard script."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Kliping</title><style>{STYLE}</style></head><body>"
        '<header><strong><a href="/" accesskey="h">Kliping</a></strong>'
        '<a href="/alerts" accesskey="a">Alerts</a>'
        '<span class="meta" style="color:#ddd">keys: <kbd>/</kbd> search, <kbd>j</kbd>/<kbd>k</kbd> results</span>'
        f"</header><main>{search_form(query or {}, autofocus=query is not None and not any(query.values()))}<h1>{escape(title)}</h1>{body}</main>"
        f"<script>{SCRIPT}</script></body></html>"
    )


def search_form(query: dict[str, str], autofocus: bool = False) -> str:
    """The search box with the filters of `kliping search`."""
    options = "".join(
        f'<option value="{v}"{" selected" if query.get("sentiment") == v else ""}>{v or "any tone"}</option>'
        for v in ["", *(label.value for label in SentimentLabel)]
    )

    def field(name: str, label: str, kind: str = "text") -> str:
        return (
            f'<input type="{kind}" name="{name}" aria-label="{label}" placeholder="{label}" '
            f'value="{escape(query.get(name, ""))}">'
        )

    return (
        '<form class="search" action="/search" role="search">'
        f'<input type="search" id="q" name="q" aria-label="query"{" autofocus" if autofocus else ""} '
        f'placeholder=\'korupsi AND "Jawa Barat" -lowongan\' value="{escape(query.get("q", ""))}">'
        f"{field('entity', 'entity')}{field('source', 'outlet')}{field('since', 'since', 'date')}"
        f"{field('until', 'until', 'date')}"
        f'<select name="sentiment" aria-label="sentiment">{options}</select>'
        '<button type="submit">Search</button></form>'
    )


def _date(article: Article) -> str:
    dated = getattr(article, "dated_at", None) or article.published_at
    return f"{dated:%Y-%m-%d %H:%M}" if dated else f"first seen {when(article):%Y-%m-%d %H:%M}"


def _sentiment(article: Article) -> str:
    s = article.sentiment
    return f'<span class="{s.label.value}">{s.label.value}</span>' if s else ""


def article_link(article: Article) -> str:
    """A result line: title (a keyboard stop), outlet, date, sentiment, copy state."""
    dedup = article.dedup
    copy = ""
    if dedup is not None and not dedup.is_canonical:
        copy = " · copy"
    elif dedup is not None and dedup.copies:
        copy = f" · {len(dedup.copies)} {'copy' if len(dedup.copies) == 1 else 'copies'}"
    return (
        f'<li><a class="hit" href="/article/{quote(article.id)}">{escape(article.title or article.id)}</a>'
        f'<div class="meta">{escape(article.source.name)} · {_date(article)} · {_sentiment(article)}{copy}</div></li>'
    )


def hits_list(articles: list[Article]) -> str:
    """The ordered list of result links."""
    if not articles:
        return '<p id="no-hits">No articles match.</p>'
    return '<ol class="hits">' + "".join(article_link(a) for a in articles[:LIST_LIMIT]) + "</ol>"


def search_page(query: dict[str, str], articles: list[Article], error: str | None = None) -> str:
    """Results of a search, with volume and tone charts of everything it matched."""
    if error:
        return layout("Search", f'<p class="error" role="alert">{escape(error)}</p>', query)
    days = timeline(articles)
    shown = min(len(articles), LIST_LIMIT)
    count = f'<p id="count">{len(articles)} {"article" if len(articles) == 1 else "articles"}'
    count += f" (first {shown} listed)</p>" if shown < len(articles) else "</p>"
    charts = f'<div class="charts">{volume_chart(days)}{tone_chart(days)}</div>'
    title = f"Search: {query['q']}" if query.get("q") else "Latest articles"
    return layout(title, count + charts + hits_list(articles), query)


def _delay(delay: timedelta | None) -> str:
    if delay is None:
        return "time unknown"
    minutes = int(delay.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours} h {minutes:02d} min" if hours else f"{sign}{minutes} min"


def _entities(article: Article) -> str:
    if not article.entities:
        return ""
    links = ", ".join(
        f'<a href="/entity/{quote(e.name, safe="")}" title="{escape(e.name)}">{escape(display_name(e, article.text))}</a>'
        f' <span class="meta">{e.type.value.lower()}</span>'
        for e in article.entities
    )
    return f"<p><strong>Entities:</strong> {links}</p>"


def story_page(article: Article, story: Story) -> str:
    """An article with its story: the canonical, copies by outlet and delay, the story's other reports."""
    c = story.canonical
    head = ""
    if c.id != article.id:
        head = f'<p class="meta">This article is a copy of <a href="/article/{quote(c.id)}">{escape(c.title)}</a>.</p>'
    rows = "".join(
        f"<tr><td>{escape(p.ref.outlet or (p.article.source.name if p.article else '?'))}</td>"
        f"<td>{p.at.strftime('%Y-%m-%d %H:%M') if p.at else '?'}</td><td>{_delay(p.delay)}</td>"
        f'<td><a class="hit" href="/article/{quote(p.ref.id)}">{escape(p.article.title if p.article else p.ref.id)}</a></td></tr>'
        for p in story.copies
    )
    copies = (
        '<h2 id="copies">Copies (who picked it up, and how fast)</h2><div class="wide"><table>'
        f"<tr><th>outlet</th><th>time</th><th>after the original</th><th>article</th></tr>{rows}</table></div>"
        if story.copies
        else '<h2 id="copies">Copies</h2><p>No syndicated copies recorded.</p>'
    )
    related = (
        '<h2 id="related">Other reports of this story</h2>' + hits_list(story.related)
        if story.related
        else ""
    )
    meta = (
        f'<p class="meta">{escape(c.source.name)} · {_date(c)} · {_sentiment(c)} · '
        f'language {escape(c.language or "?")} · <a href="{escape(c.url or "#")}" rel="noreferrer">source</a></p>'
    )
    text = f'<details><summary>Text</summary><div class="text">{escape(c.text)}</div></details>'
    return layout(c.title or c.id, head + meta + _entities(c) + copies + related + text)


def entity_page(view: EntityView) -> str:
    """An entity: names, mentions and tone over time, its articles."""
    kind = f'<p class="meta">{escape(view.type.lower()) if view.type else "entity"}'
    kind += f" · also: {escape(', '.join(view.aliases))}</p>" if view.aliases else "</p>"
    mentions = sum(d.mentions for d in view.days)
    summary = f'<p id="count">{len(view.articles)} articles, {mentions} mentions</p>'
    charts = (
        f'<div class="charts">{volume_chart(view.days, "Articles mentioning it per day")}'
        f"{tone_chart(view.days, 'Tone towards it per day (-1 … +1)')}</div>"
    )
    return layout(view.name, kind + summary + charts + hits_list(view.articles))


def _delivery(alert: Alert) -> str:
    d = alert.delivery
    if d.state.value == "none":
        return "no webhook"
    return f"{d.state.value} ×{d.attempts}" + (f" {escape(d.error)}" if d.error else "")


def alerts_page(alerts: list[Alert]) -> str:
    """Alerts with their delivery state, attempts and last error."""
    if not alerts:
        return layout("Alerts", "<p>No alerts yet: add rules with <code>kliping rules add</code>.</p>")
    rows = "".join(
        f"<tr><td>{a.created_at:%Y-%m-%d %H:%M}</td><td>{escape(a.rule)}</td><td>{a.kind.value}</td>"
        f'<td><a class="hit" href="/article/{quote(a.article_id)}">{escape(a.title)}</a></td>'
        f"<td>{escape(a.outlet or '-')}</td><td>+{len(a.attached)}</td>"
        f'<td class="state-{a.delivery.state.value}">{_delivery(a)}</td></tr>'
        for a in alerts
    )
    table = (
        '<div class="wide"><table><tr><th>created</th><th>rule</th><th>kind</th><th>article</th>'
        f"<th>outlet</th><th>attached</th><th>delivery</th></tr>{rows}</table></div>"
    )
    return layout("Alerts", table)


def not_found(what: str) -> str:
    """The page of a missing article or entity."""
    return layout("Not found", f'<p class="error" role="alert">{escape(what)}</p>')
