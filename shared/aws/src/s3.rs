//! S3 as an [`ObjectSource`] (GetObject, the body streamed), and the ingest functions' wiring:
//! [`connect_ingest`] builds the pipeline once per process.

use super::errors::{ErrorClass, classify, describe};
use super::{BatchWriter, sdk_config};
use crate::ingest::{
    FetchError, IngestConfig, Ingestor, LogSource, ObjectRef, ObjectSource, OpenedObject,
};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectError;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An S3 client for `sdk`. With a custom endpoint (`AWS_ENDPOINT_URL`: the local stack) it uses
/// path-style addresses, since `<bucket>.127.0.0.1` does not resolve.
pub fn s3_client(sdk: &SdkConfig) -> Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    Client::from_conf(config)
}

#[derive(Debug, Clone)]
pub struct S3ObjectSource {
    client: Client,
    /// Longest wait for the next bytes of a body: the SDK's timeouts end when the response
    /// headers arrive, and a stalled body would otherwise hang until the function times out.
    idle_timeout: Duration,
}

impl S3ObjectSource {
    pub fn new(client: Client, idle_timeout: Duration) -> Self {
        Self {
            client,
            idle_timeout,
        }
    }
}

#[async_trait]
impl ObjectSource for S3ObjectSource {
    /// The current version of the key (`s3:GetObject` only: reading a given version would need
    /// `s3:GetObjectVersion`, and log objects are written once).
    async fn open(&self, object: &ObjectRef) -> Result<OpenedObject, FetchError> {
        let output = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send()
            .await
            .map_err(|e| {
                let not_found = matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_)))
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                match classify(&e) {
                    _ if not_found => FetchError::NotFound(format!("{object}: {}", describe(&e))),
                    ErrorClass::Rejected(m) => FetchError::Rejected(format!("{object}: {m}")),
                    ErrorClass::Throttled(m)
                    | ErrorClass::Timeout(m)
                    | ErrorClass::Unavailable(m) => FetchError::Transient(format!("{object}: {m}")),
                }
            })?;
        Ok(OpenedObject {
            content_length: output.content_length.and_then(|n| u64::try_from(n).ok()),
            body: Box::pin(IdleTimeout::new(
                output.body.into_async_read(),
                self.idle_timeout,
            )),
        })
    }
}

/// Fails a read with `TimedOut` when no byte arrives for `idle` (a retryable error: the object
/// is reported as a batch item failure and redelivered).
pub struct IdleTimeout<R> {
    inner: R,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    armed: bool,
}

impl<R> IdleTimeout<R> {
    pub fn new(inner: R, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep(idle)),
            armed: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for IdleTimeout<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.armed = false;
                Poll::Ready(result)
            }
            Poll::Pending => {
                if !this.armed {
                    this.timer.as_mut().reset(Instant::now() + this.idle);
                    this.armed = true;
                }
                match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no data from S3 for {} ms", this.idle.as_millis()),
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

/// The production ingest pipeline for `source`: S3 objects in, `BatchWriteItem` out, built once
/// per process during init. `DescribeTable` opens the DynamoDB connection there (init runs with
/// a full CPU) and proves the table exists; the S3 connection opens with the first object, since
/// the bucket is known only from the notification.
pub async fn connect_ingest<L: LogSource>(
    config: &IngestConfig,
    source: L,
) -> Ingestor<S3ObjectSource, BatchWriter, L> {
    let sdk = sdk_config(config.aws_timeout).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    if let Err(e) = dynamodb
        .describe_table()
        .table_name(&config.table_name)
        .send()
        .await
    {
        // Not fatal: the first batch retries the connection and, if the problem persists, its
        // messages fail with the precise error and are redelivered.
        tracing::warn!(error = %describe(&e), table = %config.table_name, "context table not reachable at start-up");
    }
    Ingestor::new(
        S3ObjectSource::new(s3_client(&sdk), config.aws_timeout),
        BatchWriter::new(dynamodb, &config.table_name),
        source,
        config.context_ttl,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_stalled_body_times_out_and_a_flowing_one_does_not() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let mut body = IdleTimeout::new(reader, Duration::from_millis(50));
        tokio::io::AsyncWriteExt::write_all(&mut writer, b"abc")
            .await
            .unwrap();
        let mut buf = [0u8; 3];
        body.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abc");
        // Nothing more arrives: the read fails after the idle time instead of hanging.
        let err = body.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
