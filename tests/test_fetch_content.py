"""What the fetch stage accepts from a real local server: size limits, content types, charsets."""

from __future__ import annotations

import pytest

from schemas import Reason
from tests.support.fetching import PAGE, fetch, make_fetcher, server  # noqa: F401 - fixtures
from workers.errors import PermanentError, SkipInput

# --- limits and types ----------------------------------------------------------------


def test_too_large_with_content_length(server, make_fetcher):
    server.route("/big", b"x" * 5000, content_type="text/plain")
    with pytest.raises(PermanentError) as exc:
        make_fetcher(fetch_max_bytes=1000)(server.url("/big"))
    assert exc.value.reason is Reason.too_large


def test_too_large_chunked_without_content_length(server, make_fetcher):
    server.route("/big", b"x" * 50_000, content_type="text/plain", chunked=True, chunk_size=1000)
    with pytest.raises(PermanentError) as exc:
        make_fetcher(fetch_max_bytes=10_000)(server.url("/big"))
    assert exc.value.reason is Reason.too_large


def test_body_at_the_limit_passes(server, make_fetcher):
    server.route("/exact", b"x" * 4000, content_type="text/plain", chunked=True, chunk_size=1000)
    assert len(make_fetcher(fetch_max_bytes=4000)(server.url("/exact")).text) == 4000


def test_gzip_bomb_counts_decompressed_bytes(server, make_fetcher):
    server.route("/bomb", b"a" * 200_000, content_type="text/plain", gzip=True)  # ~ 300 bytes on the wire
    with pytest.raises(PermanentError) as exc:
        make_fetcher(fetch_max_bytes=50_000)(server.url("/bomb"))
    assert exc.value.reason is Reason.too_large


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/pdf", "application/octet-stream", "video/mp4"]
)
def test_unsupported_content_types(server, fetch, content_type):
    server.route("/file", b"%PDF-1.7\x00\x01binary", content_type=content_type)
    with pytest.raises(SkipInput) as exc:
        fetch(server.url("/file"))
    assert exc.value.reason is Reason.unsupported_type


def test_binary_served_as_html_is_bad_encoding(server, fetch):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 8
    server.route("/fake.html", png, content_type="text/html")
    with pytest.raises(PermanentError) as exc:
        fetch(server.url("/fake.html"))
    assert exc.value.reason is Reason.bad_encoding


# --- charsets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="iso-8859-1">',
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">',
    ],
)
def test_latin1_page_labelled_in_meta_only(server, fetch, meta):
    body = f"<html><head>{meta}<title>Café</title></head><body>Élysée à Jakarta</body></html>"
    server.route("/latin", body.encode("latin-1"), content_type="text/html")
    doc = fetch(server.url("/latin"))
    assert "Élysée à Jakarta" in doc.text
    # WHATWG: an ISO-8859-1 label means windows-1252
    assert (doc.headers["x-kliping-charset"], doc.headers["x-kliping-charset-source"]) == ("cp1252", "meta")


def test_header_utf8_but_body_cp1252(server, fetch):
    text = (
        "<html><body><p>“Presiden” menolak — kata café pemilik, harga naïve €5 à la carte.</p></body></html>"
    )
    server.route("/wrong", text.encode("cp1252"), content_type="text/html; charset=utf-8")
    doc = fetch(server.url("/wrong"))
    assert "\ufffd" not in doc.text
    assert "café" in doc.text and "“Presiden”" in doc.text
    assert doc.headers["x-kliping-charset-source"] == "detected"


def test_header_latin1_but_body_utf8(server, fetch):
    server.route("/utf8", PAGE.encode("utf-8"), content_type="text/html; charset=ISO-8859-1")
    doc = fetch(server.url("/utf8"))
    assert doc.text == PAGE
    assert doc.headers["x-kliping-charset"] == "utf-8"


def test_unknown_charset_label_is_ignored(server, fetch):
    server.route("/odd", PAGE.encode("utf-8"), content_type="text/html; charset=x-made-up")
    assert fetch(server.url("/odd")).text == PAGE


def test_feed_encoding_from_xml_declaration(server, fetch):
    feed = '<?xml version="1.0" encoding="windows-1252"?><rss><channel><title>Berita “terkini”</title></channel></rss>'
    server.route("/feed", feed.encode("cp1252"), content_type="application/rss+xml")
    doc = fetch(server.url("/feed"))
    assert "Berita “terkini”" in doc.text
    assert doc.headers["x-kliping-charset-source"] == "xml"
