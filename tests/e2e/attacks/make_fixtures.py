"""Writes tokens.json: the hostile tokens the Rust tests cannot sign.

The e2e crate has no HMAC or X.509 code, so the HS256/HS384 tokens keyed
with the issuer's public key and the token with an attacker's certificate
in x5c are made here, once, and kept as fixtures. The issuer key is read
from the JWKS snapshot of the walkthrough cluster, taken with harness seed 7.
attacks.rs checks that each fixture's kid and claims still match the harness.
A changed key or clock then fails a test instead of leaving a stale attack.

Run from the repository root: python3 tests/e2e/attacks/make_fixtures.py
"""

import base64
import datetime
import hashlib
import hmac
import json
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

HERE = pathlib.Path(__file__).parent
SNAPSHOT = HERE.parent / "snapshots" / "e2e__snapshots__jwks.snap"
ISSUER = "https://oidc.eks.ap-northeast-2.amazonaws.com/id/C891F985BAF5A4C1C7ABBA6A00DFD39E"
SUBJECT = "system:serviceaccount:default:app"
# The fixed clock of attacks.rs (NOW there).
NOW = 1_767_225_600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def segment(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims() -> dict:
    return {
        "aud": ["sts.amazonaws.com"],
        "exp": NOW + 3600,
        "iat": NOW,
        "iss": ISSUER,
        "nbf": NOW,
        "sub": SUBJECT,
    }


def hmac_token(alg: str, kid: str, secret: bytes) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384}[alg]
    signing_input = segment({"alg": alg, "kid": kid}) + "." + segment(claims())
    mac = hmac.new(secret, signing_input.encode(), digest).digest()
    return signing_input + "." + b64url(mac)


def x5c_token(kid) -> str:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(attacker.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(attacker, hashes.SHA256())
    )
    header = {
        "alg": "RS256",
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()],
    }
    if kid:
        header["kid"] = kid
    signing_input = segment(header) + "." + segment(claims())
    signature = attacker.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def main() -> None:
    text = SNAPSHOT.read_text()
    jwk = json.loads(text[text.index("{"):])["keys"][0]
    n, e, kid = unb64url(jwk["n"]), unb64url(jwk["e"]), jwk["kid"]
    public = rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tokens = {
        "hs256_key_n_bytes": hmac_token("HS256", kid, n),
        "hs384_key_n_bytes": hmac_token("HS384", kid, n),
        "hs256_key_pem": hmac_token("HS256", kid, pem),
        "hs384_key_pem": hmac_token("HS384", kid, pem),
        "hs256_key_jwk_n_text": hmac_token("HS256", kid, jwk["n"].encode()),
        "x5c_attacker_cert_no_kid": x5c_token(None),
        "x5c_attacker_cert_genuine_kid": x5c_token(kid),
    }
    out = HERE / "tokens.json"
    out.write_text(json.dumps(tokens, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
