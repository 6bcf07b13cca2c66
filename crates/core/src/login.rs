//! Who is logging in, and whether they must wait: the client's address behind trusted
//! proxies, and the login throttle's growing delays.
//!
//! The throttle counts failed logins three ways within [`WINDOW_MS`]: for the account
//! from this address, from this address for any account, and for the account from any
//! address. None of them locks an account for everyone: a right password from an address
//! that has not failed still gets in, so nobody can lock an operator out by guessing at
//! their e-mail, and one stranger behind the same proxy cannot lock out everybody.

use crate::clock::EpochMillis;
use crate::ssrf::{unmapped, AllowList};
use std::net::IpAddr;

/// How far back failures count.
pub const WINDOW_MS: i64 = 60 * 60_000;
/// Failures of one account from one address before the first delay.
pub const PAIR_FREE: i64 = 5;
/// Failures from one address (any accounts) before its first delay.
pub const CLIENT_FREE: i64 = 10;
/// Failures of one account from every address before addresses that failed at it wait.
pub const ACCOUNT_FREE: i64 = 20;
/// The first delay; each further failure doubles it, up to [`MAX_DELAY_MS`].
pub const FIRST_DELAY_MS: i64 = 60_000;
pub const MAX_DELAY_MS: i64 = 15 * 60_000;
/// What is kept of a typed e-mail (the longest valid address): a 60 KB "e-mail" or a
/// password typed into the wrong field is not stored whole.
pub const KEPT_KEY_CHARS: usize = 254;

/// Sessions (the console's and the portal's) end after 12 idle hours, and 7 days after
/// login whatever happens.
pub const SESSION_IDLE_MS: i64 = 12 * 3_600_000;
pub const SESSION_ABSOLUTE_MS: i64 = 7 * 24 * 3_600_000;

/// Failures counted one way: how many in the window, and the latest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub n: i64,
    pub last: Option<EpochMillis>,
}

/// The three counts of a login attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// This account from this address.
    pub pair: Count,
    /// This address, any account.
    pub client: Count,
    /// This account, any address.
    pub account: Count,
}

/// The delay after `n` failures when `free` are allowed: none below `free`, then one
/// minute, doubling with each failure, at most 15 minutes.
pub fn delay_ms(n: i64, free: i64) -> i64 {
    if n < free {
        return 0;
    }
    let doublings = (n - free).min(10) as u32;
    (FIRST_DELAY_MS << doublings).min(MAX_DELAY_MS)
}

/// Until when a login must wait (`None`: it may go on now).
pub fn wait_until(f: &Failures, now: EpochMillis) -> Option<EpochMillis> {
    let until = |c: Count, free: i64| c.last.map(|l| l + delay_ms(c.n, free));
    let mut candidates = vec![until(f.pair, PAIR_FREE), until(f.client, CLIENT_FREE)];
    // Many failures at one account from many addresses: those addresses that took part
    // wait; a clean address does not.
    if f.pair.n > 0 {
        candidates.push(f.pair.last.map(|l| l + delay_ms(f.account.n, ACCOUNT_FREE)));
    }
    candidates.into_iter().flatten().filter(|&t| t > now).max()
}

/// The key a failure is recorded under: the typed e-mail, cut to what an address can be.
pub fn kept_key(typed: &str) -> String {
    typed.chars().take(KEPT_KEY_CHARS).collect()
}

/// The client of a request from `peer`: when the peer is a trusted proxy, the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends
/// the address it saw, so entries left of an untrusted one may be forged); otherwise the
/// peer itself, whatever the header says.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &AllowList) -> IpAddr {
    let peer = unmapped(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for
        .iter()
        .rev()
        .flat_map(|h| h.rsplit(','))
        .map(str::trim)
    {
        let Some(ip) = parse_forwarded(entry) else {
            // A value we cannot read: stop at the last address we could trust.
            break;
        };
        client = unmapped(ip);
        if !trusted.contains(client) {
            break;
        }
    }
    client
}

fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    // "1.2.3.4:5678" and "[::1]:5678", which some proxies send.
    entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(n: i64, last: i64) -> Count {
        Count {
            n,
            last: Some(last),
        }
    }

    #[test]
    fn delays_grow_from_one_minute_to_fifteen() {
        let d: Vec<i64> = (4..11).map(|n| delay_ms(n, 5) / 60_000).collect();
        assert_eq!(d, vec![0, 1, 2, 4, 8, 15, 15]);
    }

    #[test]
    fn five_failures_from_one_address_make_that_address_wait_for_that_account() {
        let f = Failures {
            pair: c(5, 1_000),
            client: c(5, 1_000),
            account: c(5, 1_000),
        };
        assert_eq!(wait_until(&f, 1_000), Some(61_000));
        assert_eq!(wait_until(&f, 61_000), None, "the delay is over");
    }

    #[test]
    fn a_clean_address_gets_in_however_often_others_failed_at_the_account() {
        let f = Failures {
            pair: Count::default(),
            client: Count::default(),
            account: c(500, 1_000),
        };
        assert_eq!(wait_until(&f, 1_000), None);
    }

    #[test]
    fn an_address_that_failed_at_a_much_guessed_account_waits() {
        let f = Failures {
            pair: c(1, 1_000),
            client: c(1, 1_000),
            account: c(22, 1_000),
        };
        assert_eq!(wait_until(&f, 1_000), Some(1_000 + 4 * 60_000));
    }

    #[test]
    fn many_accounts_guessed_from_one_address_make_it_wait_for_every_account() {
        let f = Failures {
            pair: Count::default(),
            client: c(10, 5_000),
            account: Count::default(),
        };
        assert_eq!(wait_until(&f, 5_000), Some(65_000));
        let fewer = Failures {
            client: c(9, 5_000),
            ..f
        };
        assert_eq!(wait_until(&fewer, 5_000), None);
    }

    fn trusted(cidrs: &[&str]) -> AllowList {
        AllowList::new(cidrs.iter().map(|c| c.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("198.51.100.9"), &["203.0.113.5"], &t),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_address(ip("198.51.100.9"), &[], &AllowList::default()),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let t = trusted(&["10.0.0.0/8"]);
        // A client forged the first entry; the proxy appended what it saw.
        assert_eq!(
            client_address(ip("10.1.2.3"), &["6.6.6.6, 203.0.113.5"], &t),
            ip("203.0.113.5")
        );
        // Two proxies of ours in a row.
        assert_eq!(
            client_address(ip("10.1.2.3"), &["203.0.113.5, 10.9.9.9"], &t),
            ip("203.0.113.5")
        );
        // Several header lines are one list.
        assert_eq!(
            client_address(ip("10.1.2.3"), &["6.6.6.6", "203.0.113.7"], &t),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &["[2001:db8::1]:443"], &t),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn a_trusted_peer_without_a_header_or_with_garbage_is_itself() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(client_address(ip("10.1.2.3"), &[], &t), ip("10.1.2.3"));
        assert_eq!(
            client_address(ip("10.1.2.3"), &["not-an-ip"], &t),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_address(ip("::ffff:10.1.2.3"), &["203.0.113.5"], &t),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn a_typed_key_is_kept_at_most_254_characters() {
        assert_eq!(kept_key(&"a".repeat(60_000)).len(), 254);
        assert_eq!(kept_key("op@example.com"), "op@example.com");
    }
}
