#!/usr/bin/env bash
# schemathesis (PyPI) against the running service's own OpenAPI document: a bounded number of
# generated requests per operation, as every role, with every check — no server error, every
# status and content type documented, every answer matching its schema, schema-violating
# requests refused and schema-valid ones accepted (the exceptions, each a rule no JSON schema
# can state, are listed with their reasons in .ci/schemathesis.toml). Any failure fails the run.
# Usage: .ci/schemathesis.sh BINARY   (run by .ci/run after the tests). Every phase runs, the
# coverage phase too (boundary values and one violation at a time, for every keyword of every
# schema). One worker: with two, schemathesis 4.32.5 on Python 3.11 stops in the coverage phase
# with an error of its own (a KeyError, then "AST constructor recursion depth mismatch" while
# Hypothesis describes a lambda on two threads at once; seen here, on a different operation
# each run), not with a finding about this service.
set -euo pipefail
B=$1
D=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B" serve --data "$D/data" --listen "127.0.0.1:$PORT" 2>"$D/serve.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$D"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
for role in administrator prescriber pharmacist helfo_caseworker dmp_caseworker stockpile_manager analyst clinic_head; do
  TOKEN=$("$B" token --data "$D/data" --role "$role" --name schemathesis --prescriber-role gp)
  echo "-- as $role"
  # The summary when it passes; everything (each failure with its curl line) when it does not.
  if ! st --config-file "$(dirname "$0")/schemathesis.toml" run "http://127.0.0.1:$PORT/api/openapi.json" \
    -H "Authorization: Bearer $TOKEN" --checks all --max-examples 10 --workers 1 --seed 1 \
    --no-color --phases examples,coverage,fuzzing,stateful >"$D/st.log" 2>&1; then
    cat "$D/st.log"
    exit 1
  fi
  tail -n 25 "$D/st.log"
done
