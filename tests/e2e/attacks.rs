//! The hostile-token corpus: forged, malformed and oversized tokens sent to
//! AssumeRoleWithWebIdentity, each with the code, status and message real
//! STS gives.
//!
//! Every token goes to a harness where the walkthrough's provider is
//! registered (client id `sts.amazonaws.com`) and the role's trust policy
//! allows the genuine token, so only the attack decides the response. Where a
//! public capture records AWS's message, the test asserts it exactly;
//! elsewhere it asserts the message the harness documents as its own in
//! `docs/fidelity.md`. A second cluster in the same harness supplies keys
//! of another issuer and an issuer that is not registered.
//!
//! `attacks/tokens.json` contains the tokens this crate cannot sign itself:
//! HMAC keyed with the issuer's public key, and an attacker's certificate in
//! `x5c`. `attacks/make_fixtures.py` writes it.

use std::sync::Arc;

use oidc_sts_harness::Harness;
use oidc_sts_harness::clock::FixedClock;
use oidc_sts_harness::oidc::mint::{self, TokenRequest};
use oidc_sts_harness::oidc::{PublicJwk, SigningKey};
use serde_json::{Map, Value, json};

use crate::{CLUSTER, CLUSTER_ID, CLUSTER_REGION, ISSUER, provider_and_role};

/// The fixed time of every corpus run, 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600;
/// The harness seed of the JWKS snapshot, because `attacks/make_fixtures.py`
/// reads the issuer key from that snapshot.
const SEED: u64 = 7;
const ROLE: &str = "arn:aws:iam::123456789012:role/app";
const SUBJECT: &str = "system:serviceaccount:default:app";
const OTHER_SUBJECT: &str = "system:serviceaccount:kube-system:admin";
/// A second cluster whose issuer no provider names.
const OTHER_CLUSTER: &str = "other";
const OTHER_SPEC: &str = "other@eu-west-1/0123456789ABCDEF0123456789ABCDEF";
const OTHER_ISSUER: &str =
    "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
const FIXTURES: &str = include_str!("attacks/tokens.json");

// Messages public captures of real STS record.
const KEY_RETRIEVAL: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
const INCORRECT_AUDIENCE: &str = "Incorrect token audience";

// The constraint message for an oversized token. Its form is recorded, and
// leaving the sensitive value out is the harness's inference.
const TOO_LONG: &str = "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000";

// The harness's own messages, as docs/fidelity.md lists them.
const NOT_A_JWT: &str = "The web identity token is not a valid JWT: ";
const BAD_SIGNATURE: &str =
    "The signature of the web identity token does not verify against the keys of its issuer";

/// The response STS must give to one corpus token.
#[derive(Debug, Clone)]
enum Expect {
    /// Credentials for a session whose subject is this `sub`.
    Granted(&'static str),
    /// An error with this status, code and message.
    Error(u16, &'static str, Message),
}

#[derive(Debug, Clone)]
enum Message {
    /// The whole message.
    Exact(String),
    /// A harness message with a detail after this documented start.
    Starts(String),
}

struct Case {
    name: &'static str,
    token: String,
    expect: Expect,
}

fn invalid(message: Message) -> Expect {
    Expect::Error(400, "InvalidIdentityToken", message)
}

fn exact(text: &str) -> Expect {
    invalid(Message::Exact(text.to_owned()))
}

fn malformed() -> Expect {
    invalid(Message::Starts(NOT_A_JWT.to_owned()))
}

fn bad_signature() -> Expect {
    exact(BAD_SIGNATURE)
}

fn unsupported(alg: &str) -> Expect {
    exact(&format!(
        "The web identity token is signed with an unsupported algorithm: {alg}"
    ))
}

fn wrong_type(claim: &str) -> Expect {
    invalid(Message::Starts(format!(
        "Invalid claim {claim} in the web identity token: "
    )))
}

fn no_provider(iss: &str) -> Expect {
    exact(&format!(
        "No OpenIDConnect provider found in your account for {iss}"
    ))
}

fn expired(exp: &str) -> Expect {
    Expect::Error(
        400,
        "ExpiredTokenException",
        Message::Exact(format!(
            "Token expired: current date/time {NOW} must be before the expiration date/time {exp}"
        )),
    )
}

fn not_yet_valid(nbf: i64) -> Expect {
    exact(&format!(
        "The web identity token is not valid yet: current date/time {NOW} is before the not-before date/time {nbf}"
    ))
}

fn issued_in_future(iat: i64) -> Expect {
    exact(&format!(
        "The web identity token was issued in the future: current date/time {NOW} is before the issued-at date/time {iat}"
    ))
}

fn access_denied() -> Expect {
    Expect::Error(
        403,
        "AccessDenied",
        Message::Exact("Not authorized to perform sts:AssumeRoleWithWebIdentity".into()),
    )
}

/// Encodes bytes as unpadded base64url. It is written here because the e2e
/// crate has no base64 dependency and some attacks need raw bytes encoded.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// Decodes unpadded base64url.
fn unb64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("{c} is not base64url"),
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, c)| {
            acc | u32::from(value(*c)) << (18 - 6 * i)
        });
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The keys and claims the corpus forges from.
struct Forge {
    key: Arc<SigningKey>,
    other: Arc<SigningKey>,
    attacker: Arc<SigningKey>,
    claims: Map<String, Value>,
}

