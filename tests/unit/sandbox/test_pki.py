import ipaddress
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dockyard.sandbox.pki import ensure_pki, write_kubeconfig


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert cert.signature_hash_algorithm is not None
    key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    return cert.issuer == issuer.subject


def test_apiserver_certificate_is_signed_by_the_ca_and_names_every_service_address(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    ca, server = _cert(pki.ca_cert), _cert(pki.path("apiserver.crt"))
    assert _signed_by(server, ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc.cluster.local" in sans.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("10.96.0.1") in sans.get_values_for_type(x509.IPAddress)
    usages = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usages


def test_admin_is_a_cluster_admin_client_and_front_proxy_has_its_own_ca(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    admin = _cert(pki.path("admin.crt"))
    assert _signed_by(admin, _cert(pki.ca_cert))
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    proxy = _cert(pki.path("front-proxy-client.crt"))
    assert _signed_by(proxy, _cert(pki.front_proxy_ca_cert))
    assert proxy.issuer != _cert(pki.ca_cert).subject
    assert (pki.sa_key.stat().st_mode & 0o777) == 0o600
    key = pki.sa_key.read_bytes()
    assert b"PRIVATE KEY" in key


def test_ensure_pki_keeps_existing_keys(tmp_path: Path) -> None:
    root = tmp_path / "pki"
    ensure_pki(root)
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    ensure_pki(root)
    after = {p.name: p.read_bytes() for p in root.iterdir()}
    assert before == after


def test_kubeconfig_embeds_credentials(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki")
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, pki=pki, server="https://127.0.0.1:16443")
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:16443"
    assert config["users"][0]["user"]["client-key-data"]
    assert (path.stat().st_mode & 0o777) == 0o600
