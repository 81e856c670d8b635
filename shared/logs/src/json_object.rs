//! What fails a whole object of JSON log entries (Resolver query logs, EKS audit logs): a bad
//! entry is only a counted skip, but an object whose JSON structure breaks, whose text runs past
//! its cap or whose bytes stop coming is retried or dead-lettered whole.

use crate::decompress::is_over_cap;

/// Why an object could not be read at all (its entries are then not counted either).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("the object's text is longer than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("read failed: {0}")]
    Read(String),
}

/// A failure of the reader under the parser: the decompressed cap, or the source itself.
pub(crate) fn read_error(e: std::io::Error, max_text_bytes: u64) -> InputError {
    if is_over_cap(&e) {
        InputError::TooLarge {
            limit: max_text_bytes,
        }
    } else {
        InputError::Read(e.to_string())
    }
}

/// A failure of serde_json's streaming reader: its own (broken JSON) or the reader's under it.
pub(crate) fn value_error(e: serde_json::Error, max_text_bytes: u64) -> InputError {
    if e.is_io() {
        read_error(e.into(), max_text_bytes)
    } else {
        InputError::Json(e.to_string())
    }
}
