#!/usr/bin/env bash
# One-shot (the compose `es-security` service; idempotent): with the `elastic` superuser, set the
# kibana_system password, create the roles of this folder and the users Kliping runs as:
#   kliping_setup  (role kliping_setup)   `kliping es setup` / `kliping es reindex`
#   kliping_worker (role kliping_writer)  workers, beat, metrics, the CLI
# The Kibana reader role (workers/data/kibana_reader_role.json) goes through Kibana's role API once
# Kibana runs: `kliping kibana setup` puts it (ops/README.md, "Security").
# Needs: ES_URL, ELASTIC_PASSWORD, KIBANA_SYSTEM_PASSWORD, KLIPING_SETUP_PASSWORD, KLIPING_WORKER_PASSWORD.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
es="${ES_URL:-http://elasticsearch:9200}"

call() {  # METHOD PATH [BODY]: fail loudly with Elasticsearch's answer
    local method="$1" path="$2" body="${3:-}"
    local answer
    if ! answer="$(curl -sS --fail-with-body -u "elastic:${ELASTIC_PASSWORD}" -X "$method" \
        -H 'Content-Type: application/json' "$es$path" ${body:+--data-binary "$body"})"; then
        echo "es-security: $method $path failed: $answer" >&2
        exit 1
    fi
}

json() {  # STRING: as a JSON string (a password may hold quotes or backslashes)
    local s="${1//\\/\\\\}"
    printf '"%s"' "${s//\"/\\\"}"
}

user() {  # NAME PASSWORD ROLE
    call PUT "/_security/user/$1" "{\"password\": $(json "$2"), \"roles\": [\"$3\"], \"full_name\": \"Kliping ($3)\"}"
}

call POST /_security/user/kibana_system/_password "{\"password\": $(json "${KIBANA_SYSTEM_PASSWORD}")}"
call PUT /_security/role/kliping_setup "$(cat "$here/kliping_setup.role.json")"
call PUT /_security/role/kliping_writer "$(cat "$here/kliping_writer.role.json")"
user kliping_setup "${KLIPING_SETUP_PASSWORD}" kliping_setup
user kliping_worker "${KLIPING_WORKER_PASSWORD}" kliping_writer
echo "es-security: kibana_system password, roles kliping_setup and kliping_writer, users kliping_setup and kliping_worker are in place"
