//! Users and what they sign in with: accounts, refresh-token families,
//! personal access tokens and the one-time grants behind portal links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::StoreError;
use crate::ids::{TokenId, UserId};
use crate::model::{User, UserRecord};

/// A new user, password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub full_name: Option<String>,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// One refresh token of a family (the chain started by one login).
#[derive(Clone, Debug)]
pub struct RefreshTokenRecord {
    /// The token's `jti`.
    pub jti: String,
    /// Shared by every token rotated from the same login.
    pub family: String,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

/// What a portal link grants once: managing one user's webhooks until
/// `expires_at`. Only the SHA-256 of the link's token is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalGrant {
    /// Hex SHA-256 of the one-time token in the link.
    pub token_hash: String,
    /// Whose webhooks the portal shows.
    pub user_id: UserId,
    /// Lists and views only; no change.
    pub read_only: bool,
    /// Neither the link nor the session it opens works after this.
    pub expires_at: DateTime<Utc>,
}

/// What a personal access token may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read the user's activities, tasks, analytics and live stream.
    Read,
    /// Publish activities and create and update tasks.
    Write,
    /// Manage the user's webhooks and REST hook subscriptions.
    Webhooks,
}

impl TokenScope {
    pub const ALL: [TokenScope; 3] = [TokenScope::Read, TokenScope::Write, TokenScope::Webhooks];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Webhooks => "webhooks",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A personal access token as its owner sees it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PersonalToken {
    #[schema(value_type = String, example = "pat_0193c1d2e3f4")]
    pub id: TokenId,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    /// It stops working then; `null`: never.
    #[serde(with = "crate::time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Its last use, to the minute; `null`: never used.
    #[serde(with = "crate::time::option")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A personal access token as stored: its owner and the SHA-256 of the
/// secret (the secret itself is shown once and never kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonalTokenRecord {
    pub token: PersonalToken,
    pub user_id: UserId,
    /// Hex SHA-256 of the whole token (`hub_pat_…`).
    pub token_hash: String,
}

/// Result of presenting a refresh token for rotation.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token is now used and the new one is live.
    Rotated,
    /// The old token had been used before: the whole family is now revoked.
    ReuseDetected,
    /// Unknown, expired, or its family was revoked.
    Invalid,
}

/// Accounts and credentials.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Creates a user; `Conflict(EmailTaken)` if the e-mail (compared
    /// case-insensitively) exists.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError>;
    /// Atomically marks `old_jti` used and stores `new`, or detects reuse.
    async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        new: RefreshTokenRecord,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError>;
    /// Revokes a family of `user`'s refresh tokens.
    async fn revoke_refresh_family(&self, user: &UserId, family: &str) -> Result<(), StoreError>;

    /// Stores a portal link's grant until it is redeemed or expires.
    async fn create_portal_grant(&self, grant: PortalGrant) -> Result<(), StoreError>;

    // Personal access tokens.
    /// Stores a new token; `Conflict::TokenLimit` when its user already has
    /// `max_per_user`.
    async fn create_personal_token(
        &self,
        record: PersonalTokenRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError>;
    /// The user's tokens, oldest first.
    async fn list_personal_tokens(&self, user: &UserId) -> Result<Vec<PersonalToken>, StoreError>;
    /// Deletes one of the user's tokens; false if it has no such token.
    async fn revoke_personal_token(&self, user: &UserId, id: &TokenId) -> Result<bool, StoreError>;
    /// The token whose secret hashes to `token_hash`, expired or not.
    async fn personal_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError>;
    /// Records a use of the token (a revoked one is left alone).
    async fn touch_personal_token(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Takes the grant whose token hashes to `token_hash`, atomically: of
    /// any number of concurrent callers on any node, at most one gets it.
    /// `None` if there is none, it was taken, or it expired before `now`.
    async fn redeem_portal_grant(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PortalGrant>, StoreError>;
}
