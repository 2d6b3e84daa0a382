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

# Fuzz every target for SECONDS each (CI runs 60); needs cargo-fuzz, which
# the script installs when it is missing.
fuzz seconds="60":
    bash fuzz/run.sh {{seconds}}
