//! A webhook receiver on 127.0.0.1, for classes: action groups need an endpoint that
//! answers, and a trainer's laptop rarely has one. `sim webhook listen` starts one in the
//! console's process; it answers every POST with 200 and keeps the last bodies it got, so a
//! class can read the alert's payload (`sim webhook received`). Loopback only, bounded:
//! every read (head and body, newlines or not), each connection's time (an idle limit per
//! read and a deadline for the whole request), connections served at once (each on its own
//! thread, so a slow client delays no one else), bodies kept, receivers per process.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Receivers one process may run.
pub const MAX_RECEIVERS: usize = 8;
/// Bodies kept per receiver (the oldest go first).
const KEPT: usize = 100;
/// The largest request body read (an alert payload is a few KB).
const MAX_BODY: usize = 1 << 20;
/// The largest request head read (request line and headers), newlines or not.
const MAX_HEAD: usize = 64 * 1024;
/// Connections one receiver serves at once; more are answered 503 at once.
pub const MAX_CONNECTIONS: usize = 32;
/// The longest a connection may send nothing.
const IDLE: Duration = Duration::from_secs(5);
/// The longest a client has to send a whole request: a client trickling bytes is cut off.
const REQUEST_WITHIN: Duration = Duration::from_secs(10);

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

/// One connection counted against [`MAX_CONNECTIONS`] until dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>) -> Option<Slot> {
        count
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_CONNECTIONS).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
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
            let open = Arc::new(AtomicUsize::new(0));
            for stream in listener.incoming().flatten() {
                let Some(slot) = Slot::take(&open) else {
                    // Full: a short answer now rather than a wait behind the others.
                    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
                    answer(stream, "503 Service Unavailable", false);
                    continue;
                };
                let (url, got) = (thread_url.clone(), thread_got.clone());
                // A connection the system cannot give a thread to is dropped (with its slot).
                let _ = std::thread::Builder::new()
                    .name(format!("webhook-connection-{port}"))
                    .spawn(move || {
                        let _slot = slot;
                        serve(stream, &url, &got);
                    });
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

/// A connection's stream with its deadline: every read waits at most [`IDLE`] and never
/// past the deadline of the whole request.
struct Deadlined<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left.min(IDLE)))?;
        let mut s = self.stream;
        s.read(buf)
    }
}

/// Why no request was read: the status to answer with, if any.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// The client went away or ran out of time: nothing to answer.
    Gone,
    Status(&'static str),
}

/// One request: method, path, body. Reads at most [`MAX_HEAD`] bytes of head, whether or
/// not newlines come, then at most [`MAX_BODY`] bytes of body, in chunks: nothing a client
/// sends grows past those bounds.
fn read_request(input: &mut impl Read) -> Result<(String, String, Vec<u8>), Refused> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
        let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
        if let Some(end) = [crlf, lf].into_iter().flatten().min() {
            break end;
        }
        if buf.len() >= MAX_HEAD {
            return Err(Refused::Status("431 Request Header Fields Too Large"));
        }
        let want = chunk.len().min(MAX_HEAD + 4 - buf.len());
        match input.read(&mut chunk[..want]) {
            Ok(0) if buf.is_empty() => return Err(Refused::Gone),
            Ok(0) => return Err(Refused::Status("400 Bad Request")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Refused::Gone),
        }
    };
    if head_end > MAX_HEAD + 4 {
        return Err(Refused::Status("431 Request Header Fields Too Large"));
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut parts = lines.next().unwrap_or("").split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut length = 0usize;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(usize::MAX);
        }
    }
    if method.is_empty() || path.is_empty() {
        return Err(Refused::Status("400 Bad Request"));
    }
    if length > MAX_BODY {
        return Err(Refused::Status("413 Payload Too Large"));
    }
    if method != "POST" {
        return Err(Refused::Status("405 Method Not Allowed"));
    }
    let mut body: Vec<u8> = buf[head_end..].iter().copied().take(length).collect();
    while body.len() < length {
        let want = chunk.len().min(length - body.len());
        match input.read(&mut chunk[..want]) {
            Ok(0) => return Err(Refused::Status("400 Bad Request")),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(Refused::Gone),
        }
    }
    Ok((method.to_string(), path.to_string(), body))
}

