//! The CRAM-MD5 computation and the constant-time response check.

use std::hint::black_box;
use std::sync::Arc;

use super::event::FailureReason;
use crate::credentials::{CramMd5Lookup, CredentialStore};
use crate::hmac_md5::HmacMd5Key;
use crate::{Name, Principal};

/// Proof that a response's digest matched in constant time. Only
/// [`Checked::into_result`] can make one; a completed server session needs it.
#[derive(Debug)]
pub(crate) struct DigestVerified(());

/// Lowercase hex of `bytes`, without data-dependent branches or table
/// look-ups (the digest is secret until compared).
pub(crate) fn hex_lower(bytes: &[u8; 16]) -> [u8; 32] {
    // Every lane is independent, so the compiler does the 16 bytes at once.
    let hi = bytes.map(|b| hex_digit(b >> 4));
    let lo = bytes.map(|b| hex_digit(b & 0x0f));
    let mut out = [0u8; 32];
    for ((pair, h), l) in out.chunks_exact_mut(2).zip(hi).zip(lo) {
        pair.copy_from_slice(&[h, l]);
    }
    out
}

/// The lowercase hex digit of `nibble` (0-15), without a branch.
#[inline(always)]
fn hex_digit(nibble: u8) -> u8 {
    // '0' + n, plus 39 more when n > 9 ('a' - '0' - 10 = 39).
    let over9 = (9u8.wrapping_sub(nibble) >> 7) & 1;
    b'0' + nibble + over9 * 39
}

/// The response `principal SP hex(HMAC-MD5(key, challenge))`.
pub(crate) fn response_with(key: &HmacMd5Key, principal: &str, challenge: &[u8]) -> Vec<u8> {
    let digest = hex_lower(&key.mac(challenge));
    // Sized once from checked lengths (threats.md SC-5): principal + SP + 32.
    let mut out = Vec::with_capacity(principal.len().saturating_add(33));
    out.extend_from_slice(principal.as_bytes());
    out.push(b' ');
    out.extend_from_slice(&digest);
    out
}

/// The client response for `secret` (for tests, benches and the FFI).
pub(crate) fn response(principal: &str, secret: &[u8], challenge: &[u8]) -> Vec<u8> {
    response_with(&HmacMd5Key::from_secret(secret), principal, challenge)
}

/// A response split at its last space.
pub(crate) struct Parsed<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) digest: &'a [u8],
}

/// Splits at the **last** space, like Cyrus; no trimming. `None` if there is
/// no space or only spaces before it. Inlined: returned from a call, the
/// two slices went through the stack and stalled the read that followed.
#[inline(always)]
pub(crate) fn split(data: &[u8]) -> Option<Parsed<'_>> {
    let at = last_space(data)?;
    let (name, rest) = data.split_at(at);
    // Nothing but spaces is no name either (threats.md SA-3).
    if name.iter().all(|&b| b == b' ') {
        return None;
    }
    Some(Parsed {
        name,
        digest: rest.get(1..).unwrap_or_default(),
    })
}

/// Where the last space in `data` is. A well-formed response ends in a
/// space and 32 hex digits: that shape is checked first, without a
/// byte-by-byte search from the end.
fn last_space(data: &[u8]) -> Option<usize> {
    if let Some(at) = data.len().checked_sub(33)
        && let Some((&b' ', digest)) = data.get(at..).and_then(<[u8]>::split_first)
        // No early exit, so the loop is done 16 bytes at a time.
        && !digest.iter().fold(false, |seen, &b| seen | (b == b' '))
    {
        return Some(at);
    }
    data.iter().rposition(|&b| b == b' ')
}

/// The verdict on a response, reached in constant time by [`check`].
///
/// Holds the decision and the failure reason as masks; turning them into a
/// result ([`into_result`](Self::into_result)) is the first branch on the
/// outcome, after all the timed work.
pub(crate) struct Checked<'s, 'n> {
    // 1 or 0, already behind `black_box`.
    accepted: u8,
    reason: u8,
    lookup: CramMd5Lookup<'s>,
    // The claimed name as checked, if it can be a principal at all.
    name: Option<&'n str>,
}

// Failure reason codes, selected with masks in `check`.
const ACCEPTED: u8 = 0;
const BAD_DIGEST: u8 = 1;
const MALFORMED_DIGEST: u8 = 2;
const NO_CRAM_MD5_SECRET: u8 = 3;
const UNKNOWN_PRINCIPAL: u8 = 4;
const INVALID_PRINCIPAL: u8 = 5;

impl Checked<'_, '_> {
    /// Whether the response is accepted.
    pub(crate) fn accepted(&self) -> bool {
        self.accepted == 1
    }

    /// The peer's claimed name for the audit log, as a refusal records it
    /// (see [`claimed_of`]).
    #[cfg(test)]
    pub(crate) fn claimed(&self, raw: &[u8]) -> Name {
        claimed_of(self.name, raw)
    }

