//! Every request the server makes to a URL (provider APIs, media checks, brochure checks, relay
//! deliveries) goes through [`Client`]: http(s) only, no redirects, no proxy, and only to
//! public addresses unless `ALLOW_PRIVATE_URLS` is on. Host names are resolved once by the
//! client's own resolver, which refuses internal answers and hands the connector exactly the
//! addresses it checked, so a name that resolves differently a second time (DNS rebinding)
//! cannot reach an internal address; IP-literal hosts are checked before the request is built.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, RequestBuilder, Response, Url};

/// Whether an IPv4 address is one we refuse to reach: this network, private, shared (CGNAT),
/// loopback, link-local, IETF protocol assignments, documentation, benchmarking, multicast,
/// reserved and broadcast.
fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
}

/// Whether an IPv6 address is one we refuse to reach. IPv4-mapped addresses are judged by the
/// IPv4 address they carry; everything outside global unicast `2000::/3` is refused (this
/// covers `::`, `::1`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`,
/// discard-only `100::/64`, unique-local `fc00::/7`, link-local `fe80::/10`, site-local
/// `fec0::/10` and multicast `ff00::/8`), and so are the special blocks inside it: IETF
/// protocol assignments `2001::/23` (Teredo `2001::/32` among them), documentation
/// `2001:db8::/32` and `3fff::/20`, 6to4 `2002::/16` and the retired 6bone `3ffe::/16`.
fn is_internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let s = ip.segments();
    (s[0] & 0xe000) != 0x2000
        || (s[0] == 0x2001 && s[1] < 0x0200)
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || s[0] == 0x2002
        || s[0] == 0x3ffe
        || (s[0] & 0xfff0) == 0x3ff0
}

/// Whether an address is one we refuse to reach (see the IPv4 and IPv6 rules above).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

/// Why a URL's host may not be reached.
#[derive(Debug, PartialEq, Eq)]
pub enum HostError {
    /// No host, or it does not resolve.
    Unresolvable,
    /// It is, or resolves to, an internal address (and those are not allowed).
    Internal,
}

/// A request refused before anything was sent: the host is (or resolves to) an internal address.
#[derive(Debug)]
pub struct Blocked(pub String);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is not a public address", self.0)
    }
}

impl std::error::Error for Blocked {}

/// Parses an http(s) URL with a host; anything else (`file:`, `gopher:`, no host) is `None`.
pub fn http_url(url: &str) -> Option<Url> {
    Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Refuses an IP-literal host that is internal, unless `allow_private`. Names pass here: the
/// client's resolver checks what they resolve to.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), Blocked> {
    match literal_ip(url) {
        Some(ip) if !allow_private && is_internal(ip) => Err(Blocked(ip.to_string())),
        _ => Ok(()),
    }
}

/// The host as an IP address, when it is one (the URL parser has already normalised IPv4
/// spellings such as `0x7f.1` and `2130706433`).
fn literal_ip(url: &Url) -> Option<IpAddr> {
    url.host_str()?.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Refuses the answer for `host` when any address is internal, unless `allow_private`.
fn screen(host: &str, addrs: &[IpAddr], allow_private: bool) -> Result<(), Blocked> {
    if !allow_private && addrs.iter().any(|ip| is_internal(*ip)) {
        return Err(Blocked(host.to_string()));
    }
    Ok(())
}

async fn lookup(host: &str) -> std::io::Result<Vec<IpAddr>> {
    let addrs: Vec<IpAddr> = tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect();
    if addrs.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host} has no address")));
    }
    Ok(addrs)
}

/// Checks a URL's host without making a request (for input validation): IP literals directly,
/// names by resolving them. The request itself is checked again by [`Client`].
pub async fn check_host(url: &Url, allow_private: bool) -> Result<(), HostError> {
    check_literal(url, allow_private).map_err(|_| HostError::Internal)?;
    let host = url.host_str().ok_or(HostError::Unresolvable)?;
    if literal_ip(url).is_some() {
        return Ok(());
    }
    let addrs = lookup(host).await.map_err(|_| HostError::Unresolvable)?;
    screen(host, &addrs, allow_private).map_err(|_| HostError::Internal)
}

