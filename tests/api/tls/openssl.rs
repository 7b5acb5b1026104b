//! Our canonical DN against `openssl x509 -noout -subject -nameopt RFC2253`
//! on generated certificates. Equal, except for the differences
//! tls-identity.md §4 documents, which are asserted explicitly here:
//! OpenSSL reverses the AVAs of a multi-valued RDN, escapes non-ASCII
//! UTF-8 as `\C3\BC`, writes unknown OIDs' hex in uppercase, names types
//! outside §4's table (`title`) and spells streetAddress `street`.

use mesos_auth::tls::LeafFacts;

use super::pki::{Ca, LeafSpec, issue, issue_with_openssl, openssl_subject};

/// (subject in DER order, our DN, OpenSSL's DN or `None` when identical)
/// Subject RDNs in DER order, each a list of `TYPE=value`.
type Rdns = &'static [&'static [&'static str]];

const CASES: &[(Rdns, &str, Option<&str>)] = &[
    (
        &[&["C=US"], &["O=Acme"], &["OU=agents"], &["CN=Agent-7"]],
        "CN=Agent-7,OU=agents,O=Acme,C=US",
        None,
    ),
    (
        &[
            &["DC=org"],
            &["DC=example"],
            &["O=Acme"],
            &["OU=mesos"],
            &["OU=agents"],
            &["CN=agent-7"],
            &["emailAddress=ops@example.org"],
        ],
        "emailAddress=ops@example.org,CN=agent-7,OU=agents,OU=mesos,O=Acme,DC=example,DC=org",
        None,
    ),
    (
        &[&["O=a,b+c\"d\\e;f<g>h"], &["OU= spaced "], &["CN=#lead"]],
        "CN=\\#lead,OU=\\ spaced\\ ,O=a\\,b\\+c\\\"d\\\\e\\;f\\<g\\>h",
        None,
    ),
    (
        &[
            &["C=DE"],
            &["ST=Bayern"],
            &["L=München Nord"],
            &["UID=u1"],
            &["serialNumber=42"],
            &["CN=n"],
        ],
        "CN=n,serialNumber=42,UID=u1,L=München Nord,ST=Bayern,C=DE",
        Some("CN=n,serialNumber=42,UID=u1,L=M\\C3\\BCnchen Nord,ST=Bayern,C=DE"),
    ),
    (
        &[&["O=Acme"], &["OU=ops", "UID=jdoe"], &["CN=z"]],
        "CN=z,OU=ops+UID=jdoe,O=Acme",
        Some("CN=z,UID=jdoe+OU=ops,O=Acme"),
    ),
    (
        &[&["CN=z"], &["1.3.6.1.4.1.99999.1=x"]],
        "1.3.6.1.4.1.99999.1=#0c0178,CN=z",
        Some("1.3.6.1.4.1.99999.1=#0C0178,CN=z"),
    ),
    (
        // OpenSSL names more types than §4's table (title) and spells
        // streetAddress `street`; we write `STREET` and the `#hex` form.
        &[&["street=Main St 1"], &["title=Boss"], &["CN=s"]],
        "CN=s,2.5.4.12=#0c04426f7373,STREET=Main St 1",
        Some("CN=s,title=Boss,street=Main St 1"),
    ),
    (&[&["O=tab\there"], &["CN=t"]], "CN=t,O=tab\\09here", None),
    (
        &[&["CN=a"], &["CN=a"], &["O=Acme"]],
        "O=Acme,CN=a,CN=a",
        None,
    ),
];

#[test]
fn dn_agrees_with_openssl_rfc2253() {
    let ca = Ca::new(&[("CN", "Cross-check CA")]);
    for (subject, ours, theirs) in CASES {
        let spec = LeafSpec::subject(subject);
        // Both generators where they can: `openssl req -subj` skips OIDs it
        // has no name for, rcgen cannot repeat a type or join AVAs.
        let dotted = subject
            .iter()
            .flat_map(|r| r.iter())
            .any(|a| a.starts_with("1."));
        let mut types = std::collections::HashSet::new();
        let rcgen_can = subject.iter().all(|r| r.len() == 1)
            && subject
                .iter()
                .all(|r| types.insert(r[0].split_once('=').unwrap().0));
        let mut leaves = Vec::new();
        if !dotted {
            leaves.push(issue_with_openssl(&ca, &spec));
        }
        if rcgen_can {
            leaves.push(issue(&ca, &spec));
        }
        assert!(!leaves.is_empty());
        for leaf in leaves {
            // The CN check refuses control characters; this case has none in CN.
            let facts = LeafFacts::parse(leaf.der.as_ref()).unwrap();
            assert_eq!(facts.subject_dn(), *ours);
            assert_eq!(
                openssl_subject(&leaf.pem),
                theirs.unwrap_or(ours),
                "openssl's view of {ours}"
            );
        }
    }
}

#[test]
fn issuer_dn_is_rendered_too() {
    let ca = Ca::new(&[("O", "Acme"), ("CN", "Ops CA")]);
    let leaf = issue(&ca, &LeafSpec::subject(&[&["CN=x"]]));
    let facts = LeafFacts::parse(leaf.der.as_ref()).unwrap();
    assert_eq!(facts.issuer_dn(), "CN=Ops CA,O=Acme");
}
