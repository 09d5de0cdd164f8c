"""PKI and kubeconfig of the sandbox, generated with ``cryptography``.

One cluster CA signs the apiserver's serving certificate, the admin client certificate
(``O=system:masters``) and the serving certificates of KWOK and metrics-server; a separate front-proxy
CA signs the client certificate the apiserver presents to aggregated APIs (metrics.k8s.io). The
service-account key pair signs and verifies tokens. :func:`ensure_pki` creates what is missing and
never overwrites, so a restarted sandbox keeps its identity and issued tokens stay valid.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=3650)
_KEY_BITS = 2048
API_SERVER_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
API_SERVER_IPS = ("127.0.0.1", "10.96.0.1")
FRONT_PROXY_CLIENT = "front-proxy-client"


@dataclass(frozen=True)
class Pki:
    """Paths of every key and certificate in a sandbox's ``pki/`` directory."""

    root: Path

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.root / "ca.key"

    @property
    def front_proxy_ca_cert(self) -> Path:
        return self.root / "front-proxy-ca.crt"

    @property
    def sa_key(self) -> Path:
        return self.root / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.root / "sa.pub"


def ensure_pki(root: Path) -> Pki:
    """Create the sandbox's keys and certificates under ``root`` unless they already exist."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    pki = Pki(root)
    ca_key, ca_cert = _ensure_ca(root, "ca", "dockyard-sandbox-ca")
    fp_key, fp_cert = _ensure_ca(root, "front-proxy-ca", "dockyard-sandbox-front-proxy-ca")
    _ensure_leaf(
        root,
        "apiserver",
        ca_key,
        ca_cert,
        common_name="kube-apiserver",
        server=True,
        dns=API_SERVER_NAMES,
        ips=API_SERVER_IPS,
    )
    _ensure_leaf(root, "admin", ca_key, ca_cert, common_name="dockyard-admin", organization="system:masters")
    _ensure_leaf(root, FRONT_PROXY_CLIENT, fp_key, fp_cert, common_name=FRONT_PROXY_CLIENT)
    for name in ("kwok", "metrics-server"):
        _ensure_leaf(root, name, ca_key, ca_cert, common_name=name, server=True, dns=("localhost",), ips=("127.0.0.1",))
    if not pki.sa_key.exists():
        key = _new_key()
        _write(
            pki.sa_pub,
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        )
        _write_key(pki.sa_key, key)
    return pki


def write_kubeconfig(path: Path, *, pki: Pki, server: str, cluster_name: str = "dockyard-sandbox") -> None:
    """Write an admin kubeconfig with every credential embedded, so the file alone is enough."""

    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)}}
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate-data": b64(pki.path("admin.crt")),
                    "client-key-data": b64(pki.path("admin.key")),
                },
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": "admin"}}],
        "current-context": cluster_name,
    }
    _write(path, yaml.safe_dump(config, sort_keys=False).encode(), mode=0o600)


def _ensure_ca(root: Path, name: str, common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key_path, cert_path = root / f"{name}.key", root / f"{name}.crt"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _ensure_leaf(
    root: Path,
    name: str,
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    *,
    common_name: str,
    organization: str | None = None,
    server: bool = False,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> None:
    key_path, cert_path = root / f"{name}.key", root / f"{name}.crt"
    if key_path.exists() and cert_path.exists():
        return
    key = _new_key()
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    now = dt.datetime.now(dt.UTC)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attributes))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if dns or ips:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_key(key_path, key)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=_KEY_BITS)


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    _write(path, pem, mode=0o600)


def _write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    # Created with its final mode, so a private key is never readable by others, not even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)
