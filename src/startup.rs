//! Builds the whole hub from settings: the store, the actors, the HTTP server.
//! `main` and the integration tests both go through [`Application::build`], so
//! tests run exactly what production runs (on port 0 with their own data dir).

use std::net::TcpListener;
use std::sync::Arc;

use actix::Actor;
use actix::Addr;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use hub_actors::bus::{Bus, LocalBus};
use hub_actors::presence::PresenceTracker;
use hub_actors::ratelimit::{ActorRateLimiter, RateLimitRegistry};
use hub_actors::registry::{CloseAll, RegistryLimits, SessionDirectory, SessionRegistry};
use hub_actors::session::{SessionConfig, SessionDeps, TokenCheck};
use hub_actors::webhooks::registry::{DrainAll, WebhookRegistry};
use hub_actors::webhooks::{send, DeliveryConfig, WebhookDeps};
use hub_core::metrics::Metrics;
use hub_core::presence::{LocalLedger, PresenceLedger};
use hub_core::ratelimit::RateLimiter;
use hub_core::store::HistoryWindow;
use hub_core::store::{ClusterView, Leases};
use hub_core::tokens::PersonalTokenCache;
use hub_core::{Settings, Store, UserId};
use hub_redis::bridge::{
    ClusterBus, Local as BridgeLocal, RedisBridge, RedisClusterView, WebhookSlot,
};
use hub_redis::leases::RedisLeases;
use hub_redis::presence::RedisPresence;
use hub_redis::ratelimit::{RedisGcra, RedisRateLimiter};
use hub_redis::store::RedisStore;
use tracing::{info, warn};
use utoipa::OpenApi as _;

use crate::auth::passwords::Passwords;
use crate::auth::tokens::TokenService;
use crate::auth::{load_or_create_secret, ApiKeys, Authenticator};
use crate::contract::Contract;
use crate::extract::{path_config, query_config, BodyLimit};
use crate::middleware::request_context;
use crate::openapi::ApiDoc;
use crate::ratelimit::{rate_limit, RateLimiting};
use crate::routes;
use crate::state::AppState;
use hub_sqlite::SqliteStore;

/// Starts the webhook registry on a thread of its own, so delivery work never
/// competes with the session registry's fan-out for the same event loop.
fn start_webhooks(
    settings: &Settings,
    store: Arc<dyn Store>,
    leases: Option<Arc<dyn Leases>>,
    bus: Arc<dyn Bus>,
) -> anyhow::Result<(actix::Addr<WebhookRegistry>, actix::Arbiter)> {
    let wh = &settings.webhooks;
    let deps = Arc::new(WebhookDeps {
        store,
        config: Arc::new(DeliveryConfig {
            timeout: wh.timeout.0,
            retry_schedule: wh.retry_schedule.iter().map(|d| d.0).collect(),
            max_consecutive_failures: wh.max_consecutive_failures,
            max_in_flight: wh.max_in_flight,
            max_queued: wh.max_queued_per_endpoint,
            targets: hub_actors::webhooks::ssrf::TargetPolicy::from_settings(wh),
            user_agent: format!("aiclone-hub/{}", env!("CARGO_PKG_VERSION")),
        }),
        tls: send::tls_config().context("building the TLS configuration")?,
        leases,
        bus,
    });
    let arbiter = actix::Arbiter::new();
    let registry =
        WebhookRegistry::start_in_arbiter(&arbiter.handle(), move |_| WebhookRegistry::new(deps));
    Ok((registry, arbiter))
}

/// A built, bound, not yet running hub.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// The thread the webhook actors run on, stopped before the store is
    /// flushed so no attempt writes after it.
    webhook_arbiter: actix::Arbiter,
    /// Runs for the life of the server (held so it is not dropped).
    _presence: Addr<PresenceTracker>,
}

/// Binds the listening socket with an explicit accept backlog. The standard
/// library's `bind` uses 128, which a burst of WebSocket connects overflows:
/// the kernel then drops SYNs and clients wait a second to retry. (The
/// kernel caps it at `net.core.somaxconn`.)
fn listen(host: &str, port: u16, backlog: u32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    let addr = (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
    })?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    Ok(socket.into())
}

