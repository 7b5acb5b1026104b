use super::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// A seeded ChaCha20 stream, for reproducible draws.
struct Seeded(ChaCha20Rng);

impl NonceSource for Seeded {
    fn nonce(&mut self) -> [u8; 16] {
        let mut n = [0; 16];
        rand_core::RngCore::fill_bytes(&mut self.0, &mut n);
        n
    }
}

/// Always returns the same 64 bits.
struct Constant(u64);

impl NonceSource for Constant {
    fn nonce(&mut self) -> [u8; 16] {
        let mut n = [0; 16];
        n[..8].copy_from_slice(&self.0.to_be_bytes());
        n
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn windows_follow_mesos() {
    let b = RetryBackoff::new();
    let highs: Vec<u64> = (1..=8).map(|n| b.window(n).1.as_secs()).collect();
    assert_eq!(highs, [7, 9, 13, 21, 37, 60, 60, 60]);
    assert!((0..=8).all(|n| b.window(n).0 == secs(5)));
    assert_eq!(b.window(0), b.window(1));
}

#[test]
fn delays_stay_in_the_window_and_reach_both_ends() {
    let b = RetryBackoff::new();
    let mut rng = Seeded(ChaCha20Rng::seed_from_u64(7));
    for n in 0..40 {
        let (low, high) = b.window(n);
        for _ in 0..200 {
            let d = b.delay(n, &mut rng);
            assert!(low <= d && d <= high, "attempt {n}: {d:?}");
        }
        assert_eq!(b.delay(n, &mut Constant(0)), low);
        // The top of the range lands within a nanosecond of `high`.
        let top = b.delay(n, &mut Constant(u64::MAX));
        assert!(top <= high && high - top <= Duration::from_nanos(1));
    }
    // Draws spread over the window, not stuck at one end.
    let draws: Vec<Duration> = (0..1000).map(|_| b.delay(6, &mut rng)).collect();
    assert!(draws.iter().any(|d| *d < secs(20)));
    assert!(draws.iter().any(|d| *d > secs(45)));
}

#[test]
fn large_attempts_and_factors_saturate_at_the_cap() {
    let b = RetryBackoff::new();
    for n in [31, 32, 33, 63, 64, 1000, u32::MAX] {
        assert_eq!(b.window(n), (secs(5), secs(60)));
        let d = b.delay(n, &mut Constant(u64::MAX));
        assert!(d <= secs(60));
    }
    let huge = RetryBackoff::new().factor(Duration::MAX).max(Duration::MAX);
    assert_eq!(huge.window(u32::MAX), (secs(5), Duration::MAX));
    let d = huge.delay(u32::MAX, &mut Constant(u64::MAX));
    assert!(d >= secs(5));
}

#[test]
fn max_below_min_pins_the_wait() {
    let b = RetryBackoff::new().min(secs(10)).max(secs(3));
    assert_eq!(b.window(5), (secs(10), secs(10)));
    assert_eq!(b.delay(5, &mut Constant(u64::MAX)), secs(10));
    let zero = RetryBackoff::new().factor(Duration::ZERO);
    assert_eq!(zero.window(9), (secs(5), secs(5)));
}
