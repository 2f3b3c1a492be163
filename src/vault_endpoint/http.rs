//! HTTP/1.1 as far as the endpoint needs it: one request at a time on a keep-alive
//! connection, heads parsed by `httparse`, bodies by `Content-Length` only, every size
//! bounded. A request the parser refuses is answered with a 400 and the connection closed.

use std::io::{Read, Write};

/// The largest request head (request line and headers) read.
pub const MAX_HEAD: usize = 16 * 1024;
/// The largest request body read (a key import with a 4096-bit private key is ~4 KB; a
/// backup blob to restore is the largest thing a client sends).
pub const MAX_BODY: usize = 1024 * 1024;
const MAX_HEADERS: usize = 64;

/// One request as the endpoint sees it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// The path as sent, without the query and not percent-decoded (`/keys/NAME/VERSION`):
    /// routing splits it on `/` first and decodes each segment after ([`segments`]), so an
    /// encoded `%2F` never splits a segment. Empty segments are kept: the SDKs send
    /// `/keys/NAME/` for the latest version.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The connection closes after the answer: `Connection: close`, or HTTP/1.0 without
    /// `Connection: keep-alive`.
    pub close: bool,
}

impl Request {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Key Vault's error body: `{"error": {"code", "message"}}`.
    pub fn error(status: u16, code: &str, message: &str) -> Response {
        Response::json(
            status,
            &serde_json::json!({"error": {"code": code, "message": message}}),
        )
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Why no request could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The peer closed the connection (or went idle) between requests.
    Closed,
    /// Not HTTP as the endpoint takes it: answer 400 (or 413) and close.
    Malformed(u16, String),
}

/// Reads the next request from `stream`. `buf` carries bytes already read past the last
/// request (a client may pipeline).
pub fn read_request(stream: &mut impl Read, buf: &mut Vec<u8>) -> Result<Request, ReadError> {
    let mut chunk = [0u8; 8192];
    let (head_len, mut request) = loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(n)) => {
                let target = parsed.path.unwrap_or("/");
                let (path, query) = split_target(target);
                let http10 = parsed.version == Some(0);
                let request = Request {
                    close: http10,
                    method: parsed.method.unwrap_or("GET").to_string(),
                    path,
                    query,
                    headers: parsed
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                    body: Vec::new(),
                };
                break (n, request);
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD {
                    return Err(ReadError::Malformed(431, "request head too large".into()));
                }
            }
            Err(e) => {
                return Err(ReadError::Malformed(
                    400,
                    format!("malformed HTTP request ({e})"),
                ));
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) if buf.is_empty() => return Err(ReadError::Closed),
            Ok(0) | Err(_) => {
                return Err(ReadError::Malformed(400, "incomplete request head".into()));
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    if request
        .header("Transfer-Encoding")
        .is_some_and(|t| !t.eq_ignore_ascii_case("identity"))
    {
        return Err(ReadError::Malformed(
            411,
            "chunked request bodies are not accepted; send Content-Length".into(),
        ));
    }
    match request.header("Connection").map(str::to_ascii_lowercase) {
        Some(c) if c.contains("close") => request.close = true,
        Some(c) if c.contains("keep-alive") => request.close = false,
        _ => {}
    }
    let lengths: Vec<&str> = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.trim())
        .collect();
    if lengths.windows(2).any(|w| w[0] != w[1]) {
        return Err(ReadError::Malformed(
            400,
            "conflicting Content-Length headers".into(),
        ));
    }
    let length = match lengths.first() {
        None => 0,
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => v
            .parse::<usize>()
            .map_err(|_| ReadError::Malformed(413, "Content-Length too large".into()))?,
        Some(_) => return Err(ReadError::Malformed(400, "invalid Content-Length".into())),
    };
    if length > MAX_BODY {
        return Err(ReadError::Malformed(
            413,
            format!("request body larger than {MAX_BODY} bytes"),
        ));
    }
    buf.drain(..head_len);
    while buf.len() < length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => {
                return Err(ReadError::Malformed(400, "incomplete request body".into()));
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    request.body = buf.drain(..length).collect();
    Ok(request)
}

/// Splits a request target into its path and decoded query pairs.
/// The fields of an `application/x-www-form-urlencoded` body (a token request).
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    (path.to_string(), pairs)
}

