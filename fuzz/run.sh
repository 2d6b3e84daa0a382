#!/usr/bin/env bash
# Runs every fuzz target for a fixed time (default 60 s each) from its seed
# corpus; new inputs go to a temporary folder, so the checked-in corpus
# stays as it is. Exits non-zero at the first crash, leaving the input in
# fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi

# The sanitizers need a nightly compiler; coverage-guided fuzzing without
# them runs on stable.
cargo fuzz build --sanitizer none
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list); do
    mkdir -p "$work/$target" "corpus/$target"
    printf '\n==> fuzz %s for %s s\n' "$target" "$seconds"
    if ! cargo fuzz run --sanitizer none "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1; then
        echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
