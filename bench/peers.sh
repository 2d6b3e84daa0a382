#!/usr/bin/env bash
# The harness beside peer emulators: the same load generator, the same
# token, the same provider and role on every server, and runs that rotate
# which server goes first, all on loopback.
#
#   bench/peers.sh [SECONDS] [ROUNDS]    (default 5 s a run, 3 rounds)
#
# PEERS names the peers to run (default "moto localstack"):
#   moto        moto server from PyPI, in a throwaway virtualenv
#               (MOTO_VENV reuses an existing one);
#   localstack  localstack-core without Docker, which needs Python 3.13
#               (LOCALSTACK_PYTHON, default python3.13; LOCALSTACK_VENV
#               reuses an existing virtualenv).
# Prints every run as a JSON line, start-up times, then the median of each
# figure per server and the ratio of the harness to each peer.
set -euo pipefail
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

declare -A addr pid
addr[harness]=127.0.0.1:17462
addr[moto]=127.0.0.1:17463
addr[localstack]=127.0.0.1:17464

# install_peer NAME: installs a peer's virtualenv unless one is given, and
# prints its path.
install_peer() {
    local venv
    case "$1" in
        moto)
            venv="${MOTO_VENV:-}"
            if [ -z "$venv" ]; then
                venv="$(mktemp -d)/venv"
                python3 -m venv "$venv"
                "$venv/bin/pip" install --quiet --disable-pip-version-check \
                    "moto[server]==$moto_version" >&2
            fi
            ;;
        localstack)
            venv="${LOCALSTACK_VENV:-}"
            if [ -z "$venv" ]; then
                local python="${LOCALSTACK_PYTHON:-python3.13}"
                if ! command -v "$python" > /dev/null; then
                    echo "localstack-core needs Python 3.13, and $python was not found: set LOCALSTACK_PYTHON to a Python 3.13 interpreter, or PEERS=moto to leave LocalStack out" >&2
                    exit 1
                fi
                venv="$(mktemp -d)/venv"
                "$python" -m venv "$venv"
                "$venv/bin/pip" install --quiet --disable-pip-version-check \
                    "localstack-core[runtime]==$localstack_version" "${localstack_pins[@]}" >&2
            fi
            ;;
        *)
            echo "unknown peer $1 in PEERS: the script supports moto and localstack" >&2
            exit 1
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
            echo "env GATEWAY_LISTEN=$host:$port SERVICES=iam,sts DISABLE_EVENTS=1" \
                "SKIP_SSL_CERT_DOWNLOAD=1 LOCALSTACK_VOLUME_DIR=$(mktemp -d)" \
                "$2/bin/python -m localstack.runtime.main"
            ;;
    esac
}

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
    # shellcheck disable=SC2086
    ${command[$peer]} > /dev/null 2>&1 &
    pid[$peer]=$!
    started_pids+=("${pid[$peer]}")
    wait_for "${addr[$peer]}"
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
