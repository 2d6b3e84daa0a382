//! Printing scenario results: a text report with each step's decision
//! trace, JSON Lines (one object per scenario), and JUnit XML (one testcase
//! per step).

use std::fmt::Write as _;

/// Escapes text for XML and replaces the characters XML 1.0 cannot hold
/// (most control characters) with U+FFFD, so any scenario name gives a
/// well-formed report.
fn escape(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect();
    quick_xml::escape::escape(&cleaned).into_owned()
}

use super::run::{ScenarioReport, StepReport};
use crate::sts::Decision;

/// Terminal colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn ok(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }
    fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

/// The text report of one scenario.
pub fn human(report: &ScenarioReport, style: Style) -> String {
    human_with(report, style, false)
}

/// The text report of one scenario; with `explain`, each STS step's trace
/// is drawn as the diagram of the trust flow.
pub fn human_with(report: &ScenarioReport, style: Style, explain: bool) -> String {
    let mut out = String::new();
    let verdict = if report.passed {
        style.ok("PASS")
    } else {
        style.bad("FAIL")
    };
    let _ = writeln!(out, "{verdict} {} ({})", report.name, report.path);
    for step in &report.steps {
        human_step(&mut out, step, style, explain);
    }
    out
}

fn human_step(out: &mut String, step: &StepReport, style: Style, explain: bool) {
    let mark = if step.passed {
        style.ok("✓")
    } else {
        style.bad("✗")
    };
    let phase = if step.phase == "setup" {
        " (setup)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  {mark} {}{phase}  {}",
        step.name,
        style.dim(&step.actual.summary())
    );
    match &step.decision {
        Some(decision) if explain => {
            let drawing = crate::teach::terminal::Drawing { rich: style.color };
            out.push_str(&crate::teach::terminal::diagram(
                decision, drawing, "      ",
            ));
        }
        Some(decision) => human_trace(out, decision, style),
        None => {}
    }
    if !step.passed {
        let _ = writeln!(out, "      expected: {}", step.expected);
        let _ = writeln!(out, "      actual:   {}", step.actual.summary());
        for mismatch in &step.mismatches {
            let _ = writeln!(out, "      {} {mismatch}", style.bad("≠"));
        }
        let _ = writeln!(out, "      at line {}", step.line);
    }
}

fn human_trace(out: &mut String, decision: &Decision, style: Style) {
    for entry in &decision.trace {
        let mark = if entry.passed {
            style.ok("✓")
        } else {
            style.bad("✗")
        };
        let _ = writeln!(
            out,
            "      {mark} {:<12} {}",
            entry.check.name(),
            entry.summary
        );
        if !entry.passed {
            for value in &entry.compared {
                let _ = writeln!(out, "        {:<18} {}", value.name, value.value);
            }
            if let Some(hint) = &entry.hint {
                let _ = writeln!(out, "        fix: {hint}");
            }
        }
    }
    if let Some(policy) = &decision.policy
        && !policy.allowed()
    {
        for line in crate::policy::render_human(policy).lines() {
            let _ = writeln!(out, "        {line}");
        }
    }
}

/// The summary line printed after all reports.
pub fn summary(reports: &[ScenarioReport]) -> String {
    let steps: usize = reports.iter().map(|r| r.steps.len()).sum();
    let failed_steps: usize = reports
        .iter()
        .map(|r| r.steps.iter().filter(|s| !s.passed).count())
        .sum();
    let failed = reports.iter().filter(|r| !r.passed).count();
    format!(
        "{} scenarios, {steps} steps: {} passed, {failed} failed ({failed_steps} failing steps)",
        reports.len(),
        reports.len() - failed
    )
}

/// One JSON object for a scenario.
pub fn json(report: &ScenarioReport) -> String {
    serde_json::to_string(report).unwrap_or_default()
}

/// A file that could not be loaded, for the reports.
pub struct InvalidFile {
    pub path: String,
    pub message: String,
}

/// One JSON object for a file that could not be loaded.
pub fn json_invalid(file: &InvalidFile) -> String {
    serde_json::json!({"path": file.path, "passed": false, "error": file.message}).to_string()
}

/// A JUnit XML document with one testsuite per scenario and one testcase
/// per step, and one testsuite with an `error` per file that could not be
/// loaded, so a CI system reading only the XML sees it.
pub fn junit(reports: &[ScenarioReport], invalid: &[InvalidFile]) -> String {
    let tests: usize = reports.iter().map(|r| r.steps.len()).sum::<usize>() + invalid.len();
    let failures: usize = reports
        .iter()
        .map(|r| r.steps.iter().filter(|s| !s.passed).count())
        .sum();
    let errors = invalid.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"oidc-sts-harness\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for file in invalid {
        let (path, message) = (escape(&file.path), escape(&file.message));
        let _ = writeln!(
            out,
            "  <testsuite name=\"{path}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" file=\"{path}\">"
        );
        let _ = writeln!(
            out,
            "    <testcase name=\"load\" classname=\"{path}\" file=\"{path}\">"
        );
        let _ = writeln!(
            out,
            "      <error message=\"{message}\" type=\"invalid-scenario\">{message}</error>"
        );
        out.push_str("    </testcase>\n  </testsuite>\n");
    }
    for report in reports {
        let failed = report.steps.iter().filter(|s| !s.passed).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" file=\"{}\">",
            escape(&report.name),
            report.steps.len(),
            escape(&report.path)
        );
        for step in &report.steps {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                escape(&step.name),
                escape(&report.name),
                escape(&report.path),
                step.line
            );
            if step.passed {
                out.push_str("/>\n");
            } else {
                let detail = format!(
                    "expected: {}\nactual:   {}\n{}",
                    step.expected,
                    step.actual.summary(),
                    step.mismatches.join("\n")
                );
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                    escape(
                        step.mismatches
                            .first()
                            .map(String::as_str)
                            .unwrap_or("expectation failed")
                    ),
                    escape(&detail)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
