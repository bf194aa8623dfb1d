//! `optimist serve`: the live playground in the browser (the `optimist-serve` crate),
//! on a local address.

use crate::Failure;
use std::net::{SocketAddr, ToSocketAddrs};

/// Options of `optimist serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on; anything but a loopback address lets other machines in
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    host: String,

    /// The port to listen on (0 for any free one)
    #[arg(long, value_name = "PORT", default_value_t = 8765)]
    port: u16,

    /// Open the page in the default browser once listening.
    #[arg(long)]
    open: bool,
}

/// Listens, prints the URL, then serves until interrupted.
pub fn run(args: Args) -> Result<(), Failure> {
    let addr: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--host {} is not an address or a name this machine can resolve; e.g. --host 127.0.0.1",
                optimist_lab::text::quoted(&args.host)
            ))
        })?;
    if !addr.ip().is_loopback() {
        say!(
            "warning: listening on {}, which other machines can reach: anyone there may run races on this machine; use --host 127.0.0.1 to keep it local",
            addr.ip()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the server: {e}")).because(e))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Failure::runtime(format!(
                "cannot listen on {addr}: {e}; choose another with --port (or --host)"
            ))
            .because(e)
        })?;
        let bound = listener.local_addr().map_err(|e| {
            Failure::runtime(format!("cannot read the address listened on: {e}")).because(e)
        })?;
        let url = match bound {
            SocketAddr::V6(a) => format!("http://[{}]:{}/", a.ip(), a.port()),
            SocketAddr::V4(a) => format!("http://{a}/"),
        };
        crate::stdio::print(&format!("optimist serve: {url}\n"))?;
        say!("serving the playground; Ctrl-C stops it");
        if args.open {
            open(&url);
        }
        // Requests must name this server: the --host given counts as one of its names.
        let names = [args.host.clone()];
        optimist_serve::serve(listener, optimist_serve::Limits::default(), &names)
            .await
            .map_err(|e| Failure::runtime(format!("the server stopped: {e}")).because(e))
    })
}

/// Opens `url` in the default browser, or says how to.
fn open(url: &str) {
    let command = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(command)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        say!("warning: cannot open a browser ({command}: {e}); open {url} yourself");
    }
}