    /// The stored principal with the proof, or why the response failed.
    pub(crate) fn into_result(self) -> Result<(Principal, DigestVerified), FailureReason> {
        let reason = match self.reason {
            ACCEPTED => None,
            BAD_DIGEST => Some(FailureReason::BadDigest),
            MALFORMED_DIGEST => Some(FailureReason::MalformedDigest),
            NO_CRAM_MD5_SECRET => Some(FailureReason::NoCramMd5Secret),
            UNKNOWN_PRINCIPAL => Some(FailureReason::UnknownPrincipal),
            _ => Some(FailureReason::InvalidPrincipal),
        };
        match (reason, self.accepted == 1, self.lookup.credential()) {
            // The principal returned is the stored one (threats.md SA-4).
            (None, true, Some(stored)) => Ok((stored.principal().clone(), DigestVerified(()))),
            (Some(reason), _, _) => Err(reason),
            // Unreachable (accepted implies a known credential); fail closed.
            _ => Err(FailureReason::UnknownPrincipal),
        }
    }
}

/// Checks a parsed response against `challenge`: the path every server
/// session takes, and the one `tests/constant_time.rs` times.
///
/// Constant time with respect to whether the principal exists and whether
/// the digest is right: the store's look-up selects the key (the dummy key
/// for an unknown or invalid name) without branching, the HMAC always runs,
/// the digests are compared in constant time, and the decision and the
/// failure reason are combined with masks. Branches only on public facts:
/// the name's length and validity and the digest's length and alphabet,
/// which the peer chose.
pub(crate) fn check<'s, 'n>(
    store: &'s CredentialStore,
    challenge: &[u8],
    parsed: &Parsed<'n>,
) -> Checked<'s, 'n> {
    // An invalid name is looked up as "", which no principal can be, so it
    // gets the dummy key.
    let valid_name = principal_name(parsed.name);
    let name = valid_name.unwrap_or("");
    let valid = u8::from(!name.is_empty());
    let lookup = store.cram_md5_key(name);
    let expected = hex_lower(&lookup.mac(challenge));
    // The length is public (the peer chose it); a wrong one is compared as
    // zeros, which never match a hex digest.
    let received = <&[u8; 32]>::try_from(parsed.digest).unwrap_or(&[0; 32]);
    let well_formed = parsed.digest.len() == 32 && is_lower_hex(received);
    // Flags are 0 or 1 in a `u8`, combined with arithmetic; each passes
    // through `black_box` (an optimization barrier, no code) so the
    // optimizer cannot turn a selection into a branch. subtle's `Choice`
    // does the same with a call per flag, which a session paid 13 times.
    let equal = digests_equal(&expected, received);
    let well_formed = u8::from(well_formed);
    let known = lookup.known_flag();
    let exists = lookup.exists_flag();
    let accepted = black_box(valid & known & well_formed & equal);
    // Lowest priority first: a later, more basic failure overrides.
    let mut reason = ACCEPTED;
    for (code, failed) in [
        (BAD_DIGEST, equal ^ 1),
        (MALFORMED_DIGEST, well_formed ^ 1),
        (NO_CRAM_MD5_SECRET, known ^ 1),
        (UNKNOWN_PRINCIPAL, exists ^ 1),
        (INVALID_PRINCIPAL, valid ^ 1),
    ] {
        let mask = black_box(failed.wrapping_neg());
        reason = (code & mask) | (reason & !mask);
    }
    Checked {
        accepted,
        reason,
        lookup,
        name: valid_name,
    }
}

/// `name` if it can be a principal (the rule of `Principal::new`: UTF-8,
/// not empty, at most 256 bytes, no control character), checked without
/// allocating. Branches only on the name, which the peer chose.
fn principal_name(name: &[u8]) -> Option<&str> {
    if name.is_empty() || name.len() > crate::MAX_PRINCIPAL_LEN {
        return None;
    }
    let name = std::str::from_utf8(name).ok()?;
    // ASCII names (nearly all) skip decoding: their control characters are
    // the bytes below 0x20 and DEL. One pass without early exit, so it runs
    // 16 bytes at a time.
    let (high, control) = name.bytes().fold((0u8, false), |(high, control), b| {
        (high | b, control | (b < 0x20) | (b == 0x7f))
    });
    let control = if high < 0x80 {
        control
    } else {
        name.chars().any(char::is_control)
    };
    (!control).then_some(name)
}

/// Whether two hex digests are equal (1) or not (0), in constant time:
/// every byte pair is XORed into one accumulator, which is tested once
/// (subtle's slice `ct_eq` pays an optimization barrier per byte).
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> u8 {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    let diff = u32::from(black_box(diff));
    // 1 when `diff` is zero, without a comparison.
    1 ^ ((diff | diff.wrapping_neg()) >> 31) as u8
}

/// Whether every byte is `0-9` or `a-f`, without a branch per byte (so the
/// time does not depend on which digits the digest holds).
fn is_lower_hex(bytes: &[u8; 32]) -> bool {
    let bad = bytes.iter().fold(0u8, |acc, &b| {
        let digit = b.wrapping_sub(b'0') < 10;
        let letter = b.wrapping_sub(b'a') < 6;
        acc | u8::from(!(digit | letter))
    });
    bad == 0
}

