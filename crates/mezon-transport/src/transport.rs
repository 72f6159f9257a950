//! The transport: a supervised connection that reconnects, a cloneable handle for requests
//! and API calls over either route, and the session kept fresh behind it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use prost::Message as _;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

use crate::api::ApiMethod;
use crate::config::TransportConfig;
use crate::connection::{self, Connection, ConnectionSettings, Link, OpenError, SessionSink};
use crate::error::{ApiError, LoginError, RequestError, Route, TransportError};
use crate::http::{Auth, HttpClient, HttpFailure, Lane};
use crate::inbound::{Inbound, InboundStream, Lifecycle};
use crate::limits::RateLimiter;
use crate::proto::realtime::{ApiRequestEvent, Envelope, envelope::Message};
use crate::requests::Answer;
use crate::secret::{Credentials, Secret};
use crate::session::{self, Session};
use crate::supervisor;
use crate::url::{api_method_url, websocket_url};

/// Redoes the layer above's joins after a reconnect. Runs after every reconnect, before any
/// event of the new connection is yielded; requests made from it go out on the new link.
#[async_trait::async_trait]
pub trait RejoinHook: Send + Sync {
    /// Rejoins clans and channels. An error is logged; events flow afterwards either way.
    async fn rejoin(&self, handle: &TransportHandle) -> Result<(), RequestError>;
}

/// Entry point: [`Transport::connect`].
#[derive(Debug)]
pub struct Transport;

impl Transport {
    /// Logs in, opens the socket and starts the supervisor that keeps it up.
    ///
    /// Returns the handle for requests and the stream of inbound items; the first item is
    /// [`Lifecycle::Connected`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt as _;
    /// use mezon_transport::{Credentials, Inbound, Transport, TransportConfig};
    ///
    /// let config = TransportConfig::new("http://127.0.0.1:7350");
    /// let (handle, mut inbound) =
    ///     Transport::connect(config, Credentials::new(1, "api-key"), None).await?;
    /// let clans = handle.api().list_clan_descs(Default::default()).await?;
    /// println!("{} clans", clans.clandesc.len());
    /// while let Some(item) = inbound.next().await {
    ///     if let Inbound::Envelope(bytes) = item {
    ///         println!("event of {} bytes", bytes.len());
    ///     }
    /// }
    /// handle.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn connect(
        config: TransportConfig,
        creds: Credentials,
        rejoin_hook: Option<Arc<dyn RejoinHook>>,
    ) -> Result<(TransportHandle, InboundStream), TransportError> {
        Self::start(config, creds, None, rejoin_hook).await
    }

    /// Like [`Transport::connect`], but starts from a session obtained with
    /// [`login`](crate::login) instead of logging in again. The credentials are still needed to
    /// refresh the session and to log in again when refreshing fails.
    pub async fn connect_with_session(
        config: TransportConfig,
        creds: Credentials,
        session: Session,
        rejoin_hook: Option<Arc<dyn RejoinHook>>,
    ) -> Result<(TransportHandle, InboundStream), TransportError> {
        Self::start(config, creds, Some(session), rejoin_hook).await
    }

    async fn start(
        config: TransportConfig,
        creds: Credentials,
        session: Option<Session>,
        rejoin_hook: Option<Arc<dyn RejoinHook>>,
    ) -> Result<(TransportHandle, InboundStream), TransportError> {
        let policy = config.url_policy();
        if policy
            .check(&config.base_url)
            .map_err(|e| TransportError::Setup(e.into()))?
        {
            tracing::warn!(
                "plaintext to a non-loopback host: api key and tokens travel unencrypted"
            );
        }
        let http = HttpClient::new(&config, true).map_err(TransportError::Setup)?;
        let tls = Arc::new(crate::tls::config_for(&config).map_err(TransportError::Setup)?);
        let session = match session {
            Some(session) => session,
            None => session::login_with(&http, &config, &creds).await?,
        };
        let (inbound_tx, inbound_rx) = mpsc::channel(config.inbound_capacity.max(1));
        let shared = Arc::new(Shared {
            socket_limiter: RateLimiter::per_second(config.rate_limits.socket_per_second),
            waiting: Semaphore::new(config.max_waiting_requests),
            budget: crate::budget::Budget::new(config.memory_budget),
            config,
            creds,
            http,
            tls,
            session: watch::channel(session).0,
            link: watch::channel(LinkState::Connecting).0,
            generation: AtomicU64::new(0),
            auth_lock: tokio::sync::Mutex::new(()),
            shutdown: CancellationToken::new(),
            supervisor: Mutex::new(None),
        });
        let handle = TransportHandle { shared };
        // Events are held back until `Connected` is queued, so it is always the first item.
        let conn = match handle.open_connection(false, inbound_tx.clone()).await {
            Ok(conn) => conn,
            Err(OpenError::Unauthorized(status)) => {
                return Err(TransportError::SocketUnauthorized { status });
            }
            Err(OpenError::Other(e)) => return Err(TransportError::Connect(e)),
        };
        handle
            .shared
            .link
            .send_replace(LinkState::Up(conn.link.clone()));
        // The channel is new and has room: this cannot fail.
        let _ = inbound_tx.try_send(Inbound::Lifecycle(Lifecycle::Connected));
        conn.open_events();
        tokio::spawn(supervisor::keep_session_fresh(handle.clone()));
        let supervisor = tokio::spawn(supervisor::supervise(
            handle.clone(),
            conn,
            inbound_tx,
            rejoin_hook,
        ));
        *handle.shared.lock_supervisor() = Some(supervisor);
        Ok((handle, InboundStream::new(inbound_rx)))
    }
}

