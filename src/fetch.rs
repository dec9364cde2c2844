//! Getting a source's bytes: HTTP(S) over a blocking client, or a local file.
//!
//! Redirects are followed here rather than by the client so that every hop is recorded: the
//! chain is part of the provenance. Only headers that matter for provenance are kept; cookies
//! and credentials never reach the store.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

/// Response headers kept for provenance, in the order they are recorded.
pub const PROVENANCE_HEADERS: &[&str] = &[
    "content-encoding",
    "date",
    "etag",
    "last-modified",
    "content-type",
    "content-length",
    "location",
    // A web archive's copy says when it was captured (RFC 7089).
    "memento-datetime",
];

/// Limits for one fetch.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Longest wait for any one read from the server (headers or a piece of the body): a
    /// server that stops sending is given up on long before the total timeout.
    pub read_timeout: Duration,
    /// Connections kept open per host for reuse; set it to the number of concurrent fetches.
    pub idle_per_host: usize,
    /// Time allowed for the whole exchange, body included.
    pub total_timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_body: u64,
    /// Most redirects followed before giving up.
    pub max_redirects: u32,
    /// The `User-Agent` header sent.
    pub user_agent: String,
    /// Further attempts after a transient failure (connection error, timeout, 429, 5xx).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured; a server asking for more gets no retry.
    pub max_retry_after: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            idle_per_host: 3,
            total_timeout: Duration::from_secs(60),
            // Articles, even as PDFs, are far below this; 16 MiB times the default 8 concurrent
            // fetches keeps a check's worst case well under 200 MB of memory.
            max_body: 16 * 1024 * 1024,
            max_redirects: 10,
            user_agent: concat!("verbatim/", env!("CARGO_PKG_VERSION")).to_owned(),
            retries: 2,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// Errors from fetching a source.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The local file does not exist.
    #[error("{path}: no such file")]
    NotFound {
        /// The path tried.
        path: PathBuf,
    },
    /// A directory was given where a file is needed.
    #[error("{path} is a directory, not a file")]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The local file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file or body is larger than the limit.
    #[error("{locator} is larger than the {limit}-byte limit")]
    TooLarge {
        /// The source.
        locator: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The server answered with an error status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL that answered.
        url: String,
        /// The status code.
        status: u16,
        /// The redirects followed before it.
        redirects: Vec<Redirect>,
    },
    /// Too many redirects.
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects {
        /// The URL first requested.
        url: String,
        /// The redirect limit.
        limit: u32,
    },
    /// A redirect without a usable `Location`.
    #[error("{url} redirected (HTTP {status}) without a valid Location header")]
    BadRedirect {
        /// The URL that redirected.
        url: String,
        /// The redirect status.
        status: u16,
    },
    /// A redirect to a scheme verbatim does not fetch.
    #[error("{url} redirected to {target}, which is not http(s)")]
    RedirectScheme {
        /// The URL that redirected.
        url: String,
        /// Where it pointed.
        target: String,
    },
    /// The request timed out.
    #[error("{url}: timed out ({detail})")]
    Timeout {
        /// The URL requested.
        url: String,
        /// Which timeout fired.
        detail: String,
    },
    /// The connection failed (refused, reset, DNS, TLS).
    #[error("{url}: {detail}")]
    Connection {
        /// The URL requested.
        url: String,
        /// What the client said.
        detail: String,
    },
}

/// One redirect hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    /// The URL that answered with a redirect.
    pub url: String,
    /// Its status (301, 302, 303, 307, 308).
    pub status: u16,
    /// The absolute URL it pointed to.
    pub location: String,
}

/// Validators from an earlier response, for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// The earlier `ETag`.
    pub etag: Option<String>,
    /// The earlier `Last-Modified`.
    pub last_modified: Option<String>,
}

/// A successful HTTP fetch.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The URL first requested.
    pub requested_url: String,
    /// The URL that finally answered.
    pub final_url: String,
    /// The final status.
    pub status: u16,
    /// The provenance headers of the final response, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Every redirect followed, in order.
    pub redirects: Vec<Redirect>,
    /// The body, exactly as received.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of a recorded header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Resolves each scheme, host and port once per client.
