//! The [`Client`]: configuration, login, handler registration, shutdown.

use std::sync::{Arc, Mutex, RwLock, Weak};

use futures_util::FutureExt as _;

use mezon_events::dispatch::HandlerReturn;
use mezon_events::proto::realtime::{DropdownBoxSelected, MessageButtonClicked};
use mezon_events::{Dispatcher as _, EventDispatcher, EventKind, Payload, Subscription};
use mezon_transport::{Transport, TransportHandle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::ApiClient;
use crate::config::{ClientBuilder, ClientConfig};
use crate::error::{ConfigError, Error, Result};
use crate::handles::Message;
use crate::routing::RouteTable;
use crate::state::{SingleFlight, State};
use crate::stream::StreamHub;

/// A Mezon bot client. Cheap to clone: clones share one connection, one set of handlers and
/// one cache.
///
/// Dropping the last clone stops the client as [`Client::shutdown`] would (socket closed,
/// tasks ended, in the background on the current tokio runtime); call `shutdown` yourself to
/// wait for that. Clones held by running handlers count: the client lives while they run.
///
/// ```no_run
/// # async fn demo() -> Result<(), mezon::Error> {
/// let client = mezon::Client::from_env()?;
/// client.on_channel_message(|msg, _client| async move {
///     if msg.text() == "!ping" {
///         msg.reply("pong").await?;
///     }
///     Ok::<(), mezon::Error>(())
/// });
/// client.login().await?;
/// client.run_until_shutdown().await;
/// # Ok(()) }
/// ```
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    owner: Owner,
}

/// Whether a handle keeps the client alive. The bot author's clones (and those handed to
/// handlers) do; the client's own tasks (the event pump) hold a weak one, so dropping the
/// author's last clone stops the client instead of leaking its socket and tasks.
enum Owner {
    Strong(Arc<Lifeline>),
    Weak(Weak<Lifeline>),
}

/// Dropped with the last strong [`Client`]: stops the client.
struct Lifeline {
    inner: Weak<Inner>,
}

impl Drop for Lifeline {
    fn drop(&mut self) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        if !matches!(
            *inner.phase.borrow(),
            Phase::Running | Phase::Requested | Phase::TransportEnded
        ) {
            return;
        }
        let client = Client {
            inner,
            owner: Owner::Weak(Weak::new()),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                tracing::debug!("last client handle dropped; shutting down");
                runtime.spawn(async move { client.shutdown().await });
            }
            // Without a runtime the client's tasks cannot run any more; drop what is left.
            Err(_) => {
                client.inner.phase.send_replace(Phase::Stopped);
                drop(client.inner.transport.write().map(|mut t| t.take()));
            }
        }
    }
}

impl Clone for Client {
    fn clone(&self) -> Self {
        let owner = match &self.owner {
            Owner::Strong(life) => Owner::Strong(Arc::clone(life)),
            // A clone handed out by an internal task (to a handler) keeps the client alive
            // while it exists, as long as the client is still alive.
            Owner::Weak(life) => life
                .upgrade()
                .map_or_else(|| Owner::Weak(life.clone()), Owner::Strong),
        };
        Self {
            inner: Arc::clone(&self.inner),
            owner,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) dispatcher: EventDispatcher<Client>,
    pub(crate) state: Arc<State>,
    pub(crate) transport: RwLock<Option<TransportHandle>>,
    pub(crate) buttons: RouteTable,
    pub(crate) selects: RouteTable,
    pub(crate) message_flights: SingleFlight<i64>,
    pub(crate) streams: StreamHub,
    pub(crate) raw: crate::raw::RawHub,
    pub(crate) tokens: crate::tokens::Tokens,
    pump: Mutex<Option<JoinHandle<()>>>,
    /// The agent event stream reader, when enabled.
    agent: Mutex<Option<JoinHandle<()>>>,
    /// Serializes `login` calls.
    login_lock: tokio::sync::Mutex<()>,
    /// Where the client is in its life; see [`Phase`].
    pub(crate) phase: watch::Sender<Phase>,
}

/// Where a client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Working (before and after login).
    Running,
    /// [`Client::request_shutdown`] was called.
    Requested,
    /// The transport stopped on its own (reconnecting gave up).
    TransportEnded,
    /// [`Client::shutdown`] is running.
    Stopping,
    /// Everything has stopped.
    Stopped,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("bot_id", &self.inner.config.credentials.bot_id)
            .field("base_url", &self.inner.config.transport.base_url)
            .field("connected", &self.is_connected())
            .field("state", &self.inner.state)
            .finish()
    }
}