#[derive(Debug, Clone)]
pub(crate) enum LinkState {
    Connecting,
    Up(Link),
    Stopped(Option<Arc<TransportError>>),
}

pub(crate) struct Shared {
    pub(crate) config: TransportConfig,
    creds: Credentials,
    http: HttpClient,
    tls: Arc<rustls::ClientConfig>,
    pub(crate) session: watch::Sender<Session>,
    pub(crate) link: watch::Sender<LinkState>,
    generation: AtomicU64,
    /// Requests waiting for the link while reconnecting.
    waiting: Semaphore,
    socket_limiter: Option<RateLimiter>,
    /// One re-authentication at a time.
    auth_lock: tokio::sync::Mutex<()>,
    pub(crate) shutdown: CancellationToken,
    supervisor: Mutex<Option<JoinHandle<()>>>,
    /// The memory budget every connection's read-ahead and reassembly draw from.
    budget: Arc<crate::budget::Budget>,
}

impl Shared {
    fn lock_supervisor(&self) -> std::sync::MutexGuard<'_, Option<JoinHandle<()>>> {
        self.supervisor.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A cloneable handle on a running transport: requests, API calls, session, shutdown.
#[derive(Clone)]
pub struct TransportHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for TransportHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportHandle")
            .field("user_id", &self.user_id())
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl TransportHandle {
    /// The current session.
    pub fn session(&self) -> Session {
        self.shared.session.borrow().clone()
    }

    /// The bot's user id.
    pub fn user_id(&self) -> i64 {
        self.shared.session.borrow().user_id
    }

    /// The settings in use.
    pub fn config(&self) -> &TransportConfig {
        &self.shared.config
    }

    /// Whether a socket is up right now.
    pub fn is_connected(&self) -> bool {
        matches!(&*self.shared.link.borrow(), LinkState::Up(link) if !link.is_closed())
    }

    /// Sends an envelope that expects an answer and waits for it (cid allocated here).
    /// An `error` answer becomes [`RequestError::Server`].
    pub async fn request(&self, message: Message) -> Result<Envelope, RequestError> {
        match self.exchange(message).await? {
            Answer::Envelope(envelope) => match envelope.message {
                Some(Message::Error(error)) => Err(RequestError::Server {
                    code: error.code,
                    message: error.message,
                }),
                _ => Ok(*envelope),
            },
            Answer::Raw { .. } => Err(RequestError::UnexpectedAnswer),
        }
    }

    /// Sends an envelope that expects no answer (cid 0).
    pub async fn send(&self, message: Message) -> Result<(), RequestError> {
        self.pace().await;
        let link = self.link().await?;
        let envelope = Envelope {
            cid: 0,
            message: Some(message),
        };
        link.send_frame(WsMessage::Binary(envelope.encode_to_vec().into()))
            .await
    }

    /// Calls an API method: over the socket when it has a socket index, else over HTTP.
    pub async fn call<M: ApiMethod>(&self, request: M::Request) -> Result<M::Response, ApiError> {
        if M::INDEX.is_some() {
            self.call_socket::<M>(request).await
        } else {
            self.call_http::<M>(request).await
        }
    }

    /// Calls an API method over the socket (`api_request_event`, raw answer).
    pub async fn call_socket<M: ApiMethod>(
        &self,
        request: M::Request,
    ) -> Result<M::Response, ApiError> {
        let method = M::NAME;
        let Some(index) = M::INDEX else {
            return Err(ApiError::NoSocketRoute { method });
        };
        let message = Message::ApiRequestEvent(ApiRequestEvent {
            api_index: i32::from(index),
            api_name: method.to_owned(),
            body: request.encode_to_vec().into(),
        });
        match self.exchange(message).await {
            Ok(Answer::Raw { status: 0, payload }) => {
                M::Response::decode(payload).map_err(|source| ApiError::Decode { method, source })
            }
            Ok(Answer::Raw { status, .. }) => Err(ApiError::Status {
                method,
                status,
                route: Route::Socket,
            }),
            Ok(Answer::Envelope(envelope)) => {
                let source = match envelope.message {
                    Some(Message::Error(error)) => RequestError::Server {
                        code: error.code,
                        message: error.message,
                    },
                    _ => RequestError::UnexpectedAnswer,
                };
                Err(ApiError::Request { method, source })
            }
            Err(source) => Err(ApiError::Request { method, source }),
        }
    }

    /// Calls an API method over HTTP. A 401 triggers one re-authentication and one retry.
    pub async fn call_http<M: ApiMethod>(
        &self,
        request: M::Request,
    ) -> Result<M::Response, ApiError> {
        let method = M::NAME;
        let body = request.encode_to_vec();
        let mut reauthenticated = false;
        loop {
            let session = self.session();
            let url = api_method_url(session.api_base(&self.shared.config), method);
            let answer = self
                .shared
                .http
                .post(
                    Lane::Api,
                    &url,
                    Auth::Bearer(&session.token),
                    "application/proto",
                    body.clone(),
                )
                .await;
            return match answer {
                Ok(payload) => M::Response::decode(payload)
                    .map_err(|source| ApiError::Decode { method, source }),
                Err(HttpFailure::Status(401)) if !reauthenticated => {
                    reauthenticated = true;
                    if let Err(e) = self.reauthenticate(&session.token).await {
                        tracing::warn!(method, error = %e, "re-authentication after 401 failed");
                        return Err(ApiError::Unauthorized { method });
                    }
                    continue;
                }
                Err(HttpFailure::Status(401)) => Err(ApiError::Unauthorized { method }),
                Err(HttpFailure::Status(status)) => Err(ApiError::Status {
                    method,
                    status,
                    route: Route::Http,
                }),
                Err(HttpFailure::Timeout) => Err(ApiError::Timeout { method }),
                Err(HttpFailure::Transport(source)) => Err(ApiError::Http { method, source }),
            };
        }
    }

    /// Typed convenience calls, one per API method: `handle.api().list_clan_descs(req)`.
    pub fn api(&self) -> Api<'_> {
        Api { handle: self }
    }

