#!/usr/bin/env bash
# The harness beside peer emulators, all on loopback. Every server gets
# the same load generator, token, provider and role, and the server that
# runs first changes from round to round.
#
#   bench/peers.sh [SECONDS] [ROUNDS]    (default 5 s a run, 3 rounds)
#
# PEERS names the peers to run (default "moto localstack"):
#   moto        moto server from PyPI, in a throwaway virtualenv
#               (MOTO_VENV reuses an existing one);
#   localstack  localstack-core without Docker, which needs Python 3.13:
#               LOCALSTACK_PYTHON names the interpreter, else python3.13
#               if it runs, else pyenv's newest 3.13 (LOCALSTACK_VENV
#               reuses an existing virtualenv).
# Prints every run as a JSON line, start-up times, then the median of each
# figure per server (with an even number of rounds, the higher of the two
# middle values) and the ratio of the harness to each peer. Throwaway
# virtualenvs and peer logs live in one temporary folder, removed on exit.
set -euo pipefail
# Command substitutions stop the script on a failure too.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
source bench/common.sh
seconds="${1:-5}"
rounds="${2:-3}"
peers="${PEERS:-moto localstack}"
moto_version=5.2.5
localstack_version=2026.3.0
# Versions with which localstack-core installed and started without Docker
# on 2026-12-04.
localstack_pins=('cbor2<6' 'pyopenssl<26' 'cryptography<47' service_identity)

work=$(mktemp -d)
cleanup() {
    stop_started
    rm -rf "$work"
}
trap cleanup EXIT

declare -A addr pid
addr[harness]=127.0.0.1:17462
addr[moto]=127.0.0.1:17463
addr[localstack]=127.0.0.1:17464

# is_python313 PYTHON: whether PYTHON runs and is Python 3.13.
is_python313() {
    "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' > /dev/null 2>&1
}

# localstack_python: prints a Python 3.13 interpreter for localstack-core,
# or stops the script with the fix.
localstack_python() {
    if [ -n "${LOCALSTACK_PYTHON:-}" ]; then
        if is_python313 "$LOCALSTACK_PYTHON"; then
            echo "$LOCALSTACK_PYTHON"
            return
        fi
        echo "LOCALSTACK_PYTHON=$LOCALSTACK_PYTHON does not run as Python 3.13, which localstack-core $localstack_version needs: point it at a Python 3.13 interpreter, or set PEERS=moto to leave LocalStack out" >&2
        exit 1
    fi
    if is_python313 python3.13; then
        echo python3.13
        return
    fi
    # A pyenv shim named python3.13 fails unless 3.13 is the active
    # version, so look for pyenv's installed interpreters directly.
    local candidate
    if command -v pyenv > /dev/null; then
        for candidate in $(ls -d "$(pyenv root)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -V -r); do
            if is_python313 "$candidate"; then
                echo "$candidate"
                return
            fi
        done
    fi
    echo "localstack-core $localstack_version needs Python 3.13, and none was found: set LOCALSTACK_PYTHON to a Python 3.13 interpreter, or PEERS=moto to leave LocalStack out" >&2
    exit 1
}

# install_peer NAME: installs a peer's virtualenv under the work folder
# unless one is given, and prints its path.
install_peer() {
    local venv
    case "$1" in
        moto)
            venv="${MOTO_VENV:-}"
            if [ -z "$venv" ]; then
                venv="$work/moto-venv"
                python3 -m venv "$venv"
                "$venv/bin/pip" install --quiet --disable-pip-version-check \
                    "moto[server]==$moto_version" >&2
            fi
            ;;
        localstack)
            venv="${LOCALSTACK_VENV:-}"
            if [ -z "$venv" ]; then
                venv="$work/localstack-venv"
                "$localstack_python" -m venv "$venv"
                "$venv/bin/pip" install --quiet --disable-pip-version-check \
                    "localstack-core[runtime]==$localstack_version" "${localstack_pins[@]}" >&2
            fi
            ;;
    esac
    echo "$venv"
}

# peer_command NAME VENV: the command line that starts a peer on its
# address, with LocalStack limited to IAM and STS and kept off the network.
peer_command() {
    local host=${addr[$1]%:*} port=${addr[$1]##*:}
    case "$1" in
        moto) echo "$2/bin/moto_server -H $host -p $port" ;;
        localstack)
            mkdir -p "$work/localstack-volume"
            echo "env GATEWAY_LISTEN=$host:$port SERVICES=iam,sts DISABLE_EVENTS=1" \
                "SKIP_SSL_CERT_DOWNLOAD=1 LOCALSTACK_VOLUME_DIR=$work/localstack-volume" \
                "$2/bin/python -m localstack.runtime.main"
            ;;
    esac
}