/// Reads one request and answers it: 200 for a POST (kept in `got` before the answer goes
/// out), 405 for anything else, 400 / 413 / 431 for what is not HTTP or is too large; a
/// client too slow is dropped.
fn serve(stream: TcpStream, url: &str, got: &Mutex<Vec<Received>>) {
    if stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .is_err()
    {
        return;
    }
    let mut input = Deadlined {
        stream: &stream,
        deadline: Instant::now() + REQUEST_WITHIN,
    };
    match read_request(&mut input) {
        Ok((method, path, body)) => {
            if let Ok(mut kept) = got.lock() {
                if kept.len() >= KEPT {
                    kept.remove(0);
                }
                kept.push(Received {
                    url: url.to_string(),
                    method,
                    path,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
            }
            answer(stream, "200 OK", true);
        }
        Err(Refused::Gone) => {}
        Err(Refused::Status(status)) => answer(stream, status, true),
    }
}

/// Answers and closes. With `drain`, what the client is still sending is read and thrown
/// away for a moment (bounded in time and bytes), so it sees the answer rather than a reset.
fn answer(mut stream: TcpStream, status: &str, drain: bool) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    if !drain {
        return;
    }
    let until = Instant::now() + Duration::from_millis(500);
    let mut sink = [0u8; 4096];
    let mut drained = 0usize;
    while drained < 4 * MAX_BODY {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
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

    /// A reader of `pattern` repeated forever, counting what was read.
    struct Endless {
        pattern: &'static [u8],
        at: usize,
        read: usize,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            for b in buf.iter_mut() {
                *b = self.pattern[self.at % self.pattern.len()];
                self.at += 1;
            }
            self.read += buf.len();
            Ok(buf.len())
        }
    }

    /// Issue 21: the head is bounded whether or not newlines come (400 MB without one grew
    /// the process by 410 MB), and so is the body.
    #[test]
    fn every_read_is_bounded_newlines_or_not() {
        for pattern in [&b"a"[..], b"X-Header: value\r\n", b"\r"] {
            let mut input = Endless {
                pattern,
                at: 0,
                read: 0,
            };
            assert_eq!(
                read_request(&mut input),
                Err(Refused::Status("431 Request Header Fields Too Large")),
                "{:?}",
                String::from_utf8_lossy(pattern)
            );
            assert!(input.read <= MAX_HEAD + 4, "{}", input.read);
        }
        let mut big = &b"POST /hook HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"[..];
        assert_eq!(
            read_request(&mut big),
            Err(Refused::Status("413 Payload Too Large"))
        );
        let mut ok = &b"POST /hook HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"[..];
        assert_eq!(
            read_request(&mut ok),
            Ok(("POST".into(), "/hook".into(), b"{}".to_vec()))
        );
    }

    fn port_of(url: &str) -> u16 {
        url.trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/hook")
            .parse()
            .expect("port")
    }

    /// A proper delivery: the status line of the answer.
    fn deliver(port: u16, body: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "POST /hook HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        reply.lines().next().unwrap_or_default().to_string()
    }

    /// Issue 21: 1 MiB without a newline is cut off (answered 431, or the connection
    /// dropped) and the receiver still takes a proper delivery.
    #[test]
    fn a_mebibyte_without_a_newline_is_cut_off() {
        let url = listen(0).expect("listens");
        let port = port_of(&url);
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(15))).unwrap();
        let started = Instant::now();
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..16 {
            // The receiver stops reading at its limit: a reset here is expected.
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        let reply = String::from_utf8_lossy(&reply);
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
            "{reply}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "cut off, not waited on: {:?}",
            started.elapsed()
        );
        assert!(deliver(port, "{\"after\":1}").starts_with("HTTP/1.1 200"));
        assert!(
            received()
                .iter()
                .any(|r| r.url == url && r.body == "{\"after\":1}")
        );
    }

    /// Issue 21: a client sending one byte every 1.5 s delays no delivery (it delayed one by
    /// 22 s), and is cut off at the request deadline.
    #[test]
    fn a_slow_client_delays_no_one_and_is_cut_off() {
        let url = listen(0).expect("listens");
        let port = port_of(&url);
        let (tx, rx) = std::sync::mpsc::channel::<Duration>();
        let loris = std::thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
            s.set_read_timeout(Some(Duration::from_millis(1500)))
                .unwrap();
            let started = Instant::now();
            let text = b"POST /hook HTTP/1.1\r\nContent-Length: 2\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
            for b in text.iter().cycle() {
                if s.write_all(&[*b]).is_err() {
                    break;
                }
                // Waits 1.5 s between bytes; the receiver closing ends the wait early.
                let mut one = [0u8; 1];
                match s.read(&mut one) {
                    Ok(_) => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
                if started.elapsed() > Duration::from_secs(30) {
                    break;
                }
            }
            let _ = tx.send(started.elapsed());
        });
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        assert!(deliver(port, "{\"during\":1}").starts_with("HTTP/1.1 200"));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "delayed by {took:?}");
        let cut_after = rx
            .recv_timeout(Duration::from_secs(40))
            .expect("the slow client ends");
        loris.join().unwrap();
        assert!(
            cut_after < REQUEST_WITHIN + Duration::from_secs(3),
            "cut off at the deadline, after {cut_after:?}"
        );
    }
}
