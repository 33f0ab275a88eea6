"""Installing the index (ILM policy, index template, first index behind the write alias) and checking it.

Installing needs cluster privileges (``manage_ilm``, ``manage_index_templates``) and ``manage`` on the
indices: it is the one-shot ``kliping es setup``, run with an admin key. Workers only check, read-only,
that the alias exists; they write through it with ``require_alias``. The roles are in ops/README.md.
"""

from __future__ import annotations

import copy
import logging

from elasticsearch import ApiError, Elasticsearch

from schemas import Reason
from schemas.elastic import default_fields, index_template
from workers.errors import BackendUnavailable

log = logging.getLogger(__name__)

# Rollover conditions: Elastic's sizing guide keeps shards between 10 and 50 GB, so 30 GB per
# (single) primary shard; 30 days gives about one index per month at low volume, so old months
# can be archived or dropped as whole indices. No delete phase: the archive is the product.
ROLLOVER_CONDITIONS = {"max_primary_shard_size": "30gb", "max_age": "30d"}
ILM_POLICY = {"phases": {"hot": {"actions": {"rollover": ROLLOVER_CONDITIONS}}}}
# Only these say "this server has no ILM" (no such API, method not allowed, not implemented), and a
# 400 whose error is "no handler found" (what Elasticsearch and OpenSearch answer for an unknown
# endpoint). A 401/403 is a key without manage_ilm: an error, or rollover would silently be off.
NO_ILM_STATUS = (404, 405, 501)
NO_HANDLER = "no handler found"
FORBIDDEN_STATUS = (401, 403)


class SetupError(RuntimeError):
    """Elasticsearch refused part of the setup; the message says which privilege is missing."""


class AliasMissing(BackendUnavailable):
    """The write alias does not exist (yet): `kliping es setup` has not run. Transient: tasks wait for it."""


def _forbidden(step: str, privilege: str, exc: ApiError) -> SetupError:
    return SetupError(
        f"Elasticsearch refused to {step} ({exc.meta.status} {exc.error}): `kliping es setup` needs an "
        f"admin key with {privilege} (role kliping_setup in ops/README.md); workers do not run it"
    )


def has_no_ilm(exc: ApiError) -> bool:
    """True when an ILM call failed because the server has no ILM API (not for a refused one)."""
    status = exc.meta.status
    return status in NO_ILM_STATUS or (status == 400 and NO_HANDLER in str(exc.error).lower())


def put_ilm_policy(client: Elasticsearch, name: str) -> bool:
    """Install the rollover policy; False (logged) where the server has no ILM; SetupError when refused."""
    try:
        client.ilm.put_lifecycle(name=name, policy=ILM_POLICY)
    except ApiError as exc:
        if exc.meta.status in FORBIDDEN_STATUS:
            raise _forbidden("install the ILM policy", "the manage_ilm cluster privilege", exc) from exc
        if has_no_ilm(exc):
            log.warning(
                "no ILM on this server (%s %s): indices will not roll over automatically",
                exc.meta.status,
                exc.error,
            )
            return False
        raise
    return True


def install(client: Elasticsearch, alias: str, template: dict | None = None) -> None:
    """Install the ILM policy (when the server has ILM), the index template and the first index (idempotent).

    `template` replaces the body of ``schemas/elasticsearch/articles.template.json`` (tests on
    servers with a partial analysis chain use it); its index pattern must be ``<alias>-*``.
    """
    body = copy.deepcopy(template) if template is not None else index_template(alias)
    if put_ilm_policy(client, alias):
        body["template"]["settings"]["index.lifecycle.name"] = alias
        body["template"]["settings"]["index.lifecycle.rollover_alias"] = alias
    try:
        client.indices.put_index_template(name=alias, **body)
    except ApiError as exc:
        if exc.meta.status in FORBIDDEN_STATUS:
            raise _forbidden(
                "install the index template", "the manage_index_templates cluster privilege", exc
            ) from exc
        raise
    try:
        if not client.indices.exists_alias(name=alias):
            client.indices.create(index=f"{alias}-000001", aliases={alias: {"is_write_index": True}})
        else:
            add_new_fields(client, alias, body["template"]["mappings"]["properties"])
            set_default_fields(client, alias, default_fields(body))
    except ApiError as exc:
        if exc.meta.status in FORBIDDEN_STATUS:
            raise _forbidden(
                f"create or update {alias}-*", f"the manage index privilege on {alias}*", exc
            ) from exc
        if exc.error != "resource_already_exists_exception":  # another setup won the race
            raise


def add_new_fields(client: Elasticsearch, alias: str, properties: dict) -> None:
    """Add the template's top-level fields an existing index lacks (dated_at, text_id, …) to its mapping.

    The mapping is strict: without them, a newer worker's writes would be refused until the next
    rollover. Only additions: a changed field needs ``kliping es reindex``, which also fills the new
    fields of the stored articles (new writes have them at once).
    """
    for index, mapping in client.indices.get_mapping(index=alias).body.items():
        known = mapping.get("mappings", {}).get("properties", {})
        missing = {name: spec for name, spec in properties.items() if name not in known}
        if missing:
            log.info("adding fields %s to the mapping of %s", sorted(missing), index)
            client.indices.put_mapping(index=index, properties=missing)


def set_default_fields(client: Elasticsearch, alias: str, fields: list[str]) -> None:
    """Give the existing indices the template's ``index.query.default_field`` (a dynamic setting).

    Indices made from an older template search ``*`` without a field (every field, URLs and ids included);
    with the list, such a search covers the title and body fields of every language.
    """
    if fields:
        client.indices.put_settings(index=alias, settings={"index.query.default_field": fields})


def check(client: Elasticsearch, alias: str) -> bool:
    """Verify, read-only, that the write alias exists; False when the key may not look (403: writes will tell).

    Raises AliasMissing when it does not exist: writes with ``require_alias`` would fail anyway.
    """
    try:
        exists = bool(client.indices.exists_alias(name=alias))
    except ApiError as exc:
        if exc.meta.status in FORBIDDEN_STATUS:
            log.warning(
                "cannot check that alias %s exists (%s: the key lacks view_index_metadata); going on",
                alias,
                exc.meta.status,
            )
            return False
        raise
    if not exists:
        raise AliasMissing(
            f"alias {alias!r} does not exist: run `kliping es setup` with an admin key first",
            Reason.service_unavailable,
        )
    return True
