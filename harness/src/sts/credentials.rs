//! Temporary credentials that STS issues.
//!
//! Nothing is stored per session. The access key id derives from the seed
//! and a session serial; the secret is an HMAC of the access key id under the
//! server's credential key; the session token carries the session's facts
//! (account, role, session name, expiration) with an HMAC over them, so any
//! later call can recover and trust them without a table that grows.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::seed;

type HmacSha256 = Hmac<Sha256>;

/// Length of an AWS secret access key.
const SECRET_LENGTH: usize = 40;

/// The facts a session token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "k")]
    pub access_key_id: String,
    #[serde(rename = "p")]
    pub partition: String,
    #[serde(rename = "a")]
    pub account: String,
    #[serde(rename = "r")]
    pub role_name: String,
    #[serde(rename = "i")]
    pub role_id: String,
    #[serde(rename = "s")]
    pub session_name: String,
    /// Unix seconds.
    #[serde(rename = "x")]
    pub expiration: i64,
}

impl Session {
    /// `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`.
    pub fn assumed_role_arn(&self) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/{}",
            self.partition, self.account, self.role_name, self.session_name
        )
    }

    /// `<RoleId>:<session>`, the AssumedRoleId and the caller's UserId.
    pub fn assumed_role_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }
}

/// Credentials as they go to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: OffsetDateTime,
}

/// Derives the access key id of session number `serial`: `ASIA` and 16
/// upper-case letters and digits.
pub fn access_key_id(world_seed: u64, serial: u64) -> String {
    format!(
        "ASIA{}",
        seed::id_chars(world_seed, &["access-key", &serial.to_string()], 16)
    )
}

/// Issues credentials for `session`.
pub fn issue(key: &[u8; 32], session: &Session) -> Credentials {
    let payload = serde_json::to_vec(session).expect("serialising a struct of strings");
    let mac = mac(key, b"session-token", &payload);
    let session_token = format!(
        "{}.{}",
        STANDARD.encode(&payload),
        URL_SAFE_NO_PAD.encode(mac)
    );
    Credentials {
        access_key_id: session.access_key_id.clone(),
        secret_access_key: secret_for(key, &session.access_key_id),
        session_token,
        expiration: OffsetDateTime::from_unix_timestamp(session.expiration)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
    }
}

/// The secret access key that belongs to an access key id.
pub fn secret_for(key: &[u8; 32], access_key_id: &str) -> String {
    let mac = mac(key, b"secret", access_key_id.as_bytes());
    let mut secret = STANDARD.encode(mac);
    secret.truncate(SECRET_LENGTH);
    secret
}

/// Reads a session token the harness issued; `None` for a token it did not
/// issue or one that was altered.
pub fn decode_session_token(key: &[u8; 32], token: &str) -> Option<Session> {
    let (payload, tag) = token.split_once('.')?;
    let payload = STANDARD.decode(payload).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let mut verifier = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    verifier.update(b"session-token");
    verifier.update(&payload);
    verifier.verify_slice(&tag).ok()?;
    serde_json::from_slice(&payload).ok()
}

fn mac(key: &[u8; 32], purpose: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(purpose);
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            access_key_id: access_key_id(1, 1),
            partition: "aws".into(),
            account: "123456789012".into(),
            role_name: "app".into(),
            role_id: "AROAEXAMPLEEXAMPLE123".into(),
            session_name: "s".into(),
            expiration: 1_800_000_000,
        }
    }

    #[test]
    fn access_key_id_shape() {
        let id = access_key_id(1, 7);
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("ASIA"));
    }

    #[test]
    fn session_token_round_trips() {
        let key = [7u8; 32];
        let credentials = issue(&key, &session());
        assert_eq!(credentials.secret_access_key.len(), 40);
        assert_eq!(
            decode_session_token(&key, &credentials.session_token),
            Some(session())
        );
    }

    #[test]
    fn altered_or_foreign_tokens_are_rejected() {
        let key = [7u8; 32];
        let token = issue(&key, &session()).session_token;
        assert_eq!(decode_session_token(&[8u8; 32], &token), None);
        let altered = token.replacen('e', "f", 1);
        assert_eq!(decode_session_token(&key, &altered), None);
    }
}