impl Client {
    /// Starts building a client for the bot `bot_id` with its `api_key`.
    pub fn builder(bot_id: i64, api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(bot_id, api_key)
    }

    /// A client configured from the environment (see [`ClientBuilder::from_env`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        ClientBuilder::from_env()?.build()
    }

    /// A client with a finished configuration.
    pub fn with_config(config: ClientConfig) -> Self {
        let inner = Arc::new(Inner {
            dispatcher: EventDispatcher::new(config.dispatch.clone()),
            state: Arc::new(State::new(config.cache)),
            streams: StreamHub::new(config.event_stream_capacity),
            raw: crate::raw::RawHub::new(),
            tokens: crate::tokens::Tokens::default(),
            config,
            transport: RwLock::new(None),
            buttons: RouteTable::default(),
            selects: RouteTable::default(),
            message_flights: SingleFlight::new(),
            pump: Mutex::new(None),
            agent: Mutex::new(None),
            login_lock: tokio::sync::Mutex::new(()),
            phase: watch::channel(Phase::Running).0,
        });
        let client = Self {
            owner: Owner::Strong(Arc::new(Lifeline {
                inner: Arc::downgrade(&inner),
            })),
            inner,
        };
        crate::automation::install(&client);
        client
    }

    /// A handle for the client's own long-running tasks: it does not keep the client alive.
    fn task_handle(&self) -> Self {
        let owner = match &self.owner {
            Owner::Strong(life) => Owner::Weak(Arc::downgrade(life)),
            Owner::Weak(life) => Owner::Weak(life.clone()),
        };
        Self {
            inner: Arc::clone(&self.inner),
            owner,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The bot's user id.
    pub fn user_id(&self) -> i64 {
        self.handle()
            .map(|h| h.user_id())
            .ok()
            .filter(|id| *id != 0)
            .unwrap_or(self.inner.config.credentials.bot_id)
    }

    /// Whether the socket is up right now.
    pub fn is_connected(&self) -> bool {
        self.handle().is_ok_and(|h| h.is_connected())
    }

    /// The transport handle, for raw requests.
    pub fn transport(&self) -> Result<TransportHandle> {
        self.handle()
    }

    pub(crate) fn handle(&self) -> Result<TransportHandle> {
        if !matches!(
            *self.inner.phase.borrow(),
            Phase::Running | Phase::Requested
        ) {
            return Err(Error::Shutdown);
        }
        self.inner
            .transport
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::NotLoggedIn)
    }

    /// Every API method of the protocol, typed (see [`ApiClient`]).
    pub fn api(&self) -> Result<ApiClient> {
        Ok(ApiClient::new(self.handle()?))
    }

    /// Logs in, opens the socket, joins every clan (and clan 0 for DMs), learns the DM
    /// channels, and resolves once the bot is ready (a `ready` event is dispatched).
    pub async fn login(&self) -> Result<()> {
        let _one_at_a_time = self.inner.login_lock.lock().await;
        if *self.inner.phase.borrow() != Phase::Running {
            return Err(Error::Shutdown);
        }
        if self.handle().is_ok() {
            return Err(Error::AlreadyLoggedIn);
        }
        let hook = Arc::new(crate::joins::Rejoiner::new(self.inner.state.clone()));
        let (handle, inbound) = Transport::connect(
            self.inner.config.transport.clone(),
            self.inner.config.credentials.clone(),
            Some(hook),
        )
        .await?;
        *self
            .inner
            .transport
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(handle.clone());
        let pump = tokio::spawn(crate::pump::run(self.task_handle(), inbound));
        *self.inner.pump.lock().unwrap_or_else(|p| p.into_inner()) = Some(pump);
        match crate::joins::connect_sequence(self, &handle).await {
            Ok(clans) => {
                crate::tokens::after_login(self);
                self.emit(mezon_events::Event::Ready(Arc::new(
                    mezon_events::lifecycle::Ready {
                        user_id: self.user_id(),
                        clans,
                    },
                )))
                .await;
                tracing::info!(clans, "ready");
                self.start_agent_events();
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "connect sequence failed; closing the connection");
                self.abandon_login().await;
                Err(e)
            }
        }
    }

    /// Undoes a login whose connect sequence failed: closes the socket and ends the pump, but
    /// leaves the client usable, so `login` can be called again.
    async fn abandon_login(&self) {
        self.close_link().await;
        // The pump marks the transport as ended; this transport was ours to end.
        self.inner.phase.send_if_modified(|phase| {
            let ended = *phase == Phase::TransportEnded;
            if ended {
                *phase = Phase::Running;
            }
            ended
        });
    }

    fn start_agent_events(&self) {
        let config = &self.inner.config;
        let Some(url) = &config.agent_event_url else {
            return;
        };
        let stream = crate::agent_events::AgentStream::new(
            url,
            config.credentials.bot_id,
            config.credentials.api_key.expose(),
        );
        let task = tokio::spawn(crate::agent_events::run(
            self.task_handle(),
            stream,
            config.transport.request_timeout,
        ));
        let old = self
            .inner
            .agent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task);
        if let Some(old) = old {
            old.abort();
        }
    }

    /// Closes the socket and waits for the event pump to finish.
    async fn close_link(&self) {
        let agent = self
            .inner
            .agent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(agent) = agent {
            agent.abort();
        }
        let handle = self
            .inner
            .transport
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(handle) = handle {
            handle.shutdown().await;
        }
        let pump = self
            .inner
            .pump
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(pump) = pump {
            // The transport's inbound stream ends after shutdown, so the pump finishes; the
            // timeout only guards against a handler blocking dispatch forever.
            let grace = self.inner.config.shutdown_grace;
            let abort = pump.abort_handle();
            if tokio::time::timeout(grace, pump).await.is_err() {
                tracing::warn!("event pump did not stop in time; aborting it");
                abort.abort();
            }
        }
    }

    pub(crate) async fn emit(&self, event: mezon_events::Event) {
        self.inner.raw.publish_lifecycle(&event).await;
        self.inner.streams.publish(&event).await;
        self.inner.dispatcher.dispatch(event, self.clone()).await;
    }

    /// Stops the client: closes the socket, lets running handlers finish (up to the
    /// configured grace period), and ends every task and event stream. Idempotent: a second
    /// call waits until the first one is done.
    ///
    /// From inside a handler, prefer [`Client::request_shutdown`]: this method waits for
    /// running handlers, the calling one included, so there it only returns after the grace
    /// period.
    pub async fn shutdown(&self) {
        let mut first = false;
        self.inner.phase.send_if_modified(|phase| {
            first = matches!(
                phase,
                Phase::Running | Phase::Requested | Phase::TransportEnded
            );
            if first {
                *phase = Phase::Stopping;
            }
            first
        });
        if !first {
            self.stopped().await;
            return;
        }
        self.close_link().await;
        let grace = self.inner.config.shutdown_grace;
        if tokio::time::timeout(grace, self.inner.dispatcher.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("handlers did not finish within the shutdown grace period");
        }
        self.inner.streams.close();
        self.inner.raw.close();
        self.inner.phase.send_replace(Phase::Stopped);
        tracing::info!("client stopped");
    }

    /// Asks [`Client::run_until_shutdown`] to shut the client down, without waiting (safe to
    /// call from a handler).
    pub fn request_shutdown(&self) {
        self.inner.phase.send_if_modified(|phase| {
            let running = *phase == Phase::Running;
            if running {
                *phase = Phase::Requested;
            }
            running
        });
    }

    /// Waits for Ctrl-C, [`Client::request_shutdown`], [`Client::shutdown`] (from any
    /// clone) or the transport giving up, then shuts down cleanly and returns once the client
    /// has stopped.
    pub async fn run_until_shutdown(&self) {
        let mut phase = self.inner.phase.subscribe();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C received"),
            _ = phase.wait_for(|p| *p != Phase::Running) => {}
        }
        self.shutdown().await;
    }

    /// Resolves once the client has fully stopped.
    pub async fn stopped(&self) {
        let mut phase = self.inner.phase.subscribe();
        let _ = phase.wait_for(|p| *p == Phase::Stopped).await;
    }

    /// The dispatcher, for every typed registration (`on_<event>`) and for waiting on events
    /// (`once`, `wait_for`).
    pub fn dispatcher(&self) -> &EventDispatcher<Client> {
        &self.inner.dispatcher
    }

    /// Runs `handler` for every event of `kind` (sync or async; several per kind allowed).
    pub fn on<F, R, M>(&self, kind: EventKind, handler: F) -> Subscription
    where
        F: Fn(Arc<mezon_events::Event>, Client) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.inner.dispatcher.on(kind, handler)
    }

    /// Runs `handler` for every message posted in a channel, thread or DM the bot sees
    /// (not the bot's own, unless configured). The handler gets a [`Message`] handle.
    pub fn on_channel_message<F, R, M>(&self, handler: F) -> Subscription
    where
        F: Fn(Message, Client) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.inner
            .dispatcher
            .on_channel_message(move |payload, client: Client| {
                handler(Message::new(client.clone(), payload), client)
            })
    }

    /// Runs `handler` (sync or async) when a button whose id matches `pattern` is clicked:
    /// an exact id, or a prefix ending in `*`. For each click the best pattern wins (an exact
    /// route, else the longest prefix) and every handler of that pattern runs; routes are
    /// never replaced. [`Subscription::unsubscribe`] removes the route.
    ///
    /// ```no_run
    /// # fn demo(client: &mezon::Client) {
    /// let _route = client.on_button("vote:*", |click, _client| {
    ///     println!("{} voted {}", click.user_id, click.button_id);
    /// });
    /// # }
    /// ```
    pub fn on_button<F, R, M>(&self, pattern: &str, handler: F) -> Subscription
    where
        F: Fn(Payload<MessageButtonClicked>, Client) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        let route = self.inner.buttons.add(pattern);
        self.inner
            .dispatcher
            .on_message_button_clicked(move |click, client: Client| {
                if route.wins(&client.inner.buttons, &click.button_id) {
                    handler(click, client).into_handler_future()
                } else {
                    futures_util::future::ready(Ok(())).boxed()
                }
            })
    }

    /// Runs `handler` (sync or async) when a select whose id matches `pattern` changes; the
    /// same routing rules as [`Client::on_button`].
    pub fn on_select<F, R, M>(&self, pattern: &str, handler: F) -> Subscription
    where
        F: Fn(Payload<DropdownBoxSelected>, Client) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        let route = self.inner.selects.add(pattern);
        self.inner
            .dispatcher
            .on_dropdown_box_selected(move |selected, client: Client| {
                if route.wins(&client.inner.selects, &selected.selectbox_id) {
                    handler(selected, client).into_handler_future()
                } else {
                    futures_util::future::ready(Ok(())).boxed()
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use mezon_events::lifecycle::Ready;

    fn offline_client(grace: Duration) -> Client {
        Client::builder(1, "s3cr3t-k3y")
            .base_url("http://127.0.0.1:9")
            .shutdown_grace(grace)
            .build()
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_gives_a_stuck_handler_the_grace_period_then_stops() {
        let client = offline_client(Duration::from_secs(3));
        client.on_ready(|_ready, _client| std::future::pending::<()>());
        client
            .emit(mezon_events::Event::Ready(Arc::new(Ready::default())))
            .await;
        let started = tokio::time::Instant::now();
        client.shutdown().await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_secs(3), "{waited:?}");
        assert!(waited < Duration::from_secs(4), "{waited:?}");
        assert_eq!(*client.inner.phase.borrow(), Phase::Stopped);
    }

    #[tokio::test(start_paused = true)]
    async fn request_shutdown_from_a_handler_ends_run_until_shutdown() {
        let client = offline_client(Duration::from_secs(3));
        client.on_ready(|_ready, client: Client| client.request_shutdown());
        let runner = tokio::spawn({
            let client = client.clone();
            async move { client.run_until_shutdown().await }
        });
        client
            .emit(mezon_events::Event::Ready(Arc::new(Ready::default())))
            .await;
        tokio::time::timeout(Duration::from_secs(1), runner)
            .await
            .expect("stops without waiting for the grace period")
            .unwrap();
        assert_eq!(*client.inner.phase.borrow(), Phase::Stopped);
        // A second shutdown returns at once.
        client.shutdown().await;
    }

    #[tokio::test]
    async fn a_second_login_is_refused() {
        let server = mezon_test_server::TestServer::start(Default::default())
            .await
            .unwrap();
        let client = Client::builder(server.bot_id(), server.api_key())
            .base_url(server.base_url())
            .build()
            .unwrap();
        let (a, b) = tokio::join!(client.login(), client.login());
        assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
        assert!(matches!(a.err().or(b.err()), Some(Error::AlreadyLoggedIn)));
        client.shutdown().await;
        server.shutdown().await;
    }

    #[tokio::test]
    async fn work_before_login_fails_clearly() {
        let client = offline_client(Duration::from_secs(1));
        assert!(matches!(client.api(), Err(Error::NotLoggedIn)));
        assert!(!client.is_connected());
        assert_eq!(client.user_id(), 1);
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }
}
