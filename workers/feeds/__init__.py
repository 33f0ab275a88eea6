"""Feeds: parse RSS/Atom/sitemaps, discover feeds on homepages, canonicalise URLs, poll for new items."""
