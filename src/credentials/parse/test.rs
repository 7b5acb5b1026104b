//! Large files read in pieces by several threads give exactly what one
//! piece gives: the same entries, places, errors and warnings, in order.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{
    CredentialsFile, Format, Options, PARALLEL_FROM, in_parallel, parse, parse_in_one_piece,
    pieces, repeated,
};
use crate::credentials::{Credential, CredentialStore, CredentialsError, Problem};
use crate::{Principal, Secret};

/// Lines of `principal secret`, with a problem every so often: a
/// duplicate of an early principal, three fields, a comment, a tab, a bad
/// stored form, an empty `{PLAIN}`. Over [`PARALLEL_FROM`] bytes.
fn big_text() -> String {
    let mut s = String::new();
    let mut i = 0usize;
    while s.len() < 3 * PARALLEL_FROM {
        match i % 997 {
            13 => {
                let _ = writeln!(s, "user-{:07} again-{i}", i / 2);
            }
            101 => {
                let _ = writeln!(s, "user-{i:07} two words");
            }
            202 => s.push_str("# a comment\n"),
            303 => {
                let _ = writeln!(s, "user-{i:07}\tsecret-{i}");
            }
            404 => {
                let _ = writeln!(s, "user-{i:07} {{CRAM-MD5}}zz");
            }
            505 => {
                let _ = writeln!(s, "user-{i:07} {{PLAIN}}");
            }
            606 => s.push('\n'),
            _ => {
                let _ = writeln!(s, "user-{i:07} secret-value-{i:08}");
            }
        }
        i += 1;
    }
    s
}

/// The same credentials as JSON, one item a line, with problems of its
/// own (a duplicate across the file, an escaped secret, an empty secret, a
/// bad stored form, an invalid principal).
fn big_json() -> String {
    let mut s = String::from("{\"credentials\": [\n");
    let mut i = 0usize;
    while s.len() < 3 * PARALLEL_FROM {
        if i > 0 {
            s.push_str(",\n");
        }
        let (p, secret) = match i % 991 {
            17 => (format!("user-{:07}", i / 3), format!("s-{i}")),
            111 => (format!("user-{i:07}"), "esc\\u0041ped".to_owned()),
            222 => (format!("user-{i:07}"), String::new()),
            333 => (format!("user-{i:07}"), "{CRAM-MD5}00".to_owned()),
            444 => ("bad\\u0001name".to_owned(), format!("s-{i}")),
            _ => (format!("user-{i:07}"), format!("secret-value-{i:08}")),
        };
        let _ = write!(s, "  {{\"principal\": \"{p}\", \"secret\": \"{secret}\"}}");
        i += 1;
    }
    s.push_str("\n]}\n");
    s
}

fn assert_same(
    a: Result<CredentialsFile, CredentialsError>,
    b: Result<CredentialsFile, CredentialsError>,
) {
    match (a, b) {
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Ok(a), Ok(b)) => {
            assert_eq!(a.warnings(), b.warnings());
            assert_eq!(a.entries().len(), b.entries().len());
            for (x, y) in a.entries().iter().zip(b.entries()) {
                assert_eq!(x.span(), y.span());
                assert_eq!(x.location(), y.location());
                assert_eq!(x.credential().principal(), y.credential().principal());
                assert!(crate::credentials::same_secret(
                    x.credential().secret(),
                    y.credential().secret()
                ));
            }
        }
        (a, b) => panic!("one piece and several disagree: {a:?} / {b:?}"),
    }
}

#[test]
fn pieces_start_at_line_starts_in_order() {
    let text = big_text();
    let bounds = pieces(&text, 0, |_| Some(0));
    assert_eq!(bounds.first(), Some(&0));
    assert_eq!(bounds.last(), Some(&text.len()));
    assert!(bounds.windows(2).all(|w| w[0] < w[1]));
    for &b in &bounds[1..bounds.len() - 1] {
        assert_eq!(text.as_bytes()[b - 1], b'\n');
    }
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        assert!(bounds.len() > 2, "a large text on several cores is split");
    }
    // A small text is one piece.
    assert_eq!(pieces("a b\nc d\n", 0, |_| Some(0)), vec![0, 8]);
    // Results come back in piece order.
    let bounds = [0, 3, 5, 9];
    assert_eq!(
        in_parallel(&bounds, |a, b| (a, b)),
        vec![(0, 3), (3, 5), (5, 9)]
    );
}

