//! Decisions and rule data as text for people at a terminal (bokmål).

use std::fmt::Write as _;

use decide::{Decision, Step};
use domain::Date;
use ruleset::RuleSet;

/// A decision as a short report.
pub fn decision(d: &Decision) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Betaler:     {}", d.payer.describe());
    let _ = writeln!(s, "Ordning:     {}", d.scheme.describe());
    let _ = writeln!(s, "Resept:      {}", d.prescription.describe());
    let _ = writeln!(s, "Egenandel:   {}", if d.copayment { "ja" } else { "nei" });
    if !d.actions.is_empty() {
        let _ = writeln!(s, "\nMå gjøres først:");
        for a in &d.actions {
            let who = a
                .applicant
                .map(|ap| format!(" (søker: {})", ap.describe()))
                .unwrap_or_default();
            let _ = writeln!(s, "  • {}{who}", a.kind.describe());
        }
    }
    if !d.blockers.is_empty() {
        let _ = writeln!(s, "\nHindrer:");
        for b in &d.blockers {
            let _ = writeln!(s, "  • {}", b.message);
        }
    }
    steps(&mut s, &d.explanation);
    let _ = writeln!(s, "\nHjemler:     {}", d.citations.join("\n             "));
    let _ = writeln!(s, "Regeldata:   {}", d.rule_set);
    s
}

fn steps(s: &mut String, steps: &[Step]) {
    let _ = writeln!(s, "\nBegrunnelse (reglene i rekkefølge):");
    for step in steps {
        let mark = if step.applied { "✓" } else { "·" };
        let _ = writeln!(s, "  {mark} {:<9} {}", step.rule.code(), step.text);
    }
}

/// The rule data in force on a date, with sources.
pub fn rules(rules: &RuleSet, date: Date) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Regeldata i kraft {date}: {}\n", rules.label(date));
    let in_force = rules.in_force(date);
    if in_force.is_empty() {
        let _ = writeln!(s, "Ingen regeldata er i kraft på denne datoen.");
    }
    for r in in_force {
        let period = r.period.map(|p| format!(", {p}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "[{}] {} — {}",
            r.source.rule.code(),
            r.source.title,
            r.source.basis
        );
        let _ = writeln!(s, "    kilde: {}", r.source.source);
        let _ = writeln!(s, "    fil:   {}{period}", r.source.file);
        if let Some(note) = &r.source.note {
            let _ = writeln!(s, "    merknad: {note}");
        }
        let width = r
            .lines
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (label, value) in &r.lines {
            let pad = width - label.chars().count();
            let _ = writeln!(s, "    {label}{}  {value}", " ".repeat(pad));
        }
        s.push('\n');
    }
    s
}
