//! What a hostile client cannot do: make work outlive its answer, hold connections
//! open, drive the server from another site's page, read another client's search, or
//! ask for more work than the budget.

use optimist_serve::client::{get, post, raw, Response};
use optimist_serve::{spawn, Limits};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The issue's export: 20 optimizers × 20,000 steps on Rastrigin as a GIF (0.6 KB).
fn big_gif() -> String {
    let specs: Vec<String> = (0..20)
        .map(|k| format!("sgd:lr=0.00{}", k % 9 + 1))
        .collect();
    json!({"function": "rastrigin", "steps": 20_000, "optimizers": specs}).to_string()
}

/// A formula of `terms` terms: each step on it costs about `terms` times more than x².
fn long_formula(terms: usize) -> String {
    (1..=terms)
        .map(|k| format!("sin(x/{k})*cos(y/{k})"))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn status(addr: SocketAddr) -> Value {
    get(addr, "/api/status").unwrap().json().unwrap()
}

/// Waits until `/api/status`'s `key` is `want`, for at most `limit`; how long it took.
fn until(addr: SocketAddr, key: &str, want: u64, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let s = status(addr);
        if s[key] == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{key} still {} after {limit:?}: {s}",
            s[key]
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A POST of `body` with `headers`, as raw bytes.
fn request(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &str) -> Response {
    let mut head = format!("POST {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| *n == "Host") {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    raw(addr, head.as_bytes()).unwrap()
}

fn json_type() -> (&'static str, String) {
    ("Content-Type", "application/json".into())
}

fn error(r: &Response) -> String {
    r.json().unwrap()["error"].as_str().unwrap().to_string()
}

#[test]
fn over_budget_work_is_refused_up_front_with_the_limit() {
    let addr = spawn(Limits::default()).unwrap();
    let started = Instant::now();
    let r = post(addr, "/api/export/gif", big_gif().as_bytes()).unwrap();
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(started.elapsed() < Duration::from_secs(1));
    let e = error(&r);
    assert!(
        e.contains("this animation is 4012200000 units of work (20 run(s) × 20000 steps × 30 per step (5 for f and its gradient, 25 for the update) + 400020 points × 20 trail(s) × 500 to animate); at most 300000000 here: ask for fewer steps or optimizers"),
        "{e}"
    );
    // Its race alone fits, the animation does not.
    let race = post(addr, "/api/race", big_gif().as_bytes()).unwrap();
    assert_eq!(race.status, 200);
    // A long formula costs more per step than a built-in: the same race is refused.
    let body = json!({"function": long_formula(40), "steps": 100_000,
                      "optimizers": vec!["adam:lr=0.01"; 20]});
    let r = post(addr, "/api/race", body.to_string().as_bytes()).unwrap();
    assert_eq!(r.status, 400);
    let e = error(&r);
    assert!(e.contains("20 run(s) × 100000 steps × "), "{e}");
    let body = json!({"steps": 100_000, "optimizers": vec!["adam:lr=0.01"; 20]});
    assert_eq!(
        post(addr, "/api/race", body.to_string().as_bytes())
            .unwrap()
            .status,
        200
    );
    assert_eq!(status(addr)["jobs"], 0);
}

#[test]
fn a_gif_whose_client_left_stops_working() {
    // The budget raised so that the issue's export runs, and a deadline far off.
    let addr = spawn(Limits {
        timeout: Duration::from_secs(120),
        budget: u64::MAX,
        ..Limits::default()
    })
    .unwrap();
    let body = big_gif();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /api/export/gif HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    until(addr, "jobs", 1, Duration::from_secs(10));
    // Still working a second later: the work is long.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(status(addr)["jobs"], 1);
    drop(stream);
    let stopped = until(addr, "jobs", 0, Duration::from_secs(5));
    println!("the export stopped {stopped:?} after its client left");
}

#[test]
fn work_cut_off_at_its_deadline_stops_with_its_answer() {
    let addr = spawn(Limits {
        timeout: Duration::from_millis(500),
        budget: u64::MAX,
        max_jobs: 2,
        ..Limits::default()
    })
    .unwrap();
    // The issue's GIF alone: answered at the deadline, and its drawing stops with it.
    let started = Instant::now();
    let r = post(addr, "/api/export/gif", big_gif().as_bytes()).unwrap();
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(error(&r).contains("the export took longer than 0.5 s and was cut off"));
    let stopped = until(addr, "jobs", 0, Duration::from_millis(500));
    println!(
        "the GIF was answered after {:?} and stopped {stopped:?} later",
        started.elapsed()
    );
    let slow = json!({"function": long_formula(40), "steps": 100_000,
                      "optimizers": vec!["adam:lr=0.01"; 20]})
    .to_string();
    // Four at once on two slots: never more than two run.
    let mut clients = Vec::new();
    for path in [
        "/api/export/svg",
        "/api/race",
        "/api/export/png",
        "/api/race",
    ] {
        let body = slow.clone();
        clients.push(std::thread::spawn(move || {
            post(addr, path, body.as_bytes()).unwrap()
        }));
    }
    let mut most = 0;
    while !clients.iter().all(|c| c.is_finished()) {
        most = most.max(status(addr)["jobs"].as_u64().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(most, 2, "two slots, two jobs at most");
    for c in clients {
        let r = c.join().unwrap();
        assert_eq!(r.status, 503, "{}", r.text());
    }
    let stopped = until(addr, "jobs", 0, Duration::from_secs(2));
    println!("the work stopped {stopped:?} after its answers");
}

#[test]
fn a_search_nobody_polls_is_cancelled_and_searches_are_capped() {
    let addr = spawn(Limits {
        tune_abandon: Duration::from_millis(400),
        max_tunes: 1,
        ..Limits::default()
    })
    .unwrap();
    let long = json!({"function": long_formula(30), "steps": 5_000, "trials": 50,
                      "optimizers": vec!["adam"; 4], "score": "loss"})
    .to_string();
    let r = post(addr, "/api/tune", long.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json().unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(status(addr)["tunes"], 1);
    // One search at a time here: a second is refused until the first is over.
    let second = post(addr, "/api/tune", long.as_bytes()).unwrap();
    assert_eq!(second.status, 503, "{}", second.text());
    assert_eq!(second.header("retry-after"), Some("1"));
    assert!(error(&second).contains("1 searches are running"));
    // Nobody asks about the first: it stops.
    until(addr, "tunes", 0, Duration::from_secs(5));
    until(addr, "jobs", 0, Duration::from_secs(1));
    let s = get(addr, &format!("/api/tune/{id}"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(s["finished"], true);
    assert!(s["error"]
        .as_str()
        .unwrap()
        .contains("cancelled: nobody asked for its progress for 0.4 s"));
    assert!(s["done"].as_u64().unwrap() < 200, "{s}");
}

#[test]
fn search_ids_are_unguessable_and_read_strictly() {
    let addr = spawn(Limits::default()).unwrap();
    let r = post(
        addr,
        "/api/tune",
        br#"{"optimizers": ["sgd"], "trials": 4}"#,
    )
    .unwrap();
    let id = r.json().unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let r2 = post(
        addr,
        "/api/tune",
        br#"{"optimizers": ["sgd"], "trials": 4}"#,
    )
    .unwrap();
    assert_ne!(r2.json().unwrap()["id"].as_str().unwrap(), id);
    assert_eq!(get(addr, &format!("/api/tune/{id}")).unwrap().status, 200);
    let upper = id.to_uppercase();
    let plus = format!("+{}", &id[1..]);
    let longer = format!("0{id}");
    for bad in [
        "0",
        "1",
        "+1",
        "01",
        "%2B1",
        &upper,
        &plus,
        &longer,
        &id[1..],
    ] {
        let r = get(addr, &format!("/api/tune/{bad}")).unwrap();
        assert_eq!(r.status, 404, "{bad}: {}", r.text());
        assert!(error(&r).contains("ids are the 32 lower-case hex digits"));
    }
}

#[test]
fn other_sites_pages_and_hosts_are_refused() {
    let addr = spawn(Limits::default()).unwrap();
    let port = addr.port();
    let body = r#"{"optimizers": ["sgd:lr=0.95"]}"#;
    // A form or text post needs no preflight: refused for its type.
    for kind in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = request(addr, "/api/race", &[("Content-Type", kind.into())], body);
        assert_eq!(r.status, 415, "{kind}: {}", r.text());
        assert!(error(&r).contains("must be JSON sent with Content-Type: application/json"));
    }
    let r = request(addr, "/api/race", &[], body);
    assert_eq!(r.status, 415);
    assert!(error(&r).contains("none was given"));
    // Another site's page.
    for origin in [
        "http://attacker.example".to_string(),
        "null".into(),
        format!("https://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{}", port + 1),
    ] {
        let r = request(
            addr,
            "/api/race",
            &[json_type(), ("Origin", origin.clone())],
            body,
        );
        assert_eq!(r.status, 403, "{origin}: {}", r.text());
        assert!(
            error(&r).contains("only the server's own page"),
            "{}",
            r.text()
        );
    }
    // A name rebound to 127.0.0.1 (DNS rebinding), for the page and the API.
    let r = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 403);
    assert!(error(&r).contains("does not answer to the host 'attacker.example'"));
    for host in ["attacker.example".to_string(), format!("evil:{port}")] {
        let r = request(addr, "/api/race", &[json_type(), ("Host", host)], body);
        assert_eq!(r.status, 403);
    }
    // Its own names and page are answered.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
    ] {
        let origin = format!("http://{host}");
        let r = request(
            addr,
            "/api/race",
            &[
                ("Content-Type", "application/json; charset=utf-8".into()),
                ("Host", host),
                ("Origin", origin),
            ],
            body,
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

#[test]
fn a_declared_body_over_the_limit_is_refused_before_it_is_sent() {
    let addr = spawn(Limits::default()).unwrap();
    let started = Instant::now();
    let r = raw(
        addr,
        format!(
            "POST /api/race HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(error(&r).contains("the request body is 100000000 bytes, over 64 KiB"));
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Reads from `stream` until the server closes it; how long that took and what came.
fn closed_after(mut stream: TcpStream) -> (Duration, String) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    (start.elapsed(), String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn slow_and_idle_clients_are_closed_in_time() {
    let addr = spawn(Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .unwrap();
    // Half a header.
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"POST /api/race HTTP/1.1\r\nHost: 127.0")
        .unwrap();
    // Nothing at all.
    let idle = TcpStream::connect(addr).unwrap();
    // Half a body.
    let mut body = TcpStream::connect(addr).unwrap();
    write!(
        body,
        "POST /api/race HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"optim"
    )
    .unwrap();
    // A kept-alive connection after its answer.
    let mut kept = TcpStream::connect(addr).unwrap();
    write!(kept, "GET /api/landscapes HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    for (name, stream) in [("half a header", half), ("idle", idle)] {
        let (time, _) = closed_after(stream);
        assert!(time < Duration::from_secs(2), "{name}: open {time:?}");
    }
    let (time, answer) = closed_after(body);
    assert!(time < Duration::from_secs(2), "half a body: open {time:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the request body did not arrive within 0.3 s"));
    let (time, answer) = closed_after(kept);
    assert!(time < Duration::from_secs(2), "kept alive: open {time:?}");
    assert!(answer.starts_with("HTTP/1.1 200"));
    // None left open but the status request's own.
    until(addr, "connections", 1, Duration::from_secs(1));
}

#[test]
fn a_thousand_idle_sockets_leave_room_for_a_real_client() {
    let cap = 64;
    let addr = spawn(Limits {
        max_connections: cap,
        header_timeout: Duration::from_secs(600),
        ..Limits::default()
    })
    .unwrap();
    // 1,100 sockets that send nothing, or half a header, and wait.
    let mut idle = Vec::new();
    for k in 0..1100 {
        let mut s = TcpStream::connect(addr).unwrap();
        if k % 2 == 0 {
            s.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
        }
        idle.push(s);
    }
    // A real client is answered, and the server holds no more than its cap.
    let started = Instant::now();
    let r = post(addr, "/api/race", br#"{"optimizers": ["adam:lr=0.3"]}"#).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    println!(
        "answered in {:?} beside 1100 idle sockets",
        started.elapsed()
    );
    let open = status(addr)["connections"].as_u64().unwrap();
    assert!(open <= cap as u64, "{open} connections open");
    // The oldest idle ones were closed to make room.
    let mut first = idle.swap_remove(0);
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Closed: the end of the stream, or a reset for the half header it left unread.
    match first.read(&mut [0u8; 16]) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
}
