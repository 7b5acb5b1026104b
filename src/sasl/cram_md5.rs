//! The CRAM-MD5 computation and the constant-time response check.

use subtle::ConstantTimeEq;

use super::event::FailureReason;
use crate::Principal;
use crate::credentials::CredentialStore;
use crate::hmac_md5::HmacMd5Key;

/// Proof that a response's digest matched in constant time. Only
/// [`verify`] can make one; a completed server session needs it.
#[derive(Debug)]
pub(crate) struct DigestVerified(());

/// Lowercase hex of `bytes`, without data-dependent branches or table
/// look-ups (the digest is secret until compared).
pub(crate) fn hex_lower(bytes: &[u8; 16]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        for (slot, nibble) in pair.iter_mut().zip([b >> 4, b & 0x0f]) {
            // '0' + n, plus 39 more when n > 9 ('a' - '0' - 10 = 39).
            let over9 = (9u8.wrapping_sub(nibble) >> 7) & 1;
            *slot = b'0' + nibble + over9 * 39;
        }
    }
    out
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
/// no space or only spaces before it.
pub(crate) fn split(data: &[u8]) -> Option<Parsed<'_>> {
    let at = data.iter().rposition(|&b| b == b' ')?;
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

/// Checks a parsed response against `challenge`.
///
/// The HMAC is always computed, with the dummy key when the principal is
/// unknown or invalid, and compared in constant time, so the peer cannot
/// tell the cases apart by timing. Branches only on public facts (the
/// digest's length and alphabet, which the peer chose).
pub(crate) fn verify(
    store: &CredentialStore,
    challenge: &[u8],
    parsed: &Parsed<'_>,
) -> Result<(Principal, DigestVerified), FailureReason> {
    // The rule of `Principal::new`, checked without allocating; an invalid
    // name is looked up as "", which no principal can be, so it gets the
    // dummy key.
    let name = std::str::from_utf8(parsed.name)
        .ok()
        .filter(|n| n.len() <= crate::MAX_PRINCIPAL_LEN && !n.chars().any(char::is_control))
        .unwrap_or("");
    let valid = !name.is_empty();
    let lookup = store.cram_md5_key(name);
    let expected = hex_lower(&lookup.mac(challenge));
    let well_formed = parsed.digest.len() == 32 && is_lower_hex(parsed.digest);
    let mut received = [0u8; 32];
    if well_formed {
        received.copy_from_slice(parsed.digest);
    }
    let equal = bool::from(expected.ct_eq(&received));
    let known = lookup.known();
    let stored = lookup.credential();
    if !valid {
        return Err(FailureReason::InvalidPrincipal);
    }
    let Some(stored) = stored else {
        return Err(FailureReason::UnknownPrincipal);
    };
    if !known {
        // The principal exists but its secret cannot answer CRAM-MD5: an
        // empty secret (Cyrus refuses those too) or SCRAM keys only.
        return Err(FailureReason::NoCramMd5Secret);
    }
    if !well_formed {
        return Err(FailureReason::MalformedDigest);
    }
    if !equal {
        return Err(FailureReason::BadDigest);
    }
    // The principal returned is the stored one (threats.md SA-4).
    Ok((stored.principal().clone(), DigestVerified(())))
}

/// Whether every byte is `0-9` or `a-f`, without a branch per byte (so the
/// time does not depend on which digits the digest holds).
fn is_lower_hex(bytes: &[u8]) -> bool {
    let bad = bytes.iter().fold(0u8, |acc, &b| {
        let digit = b.wrapping_sub(b'0') < 10;
        let letter = b.wrapping_sub(b'a') < 6;
        acc | u8::from(!(digit | letter))
    });
    bad == 0
}
