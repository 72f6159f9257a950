//! A local Mezon server that speaks the wire protocol over loopback, for the SDK's own tests,
//! the offline quickstart, and bot authors' tests.
#![deny(missing_docs)]
