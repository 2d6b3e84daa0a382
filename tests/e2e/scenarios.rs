//! The scenario library: every file under `scenarios/` loads, every step
//! meets its expectation, and the text and JSON reports match their
//! snapshots.

use std::path::{Path, PathBuf};

use oidc_sts_harness::scenario::report::{self, Style};
use oidc_sts_harness::scenario::run::run_all;
use oidc_sts_harness::scenario::{Scenario, ScenarioReport, load_str};

/// The library, relative to this crate's directory (the tests' working
/// directory).
const LIBRARY: &str = "../scenarios";

/// Adds every *.yaml and *.yml file under `dir`, in sorted order.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files);
        } else if entry
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            files.push(entry);
        }
    }
}

/// Loads the library with paths written as `scenarios/…`, so reports and
/// snapshots do not depend on the working directory.
fn load_library() -> Vec<Scenario> {
    let mut files = Vec::new();
    collect(Path::new(LIBRARY), &mut files);
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
            let relative = file
                .strip_prefix("..")
                .expect("library files are under ../scenarios");
            load_str(relative, &text).unwrap_or_else(|error| panic!("{error}"))
        })
        .collect()
}

fn human_report(reports: &[ScenarioReport]) -> String {
    reports
        .iter()
        .map(|one| report::human(one, Style { color: false }))
        .collect()
}

#[test]
fn library_passes_and_matches_snapshots() {
    let scenarios = load_library();
    assert!(
        !scenarios.is_empty(),
        "no scenario files found under {LIBRARY}"
    );
    let reports = run_all(&scenarios);
    assert_eq!(reports.len(), scenarios.len(), "one report per scenario");

    let failed: Vec<&ScenarioReport> = reports.iter().filter(|r| !r.passed).collect();
    let failures: String = failed
        .iter()
        .map(|one| report::human(one, Style { color: false }))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed:\n{failures}",
        failed.len(),
        reports.len()
    );

    insta::assert_snapshot!("library_human", human_report(&reports));
    let json: Vec<String> = reports.iter().map(report::json).collect();
    insta::assert_snapshot!("library_json", json.join("\n"));
}

#[test]
fn library_paths_are_relative() {
    for scenario in load_library() {
        let path = scenario.path.display().to_string();
        assert!(
            path.starts_with("scenarios/"),
            "scenario {:?} has path {path}",
            scenario.name
        );
    }
}