/// How long a personal access token read from the store is trusted without
/// reading it again. Revocations clear it at once; this bounds what a missed
/// revocation message (a Redis failover) could keep alive.
const PERSONAL_TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Tokens cached per node at most.
const PERSONAL_TOKEN_CACHE_SIZE: usize = 10_000;

/// What differs between the two modes.
struct Backend {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    cluster: Option<Arc<dyn ClusterView>>,
    /// Who delivers to which webhook endpoint (cluster mode only).
    leases: Option<Arc<dyn Leases>>,
    limiter: Arc<dyn RateLimiter>,
    /// Who is online: this node's registry (embedded) or every node's (Redis).
    presence: Presence,
}

enum Presence {
    Local(Arc<LocalLedger>),
    Shared(Arc<dyn PresenceLedger>),
}

/// Embedded: SQLite, the in-process bus, per-node rate-limit actors.
fn embedded_backend(
    settings: &Settings,
    registry: &Addr<SessionRegistry>,
    sessions: Arc<SessionDirectory>,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<Backend> {
    let bus = Arc::new(LocalBus::new(registry.clone(), sessions, metrics.clone()));
    let store = SqliteStore::open(
        &settings.storage.data_dir,
        settings.storage.synchronous,
        settings.storage.max_batch,
        bus.clone(),
    )
    .context("cannot open the embedded store")?;
    Ok(Backend {
        store: Arc::new(store),
        bus,
        cluster: None,
        limiter: Arc::new(ActorRateLimiter(
            RateLimitRegistry::new(settings.rate_limit.max_buckets).start(),
        )),
        leases: None,
        presence: Presence::Local(Arc::new(LocalLedger::open(Some(
            settings.storage.data_dir.join("presence.json"),
        )))),
    })
}

/// Cluster: Redis is the store of record, pub/sub carries events between
/// nodes, and the rate limit is one Lua script shared by all nodes.
async fn cluster_backend(
    url: &str,
    settings: &Settings,
    node_id: &str,
    registry: &Addr<SessionRegistry>,
    sessions: &SessionDirectory,
    metrics: &Arc<Metrics>,
    personal_tokens: &Arc<PersonalTokenCache>,
) -> anyhow::Result<Backend> {
    let prefix = &settings.redis.key_prefix;
    // Writes that wait for replicas get connections of their own.
    let writers = if settings.redis.wait_replicas > 0 {
        8
    } else {
        0
    };
    let conn = hub_redis::store::connect(url, writers)
        .await
        .context("cannot connect to Redis (redis.url)")?;
    info!("redis connected");
    hub_redis::upgrade::upgrade(&conn, prefix, node_id, conn.cluster().is_some())
        .await
        .context("cannot bring the Redis data up to this version's layout")?;
    // The store's writes wait for replicas when asked to; the rest of
    // cluster mode (presence, leases, rate limits) shares the connection
    // without waiting.
    let durable = conn.durable(settings.redis.wait_replicas, settings.redis.wait_timeout.0);
    let webhooks: WebhookSlot = Arc::default();
    let bus = Arc::new(ClusterBus::new(
        conn.clone(),
        prefix,
        metrics.clone(),
        webhooks.clone(),
    ));
    let store = RedisStore::new(
        durable,
        prefix,
        node_id,
        settings.websocket.history_size,
        bus.clone(),
    );
    let bridge = RedisBridge::new(
        conn.clone(),
        prefix,
        node_id,
        BridgeLocal {
            registry: registry.clone(),
            metrics: metrics.clone(),
            webhooks,
            tokens: personal_tokens.clone(),
            ids_seen: store.ids_seen(),
        },
    )
    .start();
    sessions.set_presence(bridge.recipient());
    Ok(Backend {
        store: Arc::new(store),
        bus,
        cluster: Some(Arc::new(RedisClusterView::new(
            conn.clone(),
            prefix,
            node_id,
        ))),
        limiter: Arc::new(RedisRateLimiter(RedisGcra::new(conn.clone(), prefix))),
        presence: Presence::Shared(Arc::new(RedisPresence::new(
            conn.clone(),
            prefix,
            node_id,
            settings.presence.check_interval.0,
        ))),
        leases: Some(Arc::new(RedisLeases::new(
            conn,
            prefix,
            node_id,
            settings.webhooks.lease_ttl.0,
        ))),
    })
}

impl TokenCheck for TokenService {
    fn check(&self, token: &str) -> Result<(UserId, i64), String> {
        self.verify_access(token)
            .map(|c| (UserId(c.sub), c.exp))
            .map_err(|e| e.to_string())
    }
}

impl Application {
    /// Opens the store, starts the actors and binds the listener. Must run
    /// inside an actix system (it starts actors).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let node_id = format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);

        let secret = load_or_create_secret(
            settings.auth.jwt_secret.as_deref(),
            &settings.storage.data_dir,
        )
        .context("cannot load the token signing key")?;
        let tokens = Arc::new(TokenService::new(
            &secret,
            &settings.auth.issuer,
            &settings.auth.audience,
            settings.auth.access_token_ttl.0,
            settings.auth.refresh_token_ttl.0,
        ));

        let metrics = Arc::new(Metrics::default());
        let ws = &settings.websocket;
        let registry = SessionRegistry::new(
            RegistryLimits {
                max_sessions_per_user: ws.max_sessions_per_user,
                max_queued_frames: ws.max_queued_frames,
                max_queued_bytes: ws.max_queued_bytes,
            },
            metrics.clone(),
        );
        let sessions = registry.directory();
        let registry = registry.start();
        let personal_tokens = Arc::new(PersonalTokenCache::new(
            PERSONAL_TOKEN_CACHE_TTL,
            PERSONAL_TOKEN_CACHE_SIZE,
        ));
        let backend = match &settings.redis.url {
            Some(url) => {
                cluster_backend(
                    url,
                    &settings,
                    &node_id,
                    &registry,
                    &sessions,
                    &metrics,
                    &personal_tokens,
                )
                .await?
            }
            None => embedded_backend(&settings, &registry, sessions.clone(), &metrics)?,
        };
        let Backend {
            store,
            bus,
            cluster,
            limiter,
            leases,
            presence,
        } = backend;
        let (offline_after, check_interval) = (
            settings.presence.offline_after.0,
            settings.presence.check_interval.0,
        );
        let presence = match presence {
            Presence::Local(ledger) => {
                let tracker = PresenceTracker::local(
                    ledger,
                    store.clone(),
                    metrics.clone(),
                    offline_after,
                    check_interval,
                )
                .start();
                sessions.set_presence(tracker.clone().recipient());
                tracker
            }
            Presence::Shared(ledger) => PresenceTracker::shared(
                ledger,
                store.clone(),
                metrics.clone(),
                offline_after,
                check_interval,
            )
            .start(),
        };

        let (webhooks, webhook_arbiter) =
            start_webhooks(&settings, store.clone(), leases, bus.clone())
                .context("cannot start webhook delivery")?;
        bus.attach_webhooks(webhooks.clone());

        let session_deps = Arc::new(SessionDeps {
            sessions,
            store: store.clone(),
            tokens: tokens.clone(),
            config: SessionConfig {
                node_id: node_id.clone(),
                heartbeat_interval: ws.heartbeat_interval.0,
                client_timeout: ws.client_timeout.0,
                history: HistoryWindow {
                    max_events: ws.history_size,
                    max_age: chrono::Duration::from_std(ws.history_max_age.0)
                        .unwrap_or(chrono::Duration::days(1)),
                },
                max_queued_frames: ws.max_queued_frames,
            },
            metrics: metrics.clone(),
        });

        // The authenticator, the rate limiting and the metrics are app data
        // of their own: the extractor and the middlewares need nothing else.
        let auth = Arc::new(Authenticator {
            tokens,
            api_keys: ApiKeys::from_config(&settings.auth.api_keys),
            personal_tokens,
            store: store.clone(),
        });
        let rate_limiting = web::Data::new(RateLimiting::new(
            &settings.rate_limit,
            &settings.server.trusted_proxies,
            limiter,
        ));
        let authenticator = web::Data::from(auth.clone());
        let metrics_data = web::Data::from(metrics.clone());
        let state = web::Data::new(AppState {
            settings: settings.clone(),
            store,
            auth,
            passwords: Passwords::new(settings.auth.max_concurrent_hashes),
            registry,
            bus,
            webhooks,
            session_deps,
            cluster,
            metrics,
            node_id,
        });

        let listener = listen(
            &settings.server.host,
            settings.server.port,
            settings.server.backlog,
        )
        .with_context(|| {
            format!(
                "cannot listen on {}:{}",
                settings.server.host, settings.server.port
            )
        })?;
        let port = listener.local_addr()?.port();
        let body_limit = settings.server.max_body_size;
        let app_state = state.clone();
        let contract = web::Data::new(Contract::new(ApiDoc::openapi()));
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(authenticator.clone())
                .app_data(rate_limiting.clone())
                .app_data(metrics_data.clone())
                .app_data(contract.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(query_config())
                .app_data(path_config())
                // The last `wrap` is outermost: request ids cover 429s too.
                .wrap(from_fn(rate_limit))
                .wrap(from_fn(request_context))
                .service(routes::health::health)
                .service(routes::health::ready)
                .service(routes::health::metrics)
                .service(routes::docs::openapi_json)
                .service(routes::docs::swagger_page)
                .service(routes::docs::swagger_asset)
                .service(routes::docs::redoc_page)
                .service(routes::docs::redoc_js)
                .service(web::scope("/api").configure(routes::api))
                .configure(routes::dashboard::configure)
                .default_service(web::to(routes::fallback))
        })
        .listen(listener)?
        // Signals are ours (see `run_until_stopped`): sessions must get their
        // 1012 close before the server stops.
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout.0.as_secs().max(1));
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        info!(
            mode = state.mode(),
            node_id = %state.node_id,
            address = %format!("{}:{port}", settings.server.host),
            data_dir = %settings.storage.data_dir.display(),
            "hub listening"
        );
        Ok(Self {
            port,
            server,
            state,
            webhook_arbiter,
            _presence: presence,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from another task (tests).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM, Ctrl-C or a handle stops the server. On a
    /// signal: stop accepting, close every session with 1012 (clients
    /// reconnect elsewhere), let in-flight requests finish within
    /// `server.shutdown_timeout`, then flush the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let mut server = actix_web::rt::spawn(self.server);
        tokio::select! {
            result = &mut server => {
                result.context("server task")??;
            }
            signal = shutdown_signal() => {
                info!(signal, "shutting down: closing sessions with 1012");
                let stop = handle.stop(true);
                let told = self.state.registry.send(CloseAll).await.unwrap_or(0);
                info!(sessions = told, "sessions told to close");
                stop.await;
                server.await.context("server task")??;
            }
        }
        // Webhook attempts under way finish (bounded); what is still pending
        // stays in the store and goes out at the next start.
        let bound = self.state.settings.server.shutdown_timeout.0;
        match tokio::time::timeout(bound, self.state.webhooks.send(DrainAll)).await {
            Ok(_) => info!("webhook attempts drained"),
            Err(_) => {
                warn!("webhook attempts still running at the shutdown bound; they will be retried")
            }
        }
        self.webhook_arbiter.stop();
        let arbiter = self.webhook_arbiter;
        tokio::task::spawn_blocking(move || arbiter.join())
            .await
            .context("waiting for the webhook actors to stop")?
            .ok();
        self.state
            .store
            .flush()
            .await
            .context("flushing the store at shutdown")?;
        info!("hub stopped");
        Ok(())
    }
}

/// Resolves on SIGTERM or SIGINT, naming which.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the hub with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
