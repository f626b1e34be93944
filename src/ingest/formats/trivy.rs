//! Placeholder: the trivy parser is being written.

use super::FormatError;
use crate::model::Document;

pub fn parse(_bytes: &[u8]) -> Result<Document, FormatError> {
    Err(FormatError::new("trivy parser not implemented yet"))
}
