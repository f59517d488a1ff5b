//! The SSRF guard: which URLs and addresses a webhook may reach.
//!
//! Users choose webhook URLs, and the hub sends requests from inside the
//! operator's network. Unless `webhooks.allow_private_targets` is set, a URL is
//! refused when its host is, or resolves to, an address that is not on the
//! public internet: loopback, private, link-local, shared (CGNAT), multicast,
//! unspecified, broadcast, reserved, or a cloud metadata service, in IPv4 and
//! IPv6 (including IPv4-mapped and other IPv6 forms that embed an IPv4
//! address).
//!
//! The check runs twice: when a webhook is created or updated (so the user
//! gets a 422 saying why), and at every attempt on the very addresses the
//! attempt connects to, because DNS answers change (rebinding).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use std::sync::LazyLock;

use url::{Host, Url};

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2_048;
/// How long create/update waits for DNS before accepting a name it could not
/// resolve (every attempt checks again anyway).
pub const VALIDATION_DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// AWS, GCP and Azure instance metadata (IPv4).
const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// Alibaba Cloud metadata.
const METADATA_ALIBABA_V4: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);
/// Azure's host agent ("WireServer"): public-looking, reachable only from VMs.
const METADATA_AZURE_WIRESERVER: Ipv4Addr = Ipv4Addr::new(168, 63, 129, 16);
/// AWS instance metadata over IPv6 (`fd00:ec2::254`).
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254);

/// The accepted form of a webhook URL, as a regular expression (the same in
/// the OpenAPI document and in [`parse_url`]): `http` or `https`; a host name
/// whose last label starts with a letter, a dotted-quad IPv4 address, or an
/// IPv6 address in brackets; an optional port 0–65535; then an optional path
/// or query of printable ASCII. No credentials, no fragment, no spaces.
/// Everything this matches is a URL the hub can parse and call, so a refusal
/// of a URL of this form is about where it points, never about its spelling.
pub static URL_PATTERN: LazyLock<String> = LazyLock::new(|| {
    let octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
    let ipv4 = format!("{octet}(?:\\.{octet}){{3}}");
    let h16 = "[0-9A-Fa-f]{1,4}";
    let ls32 = format!("(?:{h16}:{h16}|{ipv4})");
    // RFC 3986's IPv6address, alternative by alternative.
    let ipv6 = [
        format!("(?:{h16}:){{6}}{ls32}"),
        format!("::(?:{h16}:){{5}}{ls32}"),
        format!("(?:{h16})?::(?:{h16}:){{4}}{ls32}"),
        format!("(?:(?:{h16}:){{0,1}}{h16})?::(?:{h16}:){{3}}{ls32}"),
        format!("(?:(?:{h16}:){{0,2}}{h16})?::(?:{h16}:){{2}}{ls32}"),
        format!("(?:(?:{h16}:){{0,3}}{h16})?::{h16}:{ls32}"),
        format!("(?:(?:{h16}:){{0,4}}{h16})?::{ls32}"),
        format!("(?:(?:{h16}:){{0,5}}{h16})?::{h16}"),
        format!("(?:(?:{h16}:){{0,6}}{h16})?::"),
    ]
    .join("|");
    let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let last = "[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
    let host = format!("(?:(?:{label}\\.)*{last}\\.?|{ipv4}|\\[(?:{ipv6})\\])");
    let port = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0))?";
    format!("^[Hh][Tt][Tt][Pp][Ss]?://{host}{port}(?:[/?][!-\"$-~]*)?$")
});

static URL_RE: LazyLock<regex_lite::Regex> =
    LazyLock::new(|| regex_lite::Regex::new(&URL_PATTERN).expect("the URL pattern compiles"));

/// Why an address is not a public internet address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 site-local.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// 100.64/10, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    Multicast,
    /// 0.0.0.0/8, `::`.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// An instance metadata service (169.254.169.254, fd00:ec2::254, ...).
    CloudMetadata,
    /// fc00::/7 (RFC 4193).
    UniqueLocal,
    /// Documentation, benchmarking, future use and other special ranges.
    Reserved,
    /// Outside `webhooks.allowed_networks`, when that list is set.
    NotInAllowedNetworks,
}