impl Forge {
    fn new(harness: &Harness) -> Forge {
        let world = harness.state().read();
        let cluster = |name: &str| {
            world
                .cluster(name, world.default_account())
                .unwrap_or_else(|| panic!("cluster {name} exists"))
                .issuer
                .clone()
        };
        let claims = mint::projected_claims(
            &cluster(CLUSTER),
            world.seed(),
            harness.state().now(),
            &TokenRequest::new("default", "app"),
        );
        Forge {
            key: cluster(CLUSTER).signing_key().clone(),
            other: cluster(OTHER_CLUSTER).signing_key().clone(),
            attacker: SigningKey::derived(99, &["attacker"]),
            claims,
        }
    }

    fn header(&self) -> Map<String, Value> {
        mint::default_header(&self.key)
    }

    fn genuine(&self) -> String {
        mint::sign(&self.key, &self.header(), &self.claims)
    }

    /// Signs the genuine claims with `key` under the genuine header plus
    /// `extra`.
    fn with_header(&self, key: &SigningKey, extra: Value) -> String {
        let mut header = self.header();
        header.extend(object(extra));
        mint::sign(key, &header, &self.claims)
    }

    /// Signs the genuine claims with `extra` merged in. A null removes the
    /// claim.
    fn with_claims(&self, extra: Value) -> String {
        let mut claims = self.claims.clone();
        for (name, value) in object(extra) {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
        mint::sign(&self.key, &self.header(), &claims)
    }

    /// Writes the genuine claims as JSON with `raw` appended inside the
    /// object, for members a `serde_json::Map` cannot represent.
    fn raw_payload(&self, without: &[&str], raw: &[u8]) -> Vec<u8> {
        let mut claims = self.claims.clone();
        for name in without {
            claims.remove(*name);
        }
        let mut text = serde_json::to_vec(&claims).expect("claims serialise");
        text.pop();
        text.push(b',');
        text.extend_from_slice(raw);
        text.push(b'}');
        text
    }

    /// Signs header and payload bytes as given with the genuine key.
    fn signed_raw(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        format!("{input}.{}", self.key.sign(&input))
    }

    /// Signs the genuine claims with `key` under `header`.
    fn signed_by(&self, key: &SigningKey, header: Value) -> String {
        mint::sign(key, &object(header), &self.claims)
    }

    /// Signs with the attacker's key and puts that key in a `jwk` header,
    /// under the attacker's kid or the genuine one.
    fn attacker_jwk(&self, own_kid: bool) -> String {
        let attacker = &self.attacker;
        let kid = if own_kid {
            attacker.kid()
        } else {
            self.key.kid()
        };
        let PublicJwk::Rsa { n, e } = attacker.public_jwk() else {
            panic!("the attacker's key is RSA");
        };
        let jwk = json!({"kty": "RSA", "n": n, "e": e});
        self.signed_by(attacker, json!({"alg": "RS256", "kid": kid, "jwk": jwk}))
    }

    /// Mints a genuine token of the other cluster, whose issuer is not
    /// registered.
    fn other_cluster_token(&self) -> String {
        let mut claims = self.claims.clone();
        claims.insert("iss".into(), OTHER_ISSUER.into());
        mint::sign(&self.other, &mint::default_header(&self.other), &claims)
    }

    /// Signs the genuine claims under a header without `alg`.
    fn without_alg(&self) -> String {
        let header = json!({"kid": self.key.kid()}).to_string();
        let claims = serde_json::to_vec(&self.claims).expect("claims serialise");
        self.signed_raw(header.as_bytes(), &claims)
    }

    /// Signs claims that give `name` twice, `first` and then `last`.
    fn duplicated(&self, name: &str, first: &str, last: &str) -> String {
        let members = format!(r#""{name}":"{first}","{name}":"{last}""#);
        self.signed_raw(
            &self.header_bytes(),
            &self.raw_payload(&[name], members.as_bytes()),
        )
    }

    /// Signs claims whose `name` is replaced by the JSON text `raw`.
    fn with_raw_claim(&self, name: &str, raw: &str) -> String {
        let member = format!(r#""{name}":{raw}"#);
        self.signed_raw(
            &self.header_bytes(),
            &self.raw_payload(&[name], member.as_bytes()),
        )
    }

    /// Signs claims with an extra string claim that contains `bytes`
    /// unchanged.
    fn with_bytes_claim(&self, bytes: &[u8]) -> String {
        let mut member = br#""note":""#.to_vec();
        member.extend_from_slice(bytes);
        member.push(b'"');
        self.signed_raw(&self.header_bytes(), &self.raw_payload(&[], &member))
    }

    fn header_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.header()).expect("header serialises")
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("{other} is not an object"),
    }
}

/// Splits a compact token into its three segments.
fn parts(token: &str) -> (&str, &str, &str) {
    let mut it = token.splitn(3, '.');
    match (it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s)) => (h, p, s),
        _ => panic!("{token} has three segments"),
    }
}

