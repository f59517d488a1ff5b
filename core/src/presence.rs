//! Presence events: `presence.online` when a user's first session opens
//! anywhere in the deployment, `presence.offline` when the last one has been
//! gone for `presence.offline_after`. They are delivered to the webhooks that
//! list them and are never stored as activities.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::warn;
use utoipa::ToSchema;

use crate::ids::UserId;
use crate::store::StoreError;
use crate::webhook::{self, EventType};

/// Online or offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Offline,
}

impl PresenceStatus {
    pub fn event(self) -> EventType {
        match self {
            PresenceStatus::Online => EventType::PresenceOnline,
            PresenceStatus::Offline => EventType::PresenceOffline,
        }
    }
}

/// The `data` of a presence delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresenceChange {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub status: PresenceStatus,
    /// When it happened: the first session was seen (online), or the last
    /// one was last seen (offline; the event itself follows
    /// `presence.offline_after` later).
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
}

impl PresenceChange {
    /// The delivery body: the usual `{"type", "timestamp", "data"}` envelope,
    /// stamped with the moment the hub decided the change (`now`).
    pub fn envelope(&self, now: DateTime<Utc>) -> String {
        webhook::envelope(self.status.event().as_str(), now, self)
    }
}

/// What one check decided.
#[derive(Debug, Default)]
pub struct PresenceTick {
    /// Changes to deliver, then to [`PresenceLedger::commit`].
    pub changes: Vec<PresenceChange>,
    /// Users online (announced) before these changes.
    pub online: usize,
}

/// Where presence is decided: who is connected now, who was announced, and
/// since when the absent ones have been gone. A check reads and decides
/// ([`due`](Self::due)); the caller stores the deliveries and then commits
/// what it delivered, so a crash in between repeats an event rather than
/// losing it.
#[async_trait]
pub trait PresenceLedger: Send + Sync + 'static {
    /// The changes due at `now`. Empty when another node decides them
    /// (cluster mode: one node at a time holds the decision).
    async fn due(
        &self,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Result<PresenceTick, StoreError>;
    /// Records that `changes` were delivered; answers the number online.
    async fn commit(&self, changes: &[PresenceChange]) -> Result<usize, StoreError>;
}

/// The rule, shared by every ledger: a connected user not yet announced goes
/// online (and any absence of theirs is forgotten); an announced user who is
/// not connected is marked gone at `now` unless already marked, and goes
/// offline once gone for `offline_after`. Marks of users neither connected
/// nor announced are dropped.
pub fn decide(
    connected: &HashMap<UserId, DateTime<Utc>>,
    announced: &HashSet<UserId>,
    gone: &mut HashMap<UserId, DateTime<Utc>>,
    now: DateTime<Utc>,
    offline_after: Duration,
) -> Vec<PresenceChange> {
    let mut changes = Vec::new();
    let after = chrono::Duration::from_std(offline_after).unwrap_or(chrono::Duration::MAX);
    for (user, since) in connected {
        gone.remove(user);
        if !announced.contains(user) {
            changes.push(PresenceChange {
                user_id: user.clone(),
                status: PresenceStatus::Online,
                at: *since,
            });
        }
    }
    for user in announced {
        if connected.contains_key(user) {
            continue;
        }
        let since = *gone.entry(user.clone()).or_insert(now);
        if now - since >= after {
            changes.push(PresenceChange {
                user_id: user.clone(),
                status: PresenceStatus::Offline,
                at: since,
            });
        }
    }
    gone.retain(|user, _| announced.contains(user));
    changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.user_id.0.cmp(&b.user_id.0)));
    changes
}

#[derive(Default)]
struct LocalState {
    connected: HashMap<UserId, DateTime<Utc>>,
    announced: HashSet<UserId>,
    gone: HashMap<UserId, DateTime<Utc>>,
}

/// The ledger of a single node (embedded mode), fed by the session registry.
/// The announced users are kept in a file beside the database, so users who
/// were online when the hub stopped still get their `presence.offline` after
/// it starts again.
pub struct LocalLedger {
    state: Mutex<LocalState>,
    file: Option<PathBuf>,
}

impl LocalLedger {
    /// `file`: where the announced users are kept (`None`: memory only).
    pub fn open(file: Option<PathBuf>) -> Self {
        let mut state = LocalState::default();
        if let Some(path) = &file {
            match std::fs::read(path) {
                Ok(bytes) => match serde_json::from_slice::<Vec<UserId>>(&bytes) {
                    Ok(users) => state.announced = users.into_iter().collect(),
                    Err(err) => {
                        warn!(cause = %err, path = %path.display(), "presence file unreadable; starting empty")
                    }
                },
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    warn!(cause = %err, path = %path.display(), "presence file unreadable; starting empty")
                }
            }
        }
        Self {
            state: Mutex::new(state),
            file,
        }
    }

    /// The registry saw the user's first session open (`online`) or its
    /// last one close, at `at`.
    pub fn observe(&self, user: UserId, online: bool, at: DateTime<Utc>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if online {
            state.connected.entry(user).or_insert(at);
        } else if state.connected.remove(&user).is_some() && state.announced.contains(&user) {
            state.gone.insert(user, at);
        }
    }

    fn save(&self, announced: &HashSet<UserId>) -> Result<(), StoreError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let mut users: Vec<&UserId> = announced.iter().collect();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        let bytes = serde_json::to_vec(&users).map_err(|e| StoreError::Internal(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| StoreError::Internal(format!("writing {}: {e}", path.display())))
    }
}

