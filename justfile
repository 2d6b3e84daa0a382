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

# Run the AWS CLI conformance suite against a debug build (needs `aws` on PATH).
conformance:
    cargo build -p oidc-sts-harness
    bash conformance/aws-cli.sh target/debug/oidc-sts-harness

# Serve one cluster on the default port.
serve:
    cargo run -p oidc-sts-harness -- serve --cluster demo

# Format and lint.
lint:
    cargo fmt --all
    cargo clippy --workspace --all-targets -- -D warnings

# Micro-benchmarks of a request's parts, beside the raw crypto (criterion).
bench:
    cargo bench -p oidc-sts-harness --bench request

# Load benchmark of a release build on loopback: throughput, latency,
# server CPU per request, memory, start-up and scale.
bench-load:
    bash bench/load.sh

# The harness beside moto server: same calls, same token, alternating runs.
bench-peers:
    bash bench/peers.sh