/// Joins the header and payload of `from` with the signature of `signed`.
fn swap_payload(from: &str, signed: &str) -> String {
    let (header, payload, _) = parts(from);
    format!("{header}.{payload}.{}", parts(signed).2)
}

/// Builds an RFC 7797 token: `b64` false in `crit`, the claims unencoded
/// between the dots, and a genuine signature over that input.
fn b64_false_raw(forge: &Forge) -> String {
    let header = json!({"alg": "RS256", "b64": false, "crit": ["b64"], "kid": forge.key.kid()});
    let header = b64(header.to_string().as_bytes());
    let raw = serde_json::to_string(&forge.claims).expect("claims serialise");
    let input = format!("{header}.{raw}");
    format!("{input}.{}", forge.key.sign(&input))
}

/// Builds five segments shaped like a JWE, with the genuine payload as
/// ciphertext.
fn jwe_shaped(payload: &str) -> String {
    let header = b64(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#);
    let (key, iv, tag) = (b64(b"key"), b64(b"iv-iv-iv-iv!"), b64(b"tag"));
    format!("{header}.{key}.{iv}.{payload}.{tag}")
}

/// Rewrites the token in the standard base64 alphabet.
fn standard_alphabet(token: &str) -> String {
    let standard = token.replace('-', "+").replace('_', "/");
    assert_ne!(standard, token, "the genuine token has - or _ to replace");
    standard
}

/// Returns the token with its signature bytes changed by `edit`.
fn resigned(token: &str, edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let (header, payload, signature) = parts(token);
    let mut bytes = unb64(signature);
    edit(&mut bytes);
    format!("{header}.{payload}.{}", b64(&bytes))
}

/// Builds an unsigned token with `alg` in the header and the genuine claims.
fn alg_token(forge: &Forge, alg: Value, signature: &str) -> String {
    let header = json!({"alg": alg, "kid": forge.key.kid()});
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(&serde_json::to_vec(&forge.claims).expect("claims serialise"))
    )
}

