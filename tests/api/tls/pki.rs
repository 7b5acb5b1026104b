//! Test certificates: rcgen for ordinary subjects, the openssl CLI for what
//! rcgen cannot write (repeated attributes, multi-valued RDNs).

use std::path::Path;
use std::process::Command;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;

/// A certificate authority.
pub(crate) struct Ca {
    pub(crate) params: CertificateParams,
    pub(crate) key: KeyPair,
    pub(crate) der: CertificateDer<'static>,
    pub(crate) pem: String,
}

impl Ca {
    /// A self-signed CA whose subject is `rdns` (DER order).
    pub(crate) fn new(rdns: &[(&str, &str)]) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        for (k, v) in rdns {
            params
                .distinguished_name
                .push(dn_type(k), DnValue::Utf8String((*v).into()));
        }
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
        }
    }

    pub(crate) fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// An intermediate CA signed by this one.
    pub(crate) fn intermediate(&self, rdns: &[(&str, &str)]) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = DistinguishedName::new();
        for (k, v) in rdns {
            params
                .distinguished_name
                .push(dn_type(k), DnValue::Utf8String((*v).into()));
        }
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer()).unwrap();
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            params,
            key,
        }
    }
}

/// What a leaf should hold.
#[derive(Default, Clone)]
pub(crate) struct LeafSpec {
    /// RDNs in DER order; each RDN is a list of `TYPE=value`.
    pub(crate) subject: Vec<Vec<String>>,
    pub(crate) dns: Vec<String>,
    pub(crate) uri: Vec<String>,
    pub(crate) email: Vec<String>,
    pub(crate) ip: Vec<std::net::IpAddr>,
    pub(crate) expired: bool,
    /// `None`: clientAuth.
    pub(crate) eku: Option<Vec<ExtendedKeyUsagePurpose>>,
    /// Raw DN values instead of UTF8String (rcgen only).
    pub(crate) raw_values: Vec<(String, DnValue)>,
}

impl LeafSpec {
    pub(crate) fn subject(rdns: &[&[&str]]) -> Self {
        Self {
            subject: rdns
                .iter()
                .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
                .collect(),
            ..Self::default()
        }
    }
}

/// A leaf certificate and its key.
pub(crate) struct Leaf {
    pub(crate) der: CertificateDer<'static>,
    pub(crate) pem: String,
    pub(crate) key_pem: String,
}

pub(crate) fn dn_type(keyword: &str) -> DnType {
    match keyword {
        "CN" => DnType::CommonName,
        "C" => DnType::CountryName,
        "O" => DnType::OrganizationName,
        "OU" => DnType::OrganizationalUnitName,
        "L" => DnType::LocalityName,
        "ST" => DnType::StateOrProvinceName,
        "DC" => DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
        "UID" => DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        "serialNumber" => DnType::CustomDnType(vec![2, 5, 4, 5]),
        "STREET" | "street" => DnType::CustomDnType(vec![2, 5, 4, 9]),
        "title" => DnType::CustomDnType(vec![2, 5, 4, 12]),
        "emailAddress" => DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
        dotted => DnType::CustomDnType(dotted.split('.').map(|a| a.parse().unwrap()).collect()),
    }
}

fn needs_openssl(spec: &LeafSpec) -> bool {
    let mut seen = std::collections::HashSet::new();
    spec.subject.iter().any(|rdn| rdn.len() > 1)
        || spec
            .subject
            .iter()
            .flatten()
            .any(|ava| !seen.insert(ava.split_once('=').unwrap().0.to_owned()))
}

