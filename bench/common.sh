# Shared by the load and peer benchmarks: building, starting the harness on
# loopback, and stopping only the processes these scripts started.
# Sourced, not run.

export AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=fake

# HARNESS_BIN compares another build of the harness, such as one with a
# different crypto backend; BENCH_SKIP_BUILD=1 uses the binaries as built.
harness=${HARNESS_BIN:-target/release/oidc-sts-harness}
load=${LOAD_BIN:-target/release/harness-load}
cluster_id=0123456789ABCDEF0123456789ABCDEF
issuer="https://oidc.eks.us-east-1.amazonaws.com/id/$cluster_id"
started_pids=()

build_release() {
    if [ "${BENCH_SKIP_BUILD:-}" = 1 ]; then return; fi
    # Built one at a time: together, cargo would unify their tokio features
    # and rebuild the harness for the load generator's.
    cargo build --release -p oidc-sts-harness --quiet
    cargo build --release -p harness-load --quiet
}

stop_started() {
    for pid in "${started_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    started_pids=()
}
trap stop_started EXIT

# wait_for ADDR: waits up to 10 s until something listens on ADDR.
wait_for() {
    local host=${1%:*} port=${1##*:}
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on $1 after 10 s" >&2
    return 1
}

# start_harness ADDR: starts the release harness with the bench cluster and
# sets harness_pid.
start_harness() {
    "$harness" serve --listen "$1" --cluster "bench@us-east-1/$cluster_id" > /dev/null &
    harness_pid=$!
    started_pids+=("$harness_pid")
    wait_for "$1"
}

# bench_token ADDR: a projected token for the bench service account.
bench_token() {
    "$harness" token --endpoint "http://$1" --cluster bench \
        --namespace default --service-account bench
}