///
/// ureq resolves a host before every request, even one that reuses a pooled connection, and
/// with a timeout set it does so on a fresh thread: for a check of 10,000 pages that was 10,000
/// threads and lookups. A client lives for one command, so the cached addresses are minutes old
/// at most; failures are not cached.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<
        std::collections::HashMap<String, ureq::unversioned::resolver::ResolvedSocketAddrs>,
    >,
}

impl ureq::unversioned::resolver::Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        let cached = |cache: &std::collections::HashMap<_, _>| cache.get(&key).cloned();
        if let Some(addrs) = self.cache.lock().ok().and_then(|c| cached(&c)) {
            return Ok(addrs);
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, addrs.clone());
        }
        Ok(addrs)
    }
}

/// A blocking HTTP client with verbatim's limits.
pub struct HttpClient {
    agent: ureq::Agent,
    options: Options,
}

impl HttpClient {
    /// Builds a client with these limits.
    pub fn new(options: Options) -> HttpClient {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .timeout_global(Some(options.total_timeout))
            .max_idle_connections_per_host(options.idle_per_host.max(1))
            .max_idle_connections(options.idle_per_host.max(10))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(options.user_agent.as_str())
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            CachingResolver::default(),
        );
        HttpClient { agent, options }
    }

    /// Fetches `url`, following redirects up to the limit; an error status is an error.
    pub fn get(&self, url: &Url) -> Result<HttpResponse, Error> {
        self.get_if_changed(url, &Validators::default())
    }

    /// Fetches `url` conditionally: when the server confirms the validators still hold, the
    /// result has status 304 and an empty body, and costs no transfer. Transient failures are
    /// retried with exponential backoff, honouring `Retry-After` up to a limit.
    pub fn get_if_changed(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<HttpResponse, Error> {
        self.get_with(url, validators, &[])
    }

    /// As [`HttpClient::get_if_changed`], sending `headers` too (an RFC 7089 `Accept-Datetime`
    /// to a web archive's TimeGate, say) on every request, redirects included.
    pub fn get_with(
        &self,
        url: &Url,
        validators: &Validators,
        headers: &[(&str, &str)],
    ) -> Result<HttpResponse, Error> {
        let mut wait = self.options.backoff;
        let mut attempt = 0;
        loop {
            let (error, retry_after) = match self.attempt(url, validators, headers) {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let transient = match &error {
                Error::Timeout { .. } | Error::Connection { .. } => true,
                Error::Status { status, .. } => *status == 429 || (500..600).contains(status),
                _ => false,
            };
            let pause = retry_after.unwrap_or(wait);
            if !transient || attempt >= self.options.retries || pause > self.options.max_retry_after
            {
                return Err(error);
            }
            std::thread::sleep(pause);
            attempt += 1;
            wait = wait.saturating_mul(2);
        }
    }

    /// One request and its redirects; a failure comes with the server's `Retry-After`, if any.
    fn attempt(
        &self,
        url: &Url,
        validators: &Validators,
        extra: &[(&str, &str)],
    ) -> Result<HttpResponse, (Error, Option<Duration>)> {
        let plain = |e: Error| (e, None);
        let requested_url = url.as_str().to_owned();
        let mut current = url.clone();
        let mut redirects = Vec::new();
        loop {
            let mut request = self
                .agent
                .get(current.as_str())
                .header("Accept-Encoding", "gzip, deflate, br");
            if let Some(etag) = &validators.etag {
                request = request.header("If-None-Match", etag);
            }
            if let Some(date) = &validators.last_modified {
                request = request.header("If-Modified-Since", date);
            }
            for (name, value) in extra {
                request = request.header(*name, *value);
            }
            let mut response = request
                .call()
                .map_err(|e| plain(client_error(&current, e)))?;
            let status = response.status().as_u16();
            let headers = provenance_headers(response.headers());
            if (300..400).contains(&status) && status != 304 {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| current.join(v).ok())
                    // A password in a redirect is a secret too: never sent on, never recorded.
                    .map(crate::source::without_credentials)
                    .ok_or_else(|| {
                        plain(Error::BadRedirect {
                            url: current.to_string(),
                            status,
                        })
                    })?;
                if !matches!(location.scheme(), "http" | "https") {
                    return Err(plain(Error::RedirectScheme {
                        url: current.to_string(),
                        target: location.to_string(),
                    }));
                }
                redirects.push(Redirect {
                    url: current.to_string(),
                    status,
                    location: location.to_string(),
                });
                if redirects.len() as u32 > self.options.max_redirects {
                    return Err(plain(Error::TooManyRedirects {
                        url: requested_url,
                        limit: self.options.max_redirects,
                    }));
                }
                current = location;
                continue;
            }
            if status == 304 {
                return Ok(HttpResponse {
                    requested_url,
                    final_url: current.to_string(),
                    status,
                    headers,
                    redirects,
                    body: Vec::new(),
                });
            }
            if !(200..300).contains(&status) {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                let error = Error::Status {
                    url: current.to_string(),
                    status,
                    redirects,
                };
                return Err((error, retry_after));
            }
            let encoding = response
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let wire = response
                .body_mut()
                .with_config()
                .limit(self.options.max_body)
                .read_to_vec()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(limit) => Error::TooLarge {
                        locator: current.to_string(),
                        limit,
                    },
                    other => client_error(&current, other),
                })
                .map_err(plain)?;
            // The limit applies to decoded bytes too, so a compression bomb stops at the limit.
            let body = match encoding {
                Some(encoding) => decode(wire, &encoding, self.options.max_body)
                    .map_err(|e| match e {
                        DecodeError::TooLarge => Error::TooLarge {
                            locator: current.to_string(),
                            limit: self.options.max_body,
                        },
                        DecodeError::Corrupt(detail) => Error::Connection {
                            url: current.to_string(),
                            detail: format!("cannot decode the {encoding} body: {detail}"),
                        },
                    })
                    .map_err(plain)?,
                None => wire,
            };
            return Ok(HttpResponse {
                requested_url,
                final_url: current.to_string(),
                status,
                headers,
                redirects,
                body,
            });
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = jiff::fmt::rfc2822::parse(value.trim()).ok()?.timestamp();
    let now = jiff::Timestamp::now();
    Some(if when > now {
        Duration::try_from(when.duration_since(now)).unwrap_or_default()
    } else {
        Duration::ZERO
    })
}

