"""Pure helpers of the fetch stage: backoff, Retry-After, address rule, URL parsing, charset decoding."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest

from schemas import Reason
from workers.errors import PermanentError
from workers.fetch.fetcher import decode_text, is_public_address, parse_retry_after, parse_url

# --- backoff_delay -------------------------------------------------------------------
from workers.retry import backoff_delay

# --- backoff_delay -------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [0, 1, 2, 5, 8, 20])
def test_backoff_full_jitter_bounds(attempt):
    ceiling = min(300.0, 1.0 * 2**attempt)
    delays = [backoff_delay(attempt) for _ in range(500)]
    assert all(0.0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling / 2  # jitter spreads over the range, not a constant


def test_backoff_cap_and_huge_attempts():
    assert all(0.0 <= backoff_delay(10_000, base=2.0, cap=30.0) <= 30.0 for _ in range(200))
    assert backoff_delay(-3, base=1.0) <= 1.0


def test_backoff_honours_retry_after():
    delays = [backoff_delay(0, base=1.0, retry_after=120.0) for _ in range(200)]
    assert all(120.0 <= d <= 121.0 for d in delays)
    assert backoff_delay(3, cap=60.0, retry_after=3600.0) == 60.0
    assert 0.0 <= backoff_delay(0, retry_after=-5.0) <= 1.0


# --- parse_retry_after ---------------------------------------------------------------


def test_parse_retry_after():
    now = datetime(2025, 4, 26, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Sat, 26 Apr 2025 10:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Sat, 26 Apr 2025 09:00:00 GMT", now=now) == 0.0  # in the past
    for junk in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(junk, now=now) is None


# --- address rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "239.255.255.250",
        "0.0.0.0",
        "240.0.0.1",
        "255.255.255.255",
        "100.64.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address):
    assert is_public_address(ipaddress.ip_address(address))


def test_parse_url_normalises():
    assert str(parse_url(" HTTP://Example.COM/Berita?id=1#top ")) == "http://example.com/Berita?id=1"
    assert parse_url("https://kompas.com").host == "kompas.com"
    assert parse_url("http://[2001:db8::1]:8080/x").port == 8080
    with pytest.raises(PermanentError):
        parse_url(None)  # type: ignore[arg-type]


# --- charset decoding ----------------------------------------------------------------


def test_bom_wins_over_labels():
    data = "Berita \u201cterkini\u201d".encode("utf-16")
    decoded = decode_text(data, declared_charset="iso-8859-1")
    assert decoded.text == "Berita \u201cterkini\u201d"
    assert decoded.source == "bom"


def test_header_label_wins_over_meta():
    html = '<meta charset="koi8-r"><p>Café</p>'.encode("cp1252")
    decoded = decode_text(html, declared_charset="windows-1252")
    assert "Café" in decoded.text and decoded.source == "header"


def test_ascii_body_reports_its_label():
    assert decode_text(b"<p>plain</p>", declared_charset="iso-8859-1")[1:] == ("cp1252", "header")
    assert decode_text(b"<p>plain</p>")[1:] == ("utf-8", "detected")


def test_plain_text_does_not_sniff_meta():
    text = '<meta charset="iso-8859-2"> café'.encode("cp1252")
    assert decode_text(text, is_html=False).source != "meta"


def test_fallback_without_detector(monkeypatch):
    monkeypatch.setattr("workers.fetch.encoding._detect_charsets", None)
    decoded = decode_text("harga naïve “Rp”".encode("cp1252"), declared_charset="utf-8")
    assert decoded.text == "harga naïve “Rp”"
    assert (decoded.charset, decoded.source) == ("cp1252", "fallback")


def test_never_crashes_on_bytes_no_codec_accepts(monkeypatch):
    monkeypatch.setattr("workers.fetch.encoding._detect_charsets", None)
    data = b"abc \x81\x8d\x8f\x90\x9d \xff\xfe\xfd def"  # undefined in cp1252, invalid UTF-8
    text = decode_text(data, declared_charset="utf-8").text
    assert text.startswith("abc ") and text.endswith(" def")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n" + bytes(range(1, 32)) * 20,
        b"GIF89a\x01\x00\x01\x00\x00",
    ],
)
def test_binary_is_bad_encoding(data):
    with pytest.raises(PermanentError) as exc:
        _ = decode_text(data).text
    assert exc.value.reason is Reason.bad_encoding


def test_escape_sequences_are_not_binary():
    iso2022 = "ニュース".encode("iso-2022-jp")
    assert decode_text(iso2022, declared_charset="iso-2022-jp").text == "ニュース"
