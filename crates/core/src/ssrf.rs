//! The SSRF guard: which addresses a webhook may reach, and which URLs are acceptable.
//!
//! An address is allowed only when it is globally routable, or when an operator exempted
//! a network containing it. IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64,
//! 6to4, Teredo) are judged by the IPv4 address they carry.

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address must not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    ThisNetwork,
    Private,
    SharedCgnat,
    Loopback,
    LinkLocal,
    ProtocolAssignments,
    Documentation,
    Benchmarking,
    Relay6to4Anycast,
    Multicast,
    Broadcast,
    Reserved,
    Unspecified,
    UniqueLocal,
    SiteLocal,
    DiscardOnly,
    Nat64LocalUse,
    /// An IPv6 form embedding a blocked IPv4 address.
    Embedded(EmbeddingKind, Ipv4Addr, &'static BlockReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingKind {
    Ipv4Mapped,
    Ipv4Compatible,
    Nat64,
    SixToFour,
    Teredo,
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            BlockReason::ThisNetwork => "a \"this network\" address (0.0.0.0/8)",
            BlockReason::Private => "a private address",
            BlockReason::SharedCgnat => "a carrier-grade NAT address (100.64.0.0/10)",
            BlockReason::Loopback => "a loopback address",
            BlockReason::LinkLocal => "a link-local address",
            BlockReason::ProtocolAssignments => "an IETF protocol assignment (192.0.0.0/24)",
            BlockReason::Documentation => "a documentation address",
            BlockReason::Benchmarking => "a benchmarking address",
            BlockReason::Relay6to4Anycast => "the 6to4 relay anycast range (192.88.99.0/24)",
            BlockReason::Multicast => "a multicast address",
            BlockReason::Broadcast => "the broadcast address",
            BlockReason::Reserved => "a reserved address",
            BlockReason::Unspecified => "the unspecified address",
            BlockReason::UniqueLocal => "a unique-local address (fc00::/7)",
            BlockReason::SiteLocal => "a site-local address (fec0::/10)",
            BlockReason::DiscardOnly => "a discard-only address (100::/64)",
            BlockReason::Nat64LocalUse => "a local-use NAT64 address (64:ff9b:1::/48)",
            BlockReason::Embedded(kind, v4, inner) => {
                let kind = match kind {
                    EmbeddingKind::Ipv4Mapped => "an IPv4-mapped",
                    EmbeddingKind::Ipv4Compatible => "an IPv4-compatible",
                    EmbeddingKind::Nat64 => "a NAT64",
                    EmbeddingKind::SixToFour => "a 6to4",
                    EmbeddingKind::Teredo => "a Teredo",
                };
                return write!(f, "{kind} form of {v4}, {inner}");
            }
        };
        f.write_str(s)
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Blocked IPv4 networks, most specific first where they overlap.
static V4_BLOCKED: [(u32, u8, BlockReason); 16] = [
    (v4(255, 255, 255, 255), 32, BlockReason::Broadcast),
    (v4(0, 0, 0, 0), 8, BlockReason::ThisNetwork),
    (v4(10, 0, 0, 0), 8, BlockReason::Private),
    (v4(100, 64, 0, 0), 10, BlockReason::SharedCgnat),
    (v4(127, 0, 0, 0), 8, BlockReason::Loopback),
    (v4(169, 254, 0, 0), 16, BlockReason::LinkLocal),
    (v4(172, 16, 0, 0), 12, BlockReason::Private),
    (v4(192, 0, 0, 0), 24, BlockReason::ProtocolAssignments),
    (v4(192, 0, 2, 0), 24, BlockReason::Documentation),
    (v4(192, 88, 99, 0), 24, BlockReason::Relay6to4Anycast),
    (v4(192, 168, 0, 0), 16, BlockReason::Private),
    (v4(198, 18, 0, 0), 15, BlockReason::Benchmarking),
    (v4(198, 51, 100, 0), 24, BlockReason::Documentation),
    (v4(203, 0, 113, 0), 24, BlockReason::Documentation),
    (v4(224, 0, 0, 0), 4, BlockReason::Multicast),
    (v4(240, 0, 0, 0), 4, BlockReason::Reserved),
];

fn v4_block_index(ip: Ipv4Addr) -> Option<usize> {
    let x = u32::from(ip);
    V4_BLOCKED.iter().position(|&(net, len, _)| {
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        x & mask == net
    })
}

