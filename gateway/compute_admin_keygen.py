"""Key pairs generated for a user who gave no public key (Nova before 2.92): the private
half is returned once in the answer and never leaves the gateway otherwise; only the
public half goes to the conductor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.x509.oid import NameOID

from schemas.compute_admin import KeyPairType


@dataclass(frozen=True)
class GeneratedKey:
    public_key: str
    private_key: str


def generate(type_: KeyPairType, subject: str) -> GeneratedKey:
    """An SSH key pair (Ed25519, OpenSSH formats) or an X.509 certificate with its RSA
    key (PEM), the certificate's subject named after `subject` (the user)."""
    if type_ is KeyPairType.X509:
        return _x509(subject)
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return GeneratedKey(f"{public.decode()} Generated-by-Skymesh", private.decode())


def _x509(subject: str) -> GeneratedKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return GeneratedKey(
        certificate.public_bytes(serialization.Encoding.PEM).decode(), private.decode()
    )
