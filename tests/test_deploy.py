"""The deployment files: docker-compose.yml against the compose-spec schema, credentials in every health
check and client, the roles of ops/elasticsearch/ as ops/README.md prints them, the image's layers.

No Docker engine runs here: these check the files, not a running stack (ops/README.md says what was not run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from tests.support.http_server import FixtureServer
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
    # Kibana's status API needs no credentials (the check below runs it); no Kliping password in Kibana
    assert "KLIPING_HEALTH_PASSWORD" not in kibana["environment"]
    assert {"ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD"} <= set(kibana["environment"])
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
    features = reader["kibana"][0]["feature"]
    # Kibana 8.18+ ids (oss_features.ts: discover/dashboard/visualize deprecated, replacedBy the _v2 ids
    # plus savedQueryManagement)
    assert set(features) == {"discover_v2", "dashboard_v2", "visualize_v2", "savedQueryManagement"}
    assert all(privileges == ["read"] for privileges in features.values())
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


def _health_check(service: str, url: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a service's compose health check (CMD-SHELL) here, with its URL pointed at a loopback stand-in."""
    kind, command = _compose()["services"][service]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    command = re.sub(r"http://localhost:\d+", url.rstrip("/"), command.replace("$$", "$"))
    return subprocess.run(["sh", "-c", command], env={**os.environ, **env}, capture_output=True, timeout=30)


needs_curl = pytest.mark.skipif(not shutil.which("curl"), reason="curl runs the health checks")


@needs_curl
@pytest.mark.parametrize(
    "status, body, healthy",
    [
        (200, '{"status":{"overall":{"level":"available"}}}', True),  # what an anonymous caller gets
        (200, '{"status":{"overall":{"level":"degraded"}}}', False),
        (503, '{"status":{"overall":{"level":"unavailable"}}}', False),
        # the full body (an authenticated caller): one plugin available, Kibana itself degraded
        (200, '{"status":{"overall":{"level":"degraded"},"plugins":{"x":{"level":"available"}}}}', False),
    ],
)
def test_the_kibana_health_check_reads_the_overall_level_without_credentials(status, body, healthy):
    with FixtureServer() as kibana:
        kibana.route("/api/status", body=body, status=status, content_type="application/json")
        result = _health_check("kibana", kibana.url(), {})
        assert (result.returncode == 0) is healthy, result.stderr
        [hit] = kibana.requests
        assert "authorization" not in hit.headers


@needs_curl
def test_the_elasticsearch_health_check_authenticates_and_waits_for_yellow():
    with FixtureServer() as es:
        es.route("/_cluster/health", body='{"status":"yellow"}', content_type="application/json")
        assert _health_check("elasticsearch", es.url(), {"ELASTIC_PASSWORD": "pw"}).returncode == 0
        [hit] = es.requests
        assert hit.headers["authorization"] == "Basic ZWxhc3RpYzpwdw=="  # elastic:pw
        assert "wait_for_status=yellow" in hit.path
        es.route("/_cluster/health", body='{"timed_out":true}', status=408, content_type="application/json")
        assert _health_check("elasticsearch", es.url(), {"ELASTIC_PASSWORD": "pw"}).returncode != 0


@needs_curl
def test_security_script_puts_the_roles_and_users_with_any_password():
    passwords = {
        "ELASTIC_PASSWORD": "admin-pw",
        "KIBANA_SYSTEM_PASSWORD": 'ki"ba\\na',  # a quote and a backslash stay one JSON string
        "KLIPING_SETUP_PASSWORD": "setup $pw%s",
        "KLIPING_WORKER_PASSWORD": "worker-pw",
    }
    paths = [
        "/_security/user/kibana_system/_password",
        "/_security/role/kliping_setup",
        "/_security/role/kliping_writer",
        "/_security/user/kliping_setup",
        "/_security/user/kliping_worker",
    ]
    with FixtureServer() as es:
        for path in paths:
            es.route(path, body="{}", content_type="application/json")
        script = ROLES / "security.sh"
        result = subprocess.run(
            ["bash", str(script)],
            env={**os.environ, **passwords, "ES_URL": es.url().rstrip("/")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        sent = {hit.path: (hit.method, json.loads(hit.body)) for hit in es.requests}
        assert all(hit.headers["authorization"] == "Basic ZWxhc3RpYzphZG1pbi1wdw==" for hit in es.requests)
    assert list(sent) == paths
    assert sent[paths[0]] == ("POST", {"password": passwords["KIBANA_SYSTEM_PASSWORD"]})
    assert sent[paths[1]] == (
        "PUT",
        json.loads((ROLES / "kliping_setup.role.json").read_text(encoding="utf-8")),
    )
    assert sent[paths[3]][1]["password"] == passwords["KLIPING_SETUP_PASSWORD"]
    assert sent[paths[4]][1]["roles"] == ["kliping_writer"]
    with FixtureServer() as es:  # a refusal stops the script with Elasticsearch's answer
        es.route(paths[0], body='{"error":"forbidden"}', status=403, content_type="application/json")
        result = subprocess.run(
            ["bash", str(ROLES / "security.sh")],
            env={**os.environ, **passwords, "ES_URL": es.url().rstrip("/")},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "/_security/user/kibana_system/_password failed" in result.stderr and "forbidden" in result.stderr
