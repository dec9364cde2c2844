//! Getting a source's bytes: HTTP(S) over a blocking client, or a local file.
//!
//! Redirects are followed here rather than by the client so that every hop is recorded: the
//! chain is part of the provenance. Only headers that matter for provenance are kept; cookies
//! and credentials never reach the store.

// Mapping a file is unsafe (another process can change it); this module alone does it.
#[allow(unsafe_code)]
pub mod mapped;

use std::collections::HashMap;
use std::io::Read as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Which addresses the URL first requested may reach (redirects are held to
    /// [`Reach::Public`] once a hop has reached a public address).
    pub reach: Reach,
    /// Let every fetch reach internal addresses, whatever `reach` says (`--allow-private`).
    pub allow_private: bool,
}

/// Which addresses a fetch may connect to.
///
/// A URL the store's owner typed may go anywhere: the demo and the tests serve on loopback, and
/// an owner may track pages on their own network. A URL that came from content (a citing
/// document, a WARC), and any redirect from a public address, must not make verbatim reach this
/// machine or its network — loopback, private ranges, link-local (where cloud metadata lives),
/// unspecified, multicast, reserved — and then show what came back. The check is on the
/// *resolved* addresses, and the connection goes to exactly those (no second lookup), so a
/// name that resolves differently the second time (DNS rebinding) gains nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Given by the store's owner: the first hop may reach any address.
    Owner,
    /// From content: only public addresses.
    Public,
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
            reach: Reach::Owner,
            allow_private: false,
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
    /// A FIFO, socket or device was given where a file is needed.
    #[error("{path} is a {kind}, not a regular file")]
    NotRegular {
        /// The path given.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
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
    /// The server broke the protocol (malformed HTTP, a `304` to a request that was not
    /// conditional, a TLS failure): not a transient failure, so not retried.
    #[error("{url}: {detail}")]
    Protocol {
        /// The URL requested.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The URL leads to an internal address that this fetch may not reach (see [`Reach`]).
    #[error(
        "{url} leads to {address}, an internal address; refused for a URL from content or a redirect from a public site"
    )]
    Internal {
        /// The URL refused.
        url: String,
        /// The internal address it resolved to.
        address: String,
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

pub use crate::model::Redirect;

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

/// Addresses already looked up, by `host:port`, shared by a client's resolvers.
type Lookups = std::sync::Arc<std::sync::Mutex<HashMap<String, Vec<SocketAddr>>>>;

/// Resolves each host and port once per client, and connects only where a fetch may go.
///
/// ureq resolves a host before every request, even one that reuses a pooled connection, and
/// with a timeout set it does so on a fresh thread: for a check of 10,000 pages that was 10,000
/// threads and lookups. A client lives for one command, so the cached addresses are minutes old
/// at most; failures are not cached. The client looks a host up (into the same cache) before it
/// asks ureq, to decide where the fetch may go; ureq's lookup then finds the same addresses, so
/// what was checked is what is connected to.
#[derive(Debug)]
struct CheckedResolver {
    lookups: Lookups,
    /// Internal addresses are dropped, and a host with nothing else is refused.
    public_only: bool,
    timeout: Duration,
}

impl ureq::unversioned::resolver::Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri
            .port_u16()
            .or_else(|| match uri.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            })
            .ok_or(ureq::Error::HostNotFound)?;
        let found = lookup(&self.lookups, host, port, self.timeout).map_err(ureq::Error::Io)?;
        let mut out = self.empty();
        for addr in found
            .iter()
            .filter(|a| !(self.public_only && is_internal(a.ip())))
            // ureq holds at most 16 addresses (its private `MAX_ADDRS`); pushing more panics.
            .take(16)
        {
            out.push(*addr);
        }
        if out.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("{host} has only internal addresses"),
            )));
        }
        Ok(out)
    }
}

/// The addresses of `host:port`, from the cache or a lookup given at most `timeout`.
fn lookup(
    lookups: &Lookups,
    host: &str,
    port: u16,
    timeout: Duration,
) -> std::io::Result<Vec<SocketAddr>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let key = format!("{}:{port}", host.to_ascii_lowercase());
    if let Some(found) = lookups.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let found: Vec<SocketAddr> = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        // std's lookup has no timeout: it runs on a thread of its own, given up on at the limit.
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let name = (host.to_owned(), port);
        std::thread::spawn(move || {
            use std::net::ToSocketAddrs as _;
            let _ = sender.send(name.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
        });
        receiver.recv_timeout(timeout).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("looking up {host} timed out"),
            )
        })??
    };
    if found.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{host} has no address"),
        ));
    }
    if let Ok(mut cache) = lookups.lock() {
        cache.insert(key, found.clone());
    }
    Ok(found)
}

