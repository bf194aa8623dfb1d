//! The server under load: `cargo bench -p optimist-serve --bench load`.
//!
//! A server of this process on 127.0.0.1 answers `POST /api/race` for 6 optimizers ×
//! 1,000 steps on Rosenbrock (the page's target case): first from one client, as the
//! page sends them, then from 8 concurrent clients × 500 requests each. It prints p50
//! and p99 latency, the errors (the run fails if there is any), and as the baseline
//! measured in the same run, the same race computed and encoded in-process.
//!
//! `LOAD_CLIENTS` and `LOAD_REQUESTS` change the load (8 and 500).

use optimist_serve::client::post;
use optimist_serve::{spawn, Limits, RaceRequest, RaceResponse};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const OPTIMIZERS: [&str; 6] = [
    "sgd:lr=0.001",
    "momentum:lr=0.0005",
    "nesterov:lr=0.0005",
    "adagrad:lr=0.1",
    "rmsprop:lr=0.005",
    "adam:lr=0.02",
];

fn body(k: usize) -> String {
    // Each request from another start, as a drag sends them.
    let x = -1.5 + 0.001 * (k % 1000) as f64;
    serde_json::json!({
        "function": "rosenbrock",
        "start": [x, 2.0],
        "steps": 1000,
        "optimizers": OPTIMIZERS,
    })
    .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = env("LOAD_CLIENTS", 8);
    let requests = env("LOAD_REQUESTS", 500);
    let addr = spawn(Limits::default()).expect("start the server");

    // Baseline: the same work in-process, no HTTP: check, race, encode.
    let mut direct = Vec::new();
    for k in 0..200 {
        let request: RaceRequest = serde_json::from_str(&body(k)).unwrap();
        let t = Instant::now();
        let runs = request
            .check()
            .unwrap()
            .run(&AtomicBool::new(false))
            .unwrap();
        let bytes = serde_json::to_vec(&RaceResponse::new(&runs)).unwrap();
        std::hint::black_box(bytes);
        direct.push(t.elapsed());
    }
    direct.sort();
    let base = percentile(&direct, 0.5);

    // One client, as the page.
    let mut single = Vec::new();
    let mut size = 0;
    for k in 0..200 {
        let b = body(k);
        let t = Instant::now();
        let r = post(addr, "/api/race", b.as_bytes()).expect("request");
        single.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
        size = r.body.len();
    }
    single.sort();
    let p50 = percentile(&single, 0.5);
    println!(
        "one client, 6 optimizers × 1,000 steps ({} KB answers): p50 {:.2} ms, p99 {:.2} ms (target ≤ 20 ms); in-process baseline p50 {:.2} ms; ratio {:.2}",
        size / 1024,
        ms(p50),
        ms(percentile(&single, 0.99)),
        ms(base),
        p50.as_secs_f64() / base.as_secs_f64()
    );

    // Concurrent clients.
    let failed = std::sync::Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let failed = failed.clone();
            std::thread::spawn(move || {
                let mut times = Vec::with_capacity(requests);
                let mut errors = Vec::new();
                for k in 0..requests {
                    let b = body(c * requests + k);
                    let t = Instant::now();
                    match post(addr, "/api/race", b.as_bytes()) {
                        Ok(r) if r.status == 200 => times.push(t.elapsed()),
                        Ok(r) => errors.push(format!("status {}: {}", r.status, r.text())),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                if !errors.is_empty() {
                    failed.store(true, Ordering::Relaxed);
                }
                (times, errors)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut errors = Vec::new();
    for h in handles {
        let (t, e) = h.join().expect("a client thread");
        times.extend(t);
        errors.extend(e);
    }
    let wall = started.elapsed();
    times.sort();
    println!(
        "{clients} clients × {requests} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors; {:.0} requests/s; p50 / in-process baseline {:.2}",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        errors.len(),
        times.len() as f64 / wall.as_secs_f64(),
        percentile(&times, 0.5).as_secs_f64() / base.as_secs_f64()
    );
    if let Some(e) = errors.first() {
        eprintln!("first error: {e}");
        std::process::exit(1);
    }
}
