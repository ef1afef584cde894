"""Server-side TLS for the operator's HTTPS listeners (the admission webhook and `/metrics`).

One policy for both: TLS 1.2 or 1.3 only; for TLS 1.2 only ECDHE key exchange with AEAD ciphers
(AES-GCM, ChaCha20-Poly1305), which is what kube-apiserver and Prometheus (Go's crypto/tls) offer
first; no compression, no renegotiation. TLS 1.3 suites are all AEAD and are left to OpenSSL.

With a client CA, a client must present a certificate issued by it (`CERT_REQUIRED`): for the
webhook that is the API server's client certificate (docs/security.md says how to make the API
server present one).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import ssl
from collections.abc import Sequence

from gpai_operator.runtime.logs import audit

logger = logging.getLogger("gpai_operator.tls")

# Mozilla's "intermediate" TLS 1.2 list without the finite-field DHE suites (no Go client offers them).
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


def server_context(
    cert_file: str | os.PathLike[str],
    key_file: str | os.PathLike[str],
    client_ca_file: str | os.PathLike[str] | None = None,
) -> ssl.SSLContext:
    """A server context with the policy above, the serving certificate and, optionally, a client CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= (
        ssl.OP_NO_COMPRESSION
        | ssl.OP_CIPHER_SERVER_PREFERENCE
        | ssl.OP_NO_RENEGOTIATION
        | ssl.OP_SINGLE_ECDH_USE
    )
    context.load_cert_chain(os.fspath(cert_file), os.fspath(key_file))
    if client_ca_file is not None:
        context.load_verify_locations(cafile=os.fspath(client_ca_file))
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def files_digest(paths: Sequence[str | os.PathLike[str]]) -> str:
    """One digest of the files' contents, to notice a rotation (mounted Secrets change in place)."""
    hasher = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as file:
            hasher.update(file.read())
    return hasher.hexdigest()


class ReloadingContext:
    """A server context whose certificate is re-read when its files change (certificate rotation).

    The same SSLContext object keeps serving: loading a new chain into it applies to every handshake
    after that, so a listener never restarts. A file that cannot be read (mid-rotation) keeps the
    previous certificate until the next check.
    """

    def __init__(
        self, cert_file: str | os.PathLike[str], key_file: str | os.PathLike[str], interval: float = 60.0
    ) -> None:
        self.cert_file, self.key_file = os.fspath(cert_file), os.fspath(key_file)
        self.context = server_context(self.cert_file, self.key_file)
        self._digest = files_digest((self.cert_file, self.key_file))
        self._interval = interval

    def reload_if_changed(self) -> bool:
        try:
            digest = files_digest((self.cert_file, self.key_file))
            if digest == self._digest:
                return False
            self.context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ssl.SSLError) as error:
            audit(logger, "certificate not reloaded", logging.WARNING, file=self.cert_file, error=str(error))
            return False
        self._digest = digest
        audit(logger, "certificate reloaded", file=self.cert_file)
        return True

    async def watch(self) -> None:
        """Check the files every `interval` seconds, forever (cancel to stop)."""
        while True:
            await asyncio.sleep(self._interval)
            self.reload_if_changed()
