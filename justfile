# Recipes for the common commands. Each runs exactly what CI or the README
# runs; the README's commands work without just.

# Run the scenario library (the main job).
scenarios:
    cargo run -p oidc-sts-harness -- run scenarios/

# Run the Rust test suite.
test:
    cargo test --workspace

# Run everything CI runs.
ci:
    bash .ci/run

# Run the conformance suites against a debug build: needs `aws` (CLI v1) and
# boto3 for `python3`, `node` and `npm`; the JavaScript SDK goes to a temporary folder.
conformance:
    cargo build -p oidc-sts-harness
    bash conformance/aws-cli.sh target/debug/oidc-sts-harness
    bash conformance/exec.sh target/debug/oidc-sts-harness
    python3 conformance/boto3_exec.py target/debug/oidc-sts-harness
    dir="$(mktemp -d)" && bash conformance/js/install.sh "$dir" && JS_SDK_DIR="$dir" node conformance/js/exec.mjs target/debug/oidc-sts-harness

# Serve one cluster on the default port.
serve:
    cargo run -p oidc-sts-harness -- serve --cluster demo

# Format and lint.
lint:
    cargo fmt --all
    cargo clippy --workspace --all-targets -- -D warnings

# Fuzz every target for SECONDS each (CI runs 60); needs cargo-fuzz, which
# the script installs when it is missing.
fuzz seconds="60":
    bash fuzz/run.sh {{seconds}}

# Micro-benchmarks of a request's parts, beside the raw crypto (criterion).
bench:
    cargo bench -p oidc-sts-harness --bench request

# Load benchmark of a release build on loopback: throughput, latency,
# server CPU per request, memory, start-up and scale.
bench-load seconds="5":
    bash bench/load.sh {{seconds}}

# The harness beside moto server and LocalStack (which needs python3.13):
# same calls, same token, runs in rotating order. PEERS=moto leaves
# LocalStack out.
bench-peers seconds="5" rounds="3":
    bash bench/peers.sh {{seconds}} {{rounds}}
