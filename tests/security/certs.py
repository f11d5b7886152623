"""Throwaway certificates for the security tests (the `cryptography` package): a CA, server and
client certificates signed by it, written as PEM files."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Issued:
    cert: Path
    key: Path


@dataclass
class CA:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    cert: Path          # PEM of the CA certificate (what clients / servers trust)

    def issue(self, folder: Path, name: str, *, dns: tuple[str, ...] = (),
              ips: tuple[str, ...] = (), client: bool = False, server: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
             .issuer_name(self.certificate.subject)
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i))
                                                 for i in ips]
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
            ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        if usages:
            b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        return _write(folder, name, key, cert)


def _write(folder: Path, name: str, key, cert: x509.Certificate) -> Issued:
    folder.mkdir(parents=True, exist_ok=True)
    c, k = folder / f"{name}.crt", folder / f"{name}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    k.chmod(0o600)
    return Issued(c, k)


def make_ca(folder: Path, name: str) -> CA:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    issued = _write(folder, name, key, cert)
    return CA(name, key, cert, issued.cert)


@dataclass
class PKI:
    ca: CA
    rogue_ca: CA
    converter: Issued       # server cert by ca: localhost, converter.nnrosetta.test, 127.0.0.1
    gateway_server: Issued  # server cert by ca for the gateway's own TLS port
    gateway_client: Issued  # the gateway's client cert (mutual TLS to converters), by ca
    rogue_server: Issued    # a converter cert the gateway's CA did not sign
    rogue_client: Issued    # a client cert signed by the rogue CA


def make_pki(folder: Path) -> PKI:
    ca = make_ca(folder, "nnrosetta-test-ca")
    rogue = make_ca(folder, "rogue-ca")
    local = {"dns": ("localhost", "converter.nnrosetta.test"), "ips": ("127.0.0.1",)}
    return PKI(
        ca=ca, rogue_ca=rogue,
        converter=ca.issue(folder, "converter", server=True, **local),
        gateway_server=ca.issue(folder, "gateway-server", server=True,
                                dns=("localhost",), ips=("127.0.0.1",)),
        gateway_client=ca.issue(folder, "gateway-client", client=True),
        rogue_server=rogue.issue(folder, "rogue-converter", server=True, **local),
        rogue_client=rogue.issue(folder, "rogue-client", client=True),
    )