/// Signs a genuine token padded to exactly `total` characters. An extra
/// claim and, when base64 lengths require it, a header member do the padding.
fn sized_token(forge: &Forge, total: usize) -> String {
    let encoded = |bytes: usize| bytes * 4 / 3 + usize::from(!bytes.is_multiple_of(3));
    let signature = parts(&forge.genuine()).2.len();
    for header_fill in 0..3 {
        let mut header = forge.header();
        header.insert("typ".into(), "J".repeat(header_fill + 1).into());
        let header = serde_json::to_vec(&header).expect("header serialises");
        let base = forge.raw_payload(&[], br#""pad":"""#).len();
        let fixed = encoded(header.len()) + 2 + signature;
        if let Some(pad) = (0..total).find(|pad| fixed + encoded(base + pad) == total) {
            let fill = format!(r#""pad":"{}""#, "p".repeat(pad));
            let token = forge.signed_raw(&header, &forge.raw_payload(&[], fill.as_bytes()));
            assert_eq!(
                token.len(),
                total,
                "the padded token has the requested length"
            );
            return token;
        }
    }
    panic!("no padding gives a token of {total} characters")
}

/// Signs claims with arrays nested `depth` levels deep in an extra claim.
fn nested(forge: &Forge, depth: usize) -> String {
    let deep = format!(r#""deep":{}{}"#, "[".repeat(depth), "]".repeat(depth));
    forge.signed_raw(
        &forge.header_bytes(),
        &forge.raw_payload(&[], deep.as_bytes()),
    )
}

/// Reads a fixture from `attacks/tokens.json` and checks it against the
/// harness, so a changed key or clock cannot leave a stale attack behind.
fn fixture(forge: &Forge, name: &str) -> String {
    let fixtures: Value = serde_json::from_str(FIXTURES).expect("tokens.json is JSON");
    let token = fixtures[name]
        .as_str()
        .unwrap_or_else(|| panic!("tokens.json has {name}"))
        .to_owned();
    let (header, payload, _) = parts(&token);
    let header: Value = serde_json::from_slice(&unb64(header)).expect("fixture header");
    let claims: Value = serde_json::from_slice(&unb64(payload)).expect("fixture claims");
    if let Some(kid) = header.get("kid") {
        assert_eq!(
            kid,
            forge.key.kid(),
            "{name}: the issuer key changed, so run make_fixtures.py again"
        );
    }
    assert_eq!(claims["iss"], ISSUER, "{name}: fixture iss");
    assert_eq!(claims["sub"], SUBJECT, "{name}: fixture sub");
    assert_eq!(claims["iat"], NOW, "{name}: fixture iat is NOW");
    token
}

fn corpus(forge: &Forge) -> Vec<Case> {
    let genuine = forge.genuine();
    let (head, payload, signature) = parts(&genuine);
    let head = head.to_owned();
    let payload = payload.to_owned();
    let signature = signature.to_owned();
    let mut cases = Vec::new();
    let mut add = |name, token, expect| {
        cases.push(Case {
            name,
            token,
            expect,
        })
    };
    // alg none, in any case, with and without a signature.
    add(
        "alg_none_unsigned",
        alg_token(forge, "none".into(), ""),
        malformed(),
    );
    add(
        "alg_none_cap_unsigned",
        alg_token(forge, "None".into(), ""),
        malformed(),
    );
    add(
        "alg_none_upper_unsigned",
        alg_token(forge, "NONE".into(), ""),
        malformed(),
    );
    add(
        "alg_none_mixed_unsigned",
        alg_token(forge, "nOnE".into(), ""),
        malformed(),
    );
    add(
        "alg_none_signed",
        alg_token(forge, "none".into(), &signature),
        unsupported("none"),
    );
    add(
        "alg_none_cap_signed",
        alg_token(forge, "None".into(), &signature),
        unsupported("None"),
    );
    add(
        "alg_none_upper_signed",
        alg_token(forge, "NONE".into(), &signature),
        unsupported("NONE"),
    );
    add(
        "alg_none_mixed_signed",
        alg_token(forge, "nOnE".into(), &signature),
        unsupported("nOnE"),
    );
    add("alg_missing", forge.without_alg(), unsupported("(missing)"));
    add(
        "alg_as_list",
        alg_token(forge, json!(["RS256"]), &signature),
        unsupported(r#"["RS256"]"#),
    );
    add(
        "alg_lower_case_rs256",
        alg_token(forge, "rs256".into(), &signature),
        unsupported("rs256"),
    );
    // HMAC keyed with the issuer's public key.
    add(
        "hs256_key_n_bytes",
        fixture(forge, "hs256_key_n_bytes"),
        unsupported("HS256"),
    );
    add(
        "hs384_key_n_bytes",
        fixture(forge, "hs384_key_n_bytes"),
        unsupported("HS384"),
    );
    add(
        "hs256_key_pem",
        fixture(forge, "hs256_key_pem"),
        unsupported("HS256"),
    );
    add(
        "hs384_key_pem",
        fixture(forge, "hs384_key_pem"),
        unsupported("HS384"),
    );
    add(
        "hs256_key_jwk_n_text",
        fixture(forge, "hs256_key_jwk_n_text"),
        unsupported("HS256"),
    );
    // Keys of the other cluster in the same harness.
    add(
        "kid_of_other_issuer_signed_by_it",
        forge.signed_by(
            &forge.other,
            json!({"alg": "RS256", "kid": forge.other.kid()}),
        ),
        exact(KEY_RETRIEVAL),
    );
    add(
        "genuine_kid_signed_by_other_issuer",
        forge.signed_by(
            &forge.other,
            json!({"alg": "RS256", "kid": forge.key.kid()}),
        ),
        bad_signature(),
    );
    add(
        "no_kid_signed_by_other_issuer",
        forge.signed_by(&forge.other, json!({"alg": "RS256"})),
        bad_signature(),
    );
    // Headers that offer the attacker's own key.
    add(
        "jku_attacker_no_kid",
        forge.signed_by(
            &forge.attacker,
            json!({"alg": "RS256", "jku": "https://attacker.example/keys"}),
        ),
        bad_signature(),
    );
    add(
        "x5u_attacker_genuine_kid",
        forge.with_header(
            &forge.attacker,
            json!({"x5u": "https://attacker.example/cert.pem"}),
        ),
        bad_signature(),
    );
    add(
        "jwk_attacker_with_its_kid",
        forge.attacker_jwk(true),
        exact(KEY_RETRIEVAL),
    );
    add(
        "jwk_attacker_genuine_kid",
        forge.attacker_jwk(false),
        bad_signature(),
    );
    add(
        "x5c_attacker_cert_no_kid",
        fixture(forge, "x5c_attacker_cert_no_kid"),
        bad_signature(),
    );
    add(
        "x5c_attacker_cert_genuine_kid",
        fixture(forge, "x5c_attacker_cert_genuine_kid"),
        bad_signature(),
    );
    // b64 false: an unencoded payload contains dots. Without crit, b64 is an
    // unknown header member that changes nothing.
    // NOTE: STS's response to b64 without crit is unrecorded. Granting it is
    // an inference from RFC 7797, which requires b64 to be listed in crit.
    add("b64_false_raw_payload", b64_false_raw(forge), malformed());
    add(
        "b64_false_without_crit",
        forge.with_header(&forge.key, json!({"b64": false})),
        Expect::Granted(SUBJECT),
    );
    // Signatures stripped, cut, flipped or borrowed.
    add("signature_empty", format!("{head}.{payload}."), malformed());
    add(
        "signature_stripped",
        format!("{head}.{payload}"),
        malformed(),
    );
    add(
        "signature_cut_one_char",
        genuine[..genuine.len() - 1].to_owned(),
        malformed(),
    );
    add(
        "signature_cut_three_bytes",
        resigned(&genuine, |s| s.truncate(s.len() - 3)),
        bad_signature(),
    );
    add(
        "signature_bit_flipped",
        resigned(&genuine, |s| s[10] ^= 1),
        bad_signature(),
    );
    add(
        "signature_doubled",
        format!("{genuine}{signature}"),
        bad_signature(),
    );
    add(
        "payload_changed_after_signing",
        swap_payload(&genuine, &forge.with_claims(json!({"sub": OTHER_SUBJECT}))),
        bad_signature(),
    );
    add(
        "header_changed_after_signing",
        swap_payload(
            &genuine,
            &forge.with_header(&forge.key, json!({"typ": "JWT"})),
        ),
        bad_signature(),
    );
    add(
        "signature_of_other_token",
        swap_payload(&forge.with_claims(json!({"sub": OTHER_SUBJECT})), &genuine),
        bad_signature(),
    );
    // Segment counts.
    add(
        "four_segments",
        format!("{genuine}.{signature}"),
        malformed(),
    );
    add("five_segments_jwe", jwe_shaped(&payload), malformed());
    add(
        "six_segments",
        format!("{genuine}.{head}.{payload}.{signature}"),
        malformed(),
    );
    add("trailing_dot", format!("{genuine}."), malformed());
    add("leading_dot", format!(".{genuine}"), malformed());
    // Claims of the wrong type.
    add(
        "exp_string",
        forge.with_claims(json!({"exp": (NOW + 3600).to_string()})),
        wrong_type("exp"),
    );
    add(
        "exp_float",
        forge.with_claims(json!({"exp": (NOW + 3600) as f64 + 0.5})),
        wrong_type("exp"),
    );
    add(
        "exp_whole_float",
        forge.with_raw_claim("exp", &format!("{}.0", NOW + 3600)),
        wrong_type("exp"),
    );
    add(
        "exp_negative",
        forge.with_claims(json!({"exp": -1})),
        expired("-1"),
    );
    add(
        "exp_beyond_i64",
        forge.with_raw_claim("exp", "99999999999999999999"),
        wrong_type("exp"),
    );
    add(
        "exp_u64_max",
        forge.with_claims(json!({"exp": u64::MAX})),
        wrong_type("exp"),
    );
    add(
        "iss_number",
        forge.with_claims(json!({"iss": 443})),
        wrong_type("iss"),
    );
    add(
        "aud_number",
        forge.with_claims(json!({"aud": 1})),
        wrong_type("aud"),
    );
    add(
        "aud_list_with_number",
        forge.with_claims(json!({"aud": ["sts.amazonaws.com", 1]})),
        wrong_type("aud"),
    );
    add(
        "sub_object",
        forge.with_claims(json!({"sub": {"name": SUBJECT}})),
        wrong_type("sub"),
    );
    add(
        "nbf_string",
        forge.with_claims(json!({"nbf": NOW.to_string()})),
        wrong_type("nbf"),
    );
    add(
        "iat_float",
        forge.with_claims(json!({"iat": NOW as f64 + 0.25})),
        wrong_type("iat"),
    );
    add(
        "sub_missing",
        forge.with_claims(json!({"sub": null})),
        exact("Missing a required claim: sub"),
    );
    // Duplicate members: the last one counts in every check.
    // NOTE: STS's response to duplicate members is unrecorded. These entries
    // pin the harness's last-wins reading, which the trust policy shares.
    add(
        "duplicate_sub_allowed_first",
        forge.duplicated("sub", SUBJECT, OTHER_SUBJECT),
        access_denied(),
    );
    add(
        "duplicate_sub_allowed_last",
        forge.duplicated("sub", OTHER_SUBJECT, SUBJECT),
        Expect::Granted(SUBJECT),
    );
    add(
        "duplicate_iss_unregistered_last",
        forge.duplicated("iss", ISSUER, OTHER_ISSUER),
        no_provider(OTHER_ISSUER),
    );
    // Nesting and size.
    // NOTE: 200 levels exceed serde_json's nesting limit of 128. Whether STS
    // parses such a payload is unrecorded, so only code and status are certain.
    add("nested_200_levels", nested(forge, 200), malformed());
    add(
        "nested_100_levels",
        nested(forge, 100),
        Expect::Granted(SUBJECT),
    );
    add(
        "length_20000",
        sized_token(forge, 20_000),
        Expect::Granted(SUBJECT),
    );
    add(
        "length_20001",
        sized_token(forge, 20_001),
        Expect::Error(400, "ValidationError", Message::Exact(TOO_LONG.into())),
    );
    // Bytes that are not UTF-8.
    add(
        "payload_invalid_utf8",
        forge.with_bytes_claim(b"\xff\xfe"),
        malformed(),
    );
    add(
        "payload_overlong_utf8",
        forge.with_bytes_claim(b"\xc0\xaf"),
        malformed(),
    );
    // Whitespace and padding.
    add(
        "header_padded",
        format!(
            "{head}{}.{payload}.{signature}",
            "=".repeat(((4 - head.len() % 4) % 4).max(1))
        ),
        malformed(),
    );
    add(
        "signature_padded",
        format!(
            "{genuine}{}",
            "=".repeat(((4 - signature.len() % 4) % 4).max(1))
        ),
        malformed(),
    );
    add(
        "space_inside_payload",
        format!("{head}.{} {}.{signature}", &payload[..20], &payload[20..]),
        malformed(),
    );
    add(
        "newline_inside_signature",
        format!(
            "{head}.{payload}.{}\n{}",
            &signature[..100],
            &signature[100..]
        ),
        malformed(),
    );
    add("trailing_newline", format!("{genuine}\n"), malformed());
    add("leading_space", format!(" {genuine}"), malformed());
    add(
        "standard_base64_alphabet",
        standard_alphabet(&genuine),
        malformed(),
    );
    // Issuers that differ from the registered one.
    add(
        "iss_upper_case_host",
        forge.with_claims(json!({"iss": ISSUER.replace("oidc.eks", "OIDC.EKS")})),
        no_provider(&ISSUER.replace("oidc.eks", "OIDC.EKS")),
    );
    add(
        "iss_trailing_slash",
        forge.with_claims(json!({"iss": format!("{ISSUER}/")})),
        no_provider(&format!("{ISSUER}/")),
    );
    add(
        "iss_default_port",
        forge.with_claims(json!({"iss": ISSUER.replace(".com/", ".com:443/")})),
        no_provider(&ISSUER.replace(".com/", ".com:443/")),
    );
    // Audiences.
    add(
        "aud_list_with_client_id",
        forge.with_claims(json!({"aud": ["https://kubernetes.default.svc", "sts.amazonaws.com"]})),
        Expect::Granted(SUBJECT),
    );
    let lookalike = json!([
        "https://kubernetes.default.svc",
        "sts.amazonaws.com.attacker.example"
    ]);
    add(
        "aud_list_without_client_id",
        forge.with_claims(json!({"aud": lookalike})),
        exact(INCORRECT_AUDIENCE),
    );
    add(
        "aud_empty_list",
        forge.with_claims(json!({"aud": []})),
        exact(INCORRECT_AUDIENCE),
    );
    add(
        "aud_client_id_upper_case",
        forge.with_claims(json!({"aud": "STS.AMAZONAWS.COM"})),
        exact(INCORRECT_AUDIENCE),
    );
    // The clock.
    add(
        "nbf_in_future",
        forge.with_claims(json!({"nbf": NOW + 600})),
        not_yet_valid(NOW + 600),
    );
    add(
        "iat_far_in_future",
        forge.with_claims(json!({"iat": NOW + 315_360_000})),
        issued_in_future(NOW + 315_360_000),
    );
    add(
        "exp_exactly_now",
        forge.with_claims(json!({"exp": NOW})),
        expired(&NOW.to_string()),
    );
    // A genuine token of a cluster whose issuer is not registered.
    add(
        "unregistered_cluster",
        forge.other_cluster_token(),
        no_provider(OTHER_ISSUER),
    );

    cases
}

/// Returns the tokens with a `crit` header. A `crit` member the verifier
/// does not support makes a JWS invalid (RFC 7515, section 4.1.11). STS's
/// response is unrecorded; the harness answers InvalidIdentityToken with
/// its own message.
fn critical_headers(forge: &Forge) -> Vec<Case> {
    let rejected = || {
        invalid(Message::Starts(
            "The web identity token header lists critical extensions that STS does not support: "
                .into(),
        ))
    };
    vec![
        // exp is no header extension STS supports.
        Case {
            name: "crit_names_registered_claim",
            token: forge.with_header(&forge.key, json!({"crit": ["exp"]})),
            expect: rejected(),
        },
        // An unsupported extension in crit makes the JWS invalid.
        Case {
            name: "crit_names_unknown_extension",
            token: forge.with_header(
                &forge.key,
                json!({"crit": ["urn:attacker:ext"], "urn:attacker:ext": true}),
            ),
            expect: rejected(),
        },
        // RFC 7515 forbids an empty crit list.
        Case {
            name: "crit_empty_list",
            token: forge.with_header(&forge.key, json!({"crit": []})),
            expect: rejected(),
        },
        // b64 in crit needs RFC 7797 support, so a verifier without it rejects.
        Case {
            name: "b64_false_in_crit_encoded_payload",
            token: forge.with_header(&forge.key, json!({"b64": false, "crit": ["b64"]})),
            expect: rejected(),
        },
    ]
}

async fn corpus_harness() -> Harness {
    let harness = Harness::builder()
        .seed(SEED)
        .cluster(&format!("{CLUSTER}@{CLUSTER_REGION}/{CLUSTER_ID}"))
        .cluster(OTHER_SPEC)
        .clock(Arc::new(FixedClock::at_unix(NOW)))
        .start()
        .await
        .expect("the harness starts on a loopback port");
    provider_and_role(&harness, "app", SUBJECT).await;
    harness
}

/// Finds the text of the first `<tag>` element after `from`, and where it
/// ends.
fn element<'a>(body: &'a str, tag: &str, from: usize) -> Option<(&'a str, usize)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body[from..].find(&open)? + from + open.len();
    let end = body[start..].find(&close)? + start;
    Some((&body[start..end], end + close.len()))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

async fn send(harness: &Harness, token: &str) -> harness_e2e::Raw {
    harness_e2e::post_form(
        harness,
        &[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", ROLE),
            ("RoleSessionName", "corpus"),
            ("WebIdentityToken", token),
        ],
    )
    .await
}

/// Sends one corpus token and asserts every condition on the response.
async fn check(harness: &Harness, case: &Case) {
    let name = case.name;
    let raw = send(harness, &case.token).await;
    let body = &raw.body;
    assert!(raw.status < 500, "{name}: status {} is a fault", raw.status);
    match &case.expect {
        Expect::Granted(subject) => {
            assert_eq!(raw.status, 200, "{name}: granted, got {body}");
            let sub = element(body, "SubjectFromWebIdentityToken", 0).map(|(s, _)| s);
            assert_eq!(sub, Some(*subject), "{name}: subject in {body}");
            let key = element(body, "AccessKeyId", 0).map(|(k, _)| k);
            assert!(
                key.is_some_and(|k| k.starts_with("ASIA")),
                "{name}: credentials in {body}"
            );
        }
        Expect::Error(status, code, message) => {
            assert_eq!(raw.status, *status, "{name}: status, body {body}");
            assert!(
                body.contains("<ErrorResponse") && body.trim_end().ends_with("</ErrorResponse>"),
                "{name}: ErrorResponse root in {body}"
            );
            let (error, after_error) = element(body, "Error", 0)
                .unwrap_or_else(|| panic!("{name}: no Error element in {body}"));
            let fault = element(error, "Type", 0).map(|(t, _)| t);
            assert_eq!(fault, Some("Sender"), "{name}: Type in {body}");
            let got_code = element(error, "Code", 0).map(|(c, _)| c);
            assert_eq!(got_code, Some(*code), "{name}: Code in {body}");
            let got = element(error, "Message", 0)
                .map(|(m, _)| unescape(m))
                .unwrap_or_else(|| panic!("{name}: no Message in {body}"));
            match message {
                Message::Exact(text) => assert_eq!(&got, text, "{name}: message"),
                Message::Starts(start) => assert!(
                    got.starts_with(start.as_str()),
                    "{name}: message {got:?} does not start with {start:?}"
                ),
            }
            let request_id = element(body, "RequestId", after_error).map(|(r, _)| r);
            assert!(
                request_id.is_some_and(|r| !r.is_empty()),
                "{name}: RequestId after Error in {body}"
            );
        }
    }
}

#[tokio::test]
async fn corpus_gets_sts_answers() {
    let harness = corpus_harness().await;
    let forge = Forge::new(&harness);
    let mut cases = corpus(&forge);
    cases.extend(critical_headers(&forge));
    assert!(cases.len() >= 50, "the corpus has {} tokens", cases.len());
    for case in &cases {
        check(&harness, case).await;
    }
    let after = crate::assume(&harness, ROLE, &forge.genuine(), "after-corpus").await;
    let credentials = after.map(|out| out.credentials);
    assert!(
        matches!(credentials, Ok(Some(_))),
        "a genuine token still gets credentials after the corpus: {credentials:?}"
    );
}

#[tokio::test]
async fn corpus_names_are_unique() {
    let harness = corpus_harness().await;
    let forge = Forge::new(&harness);
    let mut names: Vec<_> = corpus(&forge)
        .iter()
        .chain(&critical_headers(&forge))
        .map(|c| c.name)
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "two corpus entries share a name");
}

#[tokio::test]
async fn duplicate_sub_policy_sees_reported_sub() {
    let harness = corpus_harness().await;
    let forge = Forge::new(&harness);
    for (first, last) in [(SUBJECT, OTHER_SUBJECT), (OTHER_SUBJECT, SUBJECT)] {
        let members = format!(r#""sub":"{first}","sub":"{last}""#);
        let token = forge.signed_raw(
            &forge.header_bytes(),
            &forge.raw_payload(&["sub"], members.as_bytes()),
        );
        send(&harness, &token).await;
        let decision = harness
            .state()
            .recent_decisions()
            .pop()
            .expect("a decision");
        let reported = decision.subject.clone();
        let seen_by_policy = decision
            .trace
            .iter()
            .flat_map(|entry| &entry.compared)
            .filter(|compared| compared.name == "sub")
            .map(|compared| compared.value.clone())
            .collect::<Vec<_>>();
        assert_eq!(
            reported.as_deref(),
            Some(last),
            "{first} then {last}: reported sub"
        );
        assert!(
            seen_by_policy.iter().all(|sub| sub == last),
            "{first} then {last}: checks compared {seen_by_policy:?}"
        );
    }
}
