"""Load Kliping's Kibana saved objects (data view, visualizations, dashboard, saved searches) and its reader role."""

from __future__ import annotations

from pathlib import Path

from workers.settings import PACKAGE_DATA

SAVED_OBJECTS = PACKAGE_DATA / "kibana.ndjson"  # written by ops/kibana/generate.py
READER_ROLE = PACKAGE_DATA / "kibana_reader_role.json"  # Kibana's role API body (ops/README.md, "Security")
READER_ROLE_NAME = "kliping_reader"
DEFAULT_KIBANA_URL = "http://localhost:5601"
# Kibana answers an import of a few dozen objects in about a second; a cold Kibana can take longer.
IMPORT_TIMEOUT = 60.0


class KibanaImportError(RuntimeError):
    """Kibana refused the import, or accepted it with per-object errors."""


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"kbn-xsrf": "kliping"}  # Kibana refuses API writes without this header
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    return headers


def put_reader_role(
    url: str = DEFAULT_KIBANA_URL, api_key: str | None = None, auth: tuple[str, str] | None = None
) -> bool:
    """Create or update the analysts' role (read-only Discover, dashboards, visualizations on the articles).

    False when Kibana has no security (its role API answers 404): nothing to create.
    """
    import httpx

    response = httpx.put(
        f"{url.rstrip('/')}/api/security/role/{READER_ROLE_NAME}",
        headers=_headers(api_key),
        content=READER_ROLE.read_bytes(),
        auth=auth if auth and not api_key else None,
        timeout=IMPORT_TIMEOUT,
    )
    if response.status_code == 404:
        return False
    if response.status_code not in (200, 204):
        raise KibanaImportError(
            f"Kibana refused role {READER_ROLE_NAME}: {response.status_code} {response.text[:500]}"
        )
    return True


def import_saved_objects(
    url: str = DEFAULT_KIBANA_URL,
    path: Path = SAVED_OBJECTS,
    api_key: str | None = None,
    auth: tuple[str, str] | None = None,
) -> int:
    """POST the ndjson to Kibana's saved-objects import API (overwrite); the number of objects imported.

    Kibana answers 200 even when objects fail, so the body's ``success`` and ``errors`` are checked.
    """
    import httpx  # here: the CLI imports this module's constants on every start

    headers = _headers(api_key)
    files = {"file": (path.name, path.read_bytes(), "application/ndjson")}
    response = httpx.post(
        f"{url.rstrip('/')}/api/saved_objects/_import",
        params={"overwrite": "true"},
        headers=headers,
        files=files,
        auth=auth if auth and not api_key else None,  # basic auth (user, password)
        timeout=IMPORT_TIMEOUT,
    )
    if response.status_code != 200:
        raise KibanaImportError(f"Kibana answered {response.status_code}: {response.text[:500]}")
    body = response.json()
    errors = body.get("errors") or []
    if not body.get("success") or errors:
        problems = "; ".join(
            f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}" for e in errors
        )
        raise KibanaImportError(
            f"Kibana imported {body.get('successCount', 0)} objects with errors: {problems or body}"
        )
    return int(body.get("successCount", 0))
