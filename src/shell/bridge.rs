//! Real bash for scripts: `tde-console shell WS --script F` runs a bash script under the
//! system's own bash, with `az`, `sim` and `date` on its `PATH` as thin clients of the one
//! console process that holds the workspace.
//!
//! The console makes a private directory (0700, created exclusively), puts three symbolic
//! links to its own executable in it (`az`, `sim`, `date`: the binary dispatches on the name
//! it is started under) and listens on a Unix socket there. Each client sends its argument
//! words as bash split them (never re-read), the directory it runs in, and waits; the
//! console runs the words through the shell's registry, one client at a time in the order
//! they connect, and answers with the command's stdout, stderr and exit code (az's: 0 ok,
//! 1 error, 2 usage error). When bash exits the directory is removed.
//!
//! Everything is bounded: a request is at most [`MAX_REQUEST`] bytes and [`MAX_WORDS`]
//! words, a client that does not send its request within [`REQUEST_TIMEOUT`] is dropped,
//! and a client reads at most [`MAX_RESPONSE`] bytes of answer.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The socket's path, in the environment of the script (and so of its clients).
pub const SOCKET_ENV: &str = "TDE_CONSOLE_SOCKET";

/// Set (to anything but `0` or nothing) to run scripts with the built-in interpreter.
pub const BUILTIN_ENV: &str = "TDE_CONSOLE_BUILTIN_SHELL";

/// The names the executable answers to as a thin client.
pub const CLIENT_NAMES: [&str; 4] = ["az", "sim", "date", "sleep"];

/// The largest request a client may send (its words and working directory), in bytes.
pub const MAX_REQUEST: usize = 16 << 20;

/// The most words one request may hold.
pub const MAX_WORDS: usize = 1 << 16;

/// The largest answer a client reads (stdout and stderr together), in bytes.
pub const MAX_RESPONSE: u64 = 1 << 30;

/// How long the console waits for a connected client's request (and for it to take the
/// answer) before it drops the client.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const MAGIC_REQUEST: &[u8; 4] = b"TDEq";
const MAGIC_RESPONSE: &[u8; 4] = b"TDEa";

/// What a client asks: its words (the program's name first) and where it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub words: Vec<String>,
    pub cwd: Option<PathBuf>,
}