enum DecodeError {
    TooLarge,
    Corrupt(String),
}

/// Undoes a `Content-Encoding` (gzip, deflate, br; a comma list is undone in reverse), reading at
/// most `limit` decoded bytes, as fetching does: for bodies that arrive another way (a WARC
/// record). Returns why it failed.
pub fn decode_content(body: Vec<u8>, encoding: &str, limit: u64) -> Result<Vec<u8>, String> {
    decode(body, encoding, limit).map_err(|e| match e {
        DecodeError::TooLarge => format!("the decoded body is over {limit} bytes"),
        DecodeError::Corrupt(detail) => detail,
    })
}

/// Undoes a `Content-Encoding` (a comma list, applied in order, so undone in reverse), reading at
/// most `limit` decoded bytes. Unknown codings are left as they are.
fn decode(mut body: Vec<u8>, encoding: &str, limit: u64) -> Result<Vec<u8>, DecodeError> {
    fn read(mut reader: impl std::io::Read, limit: u64) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        reader
            .by_ref()
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
        if out.len() as u64 > limit {
            return Err(DecodeError::TooLarge);
        }
        Ok(out)
    }
    for coding in encoding.rsplit(',').map(|c| c.trim().to_ascii_lowercase()) {
        body = match coding.as_str() {
            "gzip" | "x-gzip" => read(flate2::read::MultiGzDecoder::new(&body[..]), limit)?,
            "br" => read(
                brotli_decompressor::Decompressor::new(&body[..], 4096),
                limit,
            )?,
            // The spec says zlib-wrapped; some servers send raw deflate.
            "deflate" => match read(flate2::read::ZlibDecoder::new(&body[..]), limit) {
                Err(DecodeError::Corrupt(_)) => {
                    read(flate2::read::DeflateDecoder::new(&body[..]), limit)?
                }
                other => other?,
            },
            _ => body,
        };
    }
    Ok(body)
}

