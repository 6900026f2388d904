//! Which addresses a feed may make podbrief connect to. A feed is written by a stranger; without
//! this rule an enclosure URL could reach a router's admin page, a service on this machine, or a
//! cloud metadata endpoint (169.254.169.254) and have podbrief fetch it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The first non-public address a host resolved to, and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateAddress {
    pub addr: IpAddr,
    pub what: &'static str,
}

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refused to connect to {} ({}); set allow_private_hosts = true in the config \
             (or PODBRIEF_ALLOW_PRIVATE_HOSTS=1) to allow it",
            self.addr, self.what
        )
    }
}

impl std::error::Error for PrivateAddress {}

/// The addresses unchanged if every one is public. One private address refuses them all:
/// a name resolving to both could otherwise be steered to the private one.
pub fn check_addrs(addrs: &[SocketAddr]) -> Result<Vec<SocketAddr>, PrivateAddress> {
    for a in addrs {
        if let Some(what) = non_public(a.ip()) {
            return Err(PrivateAddress { addr: a.ip(), what });
        }
    }
    Ok(addrs.to_vec())
}

/// Why `ip` is not a public internet address, or `None` if it is.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => non_public_v4(v4),
            None => non_public_v6(v6),
        },
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_private() {
        "a private network address"
    } else if ip.is_link_local() {
        "a link-local address (cloud metadata services live here)"
    } else if a == 100 && (64..128).contains(&b) {
        "a carrier-grade NAT address"
    } else if ip.is_unspecified() || a == 0 {
        "an unspecified address"
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        "a broadcast, multicast or reserved address"
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
        "a documentation or benchmarking address"
    } else if a == 192 && b == 0 && c == 0 {
        "an IETF protocol address"
    } else {
        return None;
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_unspecified() {
        "an unspecified address"
    } else if first & 0xfe00 == 0xfc00 {
        "a unique local (private) address"
    } else if first & 0xffc0 == 0xfe80 {
        "a link-local address"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        "a documentation address"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_loopback_link_local_and_mapped_are_refused() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(non_public(ip(s)).is_some(), "{s} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for s in ["1.1.1.1", "93.184.216.34", "172.32.0.1", "2606:4700::1111"] {
            assert_eq!(non_public(ip(s)), None, "{s}");
        }
        let mixed: Vec<SocketAddr> =
            vec!["1.1.1.1:80".parse().unwrap(), "127.0.0.1:80".parse().unwrap()];
        assert_eq!(check_addrs(&mixed).unwrap_err().addr, ip("127.0.0.1"));
    }
}
