"""Checking a user's public key and computing its fingerprint as Nova does: the MD5 of
an SSH key's blob, the SHA-1 of an X.509 certificate's DER form, colon-separated hex."""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization

from schemas.compute_admin import KeyPairType
from schemas.errors import InvalidInput


def fingerprint(public_key: str, type_: KeyPairType) -> str:
    """The key's fingerprint; InvalidInput when it is not a key of that type."""
    if type_ is KeyPairType.X509:
        return _x509_fingerprint(public_key)
    return _ssh_fingerprint(public_key)


def _colons(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def _ssh_fingerprint(public_key: str) -> str:
    text = public_key.strip()
    try:
        serialization.load_ssh_public_key(text.encode())
        blob = base64.b64decode(text.split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, UnsupportedAlgorithm):
        raise InvalidInput(
            "Keypair data is invalid: failed to parse the public key as an SSH key"
        ) from None
    return _colons(hashlib.md5(blob, usedforsecurity=False).digest())


def _x509_fingerprint(public_key: str) -> str:
    try:
        certificate = x509.load_pem_x509_certificate(public_key.strip().encode())
    except ValueError:
        raise InvalidInput(
            "Keypair data is invalid: failed to parse the public key as a PEM X.509 certificate"
        ) from None
    return _colons(certificate.fingerprint(hashes.SHA1()))  # Nova fingerprints with SHA-1
