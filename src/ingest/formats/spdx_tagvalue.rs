//! Placeholder: the spdx_tagvalue parser is being written.

use super::FormatError;
use crate::model::Document;

pub fn parse(_bytes: &[u8]) -> Result<Document, FormatError> {
    Err(FormatError::new("spdx_tagvalue parser not implemented yet"))
}