    /// Stops the transport: closes the socket, fails waiting requests with
    /// [`RequestError::Closed`], and ends the inbound stream after [`Lifecycle::Stopped`].
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        let supervisor = self.shared.lock_supervisor().take();
        if let Some(supervisor) = supervisor {
            let _ = supervisor.await;
        }
    }

    /// Requests in flight on the current connection, heartbeat pings included (for tests and
    /// diagnostics).
    #[doc(hidden)]
    pub fn pending_count(&self) -> usize {
        match &*self.shared.link.borrow() {
            LinkState::Up(link) => link.pending.len(),
            _ => 0,
        }
    }

    /// Answers dropped on the current connection because no request waited for their cid.
    #[doc(hidden)]
    pub fn unknown_answers(&self) -> u64 {
        match &*self.shared.link.borrow() {
            LinkState::Up(link) => link.pending.unknown_answers(),
            _ => 0,
        }
    }

    /// Most pushed events the current connection's reader has held at once, not counting the
    /// inbound queue itself (for tests of memory bounds).
    #[doc(hidden)]
    pub fn backlog_high_water(&self) -> usize {
        match &*self.shared.link.borrow() {
            LinkState::Up(link) => link.backlog_high_water.load(Ordering::Relaxed),
            _ => 0,
        }
    }

    /// Refreshes the session now (`SessionRefresh`, else a fresh login with the api key), as
    /// the transport does on its own before the token expires.
    pub async fn refresh_session(&self) -> Result<(), LoginError> {
        let token = self.session().token;
        self.reauthenticate(&token).await
    }

    async fn pace(&self) {
        if let Some(limiter) = &self.shared.socket_limiter {
            limiter.acquire().await;
        }
    }

    async fn exchange(&self, message: Message) -> Result<Answer, RequestError> {
        self.pace().await;
        let link = self.link().await?;
        let mut pending = link.pending.register()?;
        let envelope = Envelope {
            cid: i32::from(pending.cid()),
            message: Some(message),
        };
        let frame = WsMessage::Binary(envelope.encode_to_vec().into());
        let exchange = async {
            link.send_frame(frame).await?;
            pending.answer().await
        };
        tokio::time::timeout(self.shared.config.request_timeout, exchange)
            .await
            .unwrap_or(Err(RequestError::Timeout))
    }

    /// The current link, waiting (bounded in time and in number of waiters) while reconnecting.
    async fn link(&self) -> Result<Link, RequestError> {
        if let Some(found) = usable_link(&self.shared.link.borrow()) {
            return found;
        }
        let _permit = self
            .shared
            .waiting
            .try_acquire()
            .map_err(|_| RequestError::QueueFull)?;
        let mut states = self.shared.link.subscribe();
        let wait = async {
            loop {
                if let Some(found) = usable_link(&states.borrow_and_update()) {
                    return found;
                }
                if states.changed().await.is_err() {
                    return Err(RequestError::Closed);
                }
            }
        };
        tokio::time::timeout(self.shared.config.reconnect_wait, wait)
            .await
            .unwrap_or(Err(RequestError::NotConnected))
    }

    /// Refreshes the session (or logs in again if that fails), unless someone already
    /// replaced the `stale` token meanwhile.
    pub(crate) async fn reauthenticate(&self, stale: &Secret) -> Result<(), LoginError> {
        let _guard = self.shared.auth_lock.lock().await;
        let current = self.session();
        if current.token != *stale {
            return Ok(());
        }
        let shared = &self.shared;
        let fresh = match session::refresh_with(
            &shared.http,
            &shared.config,
            &shared.creds,
            &current,
        )
        .await
        {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::info!(error = %e, "session refresh failed; logging in again");
                session::login_with(&shared.http, &shared.config, &shared.creds).await?
            }
        };
        tracing::debug!("session refreshed");
        shared.session.send_replace(fresh);
        Ok(())
    }

    /// Logs in again with the api key, unless someone already replaced the `stale` token.
    pub(crate) async fn relogin(&self, stale: &Secret) -> Result<(), LoginError> {
        let _guard = self.shared.auth_lock.lock().await;
        if self.session().token != *stale {
            return Ok(());
        }
        let shared = &self.shared;
        let fresh = session::login_with(&shared.http, &shared.config, &shared.creds).await?;
        shared.session.send_replace(fresh);
        Ok(())
    }

    pub(crate) async fn open_connection(
        &self,
        events_open: bool,
        inbound: mpsc::Sender<Inbound>,
    ) -> Result<Connection, OpenError> {
        let shared = &self.shared;
        let session = self.session();
        let config = &shared.config;
        let url = websocket_url(
            &session.ws_url,
            session.api_base(config),
            session.token.expose(),
        )
        .and_then(|url| config.url_policy().check(&url).map(|_| url))
        .map_err(|e| OpenError::Other(e.into()))?;
        let settings = ConnectionSettings {
            generation: shared.generation.fetch_add(1, Ordering::Relaxed) + 1,
            max_frame_size: config.max_frame_size,
            max_answer_size: config.max_answer_size,
            event_overflow: config.event_overflow,
            event_overflow_bytes: config.event_overflow_bytes,
            write_queue_capacity: config.write_queue_capacity,
            heartbeat_interval: config.heartbeat_interval,
            heartbeat_timeout: config.heartbeat_timeout,
            connect_timeout: config.connect_timeout,
            budget: Arc::clone(&shared.budget),
            events_open,
        };
        let sessions = shared.session.clone();
        let policy = config.url_policy();
        let on_session: SessionSink = Arc::new(move |fresh| {
            tracing::debug!("adopting a pushed session");
            sessions.send_modify(|current| *current = current.updated_with(fresh, policy));
        });
        connection::open(
            &url,
            Arc::clone(&shared.tls),
            settings,
            inbound,
            on_session,
            &shared.shutdown,
        )
        .await
    }
}

fn usable_link(state: &LinkState) -> Option<Result<Link, RequestError>> {
    match state {
        LinkState::Up(link) if !link.is_closed() => Some(Ok(link.clone())),
        LinkState::Up(_) | LinkState::Connecting => None,
        LinkState::Stopped(None) => Some(Err(RequestError::Closed)),
        LinkState::Stopped(Some(error)) => Some(Err(RequestError::Stopped(Arc::clone(error)))),
    }
}

/// Typed convenience calls, one method per API method (generated from the method table).
#[derive(Debug, Clone, Copy)]
pub struct Api<'a> {
    handle: &'a TransportHandle,
}

macro_rules! api_calls {
    ($(($fn_name:ident, $marker:ident, $request:ty, $response:ty)),* $(,)?) => {
        impl Api<'_> {
            $(
                #[doc = concat!("Calls `", stringify!($marker), "` (socket route when it has an index, else HTTP).")]
                pub async fn $fn_name(&self, request: $request) -> Result<$response, ApiError> {
                    self.handle.call::<crate::api::methods::$marker>(request).await
                }
            )*
        }
    };
}
crate::for_each_api_method!(api_calls);
