//! Integration tests for `mesos_auth::tls`.

#[cfg(test)]
#[cfg(feature = "cli")]
mod cli;
#[cfg(test)]
mod examples;
#[cfg(test)]
mod facts_diff;
#[cfg(test)]
mod handshake;
#[cfg(test)]
mod openssl;
#[cfg(test)]
mod pki;
#[cfg(test)]
mod regressions;
#[cfg(test)]
mod threats;