#[async_trait]
impl PresenceLedger for LocalLedger {
    async fn due(
        &self,
        now: DateTime<Utc>,
        offline_after: Duration,
    ) -> Result<PresenceTick, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let LocalState {
            connected,
            announced,
            gone,
        } = &mut *state;
        let changes = decide(connected, announced, gone, now, offline_after);
        Ok(PresenceTick {
            changes,
            online: announced.len(),
        })
    }

    async fn commit(&self, changes: &[PresenceChange]) -> Result<usize, StoreError> {
        let announced = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            for change in changes {
                match change.status {
                    PresenceStatus::Online => {
                        state.announced.insert(change.user_id.clone());
                    }
                    PresenceStatus::Offline => {
                        state.announced.remove(&change.user_id);
                        state.gone.remove(&change.user_id);
                    }
                }
            }
            state.announced.clone()
        };
        if !changes.is_empty() {
            self.save(&announced)?;
        }
        Ok(announced.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_names_the_event_and_the_user() {
        let at = crate::time::from_micros(1_700_000_000_000_000);
        let change = PresenceChange {
            user_id: UserId("usr_1".into()),
            status: PresenceStatus::Offline,
            at,
        };
        let body: serde_json::Value =
            serde_json::from_str(&change.envelope(at + chrono::Duration::seconds(30))).unwrap();
        assert_eq!(body["type"], "presence.offline");
        assert_eq!(body["data"]["user_id"], "usr_1");
        assert_eq!(body["data"]["status"], "offline");
        assert_eq!(body["data"]["at"], crate::time::format(&at));
        assert_ne!(body["timestamp"], body["data"]["at"]);
    }

    fn user(n: u32) -> UserId {
        UserId(format!("usr_{n}"))
    }

    fn t(secs: i64) -> DateTime<Utc> {
        crate::time::from_micros(1_700_000_000_000_000 + secs * 1_000_000)
    }

    const AFTER: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn online_once_offline_after_the_grace_period_and_reloads_are_no_absence() {
        let ledger = LocalLedger::open(None);
        ledger.observe(user(1), true, t(0));
        let tick = ledger.due(t(0), AFTER).await.unwrap();
        assert_eq!(tick.changes.len(), 1);
        assert_eq!(tick.changes[0].status, PresenceStatus::Online);
        assert_eq!(ledger.commit(&tick.changes).await.unwrap(), 1);
        assert!(ledger.due(t(1), AFTER).await.unwrap().changes.is_empty());

        // A reload: gone for 2 s, back before the grace period ends.
        ledger.observe(user(1), false, t(5));
        assert!(ledger.due(t(6), AFTER).await.unwrap().changes.is_empty());
        ledger.observe(user(1), true, t(7));
        assert!(ledger.due(t(40), AFTER).await.unwrap().changes.is_empty());

        // Gone for good: offline once 30 s have passed since the last session.
        ledger.observe(user(1), false, t(50));
        assert!(ledger.due(t(79), AFTER).await.unwrap().changes.is_empty());
        let tick = ledger.due(t(80), AFTER).await.unwrap();
        assert_eq!(tick.changes.len(), 1);
        assert_eq!(tick.changes[0].status, PresenceStatus::Offline);
        assert_eq!(tick.changes[0].at, t(50));
        assert_eq!(ledger.commit(&tick.changes).await.unwrap(), 0);
        assert!(ledger.due(t(200), AFTER).await.unwrap().changes.is_empty());
    }

    #[tokio::test]
    async fn an_uncommitted_change_is_decided_again() {
        let ledger = LocalLedger::open(None);
        ledger.observe(user(2), true, t(0));
        assert_eq!(ledger.due(t(0), AFTER).await.unwrap().changes.len(), 1);
        // Delivery failed, nothing committed: the next check repeats it.
        assert_eq!(ledger.due(t(1), AFTER).await.unwrap().changes.len(), 1);
    }

    #[tokio::test]
    async fn announced_users_survive_a_restart_and_then_go_offline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("presence.json");
        let ledger = LocalLedger::open(Some(file.clone()));
        ledger.observe(user(3), true, t(0));
        let tick = ledger.due(t(0), AFTER).await.unwrap();
        ledger.commit(&tick.changes).await.unwrap();
        drop(ledger);

        let ledger = LocalLedger::open(Some(file));
        let tick = ledger.due(t(100), AFTER).await.unwrap();
        assert!(
            tick.changes.is_empty(),
            "absence starts counting at the restart"
        );
        assert_eq!(tick.online, 1);
        let tick = ledger.due(t(130), AFTER).await.unwrap();
        assert_eq!(tick.changes.len(), 1);
        assert_eq!(tick.changes[0].status, PresenceStatus::Offline);
    }
}
