//! The address a request comes from: the TCP peer, unless the peer is one of `TRUSTED_PROXIES`;
//! then the nearest address in `X-Forwarded-For` that is not a trusted proxy (read right to left,
//! since only the entries our own proxies appended can be believed). `X-Forwarded-For` from any
//! other peer is ignored.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The client's address, or `None` when the connection has no peer address (in-process tests).
pub fn client_addr(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    Some(from_forwarded(peer, req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()), trusted))
}

fn from_forwarded<'a>(peer: IpAddr, headers: impl Iterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers.flat_map(|h| h.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip())).ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        let xff = |h: &'static str| std::iter::once(h);
        assert_eq!(from_forwarded(ip("203.0.113.5"), xff("1.2.3.4"), &proxies), ip("203.0.113.5"));
        assert_eq!(from_forwarded(ip("203.0.113.5"), xff("1.2.3.4"), &[]), ip("203.0.113.5"));
        assert_eq!(from_forwarded(ip("127.0.0.1"), xff("1.2.3.4"), &proxies), ip("1.2.3.4"));
        // A client-supplied left part is skipped: the nearest untrusted hop is the client.
        assert_eq!(
            from_forwarded(ip("10.0.0.2"), xff("6.6.6.6, 198.51.100.9, 10.0.0.1"), &proxies),
            ip("198.51.100.9")
        );
        assert_eq!(
            from_forwarded(ip("10.0.0.2"), ["6.6.6.6", "198.51.100.9:4000"].into_iter(), &proxies),
            ip("198.51.100.9")
        );
        assert_eq!(from_forwarded(ip("127.0.0.1"), xff("garbage, 10.0.0.1"), &proxies), ip("10.0.0.1"));
        assert_eq!(from_forwarded(ip("127.0.0.1"), std::iter::empty(), &proxies), ip("127.0.0.1"));
        assert_eq!(
            from_forwarded(ip("::ffff:127.0.0.1").to_canonical(), xff("[2001:db8::1]:80"), &proxies),
            ip("2001:db8::1")
        );
    }
}