fn provenance_headers(headers: &ureq::http::HeaderMap) -> Vec<(String, String)> {
    PROVENANCE_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?;
            Some((
                (*name).to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

fn client_error(url: &Url, error: ureq::Error) -> Error {
    match error {
        ureq::Error::Timeout(which) => Error::Timeout {
            url: url.to_string(),
            detail: which.to_string(),
        },
        other => Error::Connection {
            url: url.to_string(),
            detail: other.to_string(),
        },
    }
}

/// Reads a local file whole, refusing directories and files over `max_bytes`.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let meta = not_a_directory(path)?;
    let file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut bytes = Vec::with_capacity(meta.len().min(max_bytes) as usize);
    // Read one byte past the limit so a file that grows while read is still caught.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| io_error(path, source))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::TooLarge {
            locator: path.display().to_string(),
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// A local file mapped into memory rather than read, for a caller that only reads it and
/// keeps it briefly: `None` when it is short (reading costs less), not a regular file, or
/// cannot be mapped, for the caller to [`read_file`] instead. The limits and errors are
/// [`read_file`]'s.
///
/// # Safety
/// The mapping shows the file as it is while it is mapped: another process writing to it
/// changes the bytes under the caller (unlike a read, which copies them first), so a caller
/// that checked them (say, as UTF-8) must accept that they may no longer hold; truncating it
/// makes reading past its new end raise `SIGBUS`, which the caller must handle (the CLI turns
/// it into an error exit).
pub unsafe fn map_file(path: &Path, max_bytes: u64) -> Result<Option<memmap2::Mmap>, Error> {
    // Under this, the faults of mapping cost about what reading saves.
    const MAP_FROM: u64 = 64 << 10;
    // What the path is, before opening it: opening a FIFO would wait for a writer, and
    // `read_file` opens it again.
    let meta = not_a_directory(path)?;
    if meta.len() > max_bytes {
        return Err(Error::TooLarge {
            locator: path.display().to_string(),
            limit: max_bytes,
        });
    }
    if !meta.is_file() || meta.len() < MAP_FROM {
        return Ok(None);
    }
    let file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
    // SAFETY: the caller accepts what the function's contract says of outside changes.
    // Not populated: the kernel maps sixteen pages of the page cache at each fault, which
    // measured cheaper than mapping the whole file up front (68 µs a megabyte against 110).
    Ok(unsafe { memmap2::Mmap::map(&file) }.ok())
}

/// What `path` is, when it is not a directory.
fn not_a_directory(path: &Path) -> Result<std::fs::Metadata, Error> {
    let meta = std::fs::metadata(path).map_err(|source| io_error(path, source))?;
    if meta.is_dir() {
        return Err(Error::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(meta)
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    match source.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound {
            path: path.to_path_buf(),
        },
        std::io::ErrorKind::IsADirectory => Error::IsDirectory {
            path: path.to_path_buf(),
        },
        _ => Error::Unreadable {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Counts requests in flight per host; `enter` waits while a host is at its limit.
pub struct HostLimit {
    limit: usize,
    busy: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    freed: std::sync::Condvar,
}

/// A request in flight to a host; dropping it lets the next one in.
pub struct HostSlot<'a> {
    hosts: &'a HostLimit,
    host: String,
}

impl HostLimit {
    /// At most `limit` requests in flight to any one host (at least one).
    pub fn new(limit: usize) -> HostLimit {
        HostLimit {
            limit: limit.max(1),
            busy: std::sync::Mutex::new(std::collections::HashMap::new()),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits until `host` is below its limit, then counts one more request to it.
    pub fn enter(&self, host: String) -> HostSlot<'_> {
        let mut busy = self
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while busy.get(&host).copied().unwrap_or(0) >= self.limit {
            busy = self
                .freed
                .wait(busy)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *busy.entry(host.clone()).or_insert(0) += 1;
        HostSlot { hosts: self, host }
    }

    /// As [`HostLimit::enter`] for the host of `url`; `None` (no wait) for a URL without one.
    pub fn enter_url(&self, url: &Url) -> Option<HostSlot<'_>> {
        url.host_str().map(|host| self.enter(host.to_owned()))
    }
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        let mut busy = self
            .hosts
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = busy.get_mut(&self.host) {
            *n = n.saturating_sub(1);
        }
        self.hosts.freed.notify_all();
    }
}
