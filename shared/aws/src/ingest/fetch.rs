//! Why an object could not be fetched from its store: the reader reports it, the pipeline
//! decides from it whether to retry.

/// Why an object could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The object (or its bucket) does not exist: it was deleted, or the notification is wrong.
    #[error("object not found: {0}")]
    NotFound(String),
    /// Refused (access denied, bad request): needs a fix, not a retry.
    #[error("GetObject refused: {0}")]
    Rejected(String),
    /// Throttling, timeouts, connection failures, 5xx.
    #[error("GetObject failed (transient): {0}")]
    Transient(String),
}

impl FetchError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}