/// Where webhooks may go: public addresses only (the default), or anywhere
/// (`webhooks.allow_private_targets`), and in either case, when
/// `webhooks.allowed_networks` is set, only into those networks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
    pub allowed_networks: Vec<hub_core::net::Cidr>,
}

impl TargetPolicy {
    /// Public internet addresses only.
    pub fn public() -> Self {
        Self::default()
    }

    /// Every address (tests, local development).
    pub fn anything() -> Self {
        Self {
            allow_private: true,
            allowed_networks: Vec::new(),
        }
    }

    /// From `webhooks.allow_private_targets` and `webhooks.allowed_networks`
    /// (validated when the settings load).
    pub fn from_settings(settings: &hub_core::settings::WebhookSettings) -> Self {
        Self {
            allow_private: settings.allow_private_targets,
            allowed_networks: settings
                .allowed_networks
                .iter()
                .filter_map(|c| hub_core::net::Cidr::parse(c).ok())
                .collect(),
        }
    }

    fn checks_nothing(&self) -> bool {
        self.allow_private && self.allowed_networks.is_empty()
    }

    /// Why `ip` may not be reached, if it may not.
    fn judge(&self, ip: IpAddr) -> Option<AddressClass> {
        if !self.allowed_networks.is_empty()
            && !self.allowed_networks.iter().any(|net| net.contains(ip))
        {
            return Some(AddressClass::NotInAllowedNetworks);
        }
        if self.allow_private {
            None
        } else {
            classify(ip)
        }
    }
}

impl AddressClass {
    /// How error messages name the class.
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Loopback => "a loopback address",
            AddressClass::Private => "a private address",
            AddressClass::LinkLocal => "a link-local address",
            AddressClass::SharedAddressSpace => "a carrier-grade NAT (CGNAT) address",
            AddressClass::Multicast => "a multicast address",
            AddressClass::Unspecified => "an unspecified address",
            AddressClass::Broadcast => "the broadcast address",
            AddressClass::CloudMetadata => "a cloud metadata address",
            AddressClass::UniqueLocal => "an IPv6 unique local (private) address",
            AddressClass::Reserved => "a reserved address",
            AddressClass::NotInAllowedNetworks => "outside the networks webhooks may reach",
        }
    }
}

/// The class of a non-public address; `None` for a public one.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    use AddressClass::*;
    if ip == METADATA_V4 || ip == METADATA_ALIBABA_V4 || ip == METADATA_AZURE_WIRESERVER {
        return Some(CloudMetadata);
    }
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => Unspecified,
        (127, _, _) => Loopback,
        (10, _, _) | (192, 168, _) => Private,
        (172, b, _) if (16..=31).contains(&b) => Private,
        (169, 254, _) => LinkLocal,
        (100, b, _) if (64..=127).contains(&b) => SharedAddressSpace,
        (224..=239, _, _) => Multicast,
        (255, 255, 255) if ip == Ipv4Addr::BROADCAST => Broadcast,
        // 240/4 (future use) also holds the broadcast address's neighbours.
        (240..=255, _, _) => Reserved,
        // IETF protocol assignments, documentation, benchmarking.
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Reserved,
        (198, 18..=19, _) => Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    use AddressClass::*;
    if let Some(v4) = ip.to_ipv4_mapped() {
        // ::ffff:a.b.c.d reaches the IPv4 address itself.
        return classify_v4(v4);
    }
    if ip == METADATA_V6 {
        return Some(CloudMetadata);
    }
    if ip.is_unspecified() {
        return Some(Unspecified);
    }
    if ip.is_loopback() {
        return Some(Loopback);
    }
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s[0] {
        x if x & 0xff00 == 0xff00 => Some(Multicast),
        x if x & 0xffc0 == 0xfe80 => Some(LinkLocal),
        // Site-local: deprecated, but still private where it is used.
        x if x & 0xffc0 == 0xfec0 => Some(Private),
        x if x & 0xfe00 == 0xfc00 => Some(UniqueLocal),
        // ::a.b.c.d (IPv4-compatible, deprecated): treat as the IPv4 address.
        0 if s[1..6] == [0, 0, 0, 0, 0] => classify_v4(embedded(s[6], s[7])).or(Some(Reserved)),
        // NAT64 (64:ff9b::/96) translates to the embedded IPv4 address.
        0x0064 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => classify_v4(embedded(s[6], s[7])),
        // Local-use NAT64 (64:ff9b:1::/48).
        0x0064 if s[1] == 0xff9b && s[2] == 1 => Some(Private),
        // 6to4 (2002::/16) tunnels to the IPv4 address in bits 16..48.
        0x2002 => classify_v4(embedded(s[1], s[2])),
        // Documentation (2001:db8::/32) and Teredo (2001::/32), whose
        // embedded address is obfuscated.
        0x2001 if s[1] == 0x0db8 || s[1] == 0 => Some(Reserved),
        // Discard-only (100::/64).
        0x0100 if s[1..4] == [0, 0, 0] => Some(Reserved),
        _ => None,
    }
}

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Not a URL, or not one the hub can call.
    Invalid(String),
    /// The host is, or resolves to, a non-public address.
    Blocked {
        host: String,
        address: IpAddr,
        class: AddressClass,
    },
    /// The host did not resolve (only reported at attempt time).
    Unresolvable { host: String, cause: String },
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(why) => f.write_str(why),
            UrlError::Blocked {
                host,
                address,
                class,
            } => {
                let literal = host.trim_matches(|c| c == '[' || c == ']') == address.to_string();
                if literal {
                    write!(
                        f,
                        "{address} is {}, which webhooks may not reach",
                        class.describe()
                    )
                } else {
                    write!(
                        f,
                        "{host} resolves to {address}, {}, which webhooks may not reach",
                        class.describe()
                    )
                }
            }
            UrlError::Unresolvable { host, cause } => write!(f, "cannot resolve {host}: {cause}"),
        }
    }
}