/// Whether `ip` is an address content must not make verbatim reach: this machine, its networks
/// and the special ranges (loopback, RFC 1918, shared CGNAT, link-local and cloud metadata,
/// unique local, unspecified, multicast, broadcast, documentation, benchmarking, reserved), and
/// IPv6 forms that embed such an IPv4 address (mapped, compatible, NAT64, 6to4).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_internal(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // IPv4-compatible (deprecated) and NAT64 (64:ff9b::/96) carry an IPv4 address.
                || (s[..6] == [0; 6] && embedded(s[6], s[7]))
                || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && embedded(s[6], s[7]))
                || (s[0] == 0x2002 && embedded(s[1], s[2]))
        }
    }
}

/// A blocking HTTP client with verbatim's limits.
pub struct HttpClient {
    /// For hops that may reach any address.
    agent: ureq::Agent,
    /// For hops held to public addresses.
    public_agent: ureq::Agent,
    lookups: Lookups,
    /// A proxy from the environment (`HTTP_PROXY`, …) carries the owner's fetches; it resolves
    /// their names itself, so they are not looked up here.
    proxied: bool,
    options: Options,
}

impl HttpClient {
    /// Builds a client with these limits.
    pub fn new(options: Options) -> HttpClient {
        let lookups = Lookups::default();
        let agent = |public_only: bool| {
            let resolver = CheckedResolver {
                lookups: lookups.clone(),
                public_only,
                timeout: options.connect_timeout,
            };
            ureq::Agent::with_parts(
                Self::config(&options, public_only),
                ureq::unversioned::transport::DefaultConnector::new(),
                resolver,
            )
        };
        HttpClient {
            agent: agent(false),
            public_agent: agent(true),
            lookups: lookups.clone(),
            proxied: ureq::Proxy::try_from_env().is_some(),
            options,
        }
    }

