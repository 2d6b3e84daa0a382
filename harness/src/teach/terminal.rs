//! The trust flow as a small diagram in the terminal, for `run --explain`:
//! the pipeline's checks from top to bottom, each passed, failed or not
//! reached, with the values the failing check compared and its fix.
//!
//! On a terminal it draws with box characters and colour; into a pipe or
//! file, or with `NO_COLOR` set, it falls back to plain ASCII so logs and
//! snapshots stay readable anywhere.

use std::fmt::Write as _;

use crate::sts::{Check, Decision, Outcome};

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Drawing {
    /// Box characters, check marks and ANSI colour; plain ASCII otherwise.
    pub rich: bool,
}

struct Glyphs {
    top: &'static str,
    mid: &'static str,
    last: &'static str,
    rail: &'static str,
    gap: &'static str,
    pass: &'static str,
    fail: &'static str,
    skip: &'static str,
    arrow: &'static str,
}

const RICH: Glyphs = Glyphs {
    top: "┌─",
    mid: "├─",
    last: "└─",
    rail: "│ ",
    gap: "  ",
    pass: "✓",
    fail: "✗",
    skip: "·",
    arrow: "→",
};

const ASCII: Glyphs = Glyphs {
    top: "+-",
    mid: "+-",
    last: "`-",
    rail: "| ",
    gap: "  ",
    pass: "ok",
    fail: "XX",
    skip: "--",
    arrow: "->",
};

impl Drawing {
    fn glyphs(self) -> &'static Glyphs {
        if self.rich { &RICH } else { &ASCII }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.rich {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Draws one decision, each line starting with `indent`.
pub fn diagram(decision: &Decision, drawing: Drawing, indent: &str) -> String {
    let g = drawing.glyphs();
    let mut out = String::new();
    let role = decision.role_arn.as_deref().unwrap_or("(no role ARN)");
    let _ = writeln!(out, "{indent}token {} {role}", g.arrow);
    let last = Check::ALL.len() - 1;
    for (position, check) in Check::ALL.into_iter().enumerate() {
        let branch = match position {
            0 => g.top,
            p if p == last => g.last,
            _ => g.mid,
        };
        // The rail continues below every check but the last.
        let rail = if position == last { g.gap } else { g.rail };
        let entry = decision.trace.iter().find(|e| e.check == check);
        match entry {
            Some(entry) if entry.passed => {
                let mark = drawing.paint("32", g.pass);
                let _ = writeln!(
                    out,
                    "{indent}{branch} {mark} {:<12} {}",
                    check.name(),
                    entry.summary
                );
            }
            Some(entry) => {
                let mark = drawing.paint("1;31", g.fail);
                let name = drawing.paint("1;31", &format!("{:<12}", check.name()));
                let _ = writeln!(out, "{indent}{branch} {mark} {name} {}", entry.summary);
                for value in &entry.compared {
                    let _ = writeln!(out, "{indent}{rail}     {:<20} {}", value.name, value.value);
                }
                if let Some(hint) = &entry.hint {
                    let fix = drawing.paint("1", "fix:");
                    let _ = writeln!(out, "{indent}{rail}     {fix} {hint}");
                }
                if check == Check::TrustPolicy
                    && let Some(policy) = &decision.policy
                {
                    for line in crate::policy::render_human(policy).lines() {
                        let _ = writeln!(out, "{indent}{rail}       {line}");
                    }
                }
            }
            None => {
                let mark = drawing.paint("2", g.skip);
                let name = drawing.paint("2", check.name());
                let _ = writeln!(out, "{indent}{branch} {mark} {name}");
            }
        }
    }
    let outcome = match &decision.outcome {
        Outcome::Allowed {
            assumed_role_arn, ..
        } => drawing.paint("32", &format!("credentials for {assumed_role_arn}")),
        Outcome::Error {
            code,
            status,
            message,
        } => drawing.paint("31", &format!("{code} ({status}): {message}")),
    };
    let _ = writeln!(out, "{indent}{}  {} {outcome}", g.gap, g.arrow);
    out
}
