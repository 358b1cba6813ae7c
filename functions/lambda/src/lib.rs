//! The Lambda adapter's event translation as a library: the binary (`main.rs`) and the fuzz
//! target `lambda_event` (`fuzz/`) share it, so the fuzzer drives the exact code Lambda runs.

pub mod event;