#[test]
fn big_text_in_pieces_matches_one_piece() {
    let text = big_text();
    for options in [
        Options::new().format(Format::Text),
        Options::new().format(Format::Text).lenient(true),
    ] {
        let many = parse(text.as_bytes(), &options);
        let one = parse_in_one_piece(text.as_bytes(), &options);
        if !options.is_lenient() {
            let errors = many
                .as_ref()
                .err()
                .and_then(CredentialsError::parse_errors)
                .unwrap();
            // Every kind of problem, in file order, each where it is.
            assert!(
                errors
                    .iter()
                    .any(|d| matches!(d.problem(), Problem::DuplicatePrincipal { .. }))
            );
            assert!(
                errors
                    .iter()
                    .any(|d| matches!(d.problem(), Problem::TextFields { .. }))
            );
            assert!(
                errors
                    .iter()
                    .any(|d| matches!(d.problem(), Problem::StoredForm { .. }))
            );
            let last = errors.iter().last().unwrap();
            assert!(last.location().line > 50_000, "{:?}", last.location());
            // The first duplicate: line 14 repeats the principal of line 7.
            let dup = errors
                .iter()
                .find(|d| matches!(d.problem(), Problem::DuplicatePrincipal { .. }))
                .unwrap();
            assert_eq!(dup.location().line, 14);
            assert_eq!(
                dup.problem(),
                &Problem::DuplicatePrincipal {
                    first: crate::Location { line: 7, column: 1 }
                }
            );
        }
        assert_same(many, one);
    }
}

#[test]
fn big_json_in_pieces_matches_one_piece_and_the_full_reader() {
    let json = big_json();
    for options in [Options::new(), Options::new().lenient(true)] {
        let many = parse(json.as_bytes(), &options);
        // A bad principal and a bad stored form are errors in both modes.
        assert!(many.is_err());
        assert_same(many, parse_in_one_piece(json.as_bytes(), &options));
        assert!(super::fast_path_agrees(json.as_bytes(), &options));
    }
    // Items not first on their line (comma first): one piece, same answer.
    let comma_first = json.replace(",\n  {", "\n, {");
    assert!(
        pieces(&comma_first, 18, |rest| (rest.first() == Some(&b'{'))
            .then_some(0))
        .len()
            <= 2
    );
    let options = Options::new();
    assert_same(
        parse(comma_first.as_bytes(), &options),
        parse_in_one_piece(comma_first.as_bytes(), &options),
    );
    // A clean file: every entry, located.
    let clean: String = json
        .lines()
        .filter(|l| !l.contains("\"principal\"") || l.contains("secret-value"))
        .collect::<Vec<_>>()
        .join("\n");
    let clean = clean.replacen("},\n]", "}\n]", 1);
    assert_same(
        parse(clean.as_bytes(), &options),
        parse_in_one_piece(clean.as_bytes(), &options),
    );
    let file = parse(clean.as_bytes(), &options).unwrap();
    let last = file.entries().last().unwrap();
    assert_eq!(last.location().line as usize, clean.lines().count() - 1);
    assert_eq!(last.location().column, 17);
}

#[test]
fn repeated_names_match_a_map_of_first_occurrences() {
    let n = PARALLEL_FROM / 8;
    let names: Vec<String> = (0..n)
        .map(|i| match i % 7 {
            // Many copies of one name: a long run, still linear.
            0 => "same".to_owned(),
            3 => format!("name-{}", i / 3),
            _ => format!("name-{i}"),
        })
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut expected = Vec::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, name) in refs.iter().enumerate() {
        match first.get(name) {
            Some(&f) => expected.push((i, f)),
            None => {
                first.insert(name, i);
            }
        }
    }
    assert!(expected.len() > n / 7);
    assert_eq!(repeated(&refs, true), expected);
    assert_eq!(repeated(&refs, false), expected);
    assert_eq!(repeated(&["a", "b", "a", "a"], true), vec![(2, 0), (3, 0)]);
}

#[test]
fn a_large_store_names_the_first_repeated_principal() {
    // Placed in bucket order, a large store finds some duplicate first;
    // the error still names the first in store order, as a small store's.
    let mut names: Vec<String> = (0..20_000).map(|i| format!("p-{i}")).collect();
    names[7_000] = "p-100".into();
    names[9_000] = "p-50".into();
    let store = |names: &[String]| {
        CredentialStore::from_credentials(
            names
                .iter()
                .map(|n| Credential::plain(Principal::new(n).unwrap(), Secret::new(b"pw"))),
        )
    };
    for _ in 0..4 {
        let err = store(&names).unwrap_err();
        assert_eq!(
            err,
            CredentialsError::DuplicatePrincipal {
                principal: Principal::new("p-100").unwrap(),
                first: 100,
                second: 7_000,
            }
        );
    }
    names[7_000] = "p-7000".into();
    names[9_000] = "p-9000".into();
    let built = store(&names).unwrap();
    for n in &names {
        assert!(built.cram_md5_key(n).known(), "{n}");
        assert_eq!(built.get(n).unwrap().principal().as_str(), n);
    }
    assert!(!built.cram_md5_key("p-20000").known());
}

