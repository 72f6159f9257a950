//! Request/answer correlation for one connection: cid allocation in 1..=65535 (wrapping and
//! skipping cids in flight), the pending map cid → waiting caller, and raw answer reassembly.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use tokio::sync::oneshot;

use crate::budget::{Budget, Charge};
use crate::error::RequestError;
use crate::frame::RawChunk;
use crate::proto::realtime::Envelope;

/// Highest cid: raw answers carry the cid as a u16.
pub(crate) const MAX_CID: u16 = u16::MAX;

/// What a request gets back.
#[derive(Debug)]
pub(crate) enum Answer {
    /// An envelope with the request's cid.
    Envelope(Box<Envelope>),
    /// A reassembled raw API answer.
    Raw {
        /// 0 = OK.
        status: u16,
        /// The concatenated payload.
        payload: Bytes,
    },
}

type Reply = oneshot::Sender<Result<Answer, RequestError>>;

struct Slot {
    serial: u64,
    reply: Reply,
    chunks: BytesMut,
    /// What `chunks` holds, drawn from the transport's memory budget.
    charge: Option<Charge>,
}

struct Inner {
    next_cid: u16,
    next_serial: u64,
    slots: HashMap<u16, Slot>,
    /// Set once the connection is gone: new registrations fail.
    closed: Option<RequestError>,
}

/// The in-flight requests of one connection.
pub(crate) struct Pending {
    inner: Mutex<Inner>,
    max_answer_size: usize,
    budget: Arc<Budget>,
    unknown_answers: AtomicU64,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("in_flight", &self.len())
            .field("unknown_answers", &self.unknown_answers())
            .finish()
    }
}

/// A registered request. Dropping it frees the cid (unless the answer already did).
#[derive(Debug)]
pub(crate) struct PendingRequest {
    pending: Arc<Pending>,
    cid: u16,
    serial: u64,
    answer: Option<oneshot::Receiver<Result<Answer, RequestError>>>,
}

impl PendingRequest {
    pub(crate) fn cid(&self) -> u16 {
        self.cid
    }

    /// Waits for the answer (or the connection's end). Cancel-safe: dropping frees the cid.
    pub(crate) async fn answer(&mut self) -> Result<Answer, RequestError> {
        let Some(rx) = self.answer.as_mut() else {
            return Err(RequestError::ConnectionLost);
        };
        let result = rx.await.unwrap_or(Err(RequestError::ConnectionLost));
        self.answer = None;
        result
    }
}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        let mut inner = self.pending.lock();
        // The cid may already belong to a newer request; remove only our own slot.
        if inner
            .slots
            .get(&self.cid)
            .is_some_and(|s| s.serial == self.serial)
        {
            inner.slots.remove(&self.cid);
        }
    }
}

impl Pending {
    /// Without a shared budget (each answer still at most `max_answer_size`).
    #[cfg(test)]
    pub(crate) fn new(max_answer_size: usize) -> Arc<Self> {
        Self::with_budget(max_answer_size, Budget::new(usize::MAX))
    }

