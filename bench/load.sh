#!/usr/bin/env bash
# Load benchmark of a release-built harness on loopback, with server-side
# CPU time per request and peak memory, then start-up and scale figures.
#
#   bench/load.sh [SECONDS]     (default 5 s a run)
#
# Prints one JSON line per run (see bench/load/src/main.rs for the fields).
# The machine's other work makes absolute figures noisy; compare runs of
# one invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
seconds="${1:-5}"
addr=127.0.0.1:17460

build_release
start_harness "$addr"
"$load" setup --target "$addr" --issuer "$issuer" > /dev/null
token=$(bench_token "$addr")

echo "# load: calls at concurrency 1, 32 and 256, ${seconds} s each"
for call in sts-valid sts-invalid list-providers jwks; do
    for c in 1 32 256; do
        "$load" run --target "$addr" --call "$call" --concurrency "$c" \
            --seconds "$seconds" --token "$token" --issuer "$issuer" \
            --pid "$harness_pid" --label harness
    done
done

echo "# scale: 10,000 providers and roles in 100 accounts"
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$harness_pid/status")
"$load" populate --target "$addr" --accounts 100 --per-account 100
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$harness_pid/status")
printf '{"rss_kb_before_populate":%s,"rss_kb_after_populate":%s}\n' "$rss_before" "$rss_after"
for call in sts-valid list-providers; do
    "$load" run --target "$addr" --call "$call" --concurrency 32 \
        --seconds "$seconds" --token "$token" --issuer "$issuer" \
        --pid "$harness_pid" --label harness-10k
done
stop_started

echo "# start-up: spawn to first answered IAM request, 10 clusters"
clusters=()
for i in $(seq 0 9); do clusters+=(--cluster "cluster-$i"); done
"$load" startup --target 127.0.0.1:17461 --runs 10 -- \
    "$harness" serve --listen 127.0.0.1:17461 "${clusters[@]}"
