//! Sorting SDK errors into "try again later" and "this will never work".

use crate::dedupe::StoreError;
use crate::publish::PublishError;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    Throttled(String),
    Timeout(String),
    Unavailable(String),
    Rejected(String),
}

const THROTTLING: &[&str] = &[
    "ThrottlingException",
    "Throttling",
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