/// Why `ip` must not be reached, or `None` when it is globally routable.
pub fn classify_v4(ip: Ipv4Addr) -> Option<BlockReason> {
    v4_block_index(ip).map(|i| V4_BLOCKED[i].2)
}

fn embedded(kind: EmbeddingKind, ip: Ipv4Addr) -> Option<BlockReason> {
    v4_block_index(ip).map(|i| BlockReason::Embedded(kind, ip, &V4_BLOCKED[i].2))
}

fn in_v6(ip: u128, net: u128, len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    ip & mask == net
}

/// Why `ip` must not be reached, or `None` when it is globally routable.
pub fn classify_v6(ip: Ipv6Addr) -> Option<BlockReason> {
    let x = u128::from(ip);
    let low32 = Ipv4Addr::from((x & 0xffff_ffff) as u32);
    if x == 0 {
        return Some(BlockReason::Unspecified);
    }
    if x == 1 {
        return Some(BlockReason::Loopback);
    }
    if in_v6(x, 0xffff_0000_0000, 96) {
        return embedded(EmbeddingKind::Ipv4Mapped, low32);
    }
    if in_v6(x, 0, 96) {
        // ::a.b.c.d, deprecated IPv4-compatible form: never a legitimate webhook target.
        return embedded(EmbeddingKind::Ipv4Compatible, low32).or(Some(BlockReason::Reserved));
    }
    if in_v6(x, 0x0064_ff9b << 96, 96) {
        return embedded(EmbeddingKind::Nat64, low32);
    }
    if in_v6(x, (0x0064_ff9b_0001_u128) << 80, 48) {
        return Some(BlockReason::Nat64LocalUse);
    }
    if in_v6(x, 0x0100 << 112, 64) {
        return Some(BlockReason::DiscardOnly);
    }
    if in_v6(x, 0x2001_0000 << 96, 32) {
        // Teredo: server IPv4 in bits 32..64, client IPv4 (inverted) in the last 32 bits.
        let server = Ipv4Addr::from(((x >> 64) & 0xffff_ffff) as u32);
        let client = Ipv4Addr::from(!((x & 0xffff_ffff) as u32));
        return embedded(EmbeddingKind::Teredo, server)
            .or_else(|| embedded(EmbeddingKind::Teredo, client));
    }
    if in_v6(x, 0x2001_0002_0000 << 80, 48) {
        return Some(BlockReason::Benchmarking);
    }
    if in_v6(x, 0x2001_0010 << 96, 28) || in_v6(x, 0x2001_0020 << 96, 28) {
        return Some(BlockReason::Reserved); // ORCHID, ORCHIDv2
    }
    if in_v6(x, 0x2001_0db8 << 96, 32) || in_v6(x, 0x3fff << 112, 20) {
        return Some(BlockReason::Documentation);
    }
    if in_v6(x, 0x2002 << 112, 16) {
        let inner = Ipv4Addr::from(((x >> 80) & 0xffff_ffff) as u32);
        return embedded(EmbeddingKind::SixToFour, inner);
    }
    if in_v6(x, 0xfc00 << 112, 7) {
        return Some(BlockReason::UniqueLocal);
    }
    if in_v6(x, 0xfe80 << 112, 10) {
        return Some(BlockReason::LinkLocal);
    }
    if in_v6(x, 0xfec0 << 112, 10) {
        return Some(BlockReason::SiteLocal);
    }
    if in_v6(x, 0xff00 << 112, 8) {
        return Some(BlockReason::Multicast);
    }
    if !in_v6(x, 0x2000 << 112, 3) {
        // Outside 2000::/3 nothing is global unicast today.
        return Some(BlockReason::Reserved);
    }
    None
}

pub fn classify(ip: IpAddr) -> Option<BlockReason> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) as the IPv4 address it is; any other
/// address as it is.
pub fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Networks an operator exempted from the block (`LEADROUTER_WEBHOOK_ALLOW_CIDRS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmapped(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }
}

/// The verdict for one address: `Ok` to connect, or why not.
pub fn check_ip(ip: IpAddr, allow: &AllowList) -> Result<(), BlockReason> {
    if allow.contains(ip) {
        return Ok(());
    }
    classify(ip).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