/// Issues a leaf for `spec` under `ca`.
pub(crate) fn issue(ca: &Ca, spec: &LeafSpec) -> Leaf {
    if needs_openssl(spec) {
        return issue_with_openssl(ca, spec);
    }
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    for ava in spec.subject.iter().flatten() {
        let (k, v) = ava.split_once('=').unwrap();
        params
            .distinguished_name
            .push(dn_type(k), DnValue::Utf8String(v.into()));
    }
    for (k, v) in &spec.raw_values {
        params.distinguished_name.push(dn_type(k), v.clone());
    }
    for d in &spec.dns {
        params
            .subject_alt_names
            .push(SanType::DnsName(d.as_str().try_into().unwrap()));
    }
    for u in &spec.uri {
        params
            .subject_alt_names
            .push(SanType::URI(u.as_str().try_into().unwrap()));
    }
    for e in &spec.email {
        params
            .subject_alt_names
            .push(SanType::Rfc822Name(e.as_str().try_into().unwrap()));
    }
    for ip in &spec.ip {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.extended_key_usages = spec
        .eku
        .clone()
        .unwrap_or_else(|| vec![ExtendedKeyUsagePurpose::ClientAuth]);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if spec.expired {
        params.not_before = rcgen::date_time_ymd(2001, 1, 1);
        params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer()).unwrap();
    Leaf {
        der: cert.der().clone(),
        pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("openssl runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issues a leaf with `openssl req` + `openssl x509 -req` (v3, clientAuth).
pub(crate) fn issue_with_openssl(ca: &Ca, spec: &LeafSpec) -> Leaf {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("ca.pem"), &ca.pem).unwrap();
    std::fs::write(p("ca.key"), ca.key.serialize_pem()).unwrap();
    let subj: String = spec
        .subject
        .iter()
        .map(|rdn| {
            let avas: Vec<String> = rdn.iter().map(|a| escape_subj(a)).collect();
            format!("/{}", avas.join("+"))
        })
        .collect();
    let subj = if subj.is_empty() {
        "/".to_owned()
    } else {
        subj
    };
    run(Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-utf8",
            "-multivalue-rdn",
            "-subj",
            &subj,
        ])
        .arg("-keyout")
        .arg(p("leaf.key"))
        .arg("-out")
        .arg(p("leaf.csr")));
    let mut ext = String::from(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
    );
    let sans: Vec<String> = spec
        .dns
        .iter()
        .map(|d| format!("DNS:{d}"))
        .chain(spec.uri.iter().map(|u| format!("URI:{u}")))
        .chain(spec.email.iter().map(|e| format!("email:{e}")))
        .chain(spec.ip.iter().map(|i| format!("IP:{i}")))
        .collect();
    if !sans.is_empty() {
        ext.push_str(&format!("subjectAltName={}\n", sans.join(",")));
    }
    std::fs::write(p("ext.cnf"), ext).unwrap();
    let days = if spec.expired { "-1" } else { "30" };
    run(Command::new("openssl")
        .args(["x509", "-req", "-set_serial", "4242", "-days", days])
        .arg("-in")
        .arg(p("leaf.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-extfile")
        .arg(p("ext.cnf"))
        .arg("-out")
        .arg(p("leaf.pem")));
    load(&p("leaf.pem"), &p("leaf.key"))
}

fn escape_subj(ava: &str) -> String {
    let (k, v) = ava.split_once('=').unwrap();
    let mut out = format!("{k}=");
    for c in v.chars() {
        if matches!(c, '/' | '+' | '\\' | '#' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn load(cert: &Path, key: &Path) -> Leaf {
    let pem = std::fs::read_to_string(cert).unwrap();
    let der = mesos_auth::tls::certificates_from_pem(pem.as_bytes())
        .unwrap()
        .remove(0);
    Leaf {
        der,
        pem,
        key_pem: std::fs::read_to_string(key).unwrap(),
    }
}

/// `openssl x509 -noout -subject -nameopt RFC2253` of a PEM certificate,
/// without the `subject=` prefix.
pub(crate) fn openssl_subject(pem: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.pem");
    std::fs::write(&f, pem).unwrap();
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    s.trim_end_matches('\n')
        .strip_prefix("subject=")
        .unwrap()
        .to_owned()
}
