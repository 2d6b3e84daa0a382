#!/usr/bin/env bash
# Times the whole scenario library in a release build, from process start
# to exit, over several runs, and prints the minimum, median and maximum.
#
#   bench/scenario-library.sh [RUNS]
#
# RSA key generation dominates a cold run; keys derive from the seed and an
# issuer's position in its world, so the library needs only a few.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
cargo build --release -p oidc-sts-harness --quiet
binary=target/release/oidc-sts-harness
"$binary" run scenarios/ > /dev/null

times=()
for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$binary" run scenarios/ > /dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
count=${#sorted[@]}
scenarios=$(find scenarios -name '*.yaml' -o -name '*.yml' | wc -l)
printf 'scenario library: %d files, %d runs, wall ms min %d, median %d, max %d\n' \
    "$scenarios" "$count" "${sorted[0]}" "${sorted[$((count / 2))]}" "${sorted[$((count - 1))]}"
