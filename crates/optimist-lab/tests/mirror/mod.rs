//! A mirror on 127.0.0.1 for the download tests (never an outside address): serves
//! files under `/mnist/`, 404 for anything else, and logs every path asked for. Shared
//! by `optimist-lab`'s download tests and the CLI's `optimist data` tests (included
//! there by path).

// Each test file uses the replies it needs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the mirror sends for a file.
#[derive(Clone)]
pub enum Reply {
    /// The bytes, whole.
    File(Vec<u8>),
    /// A header announcing all the bytes, the first `usize` of them, then a closed
    /// connection.
    Cut(Vec<u8>, usize),
    /// A header announcing all the bytes, the first `usize` of them, then nothing
    /// more while the connection stays open (longer than any test waits).
    Stall(Vec<u8>, usize),
    /// A header announcing all the bytes, then one byte every so often.
    Trickle(Vec<u8>, Duration),
    /// A 302 redirect to this address.
    Redirect(String),
}

/// The running mirror.
pub struct Mirror {
    /// Its base address, ending in `/mnist/`.
    pub url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Mirror {
    /// Starts a mirror serving `files` by name.
    pub fn start(files: Vec<(&str, Reply)>) -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/mnist/", listener.local_addr().unwrap());
        let routes: HashMap<String, Reply> = files
            .into_iter()
            .map(|(name, reply)| (format!("/mnist/{name}"), reply))
            .collect();
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&log);
        // Lives as long as the test process; a thread per connection, so that a
        // stalled one does not hold up the next.
        let routes = Arc::new(routes);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (routes, seen) = (Arc::clone(&routes), Arc::clone(&seen));
                std::thread::spawn(move || answer(stream, &routes, &seen));
            }
        });
        Mirror { url, log }
    }

    /// Every path asked for so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>, log: &Mutex<Vec<String>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
    log.lock().unwrap().push(path.clone());
    let head = |status: &str, len: usize| {
        format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
    };
    let _ = match routes.get(&path) {
        Some(Reply::File(bytes)) => stream
            .write_all(head("200 OK", bytes.len()).as_bytes())
            .and_then(|()| stream.write_all(bytes)),
        Some(Reply::Cut(bytes, sent)) => stream
            .write_all(head("200 OK", bytes.len()).as_bytes())
            .and_then(|()| stream.write_all(&bytes[..*sent])),
        Some(Reply::Stall(bytes, sent)) => {
            let _ = stream
                .write_all(head("200 OK", bytes.len()).as_bytes())
                .and_then(|()| stream.write_all(&bytes[..*sent]))
                .and_then(|()| stream.flush());
            std::thread::sleep(Duration::from_secs(120));
            Ok(())
        }
        Some(Reply::Trickle(bytes, every)) => {
            let mut result = stream.write_all(head("200 OK", bytes.len()).as_bytes());
            for b in bytes {
                if result.is_err() {
                    break;
                }
                result = stream.write_all(&[*b]).and_then(|()| stream.flush());
                std::thread::sleep(*every);
            }
            result
        }
        Some(Reply::Redirect(to)) => stream.write_all(
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        None => stream
            .write_all(head("404 Not Found", 10).as_bytes())
            .and_then(|()| stream.write_all(b"not found\n")),
    };
    let _ = stream.flush();
}
