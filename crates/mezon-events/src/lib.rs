//! The Mezon event catalogue: one typed event per pushed `Envelope` variant, cheap kind peeking
//! on raw frames, rich message views, and the dispatcher that runs bot handlers. No I/O.
#![deny(missing_docs)]

pub use mezon_proto as proto;
