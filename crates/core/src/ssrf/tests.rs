use super::*;
use std::str::FromStr;

fn ip(s: &str) -> IpAddr {
    IpAddr::from_str(s).unwrap()
}

/// Every blocked range: its first and last address, and a public address just outside it.
const RANGES: &[(&str, &str, &str, &str)] = &[
    // range, first, last, public neighbour
    ("0.0.0.0/8", "0.0.0.0", "0.255.255.255", "1.0.0.0"),
    ("10.0.0.0/8", "10.0.0.0", "10.255.255.255", "11.0.0.0"),
    (
        "100.64.0.0/10",
        "100.64.0.0",
        "100.127.255.255",
        "100.128.0.0",
    ),
    ("127.0.0.0/8", "127.0.0.0", "127.255.255.255", "128.0.0.0"),
    (
        "169.254.0.0/16",
        "169.254.0.0",
        "169.254.255.255",
        "169.255.0.0",
    ),
    (
        "172.16.0.0/12",
        "172.16.0.0",
        "172.31.255.255",
        "172.32.0.0",
    ),
    (
        "192.0.0.0/24",
        "192.0.0.0",
        "192.0.0.255",
        "191.255.255.255",
    ),
    ("192.0.2.0/24", "192.0.2.0", "192.0.2.255", "192.0.3.0"),
    (
        "192.88.99.0/24",
        "192.88.99.0",
        "192.88.99.255",
        "192.88.100.0",
    ),
    (
        "192.168.0.0/16",
        "192.168.0.0",
        "192.168.255.255",
        "192.169.0.0",
    ),
    (
        "198.18.0.0/15",
        "198.18.0.0",
        "198.19.255.255",
        "198.20.0.0",
    ),
    (
        "198.51.100.0/24",
        "198.51.100.0",
        "198.51.100.255",
        "198.51.101.0",
    ),
    (
        "203.0.113.0/24",
        "203.0.113.0",
        "203.0.113.255",
        "203.0.114.0",
    ),
    (
        "224.0.0.0/4",
        "224.0.0.0",
        "239.255.255.255",
        "223.255.255.255",
    ),
    (
        "240.0.0.0/4",
        "240.0.0.0",
        "255.255.255.254",
        "223.255.255.255",
    ),
    (
        "255.255.255.255/32",
        "255.255.255.255",
        "255.255.255.255",
        "223.255.255.255",
    ),
    ("::/128", "::", "::", "2001:4860:4860::8888"),
    ("::1/128", "::1", "::1", "2001:4860:4860::8888"),
    (
        "::/96 (IPv4-compatible)",
        "::2",
        "::ffff:ffff",
        "2001:4860:4860::8888",
    ),
    (
        "64:ff9b:1::/48",
        "64:ff9b:1::",
        "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
        "2001:4860::1",
    ),
    (
        "100::/64",
        "100::",
        "100::ffff:ffff:ffff:ffff",
        "2001:4860::1",
    ),
    (
        "2001:2::/48",
        "2001:2::",
        "2001:2:0:ffff:ffff:ffff:ffff:ffff",
        "2001:3::1",
    ),
    (
        "2001:10::/28",
        "2001:10::",
        "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:30::1",
    ),
    (
        "2001:20::/28",
        "2001:20::",
        "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:30::1",
    ),
    (
        "2001:db8::/32",
        "2001:db8::",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::1",
    ),
    (
        "3fff::/20",
        "3fff::",
        "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
        "3ffe:ffff::1",
    ),
    (
        "fc00::/7",
        "fc00::",
        "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2a00:1450::1",
    ),
    (
        "fe80::/10",
        "fe80::",
        "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2a00:1450::1",
    ),
    (
        "fec0::/10",
        "fec0::",
        "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2a00:1450::1",
    ),
    (
        "ff00::/8",
        "ff00::",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2a00:1450::1",
    ),
    (
        "outside 2000::/3",
        "4000::",
        "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "3ffe::1",
    ),
    (
        "outside 2000::/3 (below)",
        "200::",
        "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "2000::1",
    ),
];

#[test]
fn every_blocked_range_is_blocked_from_first_to_last_address_and_not_beyond() {
    for (range, first, last, outside) in RANGES {
        assert!(
            classify(ip(first)).is_some(),
            "{range}: first address {first} allowed"
        );
        assert!(
            classify(ip(last)).is_some(),
            "{range}: last address {last} allowed"
        );
        assert_eq!(
            classify(ip(outside)),
            None,
            "{range}: public neighbour {outside} blocked"
        );
    }
}

