"""The deployment files: docker-compose.yml against the compose-spec schema, credentials in every health
check and client, the roles of ops/elasticsearch/ as ops/README.md prints them, the image's layers.

No Docker engine runs here: these check the files, not a running stack (ops/README.md says what was not run).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from workers.settings import PACKAGE_DATA, PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
ROLES = PROJECT_ROOT / "ops" / "elasticsearch"


def _compose() -> dict:
    return YAML(typ="safe").load(COMPOSE.read_text(encoding="utf-8"))  # merge keys (<<) resolved


def _compose_schema() -> dict:
    # The compose-spec schema (Apache-2.0) as check-jsonschema vendors it, with its licence beside it.
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))


def test_compose_file_validates_against_the_compose_spec_schema():
    schema = _compose_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(_compose())
    ]
    assert errors == []
    # the validator does reject a broken file (it is not validating against an empty schema)
    broken = _compose()
    broken["services"]["worker"]["restart"] = ["always"]
    broken["services"]["redis"]["helthcheck"] = {"test": ["CMD", "true"]}  # a misspelt key
    assert len(list(validator.iter_errors(broken))) >= 2


def test_every_health_check_and_client_authenticates():
    services = _compose()["services"]
    es = services["elasticsearch"]
    assert es["environment"]["xpack.security.enabled"] == "true"
    es_check = " ".join(es["healthcheck"]["test"])
    assert '-u "elastic:${ELASTIC_PASSWORD}"' in es_check.replace("$$", "$")  # the container's own variable
    assert "ELASTIC_PASSWORD" in es["environment"]
    kibana = services["kibana"]
    kibana_check = " ".join(kibana["healthcheck"]["test"]).replace("$$", "$")
    assert "/api/status" in kibana_check and '-u "kliping_worker:${KLIPING_HEALTH_PASSWORD}"' in kibana_check
    assert {"ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD", "KLIPING_HEALTH_PASSWORD"} <= set(
        kibana["environment"]
    )
    assert kibana["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"
    users = {
        name: service["environment"].get("KLIPING_ELASTICSEARCH_USERNAME")
        for name, service in services.items()
        if isinstance(service.get("environment"), dict)
        and "KLIPING_ELASTICSEARCH_URL" in service["environment"]
    }
    assert users.pop("es-setup") == "kliping_setup"  # the only Kliping service that sets anything up
    assert set(users.values()) == {"kliping_worker"}, users
    for name in ("es-setup", "worker"):
        assert services[name]["environment"]["KLIPING_ELASTICSEARCH_PASSWORD"].startswith("${")
    assert services["kibana-setup"]["environment"]["KLIPING_KIBANA_USERNAME"] == "elastic"


def test_compose_runs_on_rootless_engines_with_limits_and_volumes():
    compose = _compose()
    services = compose["services"]
    text = COMPOSE.read_text(encoding="utf-8")
    es = services["elasticsearch"]
    assert "memlock" not in es["ulimits"] and "bootstrap.memory_lock" not in es["environment"]
    assert "vm.max_map_count" in text
    for name in ("elasticsearch", "es-security", "kibana"):
        image = services[name]["image"]
        assert re.fullmatch(r"docker\.elastic\.co/\w+/\w+:\$\{ES_VERSION:-8\.19\.\d+\}", image), image
    kliping = [name for name, s in services.items() if str(s.get("image", "")).startswith("kliping:")]
    assert set(kliping) == {"es-setup", "kibana-setup", "worker", "beat", "metrics"}
    assert all(services[name]["init"] is True for name in kliping)
    assert all("mem_limit" in service for service in services.values())
    assert "kibana-data:/usr/share/kibana/data" in services["kibana"]["volumes"]
    assert "kibana-data" in compose["volumes"]
    assert "volumes" not in services["kibana-setup"]  # the Kibana objects are package data in the image
    assert services["es-setup"]["depends_on"]["es-security"]["condition"] == "service_completed_successfully"
    assert services["kibana"]["depends_on"]["es-security"]["condition"] == "service_completed_successfully"


def test_every_variable_compose_requires_is_in_env_example():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text(encoding="utf-8")))
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    assert required == {
        "ELASTIC_PASSWORD",
        "KIBANA_SYSTEM_PASSWORD",
        "ES_SETUP_PASSWORD",
        "ES_WORKER_PASSWORD",
    }
    assert all(re.search(rf"^{name}=$", example, re.MULTILINE) for name in required)


@pytest.mark.parametrize(
    "path", [*sorted(ROLES.glob("*.json")), PACKAGE_DATA / "kibana_reader_role.json"], ids=lambda p: p.name
)
def test_role_definitions_are_printed_exactly_in_the_ops_readme(path: Path):
    text = path.read_text(encoding="utf-8")
    json.loads(text)
    assert text.strip() in (PROJECT_ROOT / "ops" / "README.md").read_text(encoding="utf-8"), path.name


def test_the_worker_role_can_set_nothing_up_and_the_setup_role_can():
    writer = json.loads((ROLES / "kliping_writer.role.json").read_text(encoding="utf-8"))
    setup = json.loads((ROLES / "kliping_setup.role.json").read_text(encoding="utf-8"))
    assert writer["cluster"] == []
    [writer_indices] = writer["indices"]
    assert set(writer_indices["privileges"]) == {"read", "write", "view_index_metadata"}
    assert set(setup["cluster"]) == {"manage_ilm", "manage_index_templates"}
    [setup_indices] = setup["indices"]
    assert "manage" in setup_indices["privileges"]
    for role in (writer_indices, setup_indices):
        assert set(role["names"]) == {"kliping-articles", "kliping-articles-*"}
    reader = json.loads((PACKAGE_DATA / "kibana_reader_role.json").read_text(encoding="utf-8"))
    [reader_indices] = reader["elasticsearch"]["indices"]
    assert set(reader_indices["privileges"]) == {"read", "view_index_metadata"}
    assert all(privileges == ["read"] for privileges in reader["kibana"][0]["feature"].values())
    script = (ROLES / "security.sh").read_text(encoding="utf-8")
    assert "kliping_setup.role.json" in script and "kliping_writer.role.json" in script


def test_image_dependency_layer_does_not_hold_the_readme():
    dockerfile = (PROJECT_ROOT / "ops" / "Dockerfile").read_text(encoding="utf-8")
    copies = re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE)
    assert copies[0].split() == ["pyproject.toml", "./"]  # the layer every dependency install hangs on
    assert 'echo "Kliping" > README.md' in dockerfile  # a stub for pyproject's readme
    assert "README.md ./" in copies[1:]
    ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "README.md" not in ignored and "workers/" not in ignored
