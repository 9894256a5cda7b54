#!/usr/bin/env bash
# Issue 13: `legemiddel simulate` over a large audit trail. Generated decision requests are
# served in batches of 500 (`/api/v1/decide/batch`, one audit record each) by a release build
# on a fresh SQLite folder; then the trail is replayed under a proposed rule set (today's rule
# data plus a § 1b list file that moves atorvastatin to the trusts), whole process timed.
#
#   bench/simulate.sh [DECISIONS]      (default 200 000)
set -euo pipefail
N=${1:-200000}
B=${LEGEMIDDEL:-target/release/legemiddel}
DIR=${BENCH_DIR:-/tmp/simulate-bench}
rm -rf "$DIR" && mkdir -p "$DIR/data" "$DIR/batches"
"$B" bench requests --count "$N" --seed 7 > "$DIR/requests.jsonl"
split -l 500 -d -a 5 "$DIR/requests.jsonl" "$DIR/batches/b"
for f in "$DIR"/batches/b*; do { printf '['; paste -sd, "$f"; printf ']'; } > "$f.json"; rm "$f"; done
TOKEN=$("$B" token --data "$DIR/data" --role prescriber --name bench --prescriber-role gp)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B" serve --data "$DIR/data" --listen "127.0.0.1:$PORT" > "$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
started=$(date +%s.%N)
for f in "$DIR"/batches/*.json; do
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary "@$f" "http://127.0.0.1:$PORT/api/v1/decide/batch"
done
echo "served $N decisions in $(echo "$(date +%s.%N) - $started" | bc) s"
kill $SERVER; wait $SERVER 2>/dev/null || true
cp -r rules "$DIR/forslag"
cat > "$DIR/forslag/h-list/2026-05-01.toml" <<'TOML'
rule = "F5"
title = "Forslag: atorvastatin til RHF-ene"
source = "bench/simulate.sh"
basis = "blåreseptforskriften § 1b annet ledd"
effective = 2024-01-01

[[entry]]
substance = "atorvastatin"
atc = "C10AA05"
use = "Forslag"
TOML
echo "-- simulate ($(nproc) cores)"
/usr/bin/time -f "%e s %M KB" "$B" simulate --data "$DIR/data" --rules "$DIR/forslag" > "$DIR/simulate.txt"
head -12 "$DIR/simulate.txt"
