//! The accept loop: every connection served by hyper's HTTP/1 connection with a
//! header read timeout (it runs from the moment a connection waits for a request, so
//! it is also the idle timeout of a kept-alive connection, and half a header never
//! holds a socket longer), and at most [`Limits::max_connections`] open at once. A
//! connection over the cap closes the one idle the longest (no request in progress)
//! to make room, so idle sockets, however many, never lock a client out; only when
//! every connection is busy is the new one answered 503 and closed.

use crate::Limits;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One open connection.
struct Connection {
    /// Requests in progress.
    busy: AtomicUsize,
    /// When it last became idle (or opened).
    idle_since: Mutex<Instant>,
    /// Notified to close it.
    close: Notify,
}

/// Every open connection.
#[derive(Default)]
pub(crate) struct Connections {
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next: AtomicU64,
}

impl Connections {
    /// How many are open.
    pub(crate) fn count(&self) -> usize {
        self.open.lock().map(|o| o.len()).unwrap_or(0)
    }

    /// A new connection, if one of fewer than `cap` or after closing the one idle
    /// the longest; `None` when all `cap` are busy.
    fn admit(&self, cap: usize) -> Option<(u64, Arc<Connection>)> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.len() >= cap.max(1) && !close_idlest(&mut open) {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            close: Notify::new(),
        });
        open.insert(id, connection.clone());
        Some((id, connection))
    }

    /// Closes the connection idle the longest, if any is idle.
    fn close_idle(&self) {
        close_idlest(&mut self.open.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn remove(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

/// Closes the connection of `open` idle the longest; false if none is idle.
fn close_idlest(open: &mut HashMap<u64, Arc<Connection>>) -> bool {
    let oldest = open
        .iter()
        .filter(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
        .min_by_key(|(_, c)| *c.idle_since.lock().unwrap_or_else(|e| e.into_inner()))
        .map(|(&id, _)| id);
    match oldest.and_then(|id| open.remove(&id)) {
        Some(c) => {
            c.close.notify_one();
            true
        }
        None => false,
    }
}

/// Marks a connection busy for as long as a request is in progress.
struct Busy(Arc<Connection>);

impl Busy {
    fn new(c: Arc<Connection>) -> Busy {
        c.busy.fetch_add(1, Ordering::SeqCst);
        Busy(c)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    }
}

/// The answer to a connection over the cap when every open one is busy.
fn refusal(cap: usize) -> Vec<u8> {
    let body = crate::error_json(&format!(
        "the server has {cap} connections open, the most it keeps, and every one is busy; try again"
    ))
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `app` on `listener` as the module doc says, until the process ends.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    connections: Arc<Connections>,
    limits: Limits,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors or a connection reset before it was taken:
                // close the longest idle connection, wait a moment, go on.
                if matches!(e.raw_os_error(), Some(23 | 24)) {
                    connections.close_idle();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Some((id, connection)) = connections.admit(limits.max_connections) else {
            tokio::spawn(refuse(stream, limits.max_connections));
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let watched = connection.clone();
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let busy = Busy::new(watched.clone());
            let answer = hyper::service::Service::call(&service, request);
            async move {
                let response = answer.await;
                drop(busy);
                response
            }
        });
        let serving = builder.serve_connection(TokioIo::new(stream), service);
        let connections = connections.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = serving => {}
                _ = connection.close.notified() => {}
            }
            connections.remove(id);
        });
    }
}

/// Answers 503 and closes, without waiting for a client that does not read (the
/// answer fits a fresh socket's send buffer).
async fn refuse(stream: TcpStream, cap: usize) {
    if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(1), stream.writable()).await {
        let _ = stream.try_write(&refusal(cap));
    }
}
