//! The JSON Schema of scenario files, generated from the [`super::file`]
//! types so that it cannot drift from what the loader accepts.
//!
//! `docs/scenario.schema.json` is the committed copy for editors. The test
//! below fails when the copy differs from the generated schema. Run it with
//! `UPDATE_SCHEMA=1` to rewrite the copy.

/// Generates the JSON Schema of a scenario file, pretty-printed, with a
/// trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(super::file::ScenarioFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::json_schema;

    #[test]
    fn committed_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario.schema.json");
        let generated = json_schema();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).expect("docs/scenario.schema.json is writable");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/scenario.schema.json differs from the schema of the scenario file types; \
             run `UPDATE_SCHEMA=1 cargo test -p oidc-sts-harness committed_schema_is_current` \
             and commit the file"
        );
    }
}