/// CRAM-MD5 as a server mechanism: server-first, one challenge, one check.
#[derive(Debug)]
pub(crate) struct Server {
    challenge: super::nonce::Challenge,
    // Taken by the one step: the session lets go of the store (and the
    // secrets of a snapshot a rotation replaced) as soon as it has checked
    // the response.
    store: Option<Arc<CredentialStore>>,
    challenged: bool,
}

impl Server {
    pub(crate) fn new(challenge: super::nonce::Challenge, store: Arc<CredentialStore>) -> Self {
        Self {
            challenge,
            store: Some(store),
            challenged: false,
        }
    }
}

/// The peer's claimed name `raw` for the audit log (see [`claimed_name`]),
/// without decoding it again if the check found it valid (`name`). Only
/// refusals need it: an accepted claim is the stored principal's name, which
/// the event takes from the principal (a `Name`, without an allocation).
fn claimed_of(name: Option<&str>, raw: &[u8]) -> Name {
    match name {
        Some(name) => Name::new(name),
        None => claimed_name(raw),
    }
}

/// The peer's claimed name for the audit log: lossy UTF-8, at most 256 bytes.
pub(crate) fn claimed_name(name: &[u8]) -> Name {
    let cut = name.get(..crate::MAX_PRINCIPAL_LEN).unwrap_or(name);
    Name::new(&String::from_utf8_lossy(cut))
}

impl super::mechanism::ServerMechanism for Server {
    fn name(&self) -> &'static str {
        super::mechanism::CRAM_MD5
    }

    // Inlined like `step`.
    #[inline]
    fn start(
        &mut self,
        data: &[u8],
        _ctx: super::mechanism::StepCtx,
    ) -> Result<super::mechanism::ServerStep, super::SaslError> {
        if !data.is_empty() {
            return Err(super::PeerMisbehaved::InitialData.into());
        }
        self.challenged = true;
        Ok(super::mechanism::ServerStep::Challenge(
            self.challenge.to_step_data(),
        ))
    }

    // Inlined into the session's dispatch, so its answer is built where the
    // session reads it rather than stored and copied back in pieces.
    #[inline]
    fn step(
        &mut self,
        data: &[u8],
        _ctx: super::mechanism::StepCtx,
    ) -> Result<super::mechanism::ServerStep, super::SaslError> {
        use super::mechanism::{ServerStep, Verified};
        // A response before the challenge is a violation, and so is a second
        // one: the store is taken by the first. The flag is only read: a
        // byte written beside the challenge's length stalled the read of
        // the length that followed.
        if !self.challenged {
            return Err(super::PeerMisbehaved::UnexpectedStep.into());
        }
        let Some(store) = self.store.take() else {
            return Err(super::PeerMisbehaved::UnexpectedStep.into());
        };
        let Some(parsed) = split(data) else {
            return Err(super::PeerMisbehaved::MissingName.into());
        };
        let checked = check(&store, self.challenge.as_slice(), &parsed);
        // Everything below runs after the decision and depends only on it.
        let name = checked.name;
        Ok(match checked.into_result() {
            // Accepted means the claim is the stored name (threats.md SA-4):
            // the event names it rather than copying the claim.
            Ok((principal, proof)) => ServerStep::Success {
                claimed: Some(principal.name()),
                principal,
                proof: Verified::digest(proof),
            },
            Err(reason) => ServerStep::Failure {
                reason,
                claimed: Some(claimed_of(name, parsed.name)),
                detail: None,
            },
        })
    }
}

/// CRAM-MD5 as a client mechanism. The key schedule is wiped once the
/// response is computed (threats.md SC-6).
#[derive(Debug)]
pub(crate) struct Client {
    key: Option<HmacMd5Key>,
    responded: bool,
}

impl Client {
    pub(crate) fn new(key: HmacMd5Key) -> Self {
        Self {
            key: Some(key),
            responded: false,
        }
    }
}

impl super::mechanism::ClientMechanism for Client {
    fn name(&self) -> &'static str {
        super::mechanism::CRAM_MD5
    }

    fn start(&mut self, _principal: &Principal) -> Result<Vec<u8>, super::SaslError> {
        Ok(Vec::new())
    }

    fn step(
        &mut self,
        principal: &Principal,
        challenge: &[u8],
    ) -> Result<Vec<u8>, super::SaslError> {
        use super::PeerMisbehaved;
        let Some(key) = self.key.take() else {
            return Err(PeerMisbehaved::UnexpectedStep.into());
        };
        if challenge.is_empty() {
            return Err(PeerMisbehaved::EmptyChallenge.into());
        }
        if challenge.len() > super::MAX_MESSAGE_LEN {
            return Err(PeerMisbehaved::TooLong {
                len: challenge.len(),
                max: super::MAX_MESSAGE_LEN,
            }
            .into());
        }
        self.responded = true;
        // `key` is dropped (and wiped) on return.
        Ok(response_with(&key, principal.as_str(), challenge))
    }

    fn may_complete(&self) -> bool {
        self.responded
    }
}

#[cfg(test)]
mod test;
