//! The report's wording, section by section, as the template file (`templates/`) gives it:
//! headings, introductions and the text shown when a section has nothing to list.

use super::CoverText;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Section {
    pub heading: String,
    pub intro: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SectionNone {
    pub heading: String,
    pub intro: String,
    pub none: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FindingsText {
    pub heading: String,
    pub intro: String,
    pub all_intro: String,
    pub unclassified_intro: String,
    pub info_counts: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WaiversText {
    pub heading: String,
    pub intro: String,
    pub none: String,
    pub unavailable: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Signoff {
    pub heading: String,
    pub text: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Template {
    pub cover: CoverText,
    pub summary: Section,
    pub evidence: Section,
    pub signatures: SectionNone,
    pub checks: SectionNone,
    pub findings: FindingsText,
    pub waivers: WaiversText,
    pub stig: SectionNone,
    pub signoff: Signoff,
}