/// A raw request path's segments, as Key Vault routes them: the path must start with one
/// `/`; it is split on `/` as sent, and only then is each segment percent-decoded. A
/// segment that decodes to something containing `/` is refused (no name has one), as is a
/// path that does not start with `/`. Empty segments are kept (`/keys/NAME/` and
/// `/keys/NAME//sign` name the latest version); `//keys` gives `["", "keys"]`, which is no
/// route.
pub fn segments(path: &str) -> Result<Vec<String>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("The path '{path}' does not start with '/'."));
    };
    rest.split('/')
        .map(|raw| {
            let decoded = percent_decode(raw);
            if decoded.contains('/') {
                Err(format!(
                    "The path segment '{raw}' decodes to a '/', which no Key Vault name contains."
                ))
            } else {
                Ok(decoded)
            }
        })
        .collect()
}

/// `%XX` escapes (and `+` in a query is left alone: Key Vault names have no spaces).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `response`; `close` adds `Connection: close`.
pub fn write_response(
    stream: &mut impl Write,
    response: &Response,
    close: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (n, v) in &response.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    head.push_str("x-ms-keyvault-service-version: 1.9.0.0 (tde-console)\r\n");
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    // Head and body in one write: as one TLS record and one TCP segment (the socket has
    // TCP_NODELAY), so the client's delayed ACK never holds the body back.
    let mut whole = head.into_bytes();
    whole.extend_from_slice(&response.body);
    stream.write_all(&whole)?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Result<Request, ReadError> {
        let mut buf = Vec::new();
        read_request(&mut &text[..], &mut buf)
    }

    #[test]
    fn a_request_with_a_body_and_a_query() {
        let r = read(
            b"POST /keys/k1//unwrapkey?api-version=7.5 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nContent-Length: 4\r\n\r\nabcd",
        )
        .expect("parsed");
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/keys/k1//unwrapkey");
        assert_eq!(r.query("api-version"), Some("7.5"));
        assert_eq!(r.header("host"), Some("127.0.0.1:8443"));
        assert_eq!(r.body, b"abcd");
    }

    #[test]
    fn a_path_is_split_as_sent_then_each_segment_decoded() {
        let r = read(b"GET /keys/tde-protector%2fversions?api-version=7.5 HTTP/1.1\r\n\r\n")
            .expect("parsed");
        assert_eq!(r.path, "/keys/tde-protector%2fversions", "kept as sent");
        assert!(segments(&r.path).is_err(), "an encoded '/' is refused");
        assert!(segments("/keys/a%2Fb").is_err());
        assert!(segments("/keys/a%252fb").is_ok_and(|s| s == ["keys", "a%2fb"]));
        assert_eq!(segments("/keys/my%2Dkey/").unwrap(), ["keys", "my-key", ""]);
        assert_eq!(segments("//keys").unwrap(), ["", "keys"]);
        assert_eq!(
            segments("/keys/k//sign").unwrap(),
            ["keys", "k", "", "sign"]
        );
        assert!(segments("keys").is_err());
        assert!(segments("*").is_err());
    }

    #[test]
    fn http_1_0_closes_unless_kept_alive() {
        assert!(read(b"GET / HTTP/1.0\r\n\r\n").unwrap().close);
        assert!(
            !read(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                .unwrap()
                .close
        );
        assert!(
            read(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
                .unwrap()
                .close
        );
        assert!(!read(b"GET / HTTP/1.1\r\n\r\n").unwrap().close);
    }

    #[test]
    fn two_pipelined_requests_are_read_in_turn() {
        let text = b"GET /keys HTTP/1.1\r\n\r\nGET /rng HTTP/1.1\r\n\r\n";
        let mut stream = &text[..];
        let mut buf = Vec::new();
        assert_eq!(read_request(&mut stream, &mut buf).unwrap().path, "/keys");
        assert_eq!(read_request(&mut stream, &mut buf).unwrap().path, "/rng");
        assert_eq!(
            read_request(&mut stream, &mut buf).unwrap_err(),
            ReadError::Closed
        );
    }

    #[test]
    fn hostile_requests_are_refused_not_panicked_on() {
        let cases: Vec<Vec<u8>> = vec![
            b"\x00\x01\x02 garbage\r\n\r\n".to_vec(),
            b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n".to_vec(),
            b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n".to_vec(),
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort".to_vec(),
            [b"GET / HTTP/1.1\r\nX: ".to_vec(), vec![b'a'; MAX_HEAD + 10]].concat(),
            b"GET /%zz%4 HTTP/1.1\r\n\r\n".to_vec(),
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef".to_vec(),
            b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nabcde".to_vec(),
        ];
        for c in cases {
            match read(&c) {
                Err(ReadError::Malformed(status, _)) => assert!(status >= 400),
                Ok(r) => assert_eq!(r.path, "/%zz%4"),
                Err(ReadError::Closed) => panic!("{:?}", String::from_utf8_lossy(&c)),
            }
        }
    }
}
