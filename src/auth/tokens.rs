//! JWT access and refresh tokens (HS256 only).
//!
//! Access tokens are checked statelessly: signature, `iss`, `aud`, `exp` and
//! `typ = "access"`. Refresh tokens carry `typ = "refresh"` and a family id
//! `fam`; their state (used, revoked) lives in the store. Because `typ` is
//! checked both ways, neither kind of token passes for the other.

use std::time::Duration;

use chrono::Utc;
use hub_core::UserId;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const TYP_ACCESS: &str = "access";
pub const TYP_REFRESH: &str = "refresh";
/// A portal session's token: one user's webhooks only.
pub const TYP_PORTAL: &str = "portal";

/// The claims of both token kinds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub typ: String,
    /// Refresh-token family; absent on access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    /// Portal tokens: true when the portal may only look, not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ro: Option<bool>,
}

/// Why a token was refused. Never shown in detail to callers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid: {0}")]
    Invalid(String),
}

/// Issues and checks tokens with one key.
pub struct TokenService {
    encoding: EncodingKey,
    validation: Validation,
    decoding: DecodingKey,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

/// A freshly minted token.
pub struct Minted {
    pub token: String,
    pub claims: Claims,
}

impl TokenService {
    pub fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        access_ttl: Duration,
        refresh_ttl: Duration,
    ) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Only HS256: the library refuses `none` and every other algorithm.
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        // Nodes are NTP-synchronised; an expired token is expired.
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    fn mint(&self, user: &UserId, typ: &str, ttl: Duration, fam: Option<String>) -> Minted {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.0.clone(),
            iat: now,
            exp: now + ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            typ: typ.to_owned(),
            fam,
            ro: None,
        };
        // HS256 encoding of a serde struct cannot fail.
        let token =
            encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default();
        Minted { token, claims }
    }

    pub fn access(&self, user: &UserId) -> Minted {
        self.mint(user, TYP_ACCESS, self.access_ttl, None)
    }

    /// A refresh token of `family` (a new family on login).
    pub fn refresh(&self, user: &UserId, family: &str) -> Minted {
        self.mint(user, TYP_REFRESH, self.refresh_ttl, Some(family.to_owned()))
    }

    /// A portal session's token for `user`, valid until `expires_at` (Unix
    /// seconds): the portal link's own expiry, never extended.
    pub fn portal(&self, user: &UserId, read_only: bool, expires_at: i64) -> Minted {
        let mut minted = self.mint(user, TYP_PORTAL, Duration::ZERO, None);
        minted.claims.exp = expires_at;
        minted.claims.ro = Some(read_only);
        // HS256 encoding of a serde struct cannot fail.
        minted.token = encode(
            &Header::new(Algorithm::HS256),
            &minted.claims,
            &self.encoding,
        )
        .unwrap_or_default();
        minted
    }

    /// Checks signature and claims of a bearer token of either kind a user
    /// may present (access or portal); the caller reads `typ`.
    pub fn verify_bearer(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.decode(token)?;
        match claims.typ.as_str() {
            TYP_ACCESS | TYP_PORTAL => Ok(claims),
            other => Err(TokenError::Invalid(format!(
                "a {other} token is not a bearer token"
            ))),
        }
    }

    fn decode(&self, token: &str) -> Result<Claims, TokenError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                other => TokenError::Invalid(format!("{other:?}")),
            })
    }

    fn check(&self, token: &str, typ: &str) -> Result<Claims, TokenError> {
        let claims = self.decode(token)?;
        if claims.typ != typ {
            return Err(TokenError::Invalid(format!(
                "expected a {typ} token, got {}",
                claims.typ
            )));
        }
        Ok(claims)
    }

    pub fn verify_access(&self, token: &str) -> Result<Claims, TokenError> {
        self.check(token, TYP_ACCESS)
    }

    pub fn verify_refresh(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.check(token, TYP_REFRESH)?;
        if claims.fam.is_none() {
            return Err(TokenError::Invalid("refresh token without family".into()));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn service() -> TokenService {
        TokenService::new(
            SECRET,
            "aiclone-hub",
            "aiclone-hub",
            Duration::from_secs(1800),
            Duration::from_secs(86400),
        )
    }

    fn forge(header: serde_json::Value, claims: &Claims, key: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let head = b64.encode(header.to_string());
        let body = b64.encode(serde_json::to_string(claims).unwrap());
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{head}.{body}").as_bytes());
        format!("{head}.{body}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn access_tokens_round_trip_and_are_not_refresh_tokens() {
        let s = service();
        let user = UserId("usr_1".into());
        let access = s.access(&user);
        assert_eq!(s.verify_access(&access.token).unwrap().sub, "usr_1");
        assert!(s.verify_refresh(&access.token).is_err());
        let refresh = s.refresh(&user, "fam1");
        assert!(s.verify_access(&refresh.token).is_err());
        assert_eq!(
            s.verify_refresh(&refresh.token).unwrap().fam.as_deref(),
            Some("fam1")
        );
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let s = service();
        let claims = s.access(&UserId("usr_1".into())).claims;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_string(&claims).unwrap())
        );
        assert!(s.verify_access(&none).is_err());
        let hs512 = forge(
            serde_json::json!({"alg":"HS512","typ":"JWT"}),
            &claims,
            SECRET,
        );
        assert!(s.verify_access(&hs512).is_err());
        // The control: the same forging with HS256 passes, so the refusals
        // above are about the algorithm.
        let hs256 = forge(
            serde_json::json!({"alg":"HS256","typ":"JWT"}),
            &claims,
            SECRET,
        );
        assert!(s.verify_access(&hs256).is_ok());
    }

    #[test]
    fn wrong_claims_are_refused() {
        let s = service();
        let good = s.access(&UserId("usr_1".into())).claims;
        let header = serde_json::json!({"alg":"HS256","typ":"JWT"});
        for bad in [
            Claims {
                iss: "other".into(),
                ..good.clone()
            },
            Claims {
                aud: "other".into(),
                ..good.clone()
            },
            Claims {
                typ: "id".into(),
                ..good.clone()
            },
            Claims {
                exp: good.iat - 10,
                ..good.clone()
            },
        ] {
            assert!(
                s.verify_access(&forge(header.clone(), &bad, SECRET))
                    .is_err(),
                "{bad:?}"
            );
        }
        let expired = Claims {
            exp: good.iat - 10,
            ..good.clone()
        };
        assert_eq!(
            s.verify_access(&forge(header.clone(), &expired, SECRET))
                .unwrap_err(),
            TokenError::Expired
        );
        assert!(s
            .verify_access(&forge(header, &good, b"another-secret-another-secret-xx"))
            .is_err());
    }
}
