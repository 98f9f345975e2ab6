#!/usr/bin/env bash
# schemathesis against /api/schema/: every operation, with a bearer key and real ids
# (paused executions of a flow loaded for the run), bounded to about two minutes.
# Fails on any 5xx and on any response the schema does not describe.
#
#   .ci/schemathesis.sh
#   SCHEMATHESIS_EXAMPLES=N          more cases per operation (default 100, ~1.5 min)
#   SCHEMATHESIS_DATABASE_URL=URL    an empty database instead of a fresh SQLite file
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-100}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A fresh SQLite database; queued steps run inline so a start pauses at once.
export SIGNOFF_VAR_DIR=$WORK
export DATABASE_URL=${SCHEMATHESIS_DATABASE_URL:-sqlite:///$WORK/db.sqlite3}
export SIGNOFF_SYNC_WORKER=true DEBUG=false
# /events streams for this long on a waiting execution (5 s by default): bounded,
# but short here so a hundred cases of it take seconds.
export SIGNOFF_EVENTS_WINDOW_SECONDS=0.2
unset SIGNOFF_REDIS_URL
manage() { "$PYTHON" manage.py "$@"; }

cat >"$WORK/flow.yaml" <<'YAML'
id: fuzzed
namespace: ci.schemathesis
inputs:
  - id: title
    type: STRING
    defaults: fuzz
  - id: amount
    type: FLOAT
    required: false
  - id: when
    type: DATE
    required: false
  - id: doc
    type: JSON
    required: false
  - id: request.days
    type: INT
    required: false
tasks:
  - id: ask
    type: Pause
    screen: approval
    pauseDuration: PT1H
    onResume:
      - id: budget
        type: INT
        min: 0
        required: false
  - id: after
    type: Return
    format: "{{ outputs.ask.decision }}"
YAML

manage migrate -v0
manage loadflows "$WORK/flow.yaml"
manage shell -c "
from django.contrib.auth import get_user_model
from flows.models import Tenant
user = get_user_model().objects.create_user('fuzzer', password='fuzzer-pass')
Tenant.objects.get(slug='default').members.add(user)
"
KEY=$(manage drf_create_token fuzzer | sed -n 's/^Generated token \([^ ]*\) for user .*/\1/p')
EXECUTIONS=()
for _ in 1 2 3; do
  EXECUTIONS+=("$(manage startexecution ci.schemathesis fuzzed | tail -n1)")
done

PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
# Not through manage(): a backgrounded function is a subshell, and killing it would
# leave the server running.
"$PYTHON" manage.py runserver "127.0.0.1:$PORT" --noreload >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do
  curl -fsS -o /dev/null "$BASE/api/schema/" 2>/dev/null && break
  sleep 0.2
done

# TOML arrays of the real ids: the executions, and the tokens they wait on.
json_list() { "$PYTHON" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
TOKENS=$(curl -fsS -H "Authorization: Bearer $KEY" "$BASE/api/suspensions?limit=10" |
  "$PYTHON" -c 'import json, sys; print(*(r["tokenId"] for r in json.load(sys.stdin)["results"]))')
# Approval requests' tokens: the signed completion route then reaches its 403 (the
# fuzzed sig) instead of stopping at 404.
REQUESTS=()
for screen in approval form; do
  REQUESTS+=("$(curl -fsS -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -d "{\"screen\": \"$screen\", \"deadline\": \"PT1H\", \"inputs\": [{\"id\": \"n\", \"type\": \"INT\", \"required\": false}]}" \
    "$BASE/api/approval-requests" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["tokenId"])')")
done
# shellcheck disable=SC2086  # word splitting of the ids is intended
cat >"$WORK/schemathesis.toml" <<TOML
[dictionaries.executions]
values = $(json_list "${EXECUTIONS[@]}")
[dictionaries.tokens]
values = $(json_list $TOKENS)
[dictionaries.tenants]
values = ["default"]

[dictionaries.requests]
values = $(json_list "${REQUESTS[@]}")
[dictionaries.namespaces]
values = ["ci.schemathesis"]
[dictionaries.flows]
values = ["fuzzed"]

[[operations]]
include-operation-id = ["get_execution", "get_execution_status", "stream_execution_events", "prefect_resume_flow_run", "kestra_resume_execution", "withdraw_execution"]
parameters = { "path.id" = { dictionary = "executions", probability = 0.5 } }

[[operations]]
include-operation-id = "kestra_resume_tenant_execution"
parameters = { "path.id" = { dictionary = "executions", probability = 0.5 }, "path.tenant" = { dictionary = "tenants", probability = 0.7 } }

[[operations]]
include-operation-id = ["get_suspension", "resume_suspension", "delegate_suspension"]
parameters = { "path.id" = { dictionary = "tokens", probability = 0.5 } }

[[operations]]
include-operation-id = "complete_approval_request"
parameters = { "path.token" = { dictionary = "requests", probability = 0.7 } }

[[operations]]
include-operation-id = ["start_execution", "okta_invoke_flow", "okta_resume_flow"]
parameters = { "path.namespace" = { dictionary = "namespaces", probability = 0.7 }, "path.flow_id" = { dictionary = "flows", probability = 0.7 } }
TOML

echo "schemathesis: $BASE/api/schema/, ${#EXECUTIONS[@]} paused executions, $EXAMPLES examples per operation"
status=0
"$(dirname "$PYTHON")/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/api/schema/" \
  --url "$BASE" \
  --header "Authorization: Bearer $KEY" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples "$EXAMPLES" \
  --request-timeout 10 \
  --generation-database none \
  --workers 1 \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- server log (last 60 lines) ----"
  tail -n 60 "$WORK/server.log"
fi
exit "$status"
