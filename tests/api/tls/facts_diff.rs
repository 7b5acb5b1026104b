//! The mapping path reads certificates with the crate's own DER reader;
//! x509-parser's full parse is kept as its oracle (issue 14, item 4). Over
//! a corpus of leaves and every one-byte mutation and truncation of them,
//! whenever both accept, the facts (DNs, attributes, SANs, SPIFFE ID) must
//! be identical; on the unmutated corpus both must also agree on accepting.

use mesos_auth::internal::tls_facts_diff;
use rcgen::DnValue;
use rcgen::string::{BmpString, Ia5String, PrintableString, TeletexString, UniversalString};

use super::pki::{Ca, LeafSpec, issue, issue_with_openssl};

fn corpus() -> Vec<Vec<u8>> {
    let ca = Ca::new(&[("O", "Acme"), ("CN", "Test CA")]);
    let inter = ca.intermediate(&[("O", "Acme"), ("OU", "ops"), ("CN", "Issuing CA")]);
    let mut specs = vec![
        LeafSpec::subject(&[&["C=US"], &["O=Acme"], &["OU=agents"], &["CN=Agent-7"]]),
        LeafSpec::subject(&[]),
        LeafSpec::subject(&[&["CN=evil,OU=admins"], &["O= lead#+\"\\;<>"]]),
        LeafSpec::subject(&[
            &["CN=Zoë Müller €"],
            &["title=boss"],
            &["1.3.6.1.4.1.99999.1=x"],
        ]),
        LeafSpec::subject(&[
            &["DC=org"],
            &["DC=example"],
            &["UID=u1"],
            &["emailAddress=a@b.c"],
        ]),
        LeafSpec::subject(&[&["CN=victim\0.evil"]]),
        LeafSpec::subject(&[&["CN=bell\x07"]]),
        LeafSpec {
            dns: vec!["Agent-7.Example.COM".into(), "b.example".into()],
            email: vec!["Alice@EXAMPLE.org".into()],
            uri: vec!["spiffe://prod.example.org/mesos/agent-7".into()],
            ip: vec!["10.0.0.7".parse().unwrap(), "2001:db8::1".parse().unwrap()],
            ..LeafSpec::subject(&[&["CN=san"]])
        },
        LeafSpec {
            uri: vec!["spiffe://td/a".into(), "spiffe://td/b".into()],
            ..LeafSpec::subject(&[&["CN=two"]])
        },
        LeafSpec {
            dns: vec!["victim\0.evil.com".into()],
            ..LeafSpec::subject(&[&["CN=ok"]])
        },
        LeafSpec {
            raw_values: vec![
                (
                    "CN".into(),
                    DnValue::BmpString(BmpString::try_from("Zoë €").unwrap()),
                ),
                (
                    "O".into(),
                    DnValue::TeletexString(TeletexString::try_from("Acme").unwrap()),
                ),
                (
                    "OU".into(),
                    DnValue::UniversalString(UniversalString::try_from("ops 😀").unwrap()),
                ),
                (
                    "L".into(),
                    DnValue::PrintableString(PrintableString::try_from("Town").unwrap()),
                ),
                (
                    "ST".into(),
                    DnValue::Ia5String(Ia5String::try_from("state").unwrap()),
                ),
            ],
            ..LeafSpec::default()
        },
    ];
    specs.push(LeafSpec {
        expired: true,
        ..specs[0].clone()
    });
    let mut out: Vec<Vec<u8>> = specs
        .iter()
        .map(|s| issue(&ca, s).der.as_ref().to_vec())
        .collect();
    out.push(issue(&inter, &specs[0]).der.as_ref().to_vec());
    out.push(ca.der.as_ref().to_vec());
    out.push(inter.der.as_ref().to_vec());
    // Multi-valued RDNs and repeated types (issued by openssl).
    out.push(
        issue_with_openssl(
            &ca,
            &LeafSpec::subject(&[&["O=Acme"], &["CN=a", "UID=b"], &["OU=x"], &["OU=y"]]),
        )
        .der
        .as_ref()
        .to_vec(),
    );
    // More RDNs than the reader keeps inline (16).
    let many: Vec<String> = (0..20).map(|i| format!("OU=u{i}")).collect();
    let mut spec = LeafSpec::subject(&[&["CN=deep"]]);
    spec.subject.extend(many.into_iter().map(|a| vec![a]));
    out.push(issue(&ca, &spec).der.as_ref().to_vec());
    out
}

#[test]
fn own_reader_agrees_with_x509_parser() {
    let corpus = corpus();
    let mut both_accepted = 0usize;
    let mut mutants = 0usize;
    for (n, der) in corpus.iter().enumerate() {
        let (ours, reference) = tls_facts_diff(der).unwrap();
        assert_eq!(ours, reference, "corpus entry {n}: accepted differently");
        for at in 0..der.len() {
            let mut variants = vec![der[..at].to_vec()];
            for xor in [0x01u8, 0x80, 0xff] {
                let mut m = der.clone();
                m[at] ^= xor;
                variants.push(m);
            }
            for m in variants {
                mutants += 1;
                let (ours, reference) =
                    tls_facts_diff(&m).unwrap_or_else(|e| panic!("entry {n}, byte {at}: {e}"));
                if ours && reference {
                    both_accepted += 1;
                }
            }
        }
    }
    // Mutations in the skipped fields and inside values keep certificates
    // parseable, so the facts comparison ran on many mutants.
    assert!(both_accepted > mutants / 10, "{both_accepted} of {mutants}");
}

#[test]
fn names_longer_than_the_inline_buffer_render_in_order() {
    let der = corpus().pop().unwrap();
    let facts = mesos_auth::tls::LeafFacts::parse(&der).unwrap();
    let want: Vec<String> = (0..20).rev().map(|i| format!("OU=u{i}")).collect();
    assert_eq!(facts.subject_dn(), format!("{},CN=deep", want.join(",")));
}
