//! Diagnostics about the VEX statements and waivers themselves, once every finding is
//! judged: statements that matched nothing or do not count, and waivers that are expired,
//! unsigned, untrusted, self-approved, unused or about to expire.

use super::inputs::Gathered;
use crate::analysis::checks::Diagnostic;
use crate::analysis::policy::Policy;
use crate::analysis::waiver_eval::Standing;
use chrono::NaiveDate;
use std::collections::HashMap;

pub(super) fn vex_diagnostics(g: &Gathered, used: &[bool], p: &Policy, d: &mut Vec<Diagnostic>) {
    let unmatched: Vec<String> = g
        .vex
        .iter()
        .zip(used)
        .filter(|(_, u)| !**u)
        .map(|(s, _)| {
            format!(
                "{}: {} {} ({})",
                s.file,
                s.vulnerability,
                s.status,
                if s.purls.is_empty() {
                    s.digests.join(", ")
                } else {
                    s.purls.join(", ")
                }
            )
        })
        .collect();
    if !unmatched.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "vex",
            "vex-statement-unmatched",
            format!(
                "{} VEX statement(s) match no finding of this set",
                unmatched.len()
            ),
            unmatched,
        ));
    }
    let unjustified: Vec<String> = g
        .vex
        .iter()
        .filter(|s| s.status == "not_affected" && !s.justified_not_affected())
        .map(|s| format!("{}: {}", s.file, s.vulnerability))
        .collect();
    if !unjustified.is_empty() {
        d.push(Diagnostic::problem(
            p,
            "vex",
            "vex-not-affected-unjustified",
            format!(
                "{} not_affected VEX statement(s) carry no justification and do not count",
                unjustified.len()
            ),
            unjustified,
        ));
    }
}

pub(super) fn waiver_diagnostics(
    g: &Gathered,
    standing: &[Standing],
    in_scope: &[bool],
    used: &[bool],
    as_of: NaiveDate,
    p: &Policy,
    d: &mut Vec<Diagnostic>,
) {
    let mut by: HashMap<&'static str, Vec<String>> = HashMap::new();
    for (i, w) in g.waivers.iter().enumerate() {
        if !in_scope[i] {
            continue;
        }
        let code = match &standing[i] {
            Standing::Expired => "waiver-expired",
            Standing::Unsigned => "waiver-unsigned",
            Standing::Untrusted => "waiver-untrusted",
            Standing::BadSignature => "waiver-bad-signature",
            Standing::SelfApproved => "waiver-self-approved",
            Standing::Valid => {
                if !used[i] {
                    by.entry("waiver-unused").or_default().push(w.describe());
                }
                match w.expires {
                    Some(e) if (e - as_of).num_days() <= i64::from(p.expiry_warning_days) => {
                        "waiver-expiring-soon"
                    }
                    _ => continue,
                }
            }
        };
        by.entry(code).or_default().push(w.describe());
    }
    let text = |code: &str| match code {
        "waiver-expired" => "waiver(s) expired at the evaluation date and no longer apply",
        "waiver-unsigned" => {
            "unsigned waiver(s) (imported ignore rules or unsigned documents) never apply"
        }
        "waiver-untrusted" => {
            "waiver(s) signed by a key that is not a trusted approver do not apply"
        }
        "waiver-bad-signature" => "waiver(s) whose signature does not verify do not apply",
        "waiver-self-approved" => {
            "waiver(s) approved by their own requester do not count under this policy"
        }
        "waiver-unused" => "valid waiver(s) match no finding of this set",
        _ => "waiver(s) expire within the warning window",
    };
    let mut codes: Vec<&&'static str> = by.keys().collect();
    codes.sort();
    for code in codes {
        let ev = by[*code].clone();
        let msg = if **code == *"waiver-expiring-soon" {
            format!(
                "{} {} ({} days from {as_of})",
                ev.len(),
                text(code),
                p.expiry_warning_days
            )
        } else {
            format!("{} {}", ev.len(), text(code))
        };
        d.push(Diagnostic::problem(p, "waivers", code, msg, ev));
    }
}