    /// Reassembly draws from `budget`, shared with the rest of the transport.
    pub(crate) fn with_budget(max_answer_size: usize, budget: Arc<Budget>) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                next_cid: 1,
                next_serial: 0,
                slots: HashMap::new(),
                closed: None,
            }),
            max_answer_size,
            budget,
            unknown_answers: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding this lock; recover the data if something ever did.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Allocates a cid and registers a waiting caller.
    pub(crate) fn register(self: &Arc<Self>) -> Result<PendingRequest, RequestError> {
        let mut inner = self.lock();
        if let Some(error) = &inner.closed {
            return Err(error.clone());
        }
        let mut cid = None;
        for _ in 0..MAX_CID {
            let candidate = inner.next_cid;
            inner.next_cid = if candidate == MAX_CID {
                1
            } else {
                candidate + 1
            };
            if !inner.slots.contains_key(&candidate) {
                cid = Some(candidate);
                break;
            }
        }
        let cid = cid.ok_or(RequestError::TooManyInFlight)?;
        let serial = inner.next_serial;
        inner.next_serial += 1;
        let (reply, answer) = oneshot::channel();
        inner.slots.insert(
            cid,
            Slot {
                serial,
                reply,
                chunks: BytesMut::new(),
                charge: None,
            },
        );
        Ok(PendingRequest {
            pending: Arc::clone(self),
            cid,
            serial,
            answer: Some(answer),
        })
    }

    /// Routes an envelope answer (cid ≠ 0). Unknown cids are counted and dropped.
    pub(crate) fn resolve_envelope(&self, envelope: Envelope) {
        let slot = u16::try_from(envelope.cid)
            .ok()
            .and_then(|cid| self.lock().slots.remove(&cid));
        match slot {
            // The caller may have given up just now; nothing to do then.
            Some(slot) => drop(slot.reply.send(Ok(Answer::Envelope(Box::new(envelope))))),
            None => self.count_unknown(envelope.cid.into()),
        }
    }

    /// Adds a raw answer chunk; the final chunk completes the request.
    pub(crate) fn on_raw_chunk(&self, chunk: RawChunk) {
        let mut inner = self.lock();
        let Some(slot) = inner.slots.get_mut(&chunk.cid) else {
            drop(inner);
            self.count_unknown(chunk.cid.into());
            return;
        };
        let too_large = slot.chunks.len() + chunk.payload.len() > self.max_answer_size;
        // Only chunks that are kept draw from the budget (a final chunk of a one-chunk
        // answer is handed over as it is).
        let over_budget = !chunk.fin
            && !slot
                .charge
                .get_or_insert_with(|| Charge::new(&self.budget))
                .try_grow(chunk.payload.len());
        if too_large || over_budget {
            let max = if too_large {
                self.max_answer_size
            } else {
                self.budget.limit()
            };
            if let Some(slot) = inner.slots.remove(&chunk.cid) {
                tracing::warn!(cid = chunk.cid, max, "raw answer exceeds its limit");
                let _ = slot.reply.send(Err(RequestError::AnswerTooLarge { max }));
            }
            return;
        }
        if !chunk.fin {
            slot.chunks.extend_from_slice(&chunk.payload);
            return;
        }
        if let Some(mut slot) = inner.slots.remove(&chunk.cid) {
            let payload = if slot.chunks.is_empty() {
                chunk.payload
            } else {
                slot.chunks.extend_from_slice(&chunk.payload);
                slot.chunks.freeze()
            };
            let _ = slot.reply.send(Ok(Answer::Raw {
                status: chunk.status,
                payload,
            }));
        }
    }

    /// Fails every in-flight request and refuses new ones.
    pub(crate) fn close(&self, error: RequestError) {
        let slots: Vec<Slot> = {
            let mut inner = self.lock();
            inner.closed.get_or_insert(error.clone());
            inner.slots.drain().map(|(_, slot)| slot).collect()
        };
        for slot in slots {
            let _ = slot.reply.send(Err(error.clone()));
        }
    }

    /// Requests in flight.
    pub(crate) fn len(&self) -> usize {
        self.lock().slots.len()
    }

    /// Answers dropped because no request waited for their cid.
    pub(crate) fn unknown_answers(&self) -> u64 {
        self.unknown_answers.load(Ordering::Relaxed)
    }

    fn count_unknown(&self, cid: i64) {
        self.unknown_answers.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(cid, "dropped an answer for a cid nobody waits for");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::realtime::{Pong, envelope::Message};

    fn pong(cid: i32) -> Envelope {
        Envelope {
            cid,
            message: Some(Message::Pong(Pong {})),
        }
    }

    fn raw(cid: u16, status: u16, fin: bool, payload: &'static [u8]) -> RawChunk {
        RawChunk {
            cid,
            status,
            fin,
            payload: Bytes::from_static(payload),
        }
    }

    #[tokio::test]
    async fn cids_wrap_and_skip_those_in_flight() {
        let pending = Pending::new(1024);
        let held = pending.register().expect("cid");
        assert_eq!(held.cid(), 1);
        for expected in 2..=MAX_CID {
            let request = pending.register().expect("cid");
            assert_eq!(request.cid(), expected);
        }
        // Wrapped: 1 is still in flight, so 2 comes next.
        let next = pending.register().expect("cid");
        assert_eq!(next.cid(), 2);
        assert_eq!(pending.len(), 2);
        drop(next);
        drop(held);
        assert_eq!(pending.len(), 0);
    }

    #[tokio::test]
    async fn all_cids_in_flight_is_an_error() {
        let pending = Pending::new(1024);
        let held: Vec<_> = (0..MAX_CID)
            .map(|_| pending.register().expect("cid"))
            .collect();
        assert!(matches!(
            pending.register(),
            Err(RequestError::TooManyInFlight)
        ));
        drop(held);
        assert!(pending.register().is_ok());
    }

    #[tokio::test]
    async fn answer_reaches_its_caller_and_unknown_cids_are_counted() {
        let pending = Pending::new(1024);
        let mut request = pending.register().expect("cid");
        pending.resolve_envelope(pong(999));
        pending.resolve_envelope(pong(-3));
        assert_eq!(pending.unknown_answers(), 2);
        pending.resolve_envelope(pong(i32::from(request.cid())));
        assert!(matches!(request.answer().await, Ok(Answer::Envelope(e)) if e.cid == 1));
        assert_eq!(pending.len(), 0);
    }

    #[tokio::test]
    async fn dropping_a_resolved_request_leaves_a_reused_cid_alone() {
        let pending = Pending::new(1024);
        let first = pending.register().expect("cid");
        pending.resolve_envelope(pong(1));
        // Force the allocator to hand out cid 1 again while `first` is still alive.
        for _ in 2..=MAX_CID {
            drop(pending.register().expect("cid"));
        }
        let second = pending.register().expect("cid");
        assert_eq!(second.cid(), 1);
        drop(first);
        assert_eq!(pending.len(), 1, "the newer request keeps its slot");
    }

    #[tokio::test]
    async fn raw_chunks_reassemble_in_order() {
        let pending = Pending::new(1024);
        let mut request = pending.register().expect("cid");
        pending.on_raw_chunk(raw(1, 0, false, b"ab"));
        pending.on_raw_chunk(raw(1, 0, false, b"cd"));
        pending.on_raw_chunk(raw(1, 0, true, b"e"));
        match request.answer().await {
            Ok(Answer::Raw { status, payload }) => {
                assert_eq!((status, payload.as_ref()), (0, b"abcde".as_ref()));
            }
            other => panic!("unexpected {other:?}"),
        }
        pending.on_raw_chunk(raw(1, 0, true, b"late"));
        assert_eq!(pending.unknown_answers(), 1);
    }

    #[tokio::test]
    async fn oversized_raw_answers_fail_the_request() {
        let pending = Pending::new(4);
        let mut request = pending.register().expect("cid");
        pending.on_raw_chunk(raw(1, 0, false, b"abc"));
        pending.on_raw_chunk(raw(1, 0, false, b"de"));
        assert!(matches!(
            request.answer().await,
            Err(RequestError::AnswerTooLarge { max: 4 })
        ));
        assert_eq!(pending.len(), 0);
    }

    #[tokio::test]
    async fn reassembly_draws_from_the_shared_budget() {
        let budget = Budget::new(6);
        let pending = Pending::with_budget(1 << 20, Arc::clone(&budget));
        let mut first = pending.register().unwrap();
        let mut second = pending.register().unwrap();
        pending.on_raw_chunk(raw(first.cid(), 0, false, b"abcd"));
        assert_eq!(budget.used(), 4);
        // The second answer's chunk does not fit next to the first one's.
        pending.on_raw_chunk(raw(second.cid(), 0, false, b"efg"));
        assert!(matches!(
            second.answer().await,
            Err(RequestError::AnswerTooLarge { max: 6 })
        ));
        pending.on_raw_chunk(raw(first.cid(), 0, true, b"!"));
        assert!(matches!(first.answer().await, Ok(Answer::Raw { .. })));
        assert_eq!(budget.used(), 0, "a completed answer gives its bytes back");
        let third = pending.register().unwrap();
        pending.on_raw_chunk(raw(third.cid(), 0, false, b"xyz"));
        drop(third);
        assert_eq!(budget.used(), 0, "so does a request given up on");
    }

    #[tokio::test]
    async fn close_fails_everything_at_once() {
        let pending = Pending::new(1024);
        let mut a = pending.register().expect("cid");
        let mut b = pending.register().expect("cid");
        pending.close(RequestError::ConnectionLost);
        assert!(matches!(
            a.answer().await,
            Err(RequestError::ConnectionLost)
        ));
        assert!(matches!(
            b.answer().await,
            Err(RequestError::ConnectionLost)
        ));
        assert!(matches!(
            pending.register(),
            Err(RequestError::ConnectionLost)
        ));
    }
}
