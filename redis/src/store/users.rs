//! Users and what they sign in with: accounts, refresh-token families,
//! personal access tokens and portal grants.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::ids::{TokenId, UserId};
use hub_core::model::{User, UserRecord};
use hub_core::store::{
    Conflict, NewUser, PersonalToken, PersonalTokenRecord, PortalGrant, RefreshTokenRecord,
    RotateOutcome, StoreError, TokenScope,
};
use hub_core::time::{from_micros, micros};

use redis::AsyncCommands;

use super::{unavailable, RedisStore};
use hub_core::store::UserStore;

impl RedisStore {
    /// A personal access token by id, from its hash.
    pub(crate) async fn personal_token(
        &self,
        user: &UserId,
        id: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        let fields: std::collections::HashMap<String, String> = self
            .conn()
            .hgetall(self.keys.personal_token(user, id))
            .await
            .map_err(unavailable)?;
        let (Some(user), Some(hash), Some(name)) =
            (fields.get("user"), fields.get("hash"), fields.get("name"))
        else {
            return Ok(None);
        };
        let time = |field: &str| {
            fields
                .get(field)
                .and_then(|v| v.parse::<i64>().ok())
                .map(from_micros)
        };
        Ok(Some(PersonalTokenRecord {
            token: PersonalToken {
                id: TokenId(id.to_owned()),
                name: name.clone(),
                scopes: fields
                    .get("scopes")
                    .map(|s| s.split(',').filter_map(TokenScope::parse).collect())
                    .unwrap_or_default(),
                created_at: time("created").unwrap_or_default(),
                expires_at: time("expires"),
                last_used_at: time("last"),
            },
            user_id: UserId(user.clone()),
            token_hash: hash.clone(),
        }))
    }
}

