//! Arguments shared by several commands, declared once so that every command that takes them
//! takes all of them, with the same names, defaults and checks.

use std::time::Duration;

use verbatim::fetch;

/// How sources are fetched: every fetching command (`add`, `check`, `cite check`, `diff`)
/// flattens this.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchArgs {
    /// Seconds allowed for each HTTP fetch, body included
    #[arg(long, default_value_t = 60, value_name = "SECS", value_parser = super::limits::whole_seconds)]
    pub timeout: u64,
    /// Seconds allowed to open a connection
    #[arg(long, default_value_t = fetch::Options::default().connect_timeout.as_secs(), value_name = "SECS", value_parser = super::limits::whole_seconds)]
    pub connect_timeout: u64,
    /// Seconds a server may go silent (before the response or within the body)
    #[arg(long, default_value_t = fetch::Options::default().read_timeout.as_secs(), value_name = "SECS", value_parser = super::limits::whole_seconds)]
    pub read_timeout: u64,
    /// Further attempts after a transient failure (connection error, timeout, 429, 5xx)
    #[arg(long, default_value_t = fetch::Options::default().retries, value_name = "N", value_parser = super::limits::retries)]
    pub retries: u32,
    /// Most redirects followed per URL
    #[arg(long, default_value_t = fetch::Options::default().max_redirects, value_name = "N", value_parser = super::limits::redirects)]
    pub max_redirects: u32,
    /// Largest file or response body accepted, in bytes
    #[arg(long, default_value_t = fetch::Options::default().max_body, value_name = "N", value_parser = super::limits::bytes)]
    pub max_bytes: u64,
    /// Let URLs from content, and redirects from public sites, reach internal addresses
    /// (loopback, private networks, link-local)
    #[arg(long)]
    pub allow_private: bool,
}

impl FetchArgs {
    /// The client options these arguments give.
    pub fn options(&self) -> fetch::Options {
        fetch::Options {
            total_timeout: Duration::from_secs(self.timeout),
            connect_timeout: Duration::from_secs(self.connect_timeout),
            read_timeout: Duration::from_secs(self.read_timeout),
            retries: self.retries,
            max_redirects: self.max_redirects,
            max_body: self.max_bytes,
            allow_private: self.allow_private,
            ..fetch::Options::default()
        }
    }
}
