//! Placeholder: the spdx_json parser is being written.

use super::FormatError;
use crate::model::Document;

pub fn parse(_bytes: &[u8]) -> Result<Document, FormatError> {
    Err(FormatError::new("spdx_json parser not implemented yet"))
}
