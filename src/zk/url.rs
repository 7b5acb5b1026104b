//! `zk://host1:2181,host2:2181/mesos-auth/acls`: where a policy lives.

use std::fmt;
use std::str::FromStr;

use super::error::ZkError;

/// ZooKeeper's default client port, used when a host names none.
pub const DEFAULT_PORT: u16 = 2181;

/// Longest URL accepted; a connect string is short.
const MAX_URL_LEN: usize = 4096;

/// A parsed `zk://` URL: the servers and one absolute znode path.
///
/// Strict: the scheme is `zk`; at least one `host[:port]` (a hostname, an
/// IPv4 address or a bracketed IPv6 address; port 1-65535, default 2181);
/// the path is absolute, with no empty, `.` or `..` segment, no trailing
/// `/`, no control character; no user, query or fragment.
///
/// ```
/// use mesos_auth::zk::ZkUrl;
///
/// let url: ZkUrl = "zk://zk1:2181,zk2/mesos-auth/acls".parse()?;
/// assert_eq!(url.connect_string(), "zk1:2181,zk2:2181");
/// assert_eq!(url.path(), "/mesos-auth/acls");
/// assert!("zk://zk1/mesos-auth/".parse::<ZkUrl>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZkUrl {
    hosts: Vec<(String, u16)>,
    path: String,
}

impl ZkUrl {
    /// Parses a `zk://` URL.
    ///
    /// # Errors
    ///
    /// [`ZkError::Url`] naming the URL and what is wrong.
    pub fn parse(url: &str) -> Result<Self, ZkError> {
        let bad = |reason: &str| ZkError::Url {
            url: url.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        if url.len() > MAX_URL_LEN {
            return Err(bad("longer than 4096 bytes"));
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("contains whitespace or a control character"));
        }
        let rest = url
            .strip_prefix("zk://")
            .ok_or_else(|| bad("must start with `zk://`"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => return Err(bad("no znode path after the servers")),
        };
        if authority.contains('@') {
            return Err(bad("user information is not allowed; use the SASL options"));
        }
        if path.contains('?') || path.contains('#') {
            return Err(bad("a query or fragment is not allowed"));
        }
        let mut hosts = Vec::new();
        for host in authority.split(',') {
            hosts.push(parse_host(host).map_err(|r| bad(&r))?);
        }
        check_path(path).map_err(|r| bad(&r))?;
        Ok(Self {
            hosts,
            path: path.to_owned(),
        })
    }

    /// The servers as ZooKeeper's connect string: `h1:2181,h2:2181`.
    pub fn connect_string(&self) -> String {
        self.hosts
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The servers, each `(host, port)`.
    pub fn hosts(&self) -> &[(String, u16)] {
        &self.hosts
    }

    /// The znode path, absolute.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The same servers with another znode path (for `zk audit`'s walk, or
    /// the sibling znodes of one deployment).
    ///
    /// # Errors
    ///
    /// [`ZkError::Url`] if `path` is not a valid absolute znode path.
    pub fn with_path(&self, path: &str) -> Result<Self, ZkError> {
        check_path(path).map_err(|reason| ZkError::Url {
            url: format!("zk://{}{path}", self.connect_string()),
            reason,
        })?;
        Ok(Self {
            hosts: self.hosts.clone(),
            path: path.to_owned(),
        })
    }
}

impl FromStr for ZkUrl {
    type Err = ZkError;

    fn from_str(s: &str) -> Result<Self, ZkError> {
        Self::parse(s)
    }
}

impl fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zk://{}{}", self.connect_string(), self.path)
    }
}

fn parse_host(host: &str) -> Result<(String, u16), String> {
    if host.is_empty() {
        return Err("an empty server in the list".to_owned());
    }
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("server `{host}`: `[` without `]`"))?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("server `{host}`: not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("server `{host}`: junk after `]`"))?,
            ),
        };
        (format!("[{addr}]"), port)
    } else {
        let (name, port) = match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if !valid {
            return Err(format!("server `{host}`: not a hostname or address"));
        }
        (name.to_owned(), port)
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("server `{host}`: port must be 1-65535")),
        },
    };
    Ok((name, port))
}

fn check_path(path: &str) -> Result<(), String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err("the znode path must be absolute".to_owned());
    };
    if rest.is_empty() {
        return Err("the znode path must name a znode, not `/`".to_owned());
    }
    for seg in rest.split('/') {
        match seg {
            "" => return Err("the znode path has an empty segment or a trailing `/`".to_owned()),
            "." | ".." => return Err(format!("the znode path has a `{seg}` segment")),
            "zookeeper" if rest.starts_with("zookeeper") => {
                return Err("`/zookeeper` is reserved by ZooKeeper".to_owned());
            }
            _ => {}
        }
        if seg.chars().any(char::is_control) {
            return Err("the znode path has a control character".to_owned());
        }
    }
    Ok(())
}
