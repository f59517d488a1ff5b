//! The rate-limit middleware: classifies each request into a route group,
//! works out its key (client IP, or user where configured), asks the limiter
//! and writes the headers. Limits themselves live behind
//! [`hub_core::ratelimit::RateLimiter`]: embedded mode asks the
//! `RateLimitRegistry` actor (`hub_actors::ratelimit::ActorRateLimiter`),
//! cluster mode one Lua script in Redis (`hub_redis::ratelimit::RedisRateLimiter`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use hub_core::metrics::Metrics;
use hub_core::net::Cidr;
use hub_core::ratelimit::{Decision, Quota, RateLimiter};
use hub_core::settings::{RateLimitKey, RateLimitSettings};

use crate::auth::{Authenticator, Caller, Credential};
use crate::error::{ApiError, ErrorCode};

/// One configured group, with its header values built once.
struct Group {
    /// `rate_limit.policies.<name>`: limit and window.
    quota: Quota,
    /// What the requests of this group count against: the client IP or the
    /// authenticated caller.
    key: RateLimitKey,
    /// `X-RateLimit-Limit`.
    limit: HeaderValue,
    /// `RateLimit-Policy: "api";q=60;w=60`.
    policy: HeaderValue,
    /// The group's name, the first part of its keys and the `group` label
    /// of the refusal counter.
    name: String,
}

/// Everything the middleware needs, built at start and registered as
/// `web::Data<RateLimiting>`. It also reads the [`Authenticator`] (for groups
/// keyed by user) and the [`Metrics`] (to count refusals), each registered on
/// its own; without a `RateLimiting` the middleware lets everything through.
pub struct RateLimiting {
    /// `rate_limit.enabled`: off, no request is checked.
    enabled: bool,
    /// Path prefixes never checked (`/health`, the docs, ...).
    exempt: Vec<String>,
    /// The configured groups by name; a group without a policy is unchecked.
    groups: HashMap<&'static str, Group>,
    /// Peers whose forwarding headers are believed.
    trusted_proxies: Vec<Cidr>,
    /// Who decides: bucket actors (embedded) or Redis (cluster).
    limiter: Arc<dyn RateLimiter>,
}

/// The route groups, each with its own limit (`rate_limit.*`).
const GROUPS: [&str; 3] = ["api", "auth", "ws_connect"];

impl RateLimiting {
    pub fn new(
        settings: &RateLimitSettings,
        trusted_proxies: &[String],
        limiter: Arc<dyn RateLimiter>,
    ) -> Self {
        let groups = GROUPS
            .iter()
            .filter_map(|name| {
                let p = settings.policies.get(*name)?;
                let window = p.window.0.as_secs().max(1);
                Some((
                    *name,
                    Group {
                        quota: Quota {
                            limit: p.limit,
                            window: p.window.0,
                        },
                        key: p.key,
                        limit: HeaderValue::from(p.limit),
                        policy: HeaderValue::from_str(&format!(
                            "\"{name}\";q={};w={window}",
                            p.limit
                        ))
                        .unwrap_or(HeaderValue::from_static("")),
                        name: (*name).to_owned(),
                    },
                ))
            })
            .collect();
        Self {
            enabled: settings.enabled,
            exempt: settings.exempt_paths.clone(),
            groups,
            // Validated at load (`Settings::validate`).
            trusted_proxies: trusted_proxies
                .iter()
                .filter_map(|c| Cidr::parse(c).ok())
                .collect(),
            limiter,
        }
    }

    fn group_of(&self, method: &Method, path: &str) -> Option<&Group> {
        if !self.enabled || self.exempt.iter().any(|p| path.starts_with(p.as_str())) {
            return None;
        }
        let name = if *method == Method::POST
            && matches!(
                path,
                "/api/auth/register" | "/api/auth/login" | "/api/auth/refresh"
            ) {
            "auth"
        } else if path == "/api/ws" {
            "ws_connect"
        } else if path.starts_with("/api/") || path == "/api" {
            "api"
        } else {
            return None;
        };
        self.groups.get(name)
    }

    /// The client address: the peer, unless the peer is a trusted proxy, in
    /// which case the nearest untrusted address of the forwarding chain.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let chain = forwarded_chain(headers);
        // Walk from the nearest hop outwards, skipping our own proxies.
        Some(
            chain
                .into_iter()
                .rev()
                .find(|ip| !self.is_trusted(*ip))
                .unwrap_or(peer),
        )
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}

/// Addresses of `Forwarded: for=` (preferred) or `X-Forwarded-For`, client
/// first. Unparseable entries (obfuscated identifiers, `unknown`) are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<IpAddr> = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                if !k.eq_ignore_ascii_case("for") {
                    return None;
                }
                let v = v.trim().trim_matches('"');
                // `[2001:db8::1]:4711` or `192.0.2.1:4711` or bare.
                let host = if let Some(rest) = v.strip_prefix('[') {
                    rest.split(']').next()?
                } else if v.matches(':').count() == 1 {
                    v.split(':').next()?
                } else {
                    v
                };
                host.parse().ok()
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Header values of small numbers, made once: cloning one is a reference
/// count, where making one allocates.
fn number(n: u64) -> HeaderValue {
    static SMALL: OnceLock<Vec<HeaderValue>> = OnceLock::new();
    let small = SMALL.get_or_init(|| (0..=SMALL_NUMBERS).map(HeaderValue::from).collect());
    match small.get(n as usize) {
        Some(v) => v.clone(),
        None => HeaderValue::from(n),
    }
}