#[test]
fn reasons_name_the_kind_of_address() {
    let cases = [
        ("127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.20.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.100.0.1", "a carrier-grade NAT address (100.64.0.0/10)"),
        ("169.254.169.254", "a link-local address"),
        ("0.0.0.0", "a \"this network\" address (0.0.0.0/8)"),
        ("224.0.0.1", "a multicast address"),
        ("255.255.255.255", "the broadcast address"),
        ("192.0.2.10", "a documentation address"),
        ("198.18.5.5", "a benchmarking address"),
        ("250.1.1.1", "a reserved address"),
        ("::1", "a loopback address"),
        ("fd00::1", "a unique-local address (fc00::/7)"),
        ("fec0::1", "a site-local address (fec0::/10)"),
        ("fe80::1", "a link-local address"),
        (
            "::ffff:127.0.0.1",
            "an IPv4-mapped form of 127.0.0.1, a loopback address",
        ),
        (
            "64:ff9b::a00:1",
            "a NAT64 form of 10.0.0.1, a private address",
        ),
        (
            "2002:c0a8:0101::1",
            "a 6to4 form of 192.168.1.1, a private address",
        ),
    ];
    for (addr, reason) in cases {
        assert_eq!(
            classify(ip(addr)).map(|r| r.to_string()).as_deref(),
            Some(reason),
            "{addr}"
        );
    }
}

#[test]
fn public_addresses_are_allowed() {
    for addr in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "151.101.1.69",
        "223.255.255.255",
        "2001:4860:4860::8888",
        "2a00:1450:4001:81b::200e",
        "2606:4700::6810:85e5",
    ] {
        assert_eq!(classify(ip(addr)), None, "{addr}");
    }
}

#[test]
fn embedded_ipv4_forms_are_judged_by_the_ipv4_they_carry() {
    // IPv4-mapped
    assert!(classify(ip("::ffff:10.0.0.1")).is_some());
    assert_eq!(classify(ip("::ffff:8.8.8.8")), None);
    // NAT64 well-known prefix
    assert!(classify(ip("64:ff9b::7f00:1")).is_some());
    assert_eq!(classify(ip("64:ff9b::808:808")), None);
    // 6to4: 2002:WWXX:YYZZ::/48
    assert!(classify(ip("2002:7f00:0001::1")).is_some());
    assert!(
        classify(ip("2002:a9fe:a9fe::1")).is_some(),
        "169.254.169.254 via 6to4"
    );
    assert_eq!(classify(ip("2002:0808:0808::1")), None);
    // Teredo: server 8.8.8.8, client 127.0.0.1 (stored inverted: 80ff:fffe)
    assert!(classify(ip("2001:0:808:808::80ff:fffe")).is_some());
    // Teredo with a private server
    assert!(classify(ip("2001:0:c0a8:101::f7f7:f7f7")).is_some());
    // Teredo with both public: server 8.8.8.8, client 8.8.4.4 (inverted f7f7:fbfb)
    assert_eq!(classify(ip("2001:0:808:808::f7f7:fbfb")), None);
}

#[test]
fn allow_list_exempts_exactly_the_listed_networks() {
    let allow = AllowList::new(vec![
        "127.0.0.1/32".parse().unwrap(),
        "10.8.0.0/16".parse().unwrap(),
    ]);
    assert_eq!(check_ip(ip("127.0.0.1"), &allow), Ok(()));
    assert_eq!(
        check_ip(ip("::ffff:127.0.0.1"), &allow),
        Ok(()),
        "mapped form of an exempt IP"
    );
    assert!(
        check_ip(ip("127.0.0.2"), &allow).is_err(),
        "next to the exempt address"
    );
    assert!(check_ip(ip("127.0.0.0"), &allow).is_err());
    assert_eq!(check_ip(ip("10.8.255.255"), &allow), Ok(()));
    assert!(check_ip(ip("10.9.0.0"), &allow).is_err());
    assert!(check_ip(ip("10.7.255.255"), &allow).is_err());
    assert!(check_ip(ip("::1"), &allow).is_err());
    assert_eq!(check_ip(ip("8.8.8.8"), &AllowList::default()), Ok(()));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn mapped_form_gets_the_same_verdict_as_the_ipv4(a in any::<u32>()) {
            let v4 = Ipv4Addr::from(a);
            prop_assert_eq!(classify_v4(v4).is_some(), classify_v6(v4.to_ipv6_mapped()).is_some());
        }

        #[test]
        fn nat64_form_gets_the_same_verdict_as_the_ipv4(a in any::<u32>()) {
            let v6 = Ipv6Addr::from((0x0064_ff9b_u128 << 96) | u128::from(a));
            prop_assert_eq!(classify_v4(Ipv4Addr::from(a)).is_some(), classify_v6(v6).is_some());
        }

        #[test]
        fn every_private_ipv4_is_blocked(b in any::<u8>(), c in any::<u8>(), d in any::<u8>()) {
            prop_assert!(classify_v4(Ipv4Addr::new(10, b, c, d)).is_some());
            prop_assert!(classify_v4(Ipv4Addr::new(192, 168, c, d)).is_some());
            prop_assert!(classify_v4(Ipv4Addr::new(172, 16 | (b & 0x0f), c, d)).is_some());
        }
    }
}
