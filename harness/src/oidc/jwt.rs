//! Parsing of compact JWS tokens as STS receives them.
//!
//! The parser only splits and decodes; every judgement about the header and
//! claims (required claims, types, algorithm, times) belongs to the STS
//! checks, which need to report each failure on its own.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// A decoded but unverified token.
#[derive(Debug, Clone)]
pub struct Jwt<'a> {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `header.claims`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The third segment, base64url.
    pub signature: &'a str,
}

/// Why a token is not a well-formed JWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token has {0} dot-separated parts; a signed JWT has 3")]
    Segments(usize),
    #[error(
        "the token has 5 parts, which is an encrypted token (JWE); STS accepts only signed tokens"
    )]
    Encrypted,
    #[error("the {0} is not unpadded base64url")]
    Base64(&'static str),
    #[error("the {0} is not a JSON object: {1}")]
    Json(&'static str, String),
    #[error("the signature is empty")]
    EmptySignature,
}

/// Splits and decodes a compact token.
pub fn parse(token: &str) -> Result<Jwt<'_>, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(JwtError::Encrypted),
        n => return Err(JwtError::Segments(n)),
    }
    let header = decode_object(parts[0], "header")?;
    let claims = decode_object(parts[1], "payload")?;
    if parts[2].is_empty() {
        return Err(JwtError::EmptySignature);
    }
    if URL_SAFE_NO_PAD.decode(parts[2]).is_err() {
        return Err(JwtError::Base64("signature"));
    }
    let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
    Ok(Jwt {
        header,
        claims,
        signing_input,
        signature: parts[2],
    })
}

fn decode_object(segment: &str, part: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| JwtError::Base64(part))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(JwtError::Json(
            part,
            "a JSON value that is not an object".into(),
        )),
        Err(error) => Err(JwtError::Json(part, error.to_string())),
    }
}

/// Encodes a JSON object as one base64url token segment.
pub fn encode_segment(value: &Map<String, Value>) -> String {
    let json = serde_json::to_vec(value).expect("serialising a JSON map");
    URL_SAFE_NO_PAD.encode(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn parses_three_segments() {
        let token = format!(
            "{}.{}.c2ln",
            segment(r#"{"alg":"RS256"}"#),
            segment(r#"{"sub":"x"}"#)
        );
        let jwt = parse(&token).unwrap();
        assert_eq!(jwt.header["alg"], "RS256");
        assert_eq!(jwt.claims["sub"], "x");
        assert_eq!(jwt.signature, "c2ln");
    }

    #[test]
    fn rejects_jwe_and_wrong_counts() {
        assert_eq!(parse("a.b.c.d.e").unwrap_err(), JwtError::Encrypted);
        assert_eq!(parse("a.b").unwrap_err(), JwtError::Segments(2));
    }

    #[test]
    fn rejects_padding_and_non_objects() {
        let padded = format!("{}=.{}.c2ln", segment(r#"{"alg":"RS256"}"#), segment("{}"));
        assert_eq!(parse(&padded).unwrap_err(), JwtError::Base64("header"));
        let array = format!("{}.{}.c2ln", segment("[]"), segment("{}"));
        assert!(matches!(
            parse(&array).unwrap_err(),
            JwtError::Json("header", _)
        ));
    }

    #[test]
    fn rejects_empty_signature() {
        let token = format!("{}.{}.", segment(r#"{"alg":"none"}"#), segment("{}"));
        assert_eq!(parse(&token).unwrap_err(), JwtError::EmptySignature);
    }
}
