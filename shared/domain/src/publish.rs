//! Where notices go: SNS in production, a recording fake in unit tests.

use crate::notice::Notice;
use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("notice topic throttled the publish: {0}")]
    Throttled(String),
    #[error("notice topic did not answer in time: {0}")]
    Timeout(String),
    #[error("notice topic is unavailable: {0}")]
    Unavailable(String),
    #[error("notice topic rejected the publish: {0}")]
    Rejected(String),
}

impl PublishError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Rejected(_))
    }
}

#[async_trait]
pub trait NoticePublisher: Send + Sync {
    /// Publish and return the message ID the topic assigned.
    async fn publish(&self, notice: &Notice) -> Result<String, PublishError>;
}

/// Keeps published notices in memory; can be told to fail, to test the failure paths.
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    pub published: Mutex<Vec<Notice>>,
    pub fail_with: Mutex<Option<PublishError>>,
}

impl RecordingPublisher {
    pub fn notices(&self) -> Vec<Notice> {
        self.published.lock().expect("lock poisoned").clone()
    }
}

#[async_trait]
impl NoticePublisher for RecordingPublisher {
    async fn publish(&self, notice: &Notice) -> Result<String, PublishError> {
        if let Some(err) = self.fail_with.lock().expect("lock poisoned").clone() {
            return Err(err);
        }
        let mut published = self.published.lock().expect("lock poisoned");
        published.push(notice.clone());
        Ok(format!("memory-{}", published.len()))
    }
}