# Check every peer before installing any, so a bad setting fails at once.
for peer in $peers; do
    case "$peer" in
        moto) ;;
        localstack)
            if [ -z "${LOCALSTACK_VENV:-}" ]; then localstack_python=$(localstack_python); fi
            ;;
        *)
            echo "unknown peer $peer in PEERS: the script supports moto and localstack" >&2
            exit 1
            ;;
    esac
done

build_release
declare -A command
for peer in $peers; do
    venv=$(install_peer "$peer")
    command[$peer]=$(peer_command "$peer" "$venv")
done

echo "# start-up: spawn to first answered IAM request, 5 runs each"
"$load" startup --target "${addr[harness]}" --runs 5 -- \
    "$harness" serve --listen "${addr[harness]}" --cluster "bench@us-east-1/$cluster_id" |
    sed 's/^{/{"label":"harness",/'
for peer in $peers; do
    # shellcheck disable=SC2086 # the command is a word list by design
    "$load" startup --target "${addr[$peer]}" --runs 5 -- ${command[$peer]} |
        sed "s/^{/{\"label\":\"$peer\",/"
done

start_harness "${addr[harness]}"
pid[harness]=$harness_pid
for peer in $peers; do
    log="$work/$peer.log"
    # shellcheck disable=SC2086
    ${command[$peer]} > "$log" 2>&1 &
    pid[$peer]=$!
    started_pids+=("${pid[$peer]}")
    if ! wait_for "${addr[$peer]}"; then
        echo "$peer did not start; the end of its output:" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
done

servers=(harness $peers)
for server in "${servers[@]}"; do
    "$load" setup --target "${addr[$server]}" --issuer "$issuer" > /dev/null
done
# The peers never check the token, so the harness's token serves all.
token=$(bench_token "${addr[harness]}")

results=$(mktemp)
for round in $(seq "$rounds"); do
    # Rotate which server goes first, so drift in the machine's load falls
    # on every server alike.
    shift_by=$(((round - 1) % ${#servers[@]}))
    order=("${servers[@]:shift_by}" "${servers[@]:0:shift_by}")
    for call in sts-valid sts-invalid list-providers; do
        for c in 1 32; do
            for server in "${order[@]}"; do
                "$load" run --target "${addr[$server]}" --call "$call" --concurrency "$c" \
                    --seconds "$seconds" --token "$token" --pid "${pid[$server]}" \
                    --label "$server" | tee -a "$results"
            done
        done
    done
done

echo "# medians over $rounds rounds; ratio = harness / peer (for latency and CPU, peer / harness)"
for peer in $peers; do
    jq -rs --arg peer "$peer" '
      def median: sort | if length == 0 then null else .[(length / 2 | floor)] end;
      def fig($rows; $f): [$rows[] | .[$f] | select(. != null)] | median;
      def ratio($a; $b): if $a == null or $b == null or $b == 0 then "-" else (($a / $b) * 10 | round / 10 | tostring) + "x" end;
      group_by([.call, .concurrency]) | .[] |
      (map(select(.label == "harness"))) as $h | (map(select(.label == $peer))) as $p |
      "\(.[0].call) c=\(.[0].concurrency) harness vs \($peer): " +
      "rps \(fig($h; "rps")) vs \(fig($p; "rps")) (\(ratio(fig($h; "rps"); fig($p; "rps")))), " +
      "p50 \(fig($h; "p50_us")) vs \(fig($p; "p50_us")) us, p99 \(fig($h; "p99_us")) vs \(fig($p; "p99_us")) us (\(ratio(fig($p; "p99_us"); fig($h; "p99_us")))), " +
      "cpu/req \(fig($h; "cpu_us_per_request")) vs \(fig($p; "cpu_us_per_request")) us (\(ratio(fig($p; "cpu_us_per_request"); fig($h; "cpu_us_per_request")))), " +
      "peak RSS \(fig($h; "peak_rss_kb")) vs \(fig($p; "peak_rss_kb")) kB, statuses \($h[0].statuses) vs \($p[0].statuses)"
    ' "$results"
done
rm -f "$results"
