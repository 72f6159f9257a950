//! Handler failures and the hook that receives them.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, RwLock};

use crate::dispatch::handler::HandlerError;
use crate::kind::EventKind;

/// A handler returned an error or panicked.
#[derive(Debug)]
#[non_exhaustive]
pub struct HandlerFailure {
    /// The kind of the event being handled.
    pub kind: EventKind,
    /// The channel id of that event, if it has one.
    pub channel_id: Option<i64>,
    /// What went wrong.
    pub cause: FailureCause,
}

/// Why a handler failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FailureCause {
    /// It returned this error.
    Error(HandlerError),
    /// It panicked with this message.
    Panic(String),
}

impl fmt::Display for FailureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureCause::Error(e) => write!(f, "returned an error: {e}"),
            FailureCause::Panic(msg) => write!(f, "panicked: {msg}"),
        }
    }
}

impl fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "handler for {} {}", self.kind, self.cause)
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

type Hook = Arc<dyn Fn(HandlerFailure) + Send + Sync>;

/// Where failures go; `tracing::error!` until replaced.
pub(crate) struct ErrorHook(RwLock<Hook>);

impl ErrorHook {
    pub(crate) fn new() -> Self {
        Self(RwLock::new(Arc::new(log_failure)))
    }

    pub(crate) fn set(&self, hook: Hook) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = hook;
    }

    pub(crate) fn report(&self, failure: HandlerFailure) {
        let hook = Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let kind = failure.kind;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(failure)));
        if let Err(payload) = outcome {
            tracing::error!(kind = %kind, panic = %panic_message(payload.as_ref()), "the handler error hook panicked");
        }
    }
}

fn log_failure(failure: HandlerFailure) {
    tracing::error!(
        kind = %failure.kind,
        channel_id = ?failure.channel_id,
        cause = %failure.cause,
        "event handler failed"
    );
}
