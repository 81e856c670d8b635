//! A fault-injecting HTTP proxy between the SDK clients and the local AWS server.
//!
//! What a Lambda function meets in production, on purpose and seeded: 503s and throttling in
//! each service's own error format (the SDK classifies by status and code, so the format
//! matters), latency, connections reset before the request is sent, and responses lost after
//! the server applied the request (the case that makes a retried write find its own effect).
//! The sequence of faults is fixed by the seed; which request meets which fault depends on how
//! concurrent requests interleave.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How often each fault is injected, as a share of requests (the rest pass untouched).
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    /// HTTP 503, `ServiceUnavailable` in the service's format.
    pub unavailable: f64,
    /// The service's throttling error (DynamoDB `ThrottlingException`, SNS `Throttled`).
    pub throttled: f64,
    /// The connection is closed before the request reaches the server.
    pub reset: f64,
    /// The server applies the request, and its response is dropped with the connection.
    pub lost_response: f64,
    /// The request waits `slow_ms` first.
    pub slow: f64,
    pub slow_ms: (u64, u64),
}

impl FaultPlan {
    /// The rates of the soak: about one request in ten meets a fault.
    pub const SOAK: FaultPlan = FaultPlan {
        unavailable: 0.03,
        throttled: 0.02,
        reset: 0.01,
        lost_response: 0.02,
        slow: 0.05,
        slow_ms: (20, 200),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    None,
    Unavailable,
    Throttled,
    Reset,
    LostResponse,
    Slow,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "passed",
            Self::Unavailable => "503",
            Self::Throttled => "throttled",
            Self::Reset => "reset",
            Self::LostResponse => "lost_response",
            Self::Slow => "slow",
        }
    }
}

/// Requests seen, per `service:Operation` and fault.
#[derive(Debug, Default)]
pub struct FaultStats(Mutex<BTreeMap<(String, Fault), u64>>);

impl FaultStats {
    fn count(&self, operation: &str, fault: Fault) {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry((operation.to_owned(), fault)).or_default() += 1;
    }

    pub fn get(&self, operation: &str, fault: Fault) -> u64 {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .get(&(operation.to_owned(), fault))
            .copied()
            .unwrap_or(0)
    }

    pub fn snapshot(&self) -> BTreeMap<(String, Fault), u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The proxy, listening on a local port until dropped.
pub struct FaultProxy {
    pub url: String,
    pub stats: Arc<FaultStats>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    upstream: String,
    plan: FaultPlan,
    rng: Mutex<fastrand::Rng>,
    stats: Arc<FaultStats>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A failure that makes hyper close the connection without writing a response.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

impl FaultProxy {
    /// Listen on a free local port and forward to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, plan: FaultPlan, seed: u64) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr: SocketAddr = listener.local_addr()?;
        let stats = Arc::new(FaultStats::default());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            plan,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            stats: stats.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    // A dropped connection ends here with an error: that is the fault.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            url: format!("http://{addr}"),
            stats,
            task,
        })
    }
}

impl Shared {
    fn draw(&self) -> (Fault, u64) {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let r = rng.f64();
        let p = self.plan;
        let delay = rng.u64(p.slow_ms.0..=p.slow_ms.1.max(p.slow_ms.0));
        let mut edge = 0.0;
        for (share, fault) in [
            (p.unavailable, Fault::Unavailable),
            (p.throttled, Fault::Throttled),
            (p.reset, Fault::Reset),
            (p.lost_response, Fault::LostResponse),
            (p.slow, Fault::Slow),
        ] {
            edge += share;
            if r < edge {
                return (fault, delay);
            }
        }
        (Fault::None, 0)
    }
}

/// `service:Operation`: the service from the SigV4 credential scope, the operation from the
/// JSON protocol's target header or the query protocol's `Action` parameter.
fn operation(headers: &hyper::HeaderMap, body: &[u8]) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let service = header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned();
    let op = header("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_owned)
        .or_else(|| {
            url::form_urlencoded::parse(body)
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    format!("{service}:{op}")
}

/// The error a service sends, in its own protocol: JSON for DynamoDB, query-protocol XML for SNS.
fn error_response(operation: &str, fault: Fault) -> Response<Full<Bytes>> {
    let (status, json_type, query_code) = match fault {
        Fault::Throttled => (
            StatusCode::BAD_REQUEST,
            "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "Throttled",
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "com.amazonaws.dynamodb.v20120810#ServiceUnavailable",
            "ServiceUnavailable",
        ),
    };
    let (content_type, body) = if operation.starts_with("dynamodb:") {
        (
            "application/x-amz-json-1.0",
            format!(r#"{{"__type":"{json_type}","message":"injected by the fault proxy"}}"#),
        )
    } else {
        (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{query_code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            ),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (req, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let operation = operation(&req.headers, &body);
    let (fault, delay) = shared.draw();
    shared.stats.count(&operation, fault);
    match fault {
        Fault::Unavailable | Fault::Throttled => return Ok(error_response(&operation, fault)),
        Fault::Reset => return Err(Dropped),
        Fault::Slow => tokio::time::sleep(Duration::from_millis(delay)).await,
        Fault::None | Fault::LostResponse => {}
    }
    let uri = format!(
        "{}{}",
        shared.upstream,
        req.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forward = Request::builder().method(req.method).uri(uri);
    for (name, value) in &req.headers {
        forward = forward.header(name, value);
    }
    let forward = forward.body(Full::new(body)).map_err(|_| Dropped)?;
    let response = shared.client.request(forward).await.map_err(|_| Dropped)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    if fault == Fault::LostResponse {
        return Err(Dropped);
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}
