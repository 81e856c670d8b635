//! [`NoticePublisher`] on SNS.

use super::errors::classify;
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;
use triage_domain::notice::{AttributeValue, Notice};
use triage_domain::publish::{NoticePublisher, PublishError};

#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// Open a connection during init. Reading the topic's attributes also proves at start-up
    /// that the topic exists and is reachable.
    pub async fn warm_up(&self) -> Result<(), PublishError> {
        self.client
            .get_topic_attributes()
            .topic_arn(&self.topic_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PublishError::from(classify(&e)))
    }
}

#[async_trait]
impl NoticePublisher for SnsPublisher {
    async fn publish(&self, notice: &Notice) -> Result<String, PublishError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&notice.subject)
            .message(&notice.body);
        for attribute in &notice.attributes {
            let (data_type, value) = match &attribute.value {
                AttributeValue::String(v) => ("String", v),
                AttributeValue::Number(v) => ("Number", v),
            };
            let value = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| PublishError::Rejected(e.to_string()))?;
            request = request.message_attributes(attribute.name, value);
        }
        let output = request
            .send()
            .await
            .map_err(|e| PublishError::from(classify(&e)))?;
        output
            .message_id()
            .map(str::to_owned)
            .ok_or_else(|| PublishError::Unavailable("SNS returned no MessageId".into()))
    }
}