    /// The client's configuration; `direct`, without the environment's proxy: a proxy resolves
    /// names itself, where this client cannot check the address, so hops held to public
    /// addresses connect directly.
    fn config(options: &Options, direct: bool) -> ureq::config::Config {
        let builder = ureq::Agent::config_builder();
        let builder = if direct { builder.proxy(None) } else { builder };
        builder
            .timeout_connect(Some(options.connect_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .timeout_global(Some(options.total_timeout))
            .max_idle_connections_per_host(options.idle_per_host.max(1))
            .max_idle_connections(options.idle_per_host.max(10))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(options.user_agent.as_str())
            .build()
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
        self.get_reaching(url, validators, headers, self.options.reach)
    }

    /// As [`HttpClient::get_with`], with `reach` for this request rather than the client's: a
    /// source that came from content is fetched as content, whoever runs the check.
    pub fn get_reaching(
        &self,
        url: &Url,
        validators: &Validators,
        headers: &[(&str, &str)],
        reach: Reach,
    ) -> Result<HttpResponse, Error> {
        // `total_timeout` bounds the whole fetch: every hop, every retry and every wait.
        let deadline = std::time::Instant::now() + self.options.total_timeout;
        let mut wait = self.options.backoff;
        let mut attempt = 0;
        loop {
            let (error, retry_after) = match self.attempt(url, validators, headers, deadline, reach)
            {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let transient = match &error {
                Error::Timeout { .. } | Error::Connection { .. } => true,
                Error::Status { status, .. } => *status == 429 || (500..600).contains(status),
                _ => false,
            };
            let pause = retry_after.unwrap_or(wait);
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if !transient
                || attempt >= self.options.retries
                || pause > self.options.max_retry_after
                || pause >= left
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
        deadline: std::time::Instant,
        reach: Reach,
    ) -> Result<HttpResponse, (Error, Option<Duration>)> {
        let plain = |e: Error| (e, None);
        let requested_url = url.as_str().to_owned();
        let mut current = url.clone();
        let mut redirects = Vec::new();
        let mut anywhere = self.options.allow_private || reach == Reach::Owner;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(plain(Error::Timeout {
                    url: current.to_string(),
                    detail: format!(
                        "the whole fetch took over {} s",
                        self.options.total_timeout.as_secs_f64()
                    ),
                }));
            }
            let public = self
                .reaches_public(&current, anywhere, left)
                .map_err(plain)?;
            let agent = if anywhere {
                &self.agent
            } else {
                &self.public_agent
            };
            // Once a hop may have reached a public site, where it redirects is content.
            anywhere &= self.options.allow_private || !public;
            let mut request = agent
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
                .config()
                .timeout_global(Some(left))
                .build()
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
                if validators.etag.is_none() && validators.last_modified.is_none() {
                    return Err(plain(Error::Protocol {
                        url: current.to_string(),
                        detail: "answered 304 Not Modified to a request that was not conditional"
                            .to_owned(),
                    }));
                }
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

impl HttpClient {
    /// Looks `url`'s host up and says whether it has a public address; an error when the fetch
    /// may not go `anywhere` and the host has only internal ones.
    fn reaches_public(&self, url: &Url, anywhere: bool, left: Duration) -> Result<bool, Error> {
        // Through a proxy, the proxy resolves the owner's names (this machine may not be able
        // to): no lookup here, and the hop's redirects go through the proxy as well.
        if anywhere && self.proxied {
            return Ok(false);
        }
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Ok(false);
        };
        let timeout = left.min(self.options.connect_timeout);
        let found = lookup(&self.lookups, host, port, timeout).map_err(|e| Error::Connection {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
        let public = found.iter().any(|a| !is_internal(a.ip()));
        match found.iter().find(|a| is_internal(a.ip())) {
            Some(internal) if !anywhere && !public => Err(Error::Internal {
                url: url.to_string(),
                address: internal.ip().to_string(),
            }),
            _ => Ok(public),
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
        // The server spoke, wrongly: asking again gets the same answer.
        ureq::Error::Protocol(_)
        | ureq::Error::Http(_)
        | ureq::Error::BadUri(_)
        | ureq::Error::LargeResponseHeader(..)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_) => Error::Protocol {
            url: url.to_string(),
            detail: error.to_string(),
        },
        other => Error::Connection {
            url: url.to_string(),
            detail: other.to_string(),
        },
    }
}

/// Files from this size up have their buffer's pages mapped in one call before the read (see
/// [`crate::sys::prefault`]); under it the call costs more than the faults it saves.
const PREFAULT_FROM: usize = 256 << 10;

/// Reads a local file whole, refusing directories, special files and files over `max_bytes`.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let (file, meta) = open_regular(path)?;
    let mut bytes = Vec::with_capacity(meta.len().min(max_bytes) as usize);
    if bytes.capacity() >= PREFAULT_FROM {
        crate::sys::prefault(&mut bytes);
    }
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

/// Opens a local file to read, refusing anything but a regular file: a FIFO or socket would
/// block the run (and every later check) forever, and a device can be endless (`/dev/zero`) or
/// act when opened. What the path is is asked before opening it, so nothing special is ever
/// opened; the file is then opened without blocking and asked again, so a path swapped for a
/// FIFO in between is still refused, not waited on.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), Error> {
    let refuse = |meta: &std::fs::Metadata| -> Result<(), Error> {
        if meta.is_dir() {
            return Err(Error::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        if !meta.is_file() {
            return Err(Error::NotRegular {
                path: path.to_path_buf(),
                kind: file_kind(meta),
            });
        }
        Ok(())
    };
    refuse(&std::fs::metadata(path).map_err(|source| io_error(path, source))?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Reads of a regular file never block, so the flag changes nothing for what is kept.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options
        .open(path)
        .map_err(|source| io_error(path, source))?;
    let meta = file.metadata().map_err(|source| io_error(path, source))?;
    refuse(&meta)?;
    Ok((file, meta))
}

/// What kind of file that is not a regular file or a directory `meta` describes.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "socket";
        }
        if kind.is_char_device() {
            return "character device";
        }
        if kind.is_block_device() {
            return "block device";
        }
    }
    let _ = meta;
    "special file"
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

#[cfg(test)]
mod reach_tests {
    use super::*;

    #[test]
    fn internal_addresses_are_known_in_every_form() {
        for internal in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = internal.parse().expect(internal);
            assert!(is_internal(ip), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().expect(public);
            assert!(!is_internal(ip), "{public}");
        }
    }

    #[test]
    fn a_public_only_resolver_connects_to_no_internal_address() {
        use ureq::unversioned::resolver::Resolver as _;
        let lookups = Lookups::default();
        // As if a name resolved to a public and an internal address (rebinding's first half).
        lookups.lock().expect("lock").insert(
            "mixed.example:80".to_owned(),
            vec![
                "127.0.0.1:80".parse().expect("addr"),
                "93.184.216.34:80".parse().expect("addr"),
            ],
        );
        lookups.lock().expect("lock").insert(
            "inside.example:80".to_owned(),
            vec!["10.0.0.1:80".parse().expect("addr")],
        );
        let resolver = CheckedResolver {
            lookups,
            public_only: true,
            timeout: Duration::from_secs(1),
        };
        let config = ureq::config::Config::default();
        let timeout = ureq::unversioned::transport::NextTimeout {
            after: ureq::unversioned::transport::time::Duration::NotHappening,
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        };
        let uri: ureq::http::Uri = "http://mixed.example/".parse().expect("uri");
        let found = resolver
            .resolve(&uri, &config, timeout)
            .expect("public address");
        assert_eq!(
            found.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ["93.184.216.34:80"]
        );
        let uri: ureq::http::Uri = "http://inside.example/".parse().expect("uri");
        assert!(resolver.resolve(&uri, &config, timeout).is_err());
    }
}
