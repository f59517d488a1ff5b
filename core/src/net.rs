//! IP networks written as CIDRs (`10.0.0.0/8`, `2001:db8::/32`, or a bare
//! address), for `server.trusted_proxies` and `webhooks.allowed_networks`.

use std::net::IpAddr;

use ipnet::IpNet;

/// A network from the configuration: `ipnet`'s, read from a CIDR or a bare
/// address (a network of one), and matching IPv4-mapped IPv6 peers
/// (`::ffff:a.b.c.d`) against IPv4 networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let net = match text.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) if !text.contains('/') => text
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| format!("{text:?} is not an IP address or CIDR"))?,
            Err(_) => {
                return Err(match text.split_once('/') {
                    Some((addr, _)) if addr.parse::<IpAddr>().is_ok() => {
                        let max = if addr.contains(':') { 128 } else { 32 };
                        format!("{text:?} has a prefix length outside 0–{max}")
                    }
                    _ => format!("{text:?} is not an IP address or CIDR"),
                })
            }
        };
        Ok(Self(net))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.contains(&ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33")
            .unwrap_err()
            .contains("prefix length outside 0–32"));
        assert!(Cidr::parse("nope").is_err());
        // A host address with a prefix names its network.
        assert!(Cidr::parse("10.1.2.3/8")
            .unwrap()
            .contains("10.200.0.1".parse().unwrap()));
    }
}
