//! The HTTP client: login, session refresh and the HTTP API route, all `POST`s of protobuf
//! (or the JSON login body) with a bounded timeout and optional pacing.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::error::HttpError;
use crate::limits::RateLimiter;
use crate::secret::Secret;

/// How a request authenticates.
pub(crate) enum Auth<'a> {
    /// `Basic base64("<api key>:")` (login, refresh).
    Basic(&'a Secret),
    /// `Bearer <token>` (API calls).
    Bearer(&'a Secret),
}

/// Why an HTTP call produced no 2xx body.
#[derive(Debug)]
pub(crate) enum HttpFailure {
    Status(u16),
    Timeout,
    Transport(HttpError),
}

/// A shared HTTP client with its pacing.
#[derive(Debug)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    limiter: Option<RateLimiter>,
    timeout: Duration,
}

impl HttpClient {
    pub(crate) fn new(timeout: Duration, per_second: Option<f64>) -> Result<Self, HttpError> {
        let mut tls = crate::tls::client_config().map_err(HttpError::message)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .build()
            .map_err(|e| HttpError(Arc::new(e)))?;
        Ok(Self {
            client,
            limiter: RateLimiter::per_second(per_second),
            timeout,
        })
    }

    /// POSTs `body` and returns the 2xx body.
    pub(crate) async fn post(
        &self,
        url: &str,
        auth: Auth<'_>,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Bytes, HttpFailure> {
        if let Some(limiter) = &self.limiter {
            limiter.acquire().await;
        }
        let authorization = match auth {
            Auth::Basic(key) => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{}:", key.expose()))
            ),
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
        };
        let mut authorization = HeaderValue::from_str(&authorization)
            .map_err(|e| HttpFailure::Transport(HttpError(Arc::new(e))))?;
        authorization.set_sensitive(true);
        let send = self
            .client
            .post(url)
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, content_type)
            .header(ACCEPT, "application/proto, application/x-protobuf")
            .body(body)
            .send();
        // reqwest's own timeout covers the exchange; this one also covers a stalled body read.
        let exchange = async {
            let response = send.await?;
            let status = response.status();
            if !status.is_success() {
                return Ok(Err(status.as_u16()));
            }
            response.bytes().await.map(Ok)
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Err(HttpFailure::Timeout),
            Ok(Err(e)) if e.is_timeout() => Err(HttpFailure::Timeout),
            Ok(Err(e)) => Err(HttpFailure::Transport(HttpError(Arc::new(e)))),
            Ok(Ok(Err(status))) => Err(HttpFailure::Status(status)),
            Ok(Ok(Ok(body))) => Ok(body),
        }
    }
}
