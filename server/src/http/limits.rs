//! Abuse limits: a request rate per client address on `/api/*` (governor's GCRA, keyed by
//! address) and the cap on open event streams.
//!
//! Only the API is rate limited: it is what costs database work. The web app's files are static,
//! answered from disk or with a 304, and a page load fetches several at once; limiting them would
//! only break pages behind a shared address (an office, a mobile carrier's NAT).

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::ServerSettings;
use crate::http::error::ApiError;

/// Every this many checks, addresses whose allowance is full again are forgotten, so the keyed
/// state holds only the addresses seen lately (bounded by this many requests plus the addresses
/// still being limited).
const RETAIN_EVERY: u64 = 1024;

/// The per-address request limit on `/api/*`.
pub struct RateLimit {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
    checks: AtomicU64,
}

impl RateLimit {
    /// From `server.rate_limit_per_second` (0: off), `server.rate_limit_burst` and
    /// `server.trusted_proxies`.
    pub fn new(settings: &ServerSettings) -> Self {
        let limiter = NonZeroU32::new(settings.rate_limit_per_second).map(|rate| {
            let burst = NonZeroU32::new(settings.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        RateLimit {
            limiter,
            trusted_proxies: settings.trusted_proxies.clone(),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when `client` may make a request now; otherwise the seconds to wait (at least 1).
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Addresses currently remembered.
    pub fn tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the nearest address
    /// in `X-Forwarded-For` that is not a trusted proxy (the ones further left are the client's
    /// word, which anyone can forge).
    pub fn client_of(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let Some(header) = forwarded_for else {
            return Some(peer);
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusted_proxies.contains(&ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        Some(client)
    }
}

/// The key of an address: IPv4 as is, IPv6 by its /64 (one host usually has a whole /64).
fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Middleware (`actix_web::middleware::from_fn`): `/api/*` requests over their client's rate get
/// 429 `rate_limited` with `Retry-After`.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    if req.path().starts_with("/api/")
        && let Some(limit) = req.app_data::<web::Data<RateLimit>>()
    {
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = limit.client_of(req.peer_addr().map(|a| a.ip()), forwarded);
        if let Some(client) = client
            && let Err(retry_after_s) = limit.check(client)
        {
            tracing::debug!(%client, retry_after_s, "rate limited");
            let res = ApiError::RateLimited { retry_after_s }.error_response();
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The open event streams, at most `max`.
pub struct StreamSlots {
    open: AtomicUsize,
    max: usize,
}

/// One open event stream; its slot is freed when this is dropped (with the stream's body, when
/// the client goes away or the server stops).
pub struct StreamSlot(Arc<StreamSlots>);

impl StreamSlots {
    pub fn new(max: usize) -> Self {
        StreamSlots {
            open: AtomicUsize::new(0),
            max,
        }
    }

    /// A slot, or `None` when all are taken.
    pub fn try_take(self: &Arc<Self>) -> Option<StreamSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| StreamSlot(self.clone()))
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(rate: u32, burst: u32, trusted: &[&str]) -> ServerSettings {
        ServerSettings {
            host: "127.0.0.1".into(),
            port: 0,
            workers: 1,
            rate_limit_per_second: rate,
            rate_limit_burst: burst,
            trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            max_streams: 1,
            stream_keepalive_s: 15,
            shutdown_timeout_s: 1,
        }
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_and_others_are_unaffected() {
        let limit = RateLimit::new(&settings(1, 3, &[]));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limit.check(a), Ok(()));
        }
        assert_eq!(limit.check(a), Err(1));
        assert_eq!(limit.check("192.0.2.2".parse().unwrap()), Ok(()));
    }

    #[test]
    fn zero_means_no_limit() {
        let limit = RateLimit::new(&settings(0, 0, &[]));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10_000 {
            assert_eq!(limit.check(a), Ok(()));
        }
        assert_eq!(limit.tracked(), 0);
    }

    #[test]
    fn forgotten_addresses_do_not_pile_up() {
        let limit = RateLimit::new(&settings(1_000_000, 1, &[]));
        for i in 0..(RETAIN_EVERY as u32 * 3) {
            let _ = limit.check(IpAddr::from(i.to_be_bytes()));
            std::thread::sleep(std::time::Duration::from_micros(1));
        }
        assert!(limit.tracked() <= RETAIN_EVERY as usize, "{}", limit.tracked());
    }

    #[test]
    fn ipv6_hosts_share_their_slash_64() {
        assert_eq!(
            key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            key("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_ne!(
            key("2001:db8:1:2::1".parse().unwrap()),
            key("2001:db8:1:3::1".parse().unwrap())
        );
        assert_eq!(
            key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let limit = RateLimit::new(&settings(1, 1, &["10.0.0.1", "10.0.0.2"]));
        // Not a proxy: the header is the client's word.
        assert_eq!(
            limit.client_of(Some(ip("198.51.100.9")), Some("203.0.113.5")),
            Some(ip("198.51.100.9"))
        );
        // A trusted proxy: the nearest untrusted hop; a forged leftmost entry is ignored.
        assert_eq!(
            limit.client_of(Some(ip("10.0.0.1")), Some("1.2.3.4, 203.0.113.5, 10.0.0.2")),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(limit.client_of(Some(ip("10.0.0.1")), None), Some(ip("10.0.0.1")));
        assert_eq!(
            limit.client_of(Some(ip("10.0.0.1")), Some("garbage")),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn stream_slots_are_capped_and_freed_on_drop() {
        let slots = Arc::new(StreamSlots::new(2));
        let a = slots.try_take();
        let b = slots.try_take();
        assert!(a.is_some() && b.is_some());
        assert!(slots.try_take().is_none());
        drop(a);
        assert_eq!(slots.open(), 1);
        assert!(slots.try_take().is_some());
    }
}
