//! End-to-end benchmarks of mezon-rs live in `benches/`; this library is empty.
