//! A webhook receiver on 127.0.0.1, for classes: action groups need an endpoint that
//! answers, and a trainer's laptop rarely has one. `sim webhook listen` starts one in the
//! console's process; it answers every POST with 200 and keeps the last bodies it got, so a
//! class can read the alert's payload (`sim webhook received`). Loopback only, bounded
//! (request size, read time, bodies kept, receivers per process).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Receivers one process may run.
pub const MAX_RECEIVERS: usize = 8;
/// Bodies kept per receiver (the oldest go first).
const KEPT: usize = 100;
/// The largest request body read (an alert payload is a few KB).
const MAX_BODY: usize = 1 << 20;
/// The largest request head read.
const MAX_HEAD: usize = 64 * 1024;

/// One request a receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub url: String,
    pub method: String,
    pub path: String,
    pub body: String,
}

struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

fn receivers() -> &'static Mutex<Vec<Receiver>> {
    static ALL: OnceLock<Mutex<Vec<Receiver>>> = OnceLock::new();
    ALL.get_or_init(|| Mutex::new(Vec::new()))
}

/// Starts a receiver on 127.0.0.1:`port` (0: any free port) and returns its URL
/// (`http://127.0.0.1:PORT/hook`).
pub fn listen(port: u16) -> Result<String, String> {
    let mut all = receivers()
        .lock()
        .map_err(|_| "the receivers' lock is poisoned")?;
    if all.len() >= MAX_RECEIVERS {
        return Err(format!(
            "{MAX_RECEIVERS} webhook receivers already run in this console; use one of them."
        ));
    }
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("Cannot listen on 127.0.0.1:{port}: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let got = Arc::new(Mutex::new(Vec::new()));
    let (thread_url, thread_got) = (url.clone(), got.clone());
    std::thread::Builder::new()
        .name(format!("webhook-receiver-{port}"))
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(r) = serve(stream, &thread_url)
                    && let Ok(mut kept) = thread_got.lock()
                {
                    if kept.len() >= KEPT {
                        kept.remove(0);
                    }
                    kept.push(r);
                }
            }
        })
        .map_err(|e| e.to_string())?;
    all.push(Receiver {
        url: url.clone(),
        got,
    });
    Ok(url)
}

/// Every request the receivers of this process got, oldest first per receiver.
pub fn received() -> Vec<Received> {
    let Ok(all) = receivers().lock() else {
        return Vec::new();
    };
    all.iter()
        .flat_map(|r| r.got.lock().map(|g| g.clone()).unwrap_or_default())
        .collect()
}

/// The URLs of the receivers running in this process.
pub fn urls() -> Vec<String> {
    receivers()
        .lock()
        .map(|all| all.iter().map(|r| r.url.clone()).collect())
        .unwrap_or_default()
}

/// Reads one request and answers it: 200 for a POST, 405 for anything else, 400 for what
/// is not HTTP or is too large.
fn serve(stream: TcpStream, url: &str) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = 0usize;
    let mut request_line = String::new();
    head += reader.read_line(&mut request_line).ok()?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).ok()?;
        head += n;
        if n == 0 || head > MAX_HEAD {
            return answer(stream, "400 Bad Request", None);
        }
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(usize::MAX);
        }
    }
    if method.is_empty() || length > MAX_BODY {
        return answer(stream, "400 Bad Request", None);
    }
    if method != "POST" {
        return answer(stream, "405 Method Not Allowed", None);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let r = Received {
        url: url.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    answer(stream, "200 OK", Some(r))
}

fn answer(mut stream: TcpStream, status: &str, r: Option<Received>) -> Option<Received> {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.flush();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receiver_keeps_what_is_posted_and_refuses_other_methods() {
        let url = listen(0).expect("listens");
        let port = url.trim_start_matches("http://127.0.0.1:");
        let port = port.trim_end_matches("/hook");
        let mut s = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connects");
        write!(
            s,
            "POST /hook HTTP/1.1\r\nContent-Length: 7\r\n\r\n{{\"a\":1}}"
        )
        .unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        let mut s = TcpStream::connect(format!("127.0.0.1:{port}")).expect("connects");
        write!(s, "GET /hook HTTP/1.1\r\n\r\n").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 405"), "{reply}");
        let got: Vec<Received> = received().into_iter().filter(|r| r.url == url).collect();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "{\"a\":1}");
    }
}
