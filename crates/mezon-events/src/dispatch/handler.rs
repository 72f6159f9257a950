//! How closures become handlers: sync or async, returning `()` or a `Result`.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use crate::event::Event;

/// The error a handler may return: anything convertible to a boxed error.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What a handler's outcome can be: `()` or `Result<(), E>` with `E: Into<HandlerError>`.
pub trait IntoHandlerResult {
    /// The outcome as a `Result`.
    fn into_handler_result(self) -> Result<(), HandlerError>;
}

impl IntoHandlerResult for () {
    fn into_handler_result(self) -> Result<(), HandlerError> {
        Ok(())
    }
}

impl<E: Into<HandlerError>> IntoHandlerResult for Result<(), E> {
    fn into_handler_result(self) -> Result<(), HandlerError> {
        self.map_err(Into::into)
    }
}

/// What a handler closure may return: an outcome ([`IntoHandlerResult`], for sync handlers)
/// or a future of one (async handlers). `M` is a marker ([`SyncMarker`] or [`AsyncMarker`])
/// that the compiler infers; you never name it.
pub trait HandlerReturn<M>: Send + 'static {
    /// Turns the return value into the future the dispatcher awaits.
    fn into_handler_future(self) -> BoxFuture<'static, Result<(), HandlerError>>;

    /// The outcome as the dispatcher runs it: a sync handler's result as it is (no boxed
    /// future per event), an async handler's future.
    #[doc(hidden)]
    fn into_outcome(self) -> HandlerOutcome
    where
        Self: Sized,
    {
        HandlerOutcome::Pending(self.into_handler_future())
    }
}

/// What calling a handler gave: a finished result (sync handlers) or a future to await.
#[doc(hidden)]
pub enum HandlerOutcome {
    /// The handler already ran.
    Done(Result<(), HandlerError>),
    /// The handler's future, to await.
    Pending(BoxFuture<'static, Result<(), HandlerError>>),
}

impl fmt::Debug for HandlerOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done(result) => f.debug_tuple("Done").field(result).finish(),
            Self::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

/// Marks a sync handler's [`HandlerReturn`] impl.
#[derive(Debug)]
pub enum SyncMarker {}

/// Marks an async handler's [`HandlerReturn`] impl.
#[derive(Debug)]
pub enum AsyncMarker {}

impl<R: IntoHandlerResult + Send + 'static> HandlerReturn<SyncMarker> for R {
    fn into_handler_future(self) -> BoxFuture<'static, Result<(), HandlerError>> {
        futures_util::future::ready(self.into_handler_result()).boxed()
    }

    fn into_outcome(self) -> HandlerOutcome {
        HandlerOutcome::Done(self.into_handler_result())
    }
}

impl<Fut> HandlerReturn<AsyncMarker> for Fut
where
    Fut: Future + Send + 'static,
    Fut::Output: IntoHandlerResult,
{
    fn into_handler_future(self) -> BoxFuture<'static, Result<(), HandlerError>> {
        self.map(IntoHandlerResult::into_handler_result).boxed()
    }
}

/// A handler with its argument types erased.
pub(crate) type ErasedHandler<C> = Arc<dyn Fn(Arc<Event>, C) -> HandlerOutcome + Send + Sync>;

/// A cheap, shareable handle to one event's payload; dereferences to `T`.
///
/// Every typed handler of an event gets a clone of the same handle: the payload is decoded
/// once and never copied. `Debug` shows the payload itself; messages that carry credentials
/// (such as `api::Session`) print them as `<redacted>`.
pub struct Payload<T>(Arc<T>);

impl<T> Payload<T> {
    /// Wraps a payload.
    pub fn new(payload: T) -> Self {
        Self(Arc::new(payload))
    }

    /// Shares a payload already behind an `Arc`.
    pub fn from_arc(payload: Arc<T>) -> Self {
        Self(payload)
    }

    /// The shared payload.
    pub fn into_arc(self) -> Arc<T> {
        self.0
    }
}

impl<T: Clone> Payload<T> {
    /// The payload, cloned only if other handles share it.
    pub fn into_inner(self) -> T {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<T> Clone for Payload<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Deref for Payload<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Payload<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Payload<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
