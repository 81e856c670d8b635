//! Sorting SDK errors into "try again later" and "this will never work".

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use triage_domain::dedupe::StoreError;
use triage_domain::publish::PublishError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    Throttled(String),
    Timeout(String),
    Unavailable(String),
    Rejected(String),
}

/// Throttling error codes. SNS sends `Throttled` (its `ThrottledException`), which the SDK's own
/// retry classifier does not list: without it here, a throttled Publish would be reported as a
/// rejected one and logged as bound for the dead-letter queue.
const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "Throttled",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

const SERVER_SIDE: &[&str] = &[
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

impl From<ErrorClass> for StoreError {
    fn from(class: ErrorClass) -> Self {
        match class {
            ErrorClass::Throttled(m) => Self::Throttled(m),
            ErrorClass::Timeout(m) => Self::Timeout(m),
            ErrorClass::Unavailable(m) => Self::Unavailable(m),
            ErrorClass::Rejected(m) => Self::Rejected(m),
        }
    }
}

impl From<ErrorClass> for PublishError {
    fn from(class: ErrorClass) -> Self {
        match class {
            ErrorClass::Throttled(m) => Self::Throttled(m),
            ErrorClass::Timeout(m) => Self::Timeout(m),
            ErrorClass::Unavailable(m) => Self::Unavailable(m),
            ErrorClass::Rejected(m) => Self::Rejected(m),
        }
    }
}

pub fn classify<E, R>(err: &SdkError<E, R>) -> ErrorClass
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = describe(err);
    match err {
        SdkError::TimeoutError(_) => ErrorClass::Timeout(text),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => ErrorClass::Unavailable(text),
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if THROTTLING.contains(&code) {
                ErrorClass::Throttled(text)
            } else if SERVER_SIDE.contains(&code) {
                ErrorClass::Unavailable(text)
            } else {
                ErrorClass::Rejected(text)
            }
        }
        _ => ErrorClass::Rejected(text),
    }
}

/// The error code and message, which the SDK's `Display` leaves out.
pub fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("UnknownError"),
            service.message().unwrap_or("no message")
        ),
        None => format!(
            "{err}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(err)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::operation::publish::PublishError as SnsPublishError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// An SNS Publish error as the SDK parses it from a query-protocol error response.
    fn sns_error(status: u16, code: &str) -> SdkError<SnsPublishError, Response> {
        let meta = ErrorMetadata::builder().code(code).message("m").build();
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(SnsPublishError::generic(meta), raw)
    }

    #[test]
    fn sns_throttling_and_server_errors_are_worth_a_retry_and_a_bad_request_is_not() {
        assert!(matches!(
            classify(&sns_error(400, "Throttled")),
            ErrorClass::Throttled(_)
        ));
        assert!(matches!(
            classify(&sns_error(503, "ServiceUnavailable")),
            ErrorClass::Unavailable(_)
        ));
        assert!(matches!(
            classify(&sns_error(400, "InvalidParameter")),
            ErrorClass::Rejected(_)
        ));
    }
}
