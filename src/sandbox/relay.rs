//! Inside the sandbox: `dayshift sandbox-relay --socket S -- TOOL ARGS…`.
//!
//! The coding tool's network namespace has only loopback. The relay listens on a free port
//! of 127.0.0.1 there, starts the tool with `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` (both
//! cases) pointing at it and `NO_PROXY` removed, carries every connection to the
//! [`super::egress`] proxy's Unix socket outside, and exits with the tool's exit code. It
//! decides nothing: what may pass is the proxy's to say.

use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Name the program that answers `sandbox-relay`: the dayshift binary (the CLI sets it at
/// start; a test sets the binary cargo built). Without one, a confined tool keeps the
/// host's network, as a `command` without `egress` does.
pub fn set_program(path: PathBuf) {
    let _ = PROGRAM.set(path);
}

/// The program set by [`set_program`].
pub fn program() -> Option<&'static Path> {
    PROGRAM.get().map(PathBuf::as_path)
}

/// The environment variables a tool reads its proxy from.
const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// Run `argv` behind the relay; its exit code (128 + signal when killed, 127 when it
/// cannot start).
pub fn run(socket: &Path, argv: &[String]) -> i32 {
    let Some((program, args)) = argv.split_first() else {
        eprintln!("dayshift sandbox-relay: no command to run");
        return 2;
    };
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("dayshift sandbox-relay: cannot listen on 127.0.0.1: {e}");
            return 127;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let socket = socket.to_path_buf();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let socket = socket.clone();
            std::thread::spawn(move || carry(conn, &socket));
        }
    });
    let proxy = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(program);
    command
        .args(args)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for var in PROXY_VARS {
        command.env(var, &proxy);
    }
    match command.status() {
        Ok(status) => status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        }),
        Err(e) => {
            eprintln!("dayshift sandbox-relay: cannot start `{program}`: {e}");
            127
        }
    }
}

/// One connection from the tool, carried both ways to the proxy's socket.
fn carry(conn: TcpStream, socket: &Path) {
    let Ok(proxy) = UnixStream::connect(socket) else {
        let _ = conn.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut from_tool), Ok(mut to_proxy)) = (conn.try_clone(), proxy.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_tool, &mut to_proxy);
        let _ = to_proxy.shutdown(Shutdown::Write);
    });
    let (mut from_proxy, mut to_tool) = (proxy, conn);
    let _ = std::io::copy(&mut from_proxy, &mut to_tool);
    let _ = to_tool.shutdown(Shutdown::Write);
    let _ = up.join();
}