/// Checks the shape of a webhook URL: absolute, `http` or `https`, with a
/// host, without credentials or fragment, not too long.
pub fn parse_url(text: &str) -> Result<Url, UrlError> {
    let invalid = |why: &str| Err(UrlError::Invalid(why.to_owned()));
    if text.len() > MAX_URL_LEN {
        return Err(UrlError::Invalid(format!(
            "must be at most {MAX_URL_LEN} characters"
        )));
    }
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return invalid("must use http or https");
    }
    let authority = text.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '?', '#']).next().unwrap_or_default()
    });
    if authority.contains('@') {
        return invalid("must not contain credentials");
    }
    if text.contains('#') {
        return invalid("must not contain a fragment (#...)");
    }
    if !URL_RE.is_match(text) {
        return invalid(
            "is not a URL of the accepted form: http(s)://, a host name, an IPv4 address \
             or a bracketed IPv6 address, an optional port, then a path of printable ASCII \
             without spaces",
        );
    }
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(e) => return Err(UrlError::Invalid(format!("is not a valid URL ({e})"))),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return invalid("must use http or https");
    }
    if url.host().is_none() {
        return invalid("must name a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return invalid("must not contain credentials");
    }
    if url.fragment().is_some() {
        return invalid("must not contain a fragment (#...)");
    }
    Ok(url)
}

/// A stored webhook URL, as the hub saved it: it passed [`parse_url`] when
/// it was created or changed, so only what an attempt needs is checked again
/// (a URL stored before a tighter form still delivers).
pub fn parse_stored(text: &str) -> Result<Url, UrlError> {
    let url =
        Url::parse(text).map_err(|e| UrlError::Invalid(format!("is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(UrlError::Invalid(
            "must be an http(s) URL with a host".into(),
        ));
    }
    Ok(url)
}

/// The first non-public address among `addresses`, with its class.
fn first_blocked(addresses: &[IpAddr], policy: &TargetPolicy) -> Option<(IpAddr, AddressClass)> {
    addresses
        .iter()
        .find_map(|ip| policy.judge(*ip).map(|class| (*ip, class)))
}

/// Names that always mean this machine (RFC 6761), whatever DNS says.
fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Resolves a host name to its addresses.
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, UrlError> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(UrlError::Unresolvable {
                    host: host.to_owned(),
                    cause: "no addresses".into(),
                })
            } else {
                Ok(addrs)
            }
        }
        Err(e) => Err(UrlError::Unresolvable {
            host: host.to_owned(),
            cause: e.to_string(),
        }),
    }
}