#[async_trait]
impl UserStore for RedisStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let user = User {
            id: UserId::generate(),
            email: new.email,
            full_name: new.full_name,
            created_at: new.created_at,
        };
        // The user first, under a fresh id nothing points to yet; then the
        // e-mail, which is the commit: a step cut in between leaves a user
        // no e-mail leads to.
        let key = self.keys.user(&user.id);
        self.conn()
            .hset_multiple::<_, _, _, ()>(
                &key,
                &[
                    ("id", user.id.0.clone()),
                    ("email", user.email.clone()),
                    ("full_name", user.full_name.clone().unwrap_or_default()),
                    ("hash", new.password_hash.clone()),
                    ("created", micros(user.created_at).to_string()),
                ],
            )
            .await
            .map_err(unavailable)?;
        let claimed: bool = redis::cmd("SET")
            .arg(self.keys.email(&user.email))
            .arg(user.id.as_str())
            .arg("NX")
            .query_async::<Option<String>>(&mut self.conn())
            .await
            .map_err(unavailable)?
            .is_some();
        // Sent twice (a cluster client resends a command whose answer it
        // did not get): the e-mail already names this very id.
        let ours = claimed || {
            let owner: Option<String> = self
                .conn()
                .get(self.keys.email(&user.email))
                .await
                .map_err(unavailable)?;
            owner.as_deref() == Some(user.id.as_str())
        };
        if ours {
            Ok(user)
        } else {
            self.conn().del::<_, ()>(&key).await.map_err(unavailable)?;
            Err(StoreError::Conflict(Conflict::EmailTaken))
        }
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let id: Option<String> = self
            .conn()
            .get(self.keys.email(email))
            .await
            .map_err(unavailable)?;
        let Some(id) = id else { return Ok(None) };
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(
                self.keys.user(&UserId(id.clone())),
                &["email", "full_name", "hash", "created"],
            )
            .await
            .map_err(unavailable)?;
        let [Some(email), full_name, Some(hash), Some(created)] =
            <[Option<String>; 4]>::try_from(fields)
                .map_err(|_| StoreError::Internal("user hash shape".into()))?
        else {
            return Ok(None);
        };
        Ok(Some(UserRecord {
            user: User {
                id: UserId(id),
                email,
                full_name: full_name.filter(|n| !n.is_empty()),
                created_at: from_micros(created.parse().unwrap_or(0)),
            },
            password_hash: hash,
        }))
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let fields: Vec<Option<String>> = self
            .conn()
            .hget(self.keys.user(id), &["email", "full_name", "created"])
            .await
            .map_err(unavailable)?;
        let [Some(email), full_name, Some(created)] = <[Option<String>; 3]>::try_from(fields)
            .map_err(|_| StoreError::Internal("user hash shape".into()))?
        else {
            return Ok(None);
        };
        Ok(Some(User {
            id: id.clone(),
            email,
            full_name: full_name.filter(|n| !n.is_empty()),
            created_at: from_micros(created.parse().unwrap_or(0)),
        }))
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        let ttl = (token.expires_at - Utc::now()).num_seconds().max(1);
        self.scripts
            .insert_refresh
            .key(self.keys.refresh_token(&token.user_id, &token.jti))
            .arg(&token.family)
            .arg(token.user_id.as_str())
            .arg(micros(token.expires_at))
            .arg(ttl)
            .invoke_async::<()>(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn create_personal_token(
        &self,
        record: PersonalTokenRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        let t = &record.token;
        let user = &record.user_id;
        let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
        // The pointer from the secret first: until the token exists it
        // leads nowhere.
        let pointer = self.keys.personal_token_hash(&record.token_hash);
        self.conn()
            .set::<_, _, ()>(&pointer, format!("{}|{}", user.0, t.id.0))
            .await
            .map_err(unavailable)?;
        let done: i64 = self
            .scripts
            .personal_token
            .key(self.keys.personal_token(user, t.id.as_str()))
            .key(self.keys.personal_tokens_of(user))
            .arg("create")
            .arg(t.id.as_str())
            .arg(record.user_id.as_str())
            .arg(&record.token_hash)
            .arg(max_per_user)
            .arg(micros(t.created_at))
            .arg(&t.name)
            .arg(scopes.join(","))
            .arg(
                t.expires_at
                    .map(|e| micros(e).to_string())
                    .unwrap_or_default(),
            )
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if done == 0 {
            self.conn()
                .del::<_, ()>(&pointer)
                .await
                .map_err(unavailable)?;
            return Err(StoreError::Conflict(Conflict::TokenLimit));
        }
        Ok(())
    }

    async fn list_personal_tokens(&self, user: &UserId) -> Result<Vec<PersonalToken>, StoreError> {
        let ids: Vec<String> = self
            .conn()
            .zrange(self.keys.personal_tokens_of(user), 0, -1)
            .await
            .map_err(unavailable)?;
        let mut tokens = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.personal_token(user, &id).await? {
                tokens.push(record.token);
            }
        }
        Ok(tokens)
    }

    async fn revoke_personal_token(&self, user: &UserId, id: &TokenId) -> Result<bool, StoreError> {
        let hash: String = self
            .scripts
            .personal_token
            .key(self.keys.personal_token(user, id.as_str()))
            .key(self.keys.personal_tokens_of(user))
            .arg("revoke")
            .arg(id.as_str())
            .arg(user.as_str())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if hash.is_empty() {
            return Ok(false);
        }
        // The token is gone; its pointer now leads nowhere and goes too.
        self.conn()
            .del::<_, ()>(self.keys.personal_token_hash(&hash))
            .await
            .map_err(unavailable)?;
        Ok(true)
    }

    async fn personal_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        let pointer: Option<String> = self
            .conn()
            .get(self.keys.personal_token_hash(token_hash))
            .await
            .map_err(unavailable)?;
        match pointer.as_deref().and_then(|p| p.split_once('|')) {
            Some((user, id)) => Ok(self
                .personal_token(&UserId(user.to_owned()), id)
                .await?
                .filter(|r| r.token_hash == token_hash)),
            None => Ok(None),
        }
    }

    async fn touch_personal_token(
        &self,
        user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _: i64 = self
            .scripts
            .personal_token
            .key(self.keys.personal_token(user, id.as_str()))
            .key(self.keys.personal_tokens_of(user))
            .arg("touch")
            .arg(micros(at))
            // Bookkeeping on a read: never worth a wait for replicas.
            .invoke_async(&mut self.conn().plain())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// `portal:<hash>` holds `user|read_only|expires_at micros` and expires
    /// with the link; redeeming is one `GETDEL`, atomic across nodes.
    async fn create_portal_grant(&self, grant: PortalGrant) -> Result<(), StoreError> {
        let key = self.keys.portal_grant(&grant.token_hash);
        let ttl_ms = (grant.expires_at - Utc::now()).num_milliseconds().max(1) as u64;
        let value = format!(
            "{}|{}|{}",
            grant.user_id.0,
            u8::from(grant.read_only),
            micros(grant.expires_at)
        );
        redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn redeem_portal_grant(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PortalGrant>, StoreError> {
        let key = self.keys.portal_grant(token_hash);
        let value: Option<String> = redis::cmd("GETDEL")
            .arg(&key)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let Some(value) = value else {
            return Ok(None);
        };
        let mut parts = value.splitn(3, '|');
        let (Some(user), Some(read_only), Some(expires)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Internal(format!(
                "malformed portal grant {key}"
            )));
        };
        let expires: i64 = expires
            .parse()
            .map_err(|_| StoreError::Internal(format!("malformed portal grant {key}")))?;
        let expires_at = from_micros(expires);
        Ok((expires_at > now).then(|| PortalGrant {
            token_hash: token_hash.to_owned(),
            user_id: UserId(user.to_owned()),
            read_only: read_only == "1",
            expires_at,
        }))
    }

    async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        new: RefreshTokenRecord,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError> {
        let ttl = (new.expires_at - now).num_seconds().max(1);
        let outcome: String = self
            .scripts
            .rotate_refresh
            .key(self.keys.refresh_token(&new.user_id, old_jti))
            .key(self.keys.refresh_token(&new.user_id, &new.jti))
            .key(self.keys.revoked_family(&new.user_id, &new.family))
            .arg(&new.family)
            .arg(new.user_id.as_str())
            .arg(micros(new.expires_at))
            .arg(micros(now))
            .arg(ttl)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(match outcome.as_str() {
            "rotated" => RotateOutcome::Rotated,
            "reused" => RotateOutcome::ReuseDetected,
            _ => RotateOutcome::Invalid,
        })
    }

    async fn revoke_refresh_family(&self, user: &UserId, family: &str) -> Result<(), StoreError> {
        // Long enough to outlive every token of the family.
        let ttl = 400 * 24 * 3600;
        self.conn()
            .set_ex::<_, _, ()>(self.keys.revoked_family(user, family), "1", ttl)
            .await
            .map_err(unavailable)
    }
}