/// The resolver of [`Client`]: resolves once, refuses internal answers, returns what it checked.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str();
            let addrs = lookup(host).await?;
            screen(host, &addrs, allow_private)?;
            Ok(Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0))) as Addrs)
        })
    }
}

/// Why a request through [`Client`] failed.
#[derive(Debug)]
pub enum SendError {
    /// Nothing was sent: not an http(s) URL, or its host is (or resolves to) an internal address.
    Blocked(String),
    /// The request failed; `connect` when nothing reached the server (it could not be built, or
    /// no connection was made).
    Failed { connect: bool, timeout: bool, message: String },
}

impl SendError {
    fn from_reqwest(e: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if let Some(blocked) = err.downcast_ref::<Blocked>() {
                return SendError::Blocked(blocked.to_string());
            }
            source = err.source();
        }
        let connect = e.is_connect() || e.is_builder();
        SendError::Failed { connect, timeout: e.is_timeout(), message: e.to_string() }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Blocked(why) => write!(f, "refused: {why}"),
            SendError::Failed { message, .. } => f.write_str(message),
        }
    }
}

/// The guarded HTTP client (cheap to clone; clones share connections).
#[derive(Clone)]
pub struct Client {
    /// `None` only when the TLS backend could not be set up; every request then fails.
    http: Option<reqwest::Client>,
    allow_private: bool,
}