/// The check at create/update time. IP literals and `localhost` names are
/// judged at once; other names are resolved (briefly) and every address
/// checked. A name that does not resolve now is accepted: DNS may simply not
/// be set up yet, and every attempt resolves and checks again.
pub async fn validate_target(url: &Url, policy: &TargetPolicy) -> Result<(), UrlError> {
    if policy.checks_nothing() {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(Host::Ipv4(ip)) => check_literal(url, IpAddr::V4(ip), policy),
        Some(Host::Ipv6(ip)) => check_literal(url, IpAddr::V6(ip), policy),
        Some(Host::Domain(name)) => {
            if !policy.allow_private && is_localhost_name(name) {
                return Err(UrlError::Blocked {
                    host: name.to_owned(),
                    address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    class: AddressClass::Loopback,
                });
            }
            match tokio::time::timeout(VALIDATION_DNS_TIMEOUT, resolve(name, port)).await {
                Ok(Ok(addrs)) => check_resolved(name, &addrs, policy),
                Ok(Err(_)) | Err(_) => Ok(()),
            }
        }
        None => Err(UrlError::Invalid("must name a host".into())),
    }
}

fn check_literal(url: &Url, ip: IpAddr, policy: &TargetPolicy) -> Result<(), UrlError> {
    match policy.judge(ip) {
        Some(class) => Err(UrlError::Blocked {
            host: url.host_str().unwrap_or_default().to_owned(),
            address: ip,
            class,
        }),
        None => Ok(()),
    }
}

fn check_resolved(host: &str, addrs: &[SocketAddr], policy: &TargetPolicy) -> Result<(), UrlError> {
    let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    match first_blocked(&ips, policy) {
        Some((address, class)) => Err(UrlError::Blocked {
            host: host.to_owned(),
            address,
            class,
        }),
        None => Ok(()),
    }
}