/// Largest number [`number`] keeps made.
const SMALL_NUMBERS: u64 = 4096;

fn write_headers(headers: &mut HeaderMap, group: &Group, decision: &Decision) {
    let reset = secs_ceil(decision.reset);
    let remaining = u64::from(decision.remaining);
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        group.limit.clone(),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        number(remaining),
    );
    headers.insert(HeaderName::from_static("x-ratelimit-reset"), number(reset));
    headers.insert(
        HeaderName::from_static("ratelimit-policy"),
        group.policy.clone(),
    );
    let mut value = String::with_capacity(group.name.len() + 32);
    let _ = write!(value, "\"{}\";r={remaining};t={reset}", group.name);
    if let Ok(v) = HeaderValue::try_from(value) {
        headers.insert(HeaderName::from_static("ratelimit"), v);
    }
}

thread_local! {
    /// The bucket key of the request being checked, built here without an
    /// allocation (the common check needs no owned copy).
    static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The middleware itself (`from_fn(rate_limit)`): lets the request through
/// unchecked, answers 429, or passes it on and adds the quota headers.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(limits) = req.app_data::<web::Data<RateLimiting>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let Some(group) = limits.group_of(req.method(), req.path()) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    // Keyed without a store lookup: a personal access token by its hash.
    let user = (group.key == RateLimitKey::User)
        .then(|| {
            let auth = req.app_data::<web::Data<Authenticator>>()?;
            auth.credential(req.request()).ok()
        })
        .flatten();
    let decision = KEY.with(|buf| {
        let mut key = buf.borrow_mut();
        key.clear();
        let _ = match user {
            Some(Credential::Known(Caller::User(id))) => write!(key, "{}|user:{id}", group.name),
            Some(Credential::Known(Caller::Service)) => write!(key, "{}|service", group.name),
            Some(Credential::PersonalToken(hash)) => write!(key, "{}|pat:{hash}", group.name),
            None => match limits.client_ip(req.peer_addr().map(|a| a.ip()), req.headers()) {
                Some(ip) => write!(key, "{}|ip:{ip}", group.name),
                None => write!(key, "{}|ip:unknown", group.name),
            },
        };
        match limits.limiter.check_now(&key, group.quota) {
            Some(decision) => Ok(decision),
            None => Err(key.clone()),
        }
    });
    let decision = match decision {
        Ok(decision) => Ok(decision),
        Err(key) => limits.limiter.check(key, group.quota).await,
    };
    let decision = match decision {
        Ok(d) => d,
        Err(cause) => {
            // Failing open: an unavailable limiter must not take the API down.
            tracing::error!(cause = %cause, "rate limiter unavailable; request let through");
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body);
        }
    };
    if !decision.allowed {
        tracing::info!(group = %group.name, "rate limited");
        if let Some(metrics) = req.app_data::<web::Data<Metrics>>() {
            metrics.rate_limited(&group.name);
        }
        let mut err = ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "Too many requests; retry in {} s.",
                secs_ceil(decision.retry_after)
            ),
        );
        err.retry_after = Some(secs_ceil(decision.retry_after).max(1));
        let mut res = err.error_response();
        write_headers(res.headers_mut(), group, &decision);
        return Ok(req.into_response(res).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    write_headers(res.headers_mut(), group, &decision);
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;

    struct Never;

    #[async_trait]
    impl RateLimiter for Never {
        async fn check(&self, _: String, _: Quota) -> Result<Decision, String> {
            Err("unused".into())
        }
    }

    fn limits(trusted: &[&str]) -> RateLimiting {
        let settings = crate::config::load(None, Vec::new()).unwrap();
        RateLimiting::new(
            &settings.rate_limit,
            &trusted.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            Arc::new(Never),
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_peers() {
        let spoof = headers(&[("x-forwarded-for", "203.0.113.7")]);
        let peer: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(limits(&[]).client_ip(Some(peer), &spoof), Some(peer));
        let proxied = limits(&["198.51.100.0/24"]);
        assert_eq!(
            proxied.client_ip(Some(peer), &spoof),
            Some("203.0.113.7".parse().unwrap())
        );
        // The client cannot prepend a fake address: the nearest untrusted hop wins.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 198.51.100.2")]);
        assert_eq!(
            proxied.client_ip(Some(peer), &chain),
            Some("203.0.113.7".parse().unwrap())
        );
        let fwd = headers(&[("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")]);
        assert_eq!(
            proxied.client_ip(Some(peer), &fwd),
            Some("2001:db8::7".parse().unwrap())
        );
    }

    #[test]
    fn route_groups() {
        let l = limits(&[]);
        assert_eq!(
            l.group_of(&Method::POST, "/api/auth/login").unwrap().name,
            "auth"
        );
        assert_eq!(
            l.group_of(&Method::GET, "/api/auth/me").unwrap().name,
            "api"
        );
        assert_eq!(
            l.group_of(&Method::GET, "/api/ws").unwrap().name,
            "ws_connect"
        );
        assert_eq!(
            l.group_of(&Method::GET, "/api/activities").unwrap().name,
            "api"
        );
        assert!(l.group_of(&Method::GET, "/health").is_none());
        assert!(l
            .group_of(&Method::GET, "/api/docs/swagger-ui.css")
            .is_none());
        assert!(l.group_of(&Method::GET, "/api/openapi.json").is_none());
    }
}
