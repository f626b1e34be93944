//! One finding's judgement as the judging pass hands it out: borrowed from the row being
//! read, with the reason as the facts that decide it (written out only when shown), so a
//! million findings are judged without a string per finding. Also the capped, ordered
//! evidence lists the pass collects for the cross-checks.

use super::findings::{FindingJudgement, VexTag, WaiverTag};
use crate::analysis::checks::MAX_EVIDENCE;
use crate::analysis::gate::{self, GateClass, GateFacts};
use crate::analysis::policy::Policy;
use crate::model::Severity;
use crate::store::str_array::StrArray;
use std::fmt;

/// What a waiver added to a finding's reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaiverNote<'a> {
    None,
    /// A valid waiver matched a BLOCK finding under a policy that does not let it dispose.
    BlockNotWaivable,
    /// The best matching waiver does not apply: its id and standing.
    NotApplying {
        id: &'a str,
        standing: &'static str,
    },
}

/// A finding's gate reason, kept as what decides it; `Display` writes the text the CLI,
/// TUI and exports show (the same text `gate::classify` gives, plus the waiver notes).
#[derive(Clone, Copy)]
pub struct ReasonView<'a> {
    pub facts: GateFacts<'a>,
    pub policy: &'a Policy,
    pub waiver: WaiverNote<'a>,
    /// The reviewer recorded `waived` but no valid waiver applies at the date.
    pub recorded_waived_invalid: bool,
}

impl fmt::Display for ReasonView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        gate::decide(&self.facts, self.policy, Some(f))?;
        match self.waiver {
            WaiverNote::None => {}
            WaiverNote::BlockNotWaivable => f.write_str(
                "; a valid waiver exists but this policy does not let waivers dispose of BLOCK findings",
            )?,
            WaiverNote::NotApplying { id, standing } => {
                write!(f, "; waiver {id} does not apply ({standing})")?
            }
        }
        if self.recorded_waived_invalid {
            f.write_str("; recorded as waived, but no valid waiver applies at this date")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ReasonView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// One finding's judgement, borrowed for the duration of the sink call.
#[derive(Debug, Clone)]
pub struct FindingView<'a> {
    pub finding_id: i64,
    pub id: &'a str,
    pub aliases: &'a StrArray<'a>,
    pub component: &'a str,
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub severity: Severity,
    pub gate: GateClass,
    pub reason: ReasonView<'a>,
    /// waived | not_affected | the reviewer's recorded state; `None` = undecided.
    pub disposition: Option<&'static str>,
    /// Only findings a waiver or VEX statement matched carry these (few).
    pub waiver: Option<WaiverTag>,
    pub vex: Option<VexTag>,
    pub epss: Option<f64>,
    pub kev: bool,
}

impl FindingView<'_> {
    /// The owned judgement, reason written out.
    pub fn to_judgement(&self) -> FindingJudgement {
        FindingJudgement {
            finding_id: self.finding_id,
            id: self.id.to_string(),
            aliases: self.aliases.to_vec(),
            component: self.component.to_string(),
            name: self.name.to_string(),
            version: self.version.map(str::to_string),
            severity: self.severity,
            gate: self.gate,
            reason: self.reason.to_string(),
            disposition: self.disposition.map(str::to_string),
            waiver: self.waiver.clone(),
            vex: self.vex.clone(),
            epss: self.epss,
            kev: self.kev,
        }
    }
}

/// Severity order (highest first), then id, then row id: how every list is presented.
pub(super) type Key = (std::cmp::Reverse<Severity>, String, i64);

/// The first `MAX_EVIDENCE` items of a list in severity order, and how many there were:
/// a diagnostic shows no more, so the pass neither formats nor sorts the rest (a million
/// single-scanner findings would otherwise be a million strings).
#[derive(Debug, Default)]
pub(super) struct TopN {
    items: Vec<(Key, String)>,
    pub total: usize,
}

impl TopN {
    pub fn offer(
        &mut self,
        severity: Severity,
        vuln: &str,
        id: i64,
        text: impl FnOnce() -> String,
    ) {
        self.total += 1;
        let rank = std::cmp::Reverse(severity);
        let before = |k: &Key| (rank, vuln, id) < (k.0, k.1.as_str(), k.2);
        if self.items.len() >= MAX_EVIDENCE && !self.items.last().is_some_and(|(k, _)| before(k)) {
            return;
        }
        let at = self.items.partition_point(|(k, _)| !before(k));
        self.items
            .insert(at, ((rank, vuln.to_string(), id), text()));
        self.items.truncate(MAX_EVIDENCE);
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn into_items(self) -> Vec<String> {
        self.items.into_iter().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_n_keeps_the_first_in_severity_order_and_counts_all() {
        let mut t = TopN::default();
        let mut all: Vec<(Key, String)> = Vec::new();
        // 100 items in a scrambled order over every severity.
        for i in 0..100i64 {
            let j = (i * 37) % 100;
            let sev = Severity::ALL[(j % 6) as usize];
            let vuln = format!("CVE-{:04}", j % 13);
            let text = format!("{vuln}#{j}");
            all.push(((std::cmp::Reverse(sev), vuln.clone(), j), text.clone()));
            t.offer(sev, &vuln, j, || text);
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let want: Vec<String> = all.into_iter().take(MAX_EVIDENCE).map(|x| x.1).collect();
        assert_eq!(t.total, 100);
        assert_eq!(t.into_items(), want);
    }

    #[test]
    fn top_n_under_the_cap_keeps_everything() {
        let mut t = TopN::default();
        t.offer(Severity::Low, "B", 2, || "b".into());
        t.offer(Severity::Critical, "Z", 9, || "z".into());
        t.offer(Severity::Low, "A", 3, || "a".into());
        assert_eq!(t.total, 3);
        assert_eq!(t.into_items(), vec!["z", "a", "b"]);
    }
}
