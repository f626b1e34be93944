//! Export: one package model built once from the store, rendered as JSON, PDF, VEX and POA&M.
//! Writers here are pure (model in, bytes out); `workflow::export` builds the model, writes
//! files atomically and records the export in the audit log.

pub mod bundle;
pub mod cyclonedx_vex;
pub mod json;
pub mod model;
pub mod openvex;
pub mod pdf;
pub mod poam;
pub mod poam_xlsx;
pub mod sign;
#[cfg(test)]
pub(crate) mod testdata;
#[cfg(test)]
mod vex_tests;

pub use model::Package;

/// The output formats `dossier export --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExportFormat {
    Json,
    Pdf,
    OpenVex,
    CycloneDxVex,
    PoamCsv,
    PoamXlsx,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 6] = [
        Self::Json,
        Self::Pdf,
        Self::OpenVex,
        Self::CycloneDxVex,
        Self::PoamCsv,
        Self::PoamXlsx,
    ];

    /// Parses one `--format` word; `all` is handled by `parse_list`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "pdf" => Some(Self::Pdf),
            "openvex" => Some(Self::OpenVex),
            "cyclonedx-vex" | "cdx-vex" => Some(Self::CycloneDxVex),
            "poam-csv" | "poam" => Some(Self::PoamCsv),
            "poam-xlsx" => Some(Self::PoamXlsx),
            _ => None,
        }
    }

    /// `json,pdf` or `all`; an unknown word is an error naming it.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, String> {
        let mut out = Vec::new();
        for w in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if w.eq_ignore_ascii_case("all") {
                out.extend(Self::ALL);
            } else {
                out.push(Self::parse(w).ok_or_else(|| {
                    format!("unknown export format '{w}' (json, pdf, openvex, cyclonedx-vex, poam-csv, poam-xlsx, all)")
                })?);
            }
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            return Err("no export format given".into());
        }
        Ok(out)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Pdf => "pdf",
            Self::OpenVex => "openvex",
            Self::CycloneDxVex => "cyclonedx-vex",
            Self::PoamCsv => "poam-csv",
            Self::PoamXlsx => "poam-xlsx",
        }
    }
}

/// Fixed output file names inside `--out DIR`; `verify-package` looks for the same names.
pub mod files {
    pub const JSON: &str = "package.json";
    /// base64 of the DER signature, as `cosign sign-blob --output-signature` writes it.
    pub const SIG_B64: &str = "package.json.sig";
    pub const SIG_DER: &str = "package.sig.der";
    pub const DSSE: &str = "package.dsse.json";
    pub const PUBKEY: &str = "reviewer.pub";
    pub const PDF: &str = "package.pdf";
    pub const OPENVEX: &str = "package.openvex.json";
    pub const CDX_VEX: &str = "package.cdx-vex.json";
    pub const POAM_CSV: &str = "package.poam.csv";
    pub const POAM_XLSX: &str = "package.poam.xlsx";
    pub const BUNDLE: &str = "package.tar";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_lists_parse_and_unknown_words_are_named() {
        assert_eq!(
            ExportFormat::parse_list("pdf,json").unwrap(),
            vec![ExportFormat::Json, ExportFormat::Pdf]
        );
        assert_eq!(ExportFormat::parse_list("all").unwrap().len(), 6);
        let e = ExportFormat::parse_list("pdf,docx").unwrap_err();
        assert!(e.contains("'docx'"), "{e}");
    }
}
