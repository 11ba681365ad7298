"""TLS for the gateway (HTTPS) and the bus (AMQPS).

The gateway serves HTTPS when `[gateway] tls_cert` and `tls_key` name a PEM
certificate chain and key (`tls_client_ca` also asks clients for a certificate signed
by that CA). The bus needs no code: an `amqps://` URL with the CA to trust (and a
client certificate, if the broker asks for one) in its query, as aiormq reads it:

    amqps://agent-compute-1%40skymesh:...@broker:5671/skymesh?cafile=/etc/skymesh/ca.pem

`amqps_url` writes such a URL; `client_context` is what HTTPS clients of the gateway
use to trust a private CA.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlencode, urlsplit, urlunsplit

from corebus.config import GatewaySettings


def server_context(settings: GatewaySettings) -> ssl.SSLContext | None:
    """The gateway's TLS context, or None to serve plain HTTP."""
    if not settings.tls_cert:
        return None
    if not settings.tls_key:
        raise ValueError("[gateway] tls_cert needs tls_key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    if settings.tls_client_ca:
        context.load_verify_locations(settings.tls_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(cafile: str) -> ssl.SSLContext:
    """A client context that trusts `cafile` (and checks host names)."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def amqps_url(url: str, cafile: str, certfile: str = "", keyfile: str = "") -> str:
    """`url` over TLS (amqps, port 5671 unless given) trusting `cafile`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.port is None:
        netloc += ":5671"
    query = {"cafile": cafile}
    if certfile:
        query.update(certfile=certfile, keyfile=keyfile)
    return urlunsplit(parts._replace(scheme="amqps", netloc=netloc, query=urlencode(query)))