/// `load_store` (strict: read straight into the store, see `parse_store`)
/// answers exactly as `load` then `into_store`: the same store, or the
/// same error with every place, wherever the problem is (in any piece, at
/// a piece boundary, a principal repeated across pieces).
#[test]
fn load_store_matches_load_then_into_store() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creds");
    let check = |text: &str, options: &Options| {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let direct = crate::credentials::load_store(&path, options);
        let file = crate::credentials::load(&path, options);
        let expected: Vec<(Principal, bool)> = match &file {
            Ok(f) => f
                .credentials()
                .map(|c| (c.principal().clone(), true))
                .collect(),
            Err(_) => Vec::new(),
        };
        let via_file = file.and_then(CredentialsFile::into_store);
        match (direct, via_file) {
            (Err(a), Err(b)) => assert_eq!(a, b),
            (Ok(a), Ok(b)) => {
                assert_eq!(a.len(), b.len());
                assert!(expected.len() >= a.len());
                for c in b.iter() {
                    let name = c.principal().as_str();
                    let mine = a.get(name).expect("every principal");
                    assert!(crate::credentials::same_secret(mine.secret(), c.secret()));
                    assert_eq!(a.cram_md5_key(name).known(), b.cram_md5_key(name).known());
                }
            }
            (a, b) => panic!("load_store and load disagree: {a:?} / {b:?}"),
        }
    };
    let text = Options::new().format(Format::Text);
    let big = big_text();
    check(&big, &text);
    check(&big, &text.lenient(true));
    // Without the problem lines, just over the size read in pieces.
    let mut clean = String::new();
    for l in big.lines().filter(|l| l.contains("secret-value")) {
        if clean.len() > PARALLEL_FROM + 4096 {
            break;
        }
        clean.push_str(l);
        clean.push('\n');
    }
    check(&clean, &text);
    // Read straight into the store (not through `parse`), in pieces.
    let store = super::parse_store(clean.as_bytes(), &text).unwrap();
    assert_eq!(store.map(|s| s.len()), Some(clean.lines().count()));
    assert!(super::parse_store(big.as_bytes(), &text).unwrap().is_none());
    let bounds = pieces(&clean, 0, |_| Some(0));
    // One bad line or one repeated principal at both ends, and on the
    // last line of a piece and the first of the next.
    let mut places: Vec<usize> = vec![0, clean.len()];
    for &b in bounds.iter().skip(1).take(bounds.len().saturating_sub(2)) {
        let line_before = clean[..b - 1].rfind('\n').map_or(0, |n| n + 1);
        places.extend([line_before, b]);
    }
    for at in places {
        for insert in [
            "user-0000005 repeated-secret\n",
            "user-x three fields here\n",
        ] {
            let mut t = clean.clone();
            t.insert_str(at, insert);
            check(&t, &text);
        }
    }
    // JSON: the problem file, a clean one (pieces), one not split.
    let json = Options::new();
    let big = big_json();
    check(&big, &json);
    check(&big, &json.lenient(true));
    let clean: String = big
        .lines()
        .filter(|l| !l.contains("\"principal\"") || l.contains("secret-value"))
        .collect::<Vec<_>>()
        .join("\n")
        .replacen("},\n]", "}\n]", 1);
    check(&clean, &json);
    assert!(
        super::parse_store(clean.as_bytes(), &json)
            .unwrap()
            .is_some()
    );
    check(&clean.replace(",\n  {", "\n, {"), &json);
    let repeated = clean.replacen("\"user-0000003\"", "\"user-0000007\"", 1);
    check(&repeated, &json);
    let mut late = clean.clone();
    let at = late.rfind("\"user-").unwrap();
    late.replace_range(at..at + 14, "\"user-0000001\"");
    check(&late, &json);
    // Small files, empty lists, the single-credential reader.
    check("alice s3cret-one\nbob s3cret-two\n", &text);
    check("alice s3cret-one\nalice s3cret-two\n", &text);
    check("{\"credentials\": []}", &json);
    check("{\"credentials\": []}", &json.allow_empty(true));
    check("\u{feff}{}", &json);
    let one = Options::new().reader(super::Reader::Credential);
    check("{\"principal\": \"a\", \"secret\": \"s\"}", &one);
    check("{\"principal\": \"a\", \"secret\": \"s\", \"x\": 1}", &one);
}