impl Client {
    /// A client with this total timeout (connecting gets at most 10 s of it).
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        let built = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build();
        let http = built.map_err(|e| tracing::error!(error = %e, "cannot build the HTTP client")).ok();
        Client { http, allow_private }
    }

    /// Sends `method url`, shaped by `build` (headers, body, query); the final URL is checked
    /// before anything is sent.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, SendError> {
        let failed = |message: String| SendError::Failed { connect: true, timeout: false, message };
        let http = self.http.as_ref().ok_or_else(|| failed("the HTTP client is not available".into()))?;
        let url = http_url(url).ok_or_else(|| SendError::Blocked(format!("{url} is not an http(s) URL")))?;
        let request = build(http.request(method, url)).build().map_err(SendError::from_reqwest)?;
        check_literal(request.url(), self.allow_private).map_err(|b| SendError::Blocked(b.to_string()))?;
        http.execute(request).await.map_err(SendError::from_reqwest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused() {
        let internal = [
            // IPv4: this network, private, CGNAT, loopback, link-local, IETF, documentation,
            // benchmarking, multicast, reserved, broadcast.
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.0.1",
            "169.254.169.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            // IPv6: unspecified and loopback.
            "::",
            "::1",
            // IPv4-mapped, judged by the IPv4 address inside.
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            // IPv4-compatible ::a.b.c.d, whatever it embeds.
            "::127.0.0.1",
            "::169.254.169.254",
            "::8.8.8.8",
            // IPv4-translated (SIIT) ::ffff:0:a.b.c.d.
            "::ffff:0:a9fe:a9fe",
            // NAT64, both prefixes.
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::a00:1",
            // Discard-only.
            "100::1",
            // 6to4, with a private and a public IPv4 inside.
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            "2002:808:808::1",
            // Teredo and the rest of the IETF block.
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:10::1",
            "2001:1ff::1",
            // Documentation.
            "2001:db8::1",
            "3fff::1",
            // 6bone.
            "3ffe::1",
            // Unique-local.
            "fc00::1",
            "fd12:3456:789a::1",
            // Link-local.
            "fe80::1",
            "febf::1",
            // Site-local.
            "fec0::1",
            "feff::1",
            // Multicast.
            "ff02::1",
            "ff0e::1",
        ];
        for ip in internal {
            assert!(is_internal(ip.parse().unwrap()), "{ip} must be refused");
        }
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.254",
            "::ffff:8.8.8.8",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2001:200::1",
            "2a00:1450:4001::1",
            "2c0f:fb50:4003::1",
        ];
        for ip in public {
            assert!(!is_internal(ip.parse().unwrap()), "{ip} must pass");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_taken() {
        for bad in ["file:///etc/passwd", "gopher://x", "ftp://example.com", "http://", "not a url", "data:,x"] {
            assert!(http_url(bad).is_none(), "{bad}");
        }
        for good in ["http://example.com", "https://example.com:8443/x?y=1"] {
            assert!(http_url(good).is_some(), "{good}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_in_every_spelling() {
        for url in [
            "http://127.0.0.1/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://127.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[fe80::1]/",
        ] {
            let parsed = http_url(url).unwrap();
            assert!(check_literal(&parsed, false).is_err(), "{url}");
            assert!(check_literal(&parsed, true).is_ok(), "{url}");
        }
        assert!(check_literal(&http_url("http://8.8.8.8/").unwrap(), false).is_ok());
        assert!(check_literal(&http_url("http://example.com/").unwrap(), false).is_ok());
    }

    #[tokio::test]
    async fn check_host_resolves_names_and_refuses_internal_answers() {
        let url = |u: &str| http_url(u).unwrap();
        assert_eq!(check_host(&url("http://localhost/"), false).await, Err(HostError::Internal));
        assert_eq!(check_host(&url("http://[::1]/"), false).await, Err(HostError::Internal));
        assert_eq!(check_host(&url("http://localhost/"), true).await, Ok(()));
        assert_eq!(check_host(&url("http://no-such-host.invalid/"), false).await, Err(HostError::Unresolvable));
    }

    #[test]
    fn an_answer_with_any_internal_address_is_refused() {
        let public: IpAddr = "8.8.8.8".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(screen("h", &[public], false).is_ok());
        assert!(screen("h", &[public, private], false).is_err());
        assert!(screen("h", &[private, public], false).is_err());
        assert!(screen("h", &[private], true).is_ok());
    }

    /// A local server that counts the requests it gets and answers 200 (or `status`).
    async fn counting_server(status: u16, location: Option<String>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let location = location.as_deref().map(|l| format!("location: {l}\r\n")).unwrap_or_default();
                let reply = format!("HTTP/1.1 {status} X\r\n{location}content-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        (format!("127.0.0.1:{port}"), hits)
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_an_internal_address_is_never_connected_to() {
        let (addr, hits) = counting_server(200, None).await;
        let port = addr.rsplit(':').next().unwrap();
        let guarded = Client::new(Duration::from_secs(5), false);
        let by_name = format!("http://localhost:{port}/hook");
        let err = guarded.send(Method::POST, &by_name, |r| r.body("x")).await.unwrap_err();
        assert!(matches!(err, SendError::Blocked(ref why) if why.contains("localhost")), "{err:?}");
        let err = guarded.send(Method::GET, &format!("http://{addr}/"), |r| r).await.unwrap_err();
        assert!(matches!(err, SendError::Blocked(_)), "{err:?}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing reached the server");

        let open = Client::new(Duration::from_secs(5), true);
        let res = open.send(Method::GET, &by_name, |r| r).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (target, target_hits) = counting_server(200, None).await;
        let (addr, _) = counting_server(302, Some(format!("http://{target}/secret"))).await;
        let client = Client::new(Duration::from_secs(5), true);
        let res = client.send(Method::GET, &format!("http://{addr}/"), |r| r).await.unwrap();
        assert_eq!(res.status(), 302);
        assert_eq!(target_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn other_schemes_are_refused_before_sending() {
        let client = Client::new(Duration::from_secs(5), true);
        for url in ["file:///etc/passwd", "gopher://x/"] {
            let err = client.send(Method::GET, url, |r| r).await.unwrap_err();
            assert!(matches!(err, SendError::Blocked(_)), "{url}: {err:?}");
        }
    }
}
