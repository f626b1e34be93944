//! Test fixtures that write sets straight into the store, without parsing files.

use super::*;

/// Test fixture: a parsed scan file `{scanner}.json` with this digest and nothing else known.
pub(crate) fn scan_file_row(sha: &str, scanner: &str) -> FileRow {
    FileRow {
        path: format!("{scanner}.json"),
        sha256: sha.into(),
        size: 1,
        bytes: None,
        format: None,
        spec_version: None,
        status: "parsed".into(),
        message: None,
        named_digests: vec![],
        doc_kind: Some("scan".into()),
        scanner: Some(scanner.into()),
        scanner_version: None,
        db_built: None,
        scanned_at: None,
    }
}

/// Test fixture: the write of a new set holding these components and findings, no files.
pub(crate) fn test_set_write<'a>(
    digest: &'a str,
    components: &'a [SetComponent],
    findings: &'a [SetFinding],
    deps: &'a BTreeSet<(String, String)>,
) -> SetWrite<'a> {
    SetWrite {
        existing: None,
        package: None,
        digest: Some(digest),
        image: None,
        repository: None,
        source: "t",
        image_user: None,
        new_files: &[],
        file_shas: &[],
        components,
        dependencies: deps,
        findings,
    }
}

impl Store {
    /// Test fixture: a new set holding these components and findings, with no files.
    pub(crate) fn write_test_set(
        &mut self,
        digest: &str,
        components: &[SetComponent],
        findings: &[SetFinding],
    ) -> i64 {
        let deps = BTreeSet::new();
        let w = test_set_write(digest, components, findings, &deps);
        self.write_import(&w, &|_, _| Ok(()))
            .expect("test set written")
            .set_id
    }

    /// Test fixture: flags every finding of the set as one whose scanners name different
    /// fixes, as an import before migration 014 could over-flag them.
    pub(crate) fn flag_every_fix_for_test(&self, set_id: i64) {
        self.conn()
            .execute(
                "UPDATE finding SET fix_disagrees = 1 WHERE set_id = ?1",
                [set_id],
            )
            .expect("flags set");
    }

    /// Test fixture: like `write_test_set`, with two scan files ("trivy" and "grype"), so
    /// finding views 0 and 1 are written as those scanners' `finding_source` rows.
    pub(crate) fn write_test_set_scanned(
        &mut self,
        digest: &str,
        components: &[SetComponent],
        findings: &[SetFinding],
    ) -> i64 {
        let files = [scan_file_row("aa", "trivy"), scan_file_row("bb", "grype")];
        let shas = ["aa".to_string(), "bb".to_string()];
        let deps = BTreeSet::new();
        let w = SetWrite {
            new_files: &files,
            file_shas: &shas,
            ..test_set_write(digest, components, findings, &deps)
        };
        self.write_import(&w, &|_, _| Ok(()))
            .expect("test set written")
            .set_id
    }
}
