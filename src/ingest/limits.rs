//! Limits on hostile input. Each has a name so hitting one names the limit and the file.
//! Defaults suit real evidence (Trivy/Syft files reach tens of MB); override per import.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single evidence file accepted (bytes).
    pub max_file_bytes: u64,
    /// Largest total of bytes read from one archive after decompression.
    pub max_archive_bytes: u64,
    /// Most entries read from one archive.
    pub max_archive_entries: u64,
    /// Most files taken from one directory walk.
    pub max_files: u64,
    /// Deepest directory / nested-archive recursion.
    pub max_depth: u32,
    /// Deepest JSON/XML nesting a parser accepts.
    pub max_nesting: u32,
    /// Largest expansion of a gzip stream relative to its compressed size. Archives are
    /// read in memory, so a bomb must be stopped long before `max_archive_bytes`: real
    /// tarred evidence (JSON, XML) expands about 5-20x, a bomb 200-1000x.
    pub max_gzip_ratio: u64,
    /// Plain files larger than this are not read whole: Trivy and Grype reports are hashed
    /// and parsed as a stream, one finding at a time, so an import's memory stays flat.
    pub stream_above_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 1 << 30,
            max_archive_bytes: 4 << 30,
            max_archive_entries: 200_000,
            max_files: 200_000,
            max_depth: 32,
            max_nesting: 128,
            max_gzip_ratio: 50,
            stream_above_bytes: 32 << 20,
        }
    }
}

impl Limits {
    /// Overrides from `DOSSIER_MAX_FILE_BYTES`, `DOSSIER_MAX_ARCHIVE_BYTES`,
    /// `DOSSIER_MAX_ARCHIVE_ENTRIES`, `DOSSIER_MAX_FILES`, `DOSSIER_MAX_GZIP_RATIO`,
    /// `DOSSIER_STREAM_ABOVE_BYTES` (documented in the README).
    pub fn from_env() -> Self {
        let mut l = Self::default();
        let get = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let Some(v) = get("DOSSIER_MAX_FILE_BYTES") {
            l.max_file_bytes = v;
        }
        if let Some(v) = get("DOSSIER_MAX_ARCHIVE_BYTES") {
            l.max_archive_bytes = v;
        }
        if let Some(v) = get("DOSSIER_MAX_ARCHIVE_ENTRIES") {
            l.max_archive_entries = v;
        }
        if let Some(v) = get("DOSSIER_MAX_FILES") {
            l.max_files = v;
        }
        if let Some(v) = get("DOSSIER_MAX_GZIP_RATIO") {
            l.max_gzip_ratio = v;
        }
        if let Some(v) = get("DOSSIER_STREAM_ABOVE_BYTES") {
            l.stream_above_bytes = v;
        }
        l
    }
}
