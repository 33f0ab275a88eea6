"""The Elasticsearch article index and its bulk-write buffer (distributed mode)."""
