//! HS256 JSON Web Tokens (PROTOCOL §2): what an integrating app signs and roomcast trusts.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::Identity;
use crate::domain::User;

/// The claims roomcast reads. `sub` and `exp` are required; a token without
/// them does not decode.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<Vec<String>>,
    /// Set by roomcast in the JWTs it issues at login: the session (its
    /// token hash) the JWT belongs to. It is valid only while that session
    /// lives, so logout and a password change end it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// What a valid token says: who, and the login session it belongs to.
#[derive(Debug, Clone)]
pub struct Verified {
    pub identity: Identity,
    pub sid: Option<String>,
}

/// Why a token is refused, as far as its holder may know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Validly signed, but past its `exp` or before its `nbf`.
    Expired,
    /// Malformed, another algorithm, a bad signature or a missing claim:
    /// which one is not said, so a forger learns nothing from the answer.
    Invalid,
}

/// Signing and checking keys for the server's secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Keys {
    /// Keys for `secret`; `exp` and `nbf` are checked with `leeway_secs` of
    /// allowance for clocks that differ.
    pub fn new(secret: &[u8], leeway_secs: u64) -> anyhow::Result<Self> {
        // Only HS256: `alg: none` and every other algorithm are refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        // jsonwebtoken's default is 60 s, during which an expired token
        // still works: the contract says expired tokens are refused.
        validation.leeway = leeway_secs;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
        })
    }

    /// Signs a token for `user` valid for `ttl_secs`, optionally naming rooms
    /// and the login session it belongs to.
    pub fn issue(
        &self,
        user: &User,
        ttl_secs: u64,
        rooms: Option<Vec<String>>,
        sid: Option<String>,
    ) -> String {
        let claims = Claims {
            sub: user.id.clone(),
            name: Some(user.name.clone()),
            exp: jsonwebtoken::get_current_timestamp() + ttl_secs,
            rooms,
            sid,
        };
        // HS256 over a serializable struct cannot fail.
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default()
    }

    /// What a validly signed, unexpired token claims, or why it is refused.
    /// The signature is checked before the times (jsonwebtoken's order), so
    /// `Expired` is only ever said of a token signed with the secret: it
    /// tells a forger nothing. Whether its session still lives is
    /// [`super::Auth::identify`]'s.
    pub fn verify(&self, token: &str) -> Result<Verified, TokenRefusal> {
        use jsonwebtoken::errors::ErrorKind;
        let data =
            decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => {
                        TokenRefusal::Expired
                    }
                    _ => TokenRefusal::Invalid,
                }
            })?;
        let c = data.claims;
        if c.sub.is_empty() {
            return Err(TokenRefusal::Invalid);
        }
        let name = c
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| c.sub.clone());
        Ok(Verified {
            identity: Identity {
                user: User::new(c.sub, name),
                rooms: c.rooms.unwrap_or_default().into_iter().collect(),
                key: None,
            },
            sid: c.sid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_expired_token_is_invalid_not_expired() {
        let keys = Keys::new(b"secret", 0).expect("keys");
        let other = Keys::new(b"other", 0).expect("keys");
        let claims = Claims {
            sub: "u1".into(),
            name: None,
            exp: 1,
            rooms: None,
            sid: None,
        };
        let header = Header::new(Algorithm::HS256);
        let expired = encode(&header, &claims, &keys.encoding).expect("sign");
        assert_eq!(keys.verify(&expired).err(), Some(TokenRefusal::Expired));
        assert_eq!(other.verify(&expired).err(), Some(TokenRefusal::Invalid));
    }

    #[test]
    fn issued_tokens_verify_and_carry_rooms() {
        let keys = Keys::new(b"secret", 0).expect("keys");
        let user = User::new("u1", "Ann");
        let token = keys.issue(&user, 60, Some(vec!["vip".into()]), Some("s".into()));
        let v = keys.verify(&token).expect("valid token");
        assert_eq!(v.identity.user, user);
        assert!(v.identity.rooms.contains("vip"));
        assert_eq!(v.sid.as_deref(), Some("s"));
        let other = Keys::new(b"other", 0).expect("keys");
        assert_eq!(other.verify(&token).err(), Some(TokenRefusal::Invalid));
        assert_eq!(
            keys.verify("not.a.token").err(),
            Some(TokenRefusal::Invalid)
        );
    }
}
