//! `optimist serve`: the server the command starts answers races with exactly the
//! numbers `optimist compare` writes to trajectories.csv, and its options are checked.

use crate::common;

use common::{ok, optimist, scratch};
use optimist_serve::client::post;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// `optimist serve` on a free port, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> (Server, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_optimist"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut err = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut err)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("optimist serve: ")
            .unwrap_or_else(|| panic!("no URL printed: {line:?}"))
            .to_string();
        let host = url.trim_start_matches("http://").trim_end_matches('/');
        let addr = host.parse().unwrap();
        (Server { child, addr }, err)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `optimist compare ARGS`'s trajectories.csv as (optimizer, step, x, y, loss) rows.
fn compare_csv(name: &str, args: &[&str]) -> Vec<(String, usize, f64, f64, f64)> {
    let out = scratch(name);
    let mut all = vec!["compare", "--out", out.to_str().unwrap(), "--format", "svg"];
    all.extend_from_slice(args);
    ok(&optimist(&all));
    let text = std::fs::read_to_string(out.join("trajectories.csv")).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].parse().unwrap(),
            )
        })
        .collect()
}

/// The API's runs flattened as the CSV's rows.
fn api_rows(addr: SocketAddr, body: &Value) -> Vec<(String, usize, f64, f64, f64)> {
    let r = post(addr, "/api/race", body.to_string().as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let answer: optimist_serve::RaceResponse = serde_json::from_slice(&r.body).unwrap();
    answer
        .runs
        .iter()
        .flat_map(|run| {
            let name = run.name.clone();
            run.trajectory
                .iter()
                .enumerate()
                .map(move |(k, &[x, y, f])| (name.clone(), k, x, y, f))
        })
        .collect()
}

#[test]
fn races_equal_the_compare_csv_bit_for_bit() {
    let (server, _) = Server::start(&["--port", "0"]);
    let cases: Vec<(&str, Vec<&str>, Value)> = vec![
        (
            "article",
            vec![],
            json!({"optimizers": ["sgd:lr=0.95", "momentum:lr=0.1", "adagrad:lr=1.5", "adam:lr=0.3"]}),
        ),
        (
            "rosenbrock",
            vec![
                "--function",
                "rosenbrock",
                "--start=-1.5,2",
                "--steps",
                "500",
                "-o",
                "adam:lr=0.05",
                "-o",
                "nesterov:lr=0.0005",
                "-o",
                "rmsprop:lr=0.01",
            ],
            json!({"function": "rosenbrock", "start": [-1.5, 2], "steps": 500, "optimizers": ["adam:lr=0.05", "nesterov:lr=0.0005", "rmsprop:lr=0.01"]}),
        ),
        (
            "formula",
            vec![
                "--function",
                "sin(x) * cos(y) + x^2/10",
                "--window=-4,4,-3,3",
                "--start=2.5,1",
                "--steps",
                "300",
                "-o",
                "adamw:lr=0.02",
                "-o",
                "lion:learning_rate=0.01",
                "--convention",
                "pytorch",
            ],
            json!({"function": "sin(x) * cos(y) + x^2/10", "window": [-4, 4, -3, 3], "start": [2.5, 1], "steps": 300, "optimizers": ["adamw:lr=0.02", "lion:learning_rate=0.01"], "convention": "pytorch"}),
        ),
        (
            "diverging",
            vec!["--steps", "2000", "-o", "sgd:lr=2", "-o", "sgd:lr=0.1"],
            json!({"steps": 2000, "optimizers": ["sgd:lr=2", "sgd:lr=0.1"]}),
        ),
    ];
    for (name, args, body) in cases {
        let csv = compare_csv(name, &args);
        let api = api_rows(server.addr, &body);
        assert!(!csv.is_empty());
        assert_eq!(api.len(), csv.len(), "{name}: rows");
        for (a, c) in api.iter().zip(&csv) {
            // Exactly: the same bits, not merely close.
            assert_eq!(a, c, "{name}");
        }
    }
}

#[test]
fn the_url_is_printed_and_a_public_host_warned_about() {
    let (server, err) = Server::start(&["--port", "0", "--host", "0.0.0.0"]);
    assert!(
        err.starts_with("warning: listening on 0.0.0.0, which other machines can reach"),
        "{err}"
    );
    assert!(server.addr.port() > 0);
    let (local, err) = Server::start(&["--port", "0"]);
    assert_eq!(local.addr.ip().to_string(), "127.0.0.1");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn bad_options_are_usage_errors() {
    let out = optimist(&["serve", "--host", "no such host!", "--port", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--host 'no such host!' is not an address"),
        "{err}"
    );
    let out = optimist(&["serve", "--port", "70000"]);
    assert_eq!(out.status.code(), Some(2));
}
