//! Users and what they sign in with: accounts, refresh-token families,
//! personal access tokens and portal grants.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hub_core::ids::{TokenId, UserId};
use hub_core::model::{User, UserRecord};
use hub_core::store::{
    Conflict, NewUser, PersonalToken, PersonalTokenRecord, PortalGrant, RefreshTokenRecord,
    RotateOutcome, StoreError, TokenScope, UserStore,
};
use hub_core::time::{from_micros, micros};
use rusqlite::{params, OptionalExtension, Row};

use crate::{internal, SqliteStore};

pub(crate) const TOKEN_COLUMNS: &str =
    "id, user_id, name, token_hash, scopes, created_at, expires_at, last_used_at";

pub(crate) fn scopes_to_text(scopes: &[TokenScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn scopes_from_text(text: &str) -> Vec<TokenScope> {
    text.split(',').filter_map(TokenScope::parse).collect()
}

pub(crate) fn token_from_row(row: &Row<'_>) -> rusqlite::Result<PersonalTokenRecord> {
    Ok(PersonalTokenRecord {
        token: PersonalToken {
            id: TokenId(row.get(0)?),
            name: row.get(2)?,
            scopes: scopes_from_text(&row.get::<_, String>(4)?),
            created_at: from_micros(row.get(5)?),
            expires_at: row.get::<_, Option<i64>>(6)?.map(from_micros),
            last_used_at: row.get::<_, Option<i64>>(7)?.map(from_micros),
        },
        user_id: UserId(row.get(1)?),
        token_hash: row.get(3)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.write(move |conn| {
            let user = User {
                id: UserId::generate(),
                email: new.email.clone(),
                full_name: new.full_name.clone(),
                created_at: new.created_at,
            };
            let result = conn.execute(
                "INSERT INTO users (id, email, email_lower, full_name, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.id.as_str(),
                    user.email,
                    user.email.to_lowercase(),
                    user.full_name,
                    new.password_hash,
                    micros(user.created_at)
                ],
            );
            match result {
                Ok(_) => Ok(user),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::Conflict(Conflict::EmailTaken))
                }
                Err(e) => Err(internal(e)),
            }
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let email = email.to_lowercase();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, email, full_name, created_at, password_hash FROM users WHERE email_lower = ?1",
            )
            .map_err(internal)?
            .query_row([email], |r| {
                Ok(UserRecord {
                    user: User {
                        id: UserId(r.get(0)?),
                        email: r.get(1)?,
                        full_name: r.get(2)?,
                        created_at: from_micros(r.get(3)?),
                    },
                    password_hash: r.get(4)?,
                })
            })
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, email, full_name, created_at FROM users WHERE id = ?1")
                .map_err(internal)?
                .query_row([id.as_str()], |r| {
                    Ok(User {
                        id: UserId(r.get(0)?),
                        email: r.get(1)?,
                        full_name: r.get(2)?,
                        created_at: from_micros(r.get(3)?),
                    })
                })
                .optional()
                .map_err(internal)
        })
        .await
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![token.jti, token.family, token.user_id.as_str(), micros(token.expires_at)],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        old_jti: &str,
        new: RefreshTokenRecord,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError> {
        let old_jti = old_jti.to_owned();
        self.write(move |conn| {
            let row: Option<(String, String, i64, bool)> = conn
                .query_row(
                    "SELECT family, user_id, expires_at, used FROM refresh_tokens WHERE jti = ?1",
                    [&old_jti],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(internal)?;
            let Some((family, user_id, expires_at, used)) = row else {
                return Ok(RotateOutcome::Invalid);
            };
            let revoked: bool = conn
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM revoked_families WHERE family = ?1)",
                    [&family],
                    |r| r.get(0),
                )
                .map_err(internal)?;
            if revoked || expires_at <= micros(now) || user_id != new.user_id.as_str() {
                return Ok(RotateOutcome::Invalid);
            }
            if used {
                conn.execute(
                    "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
                    params![family, micros(now)],
                )
                .map_err(internal)?;
                return Ok(RotateOutcome::ReuseDetected);
            }
            conn.execute("UPDATE refresh_tokens SET used = 1 WHERE jti = ?1", [&old_jti])
                .map_err(internal)?;
            conn.execute(
                "INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![new.jti, family, new.user_id.as_str(), micros(new.expires_at)],
            )
            .map_err(internal)?;
            Ok(RotateOutcome::Rotated)
        })
        .await
    }

    async fn create_personal_token(
        &self,
        record: PersonalTokenRecord,
        max_per_user: usize,
    ) -> Result<(), StoreError> {
        self.write(move |conn| {
            let count: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM personal_tokens WHERE user_id = ?1")
                .map_err(internal)?
                .query_row([record.user_id.as_str()], |r| r.get(0))
                .map_err(internal)?;
            if count as usize >= max_per_user {
                return Err(StoreError::Conflict(Conflict::TokenLimit));
            }
            let t = &record.token;
            conn.prepare_cached(
                "INSERT INTO personal_tokens (id, user_id, name, token_hash, scopes, created_at, \
                 expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
            )
            .map_err(internal)?
            .execute(params![
                t.id.as_str(),
                record.user_id.as_str(),
                t.name,
                record.token_hash,
                scopes_to_text(&t.scopes),
                micros(t.created_at),
                t.expires_at.map(micros),
            ])
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn list_personal_tokens(&self, user: &UserId) -> Result<Vec<PersonalToken>, StoreError> {
        let user = user.clone();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM personal_tokens WHERE user_id = ?1 ORDER BY seq ASC"
            ))
            .map_err(internal)?
            .query_map([user.as_str()], token_from_row)
            .map_err(internal)?
            .map(|r| r.map(|record| record.token))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)
        })
        .await
    }

    async fn revoke_personal_token(&self, user: &UserId, id: &TokenId) -> Result<bool, StoreError> {
        let (user, id) = (user.clone(), id.clone());
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM personal_tokens WHERE id = ?1 AND user_id = ?2")
                .map_err(internal)?
                .execute([id.as_str(), user.as_str()])
                .map_err(internal)?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn personal_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PersonalTokenRecord>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM personal_tokens WHERE token_hash = ?1"
            ))
            .map_err(internal)?
            .query_row([token_hash.as_str()], token_from_row)
            .optional()
            .map_err(internal)
        })
        .await
    }

    async fn touch_personal_token(
        &self,
        _user: &UserId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            conn.prepare_cached("UPDATE personal_tokens SET last_used_at = ?1 WHERE id = ?2")
                .map_err(internal)?
                .execute(params![micros(at), id.as_str()])
                .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn create_portal_grant(&self, grant: PortalGrant) -> Result<(), StoreError> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO portal_grants (token_hash, user_id, read_only, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    grant.token_hash,
                    grant.user_id.as_str(),
                    grant.read_only,
                    micros(grant.expires_at)
                ],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn redeem_portal_grant(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PortalGrant>, StoreError> {
        let token_hash = token_hash.to_owned();
        // One writer thread: the delete is the redemption, so a second
        // caller finds nothing.
        self.write(move |conn| {
            let row: Option<(String, bool, i64)> = conn
                .query_row(
                    "DELETE FROM portal_grants WHERE token_hash = ?1 \
                     RETURNING user_id, read_only, expires_at",
                    [&token_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(internal)?;
            Ok(row
                .filter(|(_, _, expires_at)| *expires_at > micros(now))
                .map(|(user_id, read_only, expires_at)| PortalGrant {
                    token_hash,
                    user_id: UserId(user_id),
                    read_only,
                    expires_at: from_micros(expires_at),
                }))
        })
        .await
    }

    async fn revoke_refresh_family(&self, _user: &UserId, family: &str) -> Result<(), StoreError> {
        let family = family.to_owned();
        self.write(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
                params![family, micros(Utc::now())],
            )
            .map_err(internal)?;
            Ok(())
        })
        .await
    }
}
