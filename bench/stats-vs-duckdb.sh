#!/usr/bin/env bash
# Issue 13: `legemiddel stats top` against DuckDB's SQL for the same table on the same file, CSV
# and Parquet, whole process, side by side in one run. DuckDB also writes the Parquet file (a
# real peer's file, Snappy, as DuckDB writes by default), and the two answers are compared.
#
#   bench/stats-vs-duckdb.sh [ROWS]      (default 10 000 000; needs `pip install duckdb`)
set -euo pipefail
ROWS=${1:-10000000}
B=${LEGEMIDDEL:-target/release/legemiddel}
DIR=${BENCH_DIR:-/tmp/stats-bench}
mkdir -p "$DIR"
CSV="$DIR/utleveringer-$ROWS.csv"
PQ="$DIR/utleveringer-$ROWS.parquet"
[ -f "$CSV" ] || "$B" stats generate --out "$CSV" --rows "$ROWS"
[ -f "$PQ" ] || python3 -c "
import duckdb
duckdb.sql(\"COPY (SELECT * FROM read_csv('$CSV', header=true, types={'varenr':'VARCHAR','ddd_per_package':'DOUBLE','unregistered':'BOOLEAN','date':'DATE'})) TO '$PQ' (FORMAT parquet)\")"

SQL="SELECT atc, substance, count(*) AS dispensings, sum(packages) AS packages,
  CASE WHEN count(ddd_per_package) = 0 THEN NULL ELSE round(sum(packages * ddd_per_package), 1) END AS ddd
FROM SRC WHERE unregistered AND species = 'human' AND year(date) = 2024
GROUP BY atc, substance ORDER BY packages DESC, dispensings DESC, atc, substance LIMIT 20"

duck() {
  local src=$1 out=$2
  /usr/bin/time -f "%e s %M KB" python3 -c "
import duckdb
rows = duckdb.sql(\"\"\"${SQL//SRC/$src}\"\"\").fetchall()
with open('$out', 'w') as f:
    f.write('atc,substance,dispensings,packages,ddd\n')
    for a, s, d, p, x in rows:
        p = ('%.3f' % p).rstrip('0').rstrip('.')
        f.write(f\"{a},{s},{d},{p},{'-' if x is None else '%.1f' % x}\n\")
"
}

echo "rows: $ROWS ($(du -h "$CSV" | cut -f1) CSV, $(du -h "$PQ" | cut -f1) Parquet), $(nproc) cores"
for run in 1 2; do
  echo "-- run $run"
  printf 'legemiddel CSV:     '; /usr/bin/time -f "%e s %M KB" "$B" stats top --input "$CSV" --year 2024 --format csv --out "$DIR/ours-csv.txt" 2>&1 | tail -1
  printf 'DuckDB CSV:         '; duck "read_csv('$CSV', header=true, types={'varenr':'VARCHAR','ddd_per_package':'DOUBLE','unregistered':'BOOLEAN'})" "$DIR/duck-csv.txt" 2>&1 | tail -1
  printf 'legemiddel Parquet: '; /usr/bin/time -f "%e s %M KB" "$B" stats top --input "$PQ" --year 2024 --format csv --out "$DIR/ours-pq.txt" 2>&1 | tail -1
  printf 'DuckDB Parquet:     '; duck "read_parquet('$PQ')" "$DIR/duck-pq.txt" 2>&1 | tail -1
done
for f in csv pq; do
  if diff -q "$DIR/ours-$f.txt" "$DIR/duck-$f.txt" >/dev/null; then echo "$f: the same table"; else echo "$f: THE TABLES DIFFER"; diff "$DIR/ours-$f.txt" "$DIR/duck-$f.txt" | head; fi
done
