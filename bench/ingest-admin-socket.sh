#!/usr/bin/env bash
# Ingest the same file into fresh embedded stores, alternately without a
# server (the command opens the store) and through a running serve's admin
# socket, and print each pair's times and ratio. Usage:
#   bench/ingest-admin-socket.sh [ROWS] [PAIRS]    (default 100000 rows of a CNIC and a mobile number, 3 pairs)
set -euo pipefail
rows=${1:-100000}
pairs=${2:-3}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/khabardar" ./cmd/khabardar
kh="$work/khabardar"
python3 - "$rows" > "$work/leak.csv" <<'PY'
import random, sys
random.seed(1)
print("cnic,phone")
for _ in range(int(sys.argv[1])):
    print("3520%09d,0300%07d" % (random.randrange(10**9), random.randrange(10**7)))
PY
once() { # mode → seconds
  local d="$work/$1-$RANDOM" pid=""
  "$kh" keys init --data "$d" >/dev/null
  "$kh" listings add --data "$d" examples/listing-pakdata-shop.yaml >/dev/null
  if [ "$1" = socket ]; then
    "$kh" serve --data "$d" --addr 127.0.0.1:0 --metrics-addr off 2>/dev/null & pid=$!
    for _ in $(seq 100); do [ -S "$d/admin.sock" ] && break; sleep 0.1; done
  fi
  "$kh" ingest --data "$d" --listing pakdata-shop-2025 --json "$work/leak.csv" |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["elapsed_ns"] / 1e9))'
  if [ -n "$pid" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$d"
}
echo "pair  direct_s  socket_s  socket/direct  ($((rows * 2)) identifiers each)"
for i in $(seq "$pairs"); do
  a=$(once direct); b=$(once socket)
  python3 -c "print('%-4d  %8s  %8s  %.3f' % ($i, '$a', '$b', $b / $a))"
done
