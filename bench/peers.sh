#!/usr/bin/env bash
# The harness and moto server side by side: the same load generator, the
# same token, the same provider and role on both, runs alternating between
# the two servers, on loopback.
#
#   bench/peers.sh [SECONDS] [ROUNDS]    (default 5 s a run, 3 rounds)
#
# moto is installed from PyPI into a throwaway virtualenv (set MOTO_VENV to
# an existing one to skip the install). Prints every run as a JSON line,
# then the median of each figure per server and the harness/moto ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
seconds="${1:-5}"
rounds="${2:-3}"
harness_addr=127.0.0.1:17462
moto_addr=127.0.0.1:17463
moto_version=5.2.5

build_release
venv="${MOTO_VENV:-}"
if [ -z "$venv" ]; then
    venv="$(mktemp -d)/venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
fi

start_harness "$harness_addr"
"$venv/bin/moto_server" -H "${moto_addr%:*}" -p "${moto_addr##*:}" > /dev/null 2>&1 &
moto_pid=$!
started_pids+=("$moto_pid")
wait_for "$moto_addr"

for addr in "$harness_addr" "$moto_addr"; do
    "$load" setup --target "$addr" --issuer "$issuer" > /dev/null
done
# moto never checks the token, so the harness's token serves both.
token=$(bench_token "$harness_addr")

results=$(mktemp)
for round in $(seq "$rounds"); do
    # Alternate which server goes first, so drift in the machine's load
    # falls on both.
    if [ $((round % 2)) -eq 1 ]; then order="harness moto"; else order="moto harness"; fi
    for call in sts-valid sts-invalid list-providers; do
        for c in 1 32; do
            for server in $order; do
                if [ "$server" = harness ]; then addr=$harness_addr pid=$harness_pid
                else addr=$moto_addr pid=$moto_pid; fi
                "$load" run --target "$addr" --call "$call" --concurrency "$c" \
                    --seconds "$seconds" --token "$token" --pid "$pid" \
                    --label "$server" | tee -a "$results"
            done
        done
    done
done

echo "# medians over $rounds rounds; ratio = harness / moto (for latency and CPU, moto / harness)"
jq -rs '
  def median: sort | if length == 0 then null else .[(length / 2 | floor)] end;
  group_by([.call, .concurrency]) | .[] |
  (map(select(.label == "harness"))) as $h | (map(select(.label == "moto"))) as $m |
  def fig($rows; $f): [$rows[] | .[$f] | select(. != null)] | median;
  def ratio($a; $b): if $a == null or $b == null or $b == 0 then "-" else (($a / $b) * 10 | round / 10 | tostring) + "x" end;
  "\(.[0].call) c=\(.[0].concurrency): rps \(fig($h; "rps")) vs \(fig($m; "rps")) (\(ratio(fig($h; "rps"); fig($m; "rps")))), " +
  "p50 \(fig($h; "p50_us")) vs \(fig($m; "p50_us")) us, p99 \(fig($h; "p99_us")) vs \(fig($m; "p99_us")) us (\(ratio(fig($m; "p99_us"); fig($h; "p99_us")))), " +
  "cpu/req \(fig($h; "cpu_us_per_request")) vs \(fig($m; "cpu_us_per_request")) us (\(ratio(fig($m; "cpu_us_per_request"); fig($h; "cpu_us_per_request")))), " +
  "peak RSS \(fig($h; "peak_rss_kb")) vs \(fig($m; "peak_rss_kb")) kB, statuses \($h[0].statuses) vs \($m[0].statuses)"
' "$results"
rm -f "$results"