/// The check at attempt time: resolves the host, refuses if any address is
/// not public (unless allowed), and returns the checked address the attempt
/// must connect to, so DNS cannot change between the check and the connect.
pub async fn resolve_for_attempt(url: &Url, policy: &TargetPolicy) -> Result<SocketAddr, UrlError> {
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            if !policy.allow_private && is_localhost_name(name) {
                return Err(UrlError::Blocked {
                    host: name.to_owned(),
                    address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    class: AddressClass::Loopback,
                });
            }
            resolve(name, port).await?
        }
        None => return Err(UrlError::Invalid("must name a host".into())),
    };
    if !policy.checks_nothing() {
        let host = url.host_str().unwrap_or_default();
        check_resolved(host, &addrs, policy)?;
    }
    // `resolve` never returns an empty list, and literals give one address.
    addrs
        .first()
        .copied()
        .ok_or_else(|| UrlError::Invalid("must name a host".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<AddressClass> {
        classify(text.parse().unwrap())
    }

    #[test]
    fn ipv4_classes() {
        use AddressClass::*;
        assert_eq!(class("127.0.0.1"), Some(Loopback));
        assert_eq!(class("127.255.255.254"), Some(Loopback));
        assert_eq!(class("10.0.0.1"), Some(Private));
        assert_eq!(class("172.16.0.1"), Some(Private));
        assert_eq!(class("172.31.255.255"), Some(Private));
        assert_eq!(class("172.32.0.1"), None);
        assert_eq!(class("172.15.0.1"), None);
        assert_eq!(class("192.168.1.1"), Some(Private));
        assert_eq!(class("169.254.1.1"), Some(LinkLocal));
        assert_eq!(class("169.254.169.254"), Some(CloudMetadata));
        assert_eq!(class("100.100.100.200"), Some(CloudMetadata));
        assert_eq!(class("168.63.129.16"), Some(CloudMetadata));
        assert_eq!(class("100.64.0.1"), Some(SharedAddressSpace));
        assert_eq!(class("100.127.255.255"), Some(SharedAddressSpace));
        assert_eq!(class("100.128.0.1"), None);
        assert_eq!(class("224.0.0.1"), Some(Multicast));
        assert_eq!(class("239.255.255.250"), Some(Multicast));
        assert_eq!(class("0.0.0.0"), Some(Unspecified));
        assert_eq!(class("0.1.2.3"), Some(Unspecified));
        assert_eq!(class("255.255.255.255"), Some(Broadcast));
        assert_eq!(class("240.0.0.1"), Some(Reserved));
        assert_eq!(class("192.0.2.1"), Some(Reserved));
        assert_eq!(class("198.18.0.1"), Some(Reserved));
        assert_eq!(class("8.8.8.8"), None);
        assert_eq!(class("93.184.216.34"), None);
    }

    #[test]
    fn ipv6_classes() {
        use AddressClass::*;
        assert_eq!(class("::1"), Some(Loopback));
        assert_eq!(class("::"), Some(Unspecified));
        assert_eq!(class("fe80::1"), Some(LinkLocal));
        assert_eq!(class("febf::1"), Some(LinkLocal));
        assert_eq!(class("fc00::1"), Some(UniqueLocal));
        assert_eq!(class("fd12:3456::1"), Some(UniqueLocal));
        assert_eq!(class("fd00:ec2::254"), Some(CloudMetadata));
        assert_eq!(class("ff02::1"), Some(Multicast));
        assert_eq!(class("fec0::1"), Some(Private));
        assert_eq!(class("2001:db8::1"), Some(Reserved));
        assert_eq!(class("2606:4700:4700::1111"), None);
    }

    #[test]
    fn ipv6_forms_embedding_ipv4_are_judged_by_the_ipv4_address() {
        use AddressClass::*;
        assert_eq!(class("::ffff:10.0.0.1"), Some(Private));
        assert_eq!(class("::ffff:127.0.0.1"), Some(Loopback));
        assert_eq!(class("::ffff:169.254.169.254"), Some(CloudMetadata));
        assert_eq!(class("::ffff:8.8.8.8"), None);
        assert_eq!(class("::127.0.0.1"), Some(Loopback));
        assert_eq!(class("64:ff9b::10.0.0.1"), Some(Private));
        assert_eq!(class("64:ff9b::8.8.8.8"), None);
        assert_eq!(class("2002:c0a8:0101::1"), Some(Private));
        assert_eq!(class("2002:0808:0808::1"), None);
    }

    #[test]
    fn url_shape() {
        assert!(parse_url("https://hooks.example.com/in?x=1").is_ok());
        assert!(parse_url("http://203.0.114.7:8080/").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com",
            "example.com/hook",
            "https://user:pw@example.com/",
            "https://example.com/#frag",
            "http://",
            "",
            // Numeric hosts that WHATWG parsing would read as 127.0.0.1 or
            // 0.0.0.0 are not of the accepted form at all.
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0/",
            "http://127.1/",
            "http://010.0.0.1/",
            "http://999.1.1.1/",
            "http://[::::]/",
            "http://[1:2:3:4:5:6:7:8:9]/",
            "http://exa mple.com/",
            " https://example.com/",
            "https://example.com/ a",
            "https://ex_ample.com/",
            "https://-example.com/",
            "https://example.com:65536/",
            "https://example.com:/",
            "https://\u{e9}t\u{e9}.example/",
            "https://example.com/caf\u{e9}",
        ] {
            assert!(
                matches!(parse_url(bad), Err(UrlError::Invalid(_))),
                "{bad:?}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(parse_url(&long).is_err());
    }

    /// Every URL of the accepted form parses, and what the hub stores (the
    /// parsed, normalised URL) is of the accepted form again.
    #[test]
    fn the_accepted_form_always_parses_and_survives_normalisation() {
        for good in [
            "https://hooks.example.com/in?x=1",
            "HTTPS://Hooks.Example.COM./a/b/../c?q=%zz&r=\"'<>{}|\\^`",
            "http://a.b-c.d9/",
            "http://x/",
            "http://203.0.114.7:65535",
            "http://203.0.114.7:0/",
            "http://255.255.255.255/",
            "http://[::]/",
            "http://[::1]:8080/",
            "http://[1:2:3:4:5:6:7:8]/",
            "http://[1::]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[64:ff9b::192.0.2.1]/",
            "http://[1:2:3:4:5:6:1.2.3.4]/",
            "http://[fd00:ec2::254]/x",
            "http://xn--bcher-kva.example/",
            "https://example.com?only=query",
        ] {
            let url = parse_url(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            let stored = url.to_string();
            assert!(URL_RE.is_match(&stored), "{good} is stored as {stored}");
        }
    }

    #[tokio::test]
    async fn literals_and_obfuscated_literals_are_blocked() {
        for (text, class) in [
            ("http://127.0.0.1:9000/", AddressClass::Loopback),
            ("http://10.1.2.3/", AddressClass::Private),
            ("http://[::1]/", AddressClass::Loopback),
            ("http://[::ffff:10.0.0.1]/", AddressClass::Private),
            ("http://[fd00:ec2::254]/", AddressClass::CloudMetadata),
            (
                "http://169.254.169.254/latest/meta-data/",
                AddressClass::CloudMetadata,
            ),
            ("http://0.0.0.0/", AddressClass::Unspecified),
        ] {
            let url = parse_url(text).unwrap();
            match validate_target(&url, &TargetPolicy::public()).await {
                Err(UrlError::Blocked { class: got, .. }) => assert_eq!(got, class, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
            assert!(validate_target(&url, &TargetPolicy::anything())
                .await
                .is_ok());
        }
    }

    #[tokio::test]
    async fn allowed_networks_bound_every_target_even_private_ones() {
        let policy = TargetPolicy {
            allow_private: true,
            allowed_networks: vec![hub_core::net::Cidr::parse("127.0.0.0/8").unwrap()],
        };
        let inside = parse_url("http://127.0.0.1:9/").unwrap();
        assert!(validate_target(&inside, &policy).await.is_ok());
        assert!(resolve_for_attempt(&inside, &policy).await.is_ok());
        for outside in ["http://93.184.216.34/", "http://10.0.0.1/", "http://[::1]/"] {
            let url = parse_url(outside).unwrap();
            let err = validate_target(&url, &policy).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    UrlError::Blocked {
                        class: AddressClass::NotInAllowedNetworks,
                        ..
                    }
                ),
                "{outside}: {err:?}"
            );
            assert!(err.to_string().contains("outside the networks"), "{err}");
            assert!(
                resolve_for_attempt(&url, &policy).await.is_err(),
                "{outside}"
            );
        }
        // Public only, and within a list: both rules hold.
        let strict = TargetPolicy {
            allow_private: false,
            allowed_networks: vec![hub_core::net::Cidr::parse("10.0.0.0/8").unwrap()],
        };
        let private = parse_url("http://10.0.0.1/").unwrap();
        assert!(validate_target(&private, &strict).await.is_err());
    }

    #[tokio::test]
    async fn localhost_names_are_blocked_by_name_and_by_resolution() {
        for text in [
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
        ] {
            let url = parse_url(text).unwrap();
            let err = validate_target(&url, &TargetPolicy::public())
                .await
                .unwrap_err();
            assert!(err.to_string().contains("loopback"), "{err}");
        }
        // Resolution itself (not only the name rule) finds loopback.
        let addrs = resolve("localhost", 80).await.unwrap();
        let err = check_resolved("localhost", &addrs, &TargetPolicy::public()).unwrap_err();
        assert!(
            err.to_string().starts_with("localhost resolves to"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn attempts_connect_to_the_checked_address() {
        let url = parse_url("http://127.0.0.1:4567/hook").unwrap();
        assert!(resolve_for_attempt(&url, &TargetPolicy::public())
            .await
            .is_err());
        assert_eq!(
            resolve_for_attempt(&url, &TargetPolicy::anything())
                .await
                .unwrap(),
            "127.0.0.1:4567".parse().unwrap()
        );
        let url = parse_url("http://localhost:4567/").unwrap();
        let err = resolve_for_attempt(&url, &TargetPolicy::public())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
        let addr = resolve_for_attempt(&url, &TargetPolicy::anything())
            .await
            .unwrap();
        assert!(addr.ip().is_loopback());
    }

    #[test]
    fn messages_say_why() {
        let err = UrlError::Blocked {
            host: "10.0.0.1".into(),
            address: "10.0.0.1".parse().unwrap(),
            class: AddressClass::Private,
        };
        assert_eq!(
            err.to_string(),
            "10.0.0.1 is a private address, which webhooks may not reach"
        );
        let err = UrlError::Blocked {
            host: "[::1]".into(),
            address: "::1".parse().unwrap(),
            class: AddressClass::Loopback,
        };
        assert_eq!(
            err.to_string(),
            "::1 is a loopback address, which webhooks may not reach"
        );
    }
}