/// What the console answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub code: u8,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Whether the environment asks for the built-in interpreter.
pub fn builtin_forced() -> bool {
    std::env::var_os(BUILTIN_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The first executable `bash` on `PATH`.
pub fn find_bash() -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("bash"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether `argv0` names one of the thin clients (`az`, `sim`, `date`).
pub fn client_name(argv0: &std::ffi::OsStr) -> Option<&'static str> {
    let name = Path::new(argv0).file_name()?;
    CLIENT_NAMES.into_iter().find(|n| name == *n)
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// A request's bytes.
pub fn encode_request(words: &[OsString], cwd: Option<&Path>) -> Result<Vec<u8>, String> {
    use std::os::unix::ffi::OsStrExt;
    if words.len() > MAX_WORDS {
        return Err(format!("more than {MAX_WORDS} arguments"));
    }
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC_REQUEST);
    out.extend_from_slice(&(words.len() as u32).to_le_bytes());
    for w in words {
        put_bytes(&mut out, w.as_bytes());
        if out.len() > MAX_REQUEST {
            return Err(format!("the arguments are longer than {MAX_REQUEST} bytes"));
        }
    }
    put_bytes(
        &mut out,
        cwd.map(|c| c.as_os_str().as_bytes()).unwrap_or_default(),
    );
    if out.len() > MAX_REQUEST {
        return Err(format!("the arguments are longer than {MAX_REQUEST} bytes"));
    }
    Ok(out)
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// Reads `len` bytes, never allocating more than what arrives.
fn read_exact_vec(r: &mut impl Read, len: u64) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.take(len).read_to_end(&mut v)?;
    if (v.len() as u64) < len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(v)
}

/// Reads one request, within the limits; errors say what was wrong.
pub fn read_request(r: &mut impl Read) -> Result<Request, String> {
    use std::os::unix::ffi::OsStringExt;
    let io = |e: std::io::Error| format!("the request could not be read ({e})");
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(io)?;
    if &magic != MAGIC_REQUEST {
        return Err("not a request of tde-console's client".into());
    }
    let count = read_u32(r).map_err(io)? as usize;
    if count > MAX_WORDS {
        return Err(format!("more than {MAX_WORDS} arguments"));
    }
    let mut total = 8usize;
    let mut words = Vec::with_capacity(count.min(1024));
    for _ in 0..=count {
        let len = read_u32(r).map_err(io)? as usize;
        total = total.saturating_add(4 + len);
        if total > MAX_REQUEST {
            return Err(format!("the arguments are longer than {MAX_REQUEST} bytes"));
        }
        words.push(read_exact_vec(r, len as u64).map_err(io)?);
    }
    let cwd = words.pop().unwrap_or_default();
    let words = words
        .into_iter()
        .map(|w| {
            String::from_utf8(w).map_err(|e| {
                format!(
                    "an argument is not UTF-8 text: '{}'",
                    String::from_utf8_lossy(e.as_bytes())
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if words.is_empty() {
        return Err("a request without a command".into());
    }
    let cwd = (!cwd.is_empty()).then(|| PathBuf::from(OsString::from_vec(cwd)));
    Ok(Request { words, cwd })
}

/// A response's bytes.
pub fn encode_response(r: &Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(21 + r.stdout.len() + r.stderr.len());
    out.extend_from_slice(MAGIC_RESPONSE);
    out.push(r.code);
    for part in [&r.stdout, &r.stderr] {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Reads one response, at most [`MAX_RESPONSE`] bytes of output.
pub fn read_response(r: &mut impl Read) -> Result<Response, String> {
    let io = |e: std::io::Error| format!("the console's answer could not be read ({e})");
    let mut head = [0u8; 5];
    r.read_exact(&mut head).map_err(io)?;
    if &head[..4] != MAGIC_RESPONSE {
        return Err("the console's answer is not one of tde-console's".into());
    }
    let mut parts = [Vec::new(), Vec::new()];
    let mut total = 0u64;
    for part in &mut parts {
        let len = read_u64(r).map_err(io)?;
        total = total.saturating_add(len);
        if total > MAX_RESPONSE {
            return Err(format!(
                "the console's answer is larger than {MAX_RESPONSE} bytes"
            ));
        }
        *part = read_exact_vec(r, len).map_err(io)?;
    }
    let [stdout, stderr] = parts;
    Ok(Response {
        code: head[4],
        stdout,
        stderr,
    })
}

/// The thin client: sends `args` (as the OS gave them, after the program's name) to the
/// console named by [`SOCKET_ENV`], prints its answer, and returns the exit code.
pub fn client_main(name: &str, args: Vec<OsString>) -> u8 {
    let Some(socket) = std::env::var_os(SOCKET_ENV) else {
        eprintln!(
            "{name}: this is tde-console's {name}; it runs only inside a script that `tde-console shell --script` runs"
        );
        return 2;
    };
    let mut words = Vec::with_capacity(args.len() + 1);
    words.push(OsString::from(name));
    words.extend(args);
    let cwd = std::env::current_dir().ok();
    let request = match encode_request(&words, cwd.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: {e}");
            return 2;
        }
    };
    let answer = std::os::unix::net::UnixStream::connect(&socket)
        .map_err(|e| format!("cannot reach the console ({e})"))
        .and_then(|mut s| {
            s.write_all(&request)
                .map_err(|e| format!("cannot reach the console ({e})"))?;
            read_response(&mut s)
        });
    match answer {
        Ok(r) => {
            // A closed pipe (`az … | head -1`) is not this command's failure.
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&r.stdout).and_then(|_| out.flush());
            let _ = std::io::stderr().write_all(&r.stderr);
            r.code
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            1
        }
    }
}

/// How a script run under real bash ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// bash's exit status (128 + the signal when a signal ended it).
    pub status: i32,
    /// How many client requests were answered.
    pub requests: usize,
}

/// Runs `script` under `bash` with the thin clients (symbolic links to `exe`) first on its
/// `PATH`, answering each request with `handle`, until bash exits. bash's `$RANDOM` starts
/// from `random_seed` (so a script's names replay with the workspace's seed; bash reseeds
/// it in subshells). With `stop` set (Ctrl+C, SIGTERM), bash is killed and the run ends as
/// if bash had exited.
pub fn run_script(
    bash: &Path,
    script: &Path,
    exe: &Path,
    random_seed: u64,
    stop: &std::sync::atomic::AtomicBool,
    mut handle: impl FnMut(Request) -> Response,
) -> Result<Outcome, String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::Builder::new()
        .prefix("tde-console-bash-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| format!("cannot create a private directory for the az client: {e}"))?;
    for name in CLIENT_NAMES {
        std::os::unix::fs::symlink(exe, dir.path().join(name))
            .map_err(|e| format!("cannot create the {name} client: {e}"))?;
    }
    // bash reads $BASH_ENV before a script: it seeds $RANDOM, then reads the user's own
    // BASH_ENV if there was one, and is not passed on to bash's children.
    let mut env_text = format!("RANDOM={random_seed}\nunset BASH_ENV\n");
    if let Some(user) = std::env::var_os("BASH_ENV").filter(|v| !v.is_empty()) {
        let user = user.to_string_lossy().replace('\'', r"'\''");
        env_text.push_str(&format!(". '{user}'\n"));
    }
    let env_file = dir.path().join("bash_env.sh");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&env_file)
        .and_then(|mut f| f.write_all(env_text.as_bytes()))
        .map_err(|e| format!("cannot write '{}': {e}", env_file.display()))?;
    let socket = dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket)
        .map_err(|e| format!("cannot listen on '{}': {e}", socket.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen on '{}': {e}", socket.display()))?;
    let mut path = vec![dir.path().to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&p));
    }
    let path = std::env::join_paths(path).map_err(|e| format!("cannot set PATH: {e}"))?;
    let mut child = std::process::Command::new(bash)
        .arg("--")
        .arg(script)
        .env("PATH", path)
        .env(SOCKET_ENV, &socket)
        .env("BASH_ENV", &env_file)
        .spawn()
        .map_err(|e| format!("cannot run '{}': {e}", bash.display()))?;
    let mut requests = 0;
    let mut idle = Duration::from_micros(200);
    let mut killed = false;
    let status = loop {
        if !killed && stop.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = child.kill();
            killed = true;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                idle = Duration::from_micros(200);
                requests += 1;
                serve_one(stream, REQUEST_TIMEOUT, &mut handle);
                continue;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the az client's socket failed: {e}"));
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("cannot wait for bash: {e}")),
        }
        std::thread::sleep(idle);
        idle = (idle * 2).min(Duration::from_millis(10));
    };
    drop(listener);
    dir.close()
        .map_err(|e| format!("cannot remove the az client's directory: {e}"))?;
    Ok(Outcome {
        status: status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1),
        requests,
    })
}

/// Reads one request from `stream` (within the limits and the timeout), answers it.
fn serve_one(
    mut stream: std::os::unix::net::UnixStream,
    timeout: Duration,
    handle: &mut impl FnMut(Request) -> Response,
) {
    let ready = stream
        .set_nonblocking(false)
        .and_then(|_| stream.set_read_timeout(Some(timeout)))
        .and_then(|_| stream.set_write_timeout(Some(timeout)));
    if ready.is_err() {
        return;
    }
    let response = match read_request(&mut stream) {
        Ok(req) => handle(req),
        Err(e) => Response {
            code: 2,
            stdout: Vec::new(),
            stderr: format!("tde-console: {e}; nothing was run\n").into_bytes(),
        },
    };
    let _ = stream.write_all(&encode_response(&response));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_with_their_words_as_given() {
        let words: Vec<OsString> = ["az", "x", "a b", "", "--query", "[?a=='b c']"]
            .iter()
            .map(OsString::from)
            .collect();
        let bytes = encode_request(&words, Some(Path::new("/tmp/x"))).unwrap();
        let r = read_request(&mut bytes.as_slice()).unwrap();
        assert_eq!(r.words, ["az", "x", "a b", "", "--query", "[?a=='b c']"]);
        assert_eq!(r.cwd.as_deref(), Some(Path::new("/tmp/x")));
    }

    #[test]
    fn bad_requests_are_refused_without_allocating_what_they_claim() {
        // A claimed word count over the limit.
        let mut b = MAGIC_REQUEST.to_vec();
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            read_request(&mut b.as_slice())
                .unwrap_err()
                .contains("more than")
        );
        // A claimed word length over the limit.
        let mut b = MAGIC_REQUEST.to_vec();
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            read_request(&mut b.as_slice())
                .unwrap_err()
                .contains("longer")
        );
        // Truncated, wrong magic, not UTF-8, empty.
        let bytes = encode_request(&[OsString::from("az")], None).unwrap();
        assert!(read_request(&mut &bytes[..bytes.len() - 1]).is_err());
        assert!(read_request(&mut &b"XXXX"[..]).is_err());
        let bad = {
            use std::os::unix::ffi::OsStringExt;
            OsString::from_vec(vec![0xff, 0xfe])
        };
        let bytes = encode_request(&[OsString::from("az"), bad], None).unwrap();
        assert!(
            read_request(&mut bytes.as_slice())
                .unwrap_err()
                .contains("UTF-8")
        );
        let bytes = encode_request(&[], None).unwrap();
        assert!(read_request(&mut bytes.as_slice()).is_err());
    }

    #[test]
    fn responses_round_trip_and_are_capped() {
        let r = Response {
            code: 2,
            stdout: b"out\n".to_vec(),
            stderr: b"ERROR: x\n".to_vec(),
        };
        assert_eq!(
            read_response(&mut encode_response(&r).as_slice()).unwrap(),
            r
        );
        let mut b = MAGIC_RESPONSE.to_vec();
        b.push(0);
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(
            read_response(&mut b.as_slice())
                .unwrap_err()
                .contains("larger")
        );
    }

    #[test]
    fn a_client_that_never_sends_is_dropped_after_the_timeout() {
        let (mut client, console) = std::os::unix::net::UnixStream::pair().unwrap();
        let started = std::time::Instant::now();
        let mut ran = false;
        serve_one(console, Duration::from_millis(100), &mut |_| {
            ran = true;
            Response::default()
        });
        assert!(!ran);
        assert!(started.elapsed() < Duration::from_secs(5));
        let r = read_response(&mut client).unwrap();
        assert_eq!(r.code, 2);
        assert!(String::from_utf8_lossy(&r.stderr).contains("nothing was run"));
        // One that sends is answered.
        let (mut client, console) = std::os::unix::net::UnixStream::pair().unwrap();
        client
            .write_all(&encode_request(&[OsString::from("az"), "x".into()], None).unwrap())
            .unwrap();
        serve_one(console, Duration::from_secs(5), &mut |req| Response {
            code: 0,
            stdout: req.words.join(" ").into_bytes(),
            stderr: Vec::new(),
        });
        assert_eq!(read_response(&mut client).unwrap().stdout, b"az x");
    }

    #[test]
    fn the_client_names() {
        assert_eq!(client_name("/tmp/x/az".as_ref()), Some("az"));
        assert_eq!(client_name("sim".as_ref()), Some("sim"));
        assert_eq!(client_name("tde-console".as_ref()), None);
    }
}
