//! The server's checks of a request before any work (headers, body, spec, formula,
//! budget, tune id): any bytes are accepted or refused with a status and a message,
//! never a panic. The input is `METHOD PATH`, header lines, a blank line, the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optimist_serve::{vet, Limits};

fuzz_target!(|data: &[u8]| {
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    let Ok(head) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 2..).unwrap_or_default();
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, path) = first.split_once(' ').unwrap_or(("POST", first));
    let headers: Vec<(&str, &str)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()))
        .collect();
    // A small budget: a request that passes costs little to check.
    let limits = Limits {
        budget: 1_000_000,
        tune_budget: 1_000_000,
        ..Limits::default()
    };
    if let Err(e) = vet(method, path, &headers, body, &limits) {
        assert!(!e.message.is_empty());
        assert!(e.status.is_client_error() || e.status.is_server_error());
    }
});
