//! The HTTP client: login, session refresh and the HTTP API route, all `POST`s of protobuf
//! (or the JSON login body). Every call is bounded: in time (the pacing wait included), in
//! answer size (checked against `Content-Length` first, then while reading), and to the
//! addresses the URL policy allows. Redirects are never followed.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::config::TransportConfig;
use crate::error::{HttpError, HttpErrorKind, SetupError};
use crate::limits::RateLimiter;
use crate::secret::Secret;
use crate::url::UrlPolicy;

/// How a request authenticates.
pub(crate) enum Auth<'a> {
    /// `Basic base64("<api key>:")` (login, refresh).
    Basic(&'a Secret),
    /// `Bearer <token>` (API calls).
    Bearer(&'a Secret),
}

/// Which pacing lane a call waits in: logins and refreshes never queue behind API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    Auth,
    Api,
}

/// Why an HTTP call produced no 2xx body.
#[derive(Debug)]
pub(crate) enum HttpFailure {
    Status(u16),
    Timeout,
    Transport(HttpError),
}

impl From<HttpError> for HttpFailure {
    fn from(error: HttpError) -> Self {
        Self::Transport(error)
    }
}

/// A shared HTTP client with its pacing.
#[derive(Debug)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    api_lane: Option<RateLimiter>,
    auth_lane: Option<RateLimiter>,
    timeout: Duration,
    max_answer: usize,
    policy: UrlPolicy,
}

impl HttpClient {
    /// A client for `config`; `paced` is false for a one-off login outside a transport.
    pub(crate) fn new(config: &TransportConfig, paced: bool) -> Result<Self, SetupError> {
        let mut tls = crate::tls::config_for(config)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| SetupError::Http(Arc::new(e)))?;
        let limits = &config.rate_limits;
        Ok(Self {
            client,
            api_lane: RateLimiter::per_second(limits.http_per_second.filter(|_| paced)),
            auth_lane: RateLimiter::per_second(limits.auth_per_second.filter(|_| paced)),
            timeout: config.request_timeout,
            max_answer: config.max_http_answer_size,
            policy: config.url_policy(),
        })
    }

    /// POSTs `body` and returns the 2xx body. The request timeout covers the pacing wait,
    /// the exchange and reading the answer.
    pub(crate) async fn post(
        &self,
        lane: Lane,
        url: &str,
        auth: Auth<'_>,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Bytes, HttpFailure> {
        self.policy
            .check(url)
            .map_err(|e| HttpError::new(HttpErrorKind::Url(e), None))?;
        let limiter = match lane {
            Lane::Auth => &self.auth_lane,
            Lane::Api => &self.api_lane,
        };
        let exchange = async {
            if let Some(limiter) = limiter {
                limiter.acquire().await;
            }
            self.exchange(url, auth, content_type, body).await
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(HttpFailure::Timeout))
    }

    async fn exchange(
        &self,
        url: &str,
        auth: Auth<'_>,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Bytes, HttpFailure> {
        let authorization = match auth {
            Auth::Basic(key) => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{}:", key.expose()))
            ),
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
        };
        // The message of this error would not hold the value, but say nothing about it anyway.
        let mut authorization = HeaderValue::from_str(&authorization)
            .map_err(|_| HttpError::new(HttpErrorKind::Setup, None))?;
        authorization.set_sensitive(true);
        let mut response = self
            .client
            .post(url)
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, content_type)
            .header(ACCEPT, "application/proto, application/x-protobuf")
            .body(body)
            .send()
            .await
            .map_err(reqwest_failure)?;
        let status = response.status();
        if status.is_redirection() {
            let kind = HttpErrorKind::Redirect {
                status: status.as_u16(),
            };
            return Err(HttpError::new(kind, None).into());
        }
        if !status.is_success() {
            return Err(HttpFailure::Status(status.as_u16()));
        }
        let too_large = || {
            let kind = HttpErrorKind::AnswerTooLarge {
                limit: self.max_answer,
            };
            HttpFailure::from(HttpError::new(kind, None))
        };
        let declared = response.content_length();
        if declared.is_some_and(|len| len > self.max_answer as u64) {
            return Err(too_large());
        }
        // Never trust the declared length for the allocation beyond the limit.
        let initial = declared.map_or(0, |len| len as usize).min(self.max_answer);
        let mut answer = BytesMut::with_capacity(initial);
        while let Some(chunk) = response.chunk().await.map_err(reqwest_failure)? {
            if chunk.len() > self.max_answer - answer.len() {
                return Err(too_large());
            }
            answer.extend_from_slice(&chunk);
        }
        Ok(answer.freeze())
    }
}

fn reqwest_failure(error: reqwest::Error) -> HttpFailure {
    if error.is_timeout() {
        HttpFailure::Timeout
    } else {
        HttpFailure::Transport(HttpError::from_reqwest(error))
    }
}
