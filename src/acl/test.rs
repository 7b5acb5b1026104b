//! Unit tests of the ACL internals.

use super::compile::DEFAULT_MAX_STRING_LEN;
use super::decision::{
    check_object, has_control, valid_ascii_role, valid_role, valid_role_components,
};
use super::index::{HashKey, NO_SIDE, NameTable, PairTable, pair};
use super::{Action, Compiler, Object, Options, Request};
use crate::strtable::StrTable;

#[test]
fn control_characters_found_by_byte_scan() {
    for s in ["\u{0}", "a\u{1f}", "\u{7f}", "x\u{80}", "\u{9f}y", "\r"] {
        assert!(has_control(s), "{s:?}");
    }
    for s in ["", "plain", "é", "\u{a0}", "日本", "\u{c2}\u{a0}"] {
        assert!(!has_control(s), "{s:?}");
    }
}

#[test]
fn roles_validated_like_mesos() {
    for ok in ["*", "a", "a/b", "a/b/c", "a-b", "a.b", "a/.b"] {
        assert!(valid_role(ok), "{ok}");
    }
    for bad in [
        "", "/", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "-a", "a/-b", "a b", "a/*",
        "*/a", "a\tb",
    ] {
        assert!(!valid_role(bad), "{bad}");
    }
    assert!(
        check_object(
            &"r".repeat(DEFAULT_MAX_STRING_LEN),
            true,
            DEFAULT_MAX_STRING_LEN
        )
        .is_ok()
    );
    assert!(
        check_object(
            &"r".repeat(DEFAULT_MAX_STRING_LEN + 1),
            true,
            DEFAULT_MAX_STRING_LEN
        )
        .is_err()
    );
}

#[test]
fn locations_on_one_long_line_and_many_lines() {
    // Errors late in a single-line file carry the right column.
    let mut text = String::from("{\"permissive\": false, \"run_tasks\": [");
    for i in 0..50 {
        text.push_str(&format!(
            "{{\"principals\": {{\"values\": [\"p{i}\"]}}, \"users\": {{\"type\": \"ANY\"}}}},"
        ));
    }
    let col = text.chars().count() + 1;
    text.push_str("{\"principals\": {\"type\": \"any\"}, \"users\": {\"type\": \"ANY\"}}]}");
    let err = super::parse(&text).unwrap_err().diagnostics();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].location().line, 1);
    assert_eq!(
        err[0].location().column as usize,
        col + "{\"principals\": {\"type\": ".chars().count()
    );
    let s = super::parse("{\n \"permissive\": true,\n \"run_tasks\": [\n  {\"principals\": {\"type\": \"ANY\"},\n   \"users\": {\"type\": \"ANY\"}}]}").unwrap();
    let acl = &s.acls(super::AclList::RunTasks)[0];
    assert_eq!((acl.location().line, acl.location().column), (4, 3));
}

/// Every string of length `len` over `alphabet`.
fn strings(alphabet: &[&str], len: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    for _ in 0..len {
        out = out
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
    }
    out
}

#[test]
fn ascii_role_check_equals_the_character_check() {
    let alphabet = ["a", "/", ".", "-", "*", " ", "\t", "\u{7f}", "\u{b}", "%"];
    for len in 1..=5 {
        for s in strings(&alphabet, len) {
            assert_eq!(
                valid_ascii_role(s.as_bytes()),
                valid_role_components(&s),
                "{s:?}"
            );
        }
    }
}

/// The word-at-a-time role check agrees with the character check at
/// every length up to past its 63-byte limit, with the special characters
/// at word boundaries too (random strings over a small alphabet, fixed
/// seed), and on non-ASCII roles.
#[test]
fn role_check_by_words_equals_the_character_check_at_every_length() {
    let alphabet: &[&str] = &[
        "a", "/", ".", "-", "*", " ", "\u{7f}", "\u{1}", "b", "é", "~",
    ];
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for len in 1..=70 {
        for _ in 0..3_000 {
            // Mostly plain letters, so that valid roles come up as well.
            let s: String = (0..len)
                .map(|_| {
                    if next(4) == 0 {
                        alphabet[next(alphabet.len())]
                    } else {
                        "a"
                    }
                })
                .collect();
            assert_eq!(
                valid_role(&s),
                s == "*" || valid_role_components(&s),
                "{s:?}"
            );
            assert_eq!(
                valid_ascii_role(s.as_bytes()),
                valid_role_components(&s),
                "{s:?}"
            );
        }
    }
    for s in [
        "a/..",
        "../a",
        "a/../b",
        "aaaaaaa/..",
        "aaaaaa/../b",
        "aaaaaaaa/*",
        "aaaaaaa-/b",
    ] {
        assert_eq!(valid_role(s), valid_role_components(s), "{s:?}");
    }
}

/// Strings of 17 to 32 bytes, hashed inline, hash exactly as the block
/// loop hashes them (and as every longer string still is).
#[test]
fn inline_hash_of_17_to_32_bytes_equals_the_block_loop() {
    let key = HashKey::random();
    for len in 17..=40 {
        for fill in [b'a', b'/', 0x1f, 0xc2] {
            let mut s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            for at in [0, len / 2, len - 1] {
                let keep = s[at];
                s[at] = fill;
                let h = key.hash(&s);
                assert_eq!((h.hash, h.suspicious), key.hash_by_blocks(&s), "{len} {at}");
                s[at] = keep;
            }
        }
    }
}

/// The head check's string comparison is `==` at every length, on equal
/// strings and on strings differing in any one byte.
#[test]
fn head_comparison_is_equality() {
    use super::compile::same;
    for len in 0..=70 {
        let a: String = (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        assert!(same(&a, &a.clone()), "{len}");
        assert!(!same(&a, &format!("{a}x")), "{len}");
        for at in 0..len {
            let mut b = a.clone().into_bytes();
            b[at] = b'#';
            let b = String::from_utf8(b).unwrap();
            assert!(!same(&a, &b), "{len} {at}");
        }
    }
}

/// The screening done while hashing flags exactly the strings holding a
/// byte < 0x20, 0x7f or 0xC2, at every length and position (short strings,
/// the 4- and 8-byte word paths, the 16-byte loop, the overlapping tail).
#[test]
fn hash_screening_is_exact() {
    let key = HashKey::random();
    let scalar = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == 0x7f || b == 0xc2);
    for len in 0..=70 {
        let clean = vec![b'a'; len];
        assert!(!key.hash(&clean).suspicious, "len {len}");
        for pos in 0..len {
            for bad in [0x00, 0x01, 0x1f, 0x7f, 0xc2] {
                let mut s = clean.clone();
                s[pos] = bad;
                assert!(key.hash(&s).suspicious, "len {len} pos {pos} byte {bad:#x}");
            }
            for good in [0x20, 0x21, 0x7e, 0x80, 0xc1, 0xc3, 0xff, b'/'] {
                let mut s = clean.clone();
                s[pos] = good;
                assert!(
                    !key.hash(&s).suspicious,
                    "len {len} pos {pos} byte {good:#x}"
                );
            }
        }
    }
    // Every byte value next to every other (borrows between bytes).
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            for s in [
                [a, b, b'x', b'y', b'z', b'w', b'v', b'u'],
                [b'x', b'y', b'z', b'w', b'v', b'u', a, b],
            ] {
                assert_eq!(key.hash(&s).suspicious, scalar(&s), "{s:?}");
            }
            let s = [a, b, b'x', b'y'];
            assert_eq!(key.hash(&s).suspicious, scalar(&s), "{s:?}");
        }
    }
    // A string has a control character only if it is flagged.
    for s in [
        "\u{0}",
        "a\u{1f}",
        "\u{7f}",
        "x\u{80}",
        "\u{9f}y",
        "\r",
        "ab\u{85}cdefghijklmnopq",
    ] {
        assert!(has_control(s) && key.hash(s.as_bytes()).suspicious, "{s:?}");
    }
}

#[test]
fn hash_is_keyed() {
    let (k1, k2) = (HashKey::random(), HashKey::random());
    let differ = ["", "a", "fw-1", "user-12345", "a/b/c/d/e/f/g/h/i"]
        .iter()
        .filter(|s| k1.hash(s.as_bytes()).hash != k2.hash(s.as_bytes()).hash)
        .count();
    assert_eq!(differ, 5);
    assert_eq!(k1.hash(b"fw-1").hash, k1.hash(b"fw-1").hash);
    assert_ne!(k1.hash(b"fw-1").hash, k1.hash(b"fw-2").hash);
    assert_eq!(format!("{k1:?}"), "HashKey(..)");
}

#[test]
fn string_and_pair_tables_grow_and_find() {
    let key = HashKey::random();
    let mut t = StrTable::new();
    let mut p = PairTable::new();
    assert!(t.find(b"x", &key.hash(b"x")).is_none());
    assert!(p.get(0, pair(0, 0)).is_none());
    // No reservation: every growth step is taken.
    let names: Vec<String> = (0..5000)
        .map(|i| format!("name-{i}"))
        .chain([String::new()])
        .collect();
    for (i, n) in (0u32..).zip(&names) {
        assert_eq!(t.intern(&key, n, [i, !i]).map(|x| x.0), Some(i));
        p.insert_first(key.pair_hash(u64::from(i), 1), pair(i, i + 1), i, [!i; 4]);
    }
    for (i, n) in (0u32..).zip(&names) {
        assert_eq!(
            t.intern(&key, n, [0, 0]).map(|x| x.0),
            Some(i),
            "interned once"
        );
        let (id, e) = t.find(n.as_bytes(), &key.hash(n.as_bytes())).unwrap();
        assert_eq!((id, e.vals), (i, [i, !i]));
        let h = key.pair_hash(u64::from(i), 1);
        p.insert_first(h, pair(i, i + 1), 7, [7; 4]);
        assert_eq!(p.get(h, pair(i, i + 1)), Some(i), "first value kept");
        assert_eq!(
            p.get_with(h, pair(i, i + 1)),
            Some((i, [!i; 4])),
            "and its rule"
        );
        assert_eq!(p.get(h, pair(i + 1, i)), None);
        assert_eq!(
            p.get(key.pair_hash(u64::from(i) + 1, 1), pair(i + 1, i)),
            None
        );
    }
    // Strings of up to 16 bytes compare by two words and the length: one
    // byte changed anywhere, at every length around the word sizes, is a
    // different string.
    let mut t2 = StrTable::new();
    let mut all = Vec::new();
    for len in 0..=18 {
        all.push("a".repeat(len));
        for pos in 0..len {
            let mut s = "a".repeat(len).into_bytes();
            s[pos] = b'b';
            all.push(String::from_utf8(s).unwrap());
        }
    }
    for (i, s) in (0u32..).zip(&all) {
        assert_eq!(t2.intern(&key, s, [i, i]).map(|x| x.0), Some(i), "{s}");
    }
    for (i, s) in (0u32..).zip(&all) {
        assert_eq!(
            t2.find(s.as_bytes(), &key.hash(s.as_bytes())).map(|f| f.0),
            Some(i)
        );
    }
    for miss in ["name-5000", "name-", "Name-1", "name-1 "] {
        assert!(
            t.find(miss.as_bytes(), &key.hash(miss.as_bytes()))
                .is_none()
        );
    }
}

/// The name table keeps strings of up to 28 bytes in the slot (padded with
/// 0xFF) and longer ones in the arena: one byte changed anywhere, at every
/// length around the inline limit and the word sizes, is a different
/// string; ids survive growing and freezing; side values are found only
/// for the strings that have them.
#[test]
fn name_table_inline_and_long_strings_are_exact() {
    let key = HashKey::random();
    let mut t = NameTable::new();
    let mut all = Vec::new();
    for len in (0..=40).chain([63, 64, 65, 200]) {
        all.push("a".repeat(len));
        for pos in 0..len {
            let mut s = "a".repeat(len).into_bytes();
            s[pos] = b'b';
            all.push(String::from_utf8(s).unwrap());
        }
    }
    all.push("é".repeat(14));
    all.push("é".repeat(15));
    for (i, s) in (0u32..).zip(&all) {
        assert_eq!(t.intern(&key, s).map(|x| x.0), Some(i), "{s}");
        if i % 3 == 0 {
            // Known strings by now: one probe finds them and sets a side.
            assert_eq!(t.intern_side(&key, s, 0, i, false).map(|x| x.0), Some(i));
            assert_eq!(
                t.intern_side(&key, s, 1, i + 1, false).map(|x| x.0),
                Some(i)
            );
            // A higher position never replaces a lower one.
            assert_eq!(
                t.intern_side(&key, s, 1, i + 2, false).map(|x| x.0),
                Some(i)
            );
        }
    }
    let check = |t: &NameTable| {
        for (i, s) in (0u32..).zip(&all) {
            let side = if i % 3 == 0 { [i, i + 1] } else { NO_SIDE };
            assert_eq!(
                t.find(s.as_bytes(), &key.hash(s.as_bytes())),
                Some((i, side)),
                "{s}"
            );
        }
        for miss in [
            "c".repeat(28),
            format!("{}c", "a".repeat(28)),
            "a".repeat(41),
            "a".repeat(66),
        ] {
            assert!(
                t.find(miss.as_bytes(), &key.hash(miss.as_bytes()))
                    .is_none()
            );
        }
    };
    check(&t);
    t.freeze();
    check(&t);
    // Frozen: new strings are refused, known ones still found.
    assert!(t.intern(&key, "new").is_none());
    assert_eq!(t.intern(&key, "a").map(|x| x.0), Some(1));
    // A table where no string has side values keeps none.
    let mut plain = NameTable::new();
    plain.reserve(100);
    for i in 0..100 {
        plain.intern(&key, &format!("framework-principal-{i:06}"));
    }
    plain.freeze();
    // 256 slots of 32 bytes (load ≤ ¾), no hashes, no side values, no
    // arena (every string is inline).
    assert_eq!(plain.heap_bytes(), 256 * 32);
    let p = "framework-principal-000042";
    assert_eq!(
        plain.find(p.as_bytes(), &key.hash(p.as_bytes())),
        Some((42, NO_SIDE))
    );
}

/// Tables of 2 MiB or more live in a huge-page-advised map: growing into
/// one, freezing, cloning and dropping keep every string and pair.
#[test]
fn large_tables_are_mapped_and_exact() {
    let key = HashKey::random();
    let mut t = NameTable::new();
    let mut p = PairTable::new();
    let n = 100_000u32;
    let names: Vec<String> = (0..n).map(|i| format!("framework-principal-{i}")).collect();
    for (i, s) in (0u32..).zip(&names) {
        let (id, h) = t.intern(&key, s).unwrap();
        assert_eq!(id, i);
        p.insert_first(h, pair(i, i), i, [i; 4]);
    }
    t.freeze();
    p.freeze();
    // 2^18 name slots and 2^18 pair slots of 32 bytes: both mapped.
    assert!(format!("{t:?}").contains("Slots(262144 mapped)"), "{t:?}");
    assert!(format!("{p:?}").contains("Slots(262144 mapped)"), "{p:?}");
    assert_eq!(p.heap_bytes(), 262_144 * 32);
    let (t2, p2) = (t.clone(), p.clone());
    drop((t, p));
    for (i, s) in (0u32..).zip(&names) {
        let h = key.hash(s.as_bytes());
        assert_eq!(t2.find(s.as_bytes(), &h), Some((i, NO_SIDE)));
        assert_eq!(p2.get_with(h.hash, pair(i, i)), Some((i, [i; 4])));
        assert_eq!(p2.get(h.hash, pair(i, i + 1)), None);
    }
    assert!(
        t2.find(
            b"framework-principal-x",
            &key.hash(b"framework-principal-x")
        )
        .is_none()
    );
}

/// Compiled == reference on request strings the fast validation screens:
/// control characters (C0, DEL, C1), Unicode whitespace in roles, non-ASCII
/// roles, strings at and past the length limit.
#[test]
fn fast_request_validation_matches_reference() {
    let long = "r".repeat(DEFAULT_MAX_STRING_LEN);
    let too_long = "r".repeat(DEFAULT_MAX_STRING_LEN + 1);
    let long_role = format!("a/{}", "r".repeat(DEFAULT_MAX_STRING_LEN - 2));
    let values = [
        "a",
        "a/b",
        "é",
        "a/é",
        "\u{a0}",
        "a\u{85}b",
        "a b",
        "a/%",
        "é/%",
        "日本/%",
        long.as_str(),
    ];
    let entity = serde_json::to_string(&values).unwrap();
    let text = format!(
        r#"{{"permissive": true,
            "run_tasks": [{{"principals": {{"values": {entity}}}, "users": {{"values": {entity}}}}}],
            "register_frameworks": [
              {{"principals": {{"values": {entity}}}, "roles": {{"values": {entity}}}}},
              {{"principals": {{"type": "ANY"}}, "roles": {{"type": "NONE"}}}}]}}"#
    );
    let src = super::parse_with(&text, Options::new().lenient(true)).unwrap();
    let compiled = Compiler::new().compile(&src).unwrap();
    let probes = [
        "a",
        "a/b",
        "é",
        "a/é",
        "é/x",
        "日本/x",
        "\u{a0}",
        "a\u{a0}b",
        "a\u{85}b",
        "a b",
        "a\u{2000}b",
        "a\u{3000}b",
        "\u{0}",
        "a\u{1f}",
        "a\u{7f}",
        "x\u{80}",
        "\u{9f}",
        "a/\u{9f}",
        "",
        "a/",
        "/a",
        "a//b",
        "-a",
        "a/./b",
        "*",
        "abcdefghijklmnop\u{1}",
        "abcdefghijklmnopq/\u{85}",
        long.as_str(),
        too_long.as_str(),
        long_role.as_str(),
    ];
    for action in [Action::RunTasks, Action::RegisterFrameworks] {
        for p in probes.iter().map(|p| Some(*p)).chain([None]) {
            for o in probes {
                let q = Request::new(action, p, Object::One(o));
                assert_eq!(
                    compiled.authorize(&q),
                    super::reference::authorize(&src, &q),
                    "{action} {p:?} {o:?}"
                );
            }
        }
    }
}

/// Strings over 16 bytes are keyed by their hash and last word in the slot;
/// equal last words and lengths must still come apart on the bytes, and a
/// slot is one aligned 32-byte block (a look-up reads one cache line).
#[test]
fn long_strings_with_a_common_tail_stay_apart() {
    assert_eq!(size_of::<crate::strtable::Entry>(), 32);
    assert_eq!(align_of::<crate::strtable::Entry>(), 32);
    let key = HashKey::random();
    let mut t = StrTable::new();
    let tail = "-the-same-16-byte-tail";
    let names: Vec<String> = (0..300).map(|i| format!("{i:05}{tail}")).collect();
    for (i, n) in (0u32..).zip(&names) {
        assert_eq!(t.intern(&key, n, [i, 0]).map(|x| x.0), Some(i));
    }
    for (i, n) in (0u32..).zip(&names) {
        let (id, e) = t.find(n.as_bytes(), &key.hash(n.as_bytes())).unwrap();
        assert_eq!((id, e.vals[0]), (i, i));
    }
    for miss in [
        format!("99999{tail}"),
        format!("0000{tail}"),
        tail.to_owned(),
    ] {
        assert!(
            t.find(miss.as_bytes(), &key.hash(miss.as_bytes()))
                .is_none(),
            "{miss}"
        );
    }
    let (id, h) = t.intern(&key, &names[7], [0, 0]).unwrap();
    t.vals_mut(id, h).unwrap()[1] = 42;
    let n7 = names[7].as_bytes();
    assert_eq!(t.find(n7, &key.hash(n7)).unwrap().1.vals, [7, 42]);
    assert!(t.vals_mut(id + 1000, h).is_none());
}

/// The index-entry budget spans the lists in order: a policy built on two
/// threads (8,192 ACLs or more) fails at the same ACL, with the same
/// count, as a small one built on one; a later list over budget never
/// hides an earlier one.
#[test]
fn index_budget_spans_lists_in_order_however_built() {
    use super::{AclError, Config, LimitKind};
    for n in [10usize, 20_000] {
        let mut s = String::from(r#"{"permissive": false, "run_tasks": ["#);
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(
                r#"{{"principals": {{"values": ["p{i}"]}}, "users": {{"values": ["u{i}"]}}}}"#
            ));
        }
        s.push_str(
            r#"], "register_frameworks": [
            {"principals": {"values": ["a", "b"]}, "roles": {"values": ["r", "s"]}},
            {"principals": {"values": ["a", "b"]}, "roles": {"values": ["t/%"]}},
            {"principals": {"values": ["a", "b"]}, "roles": {"values": ["u", "v"]}}],
            "view_frameworks": [
            {"principals": {"values": ["a", "b", "c"]}, "users": {"values": ["x", "y", "z"]}}]}"#,
        );
        let src = super::parse(&s).unwrap();
        let with = |limit: usize| Compiler::new().config(Config::new().max_index_entries(limit));
        // Exactly enough: everything compiles.
        assert_eq!(with(n + 19).compile(&src).unwrap().rule_count(), n + 4);
        // register_frameworks comes first (4 + 2 + 4), then run_tasks (n),
        // then view_frameworks (9).
        let last = format!("$.run_tasks[{}]", n - 1);
        for (limit, path, found) in [
            (9, "$.register_frameworks[2]", 10),
            (5, "$.register_frameworks[1]", 6),
            (n + 9, last.as_str(), n + 10),
            (n + 18, "$.view_frameworks[0]", n + 19),
        ] {
            match with(limit).compile(&src) {
                Err(AclError::Limit(l)) => {
                    assert_eq!(l.kind(), LimitKind::IndexEntries, "{n} {limit}");
                    assert_eq!(l.path(), path, "{n} {limit}");
                    assert_eq!((l.limit(), l.found()), (limit, found), "{n} {limit}");
                }
                other => panic!("{n} {limit}: {other:?}"),
            }
        }
    }
}

/// The policy hash, fed through a buffer, is the SHA-256 of the canonical
/// encoding exactly as written field by field (more than one buffer's
/// worth, every entity kind, a value longer than most).
#[test]
fn policy_hash_is_the_canonical_encoding() {
    use super::{AclSource, Entity};
    use sha2::{Digest, Sha256};
    fn put(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    fn entity(h: &mut Sha256, e: &Entity) {
        match e {
            Entity::Any => h.update([0u8]),
            Entity::None => h.update([1u8]),
            Entity::Some(values) => {
                h.update([2u8]);
                h.update((values.len() as u64).to_le_bytes());
                for v in values {
                    put(h, v.as_str().as_bytes());
                }
            }
        }
    }
    fn expected(source: &AclSource) -> String {
        let mut h = Sha256::new();
        put(&mut h, b"mesos-auth acl policy v1");
        h.update([u8::from(source.permissive())]);
        for acl in source.iter() {
            put(&mut h, acl.list().key().as_bytes());
            h.update(acl.index().to_le_bytes());
            entity(&mut h, acl.principals());
            entity(&mut h, acl.object());
        }
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
    let long = "v".repeat(3000);
    let mut s = String::from(r#"{"permissive": true, "run_tasks": ["#);
    for i in 0..3000 {
        if i > 0 {
            s.push(',');
        }
        let object = match i % 4 {
            0 => r#"{"type": "ANY"}"#.to_owned(),
            1 => r#"{"type": "NONE"}"#.to_owned(),
            2 => format!(r#"{{"values": ["u{i}", "{long}"]}}"#),
            _ => format!(r#"{{"values": ["u{i}"]}}"#),
        };
        s.push_str(&format!(
            r#"{{"principals": {{"values": ["p{i}", "q"]}}, "users": {object}}}"#
        ));
    }
    s.push_str(
        r#"], "view_roles": [{"principals": {"type": "ANY"}, "roles": {"values": ["a/%"]}}]}"#,
    );
    for text in [s.as_str(), r#"{"permissive": false}"#] {
        let src = super::parse(text).unwrap();
        let c = Compiler::new().compile(&src).unwrap();
        assert_eq!(c.policy_hash(), expected(&src));
    }
}

/// A role the policy names skips the request's role check only if it was
/// found valid when compiled: a role-list value that is not a valid role,
/// a principal string, or a role the policy does not name is still
/// checked, and an invalid one is refused whatever the rules say.
#[test]
fn role_check_skipped_only_for_valid_roles_the_policy_holds() {
    use super::{Decision, Reason, RequestError};
    let src = super::parse(
        r#"{"permissive": true, "register_frameworks": [
            {"principals": {"values": ["p", "a//b"]}, "roles": {"values": ["a//b", "ok/role", ".."]}},
            {"principals": {"values": ["q"]}, "roles": {"type": "ANY"}}]}"#,
    )
    .unwrap();
    let compiled = Compiler::new().compile(&src).unwrap();
    let invalid = Decision::Deny(Reason::InvalidRequest(RequestError::InvalidRole));
    let decide = |p: &str, o: &str| {
        let r = Request::new(Action::RegisterFrameworks, Some(p), Object::One(o));
        let mut out = [Decision::Allow(Reason::NothingToAuthorize)];
        compiled.authorize_many(std::slice::from_ref(&r), &mut out);
        assert_eq!(out[0], compiled.authorize(&r), "{p} {o}: batch");
        assert_eq!(
            out[0],
            super::reference::authorize(&src, &r),
            "{p} {o}: reference"
        );
        out[0]
    };
    for p in ["p", "q", "a//b", "nobody"] {
        for o in ["a//b", "..", "x/../y", "/lead", "trail/"] {
            assert_eq!(decide(p, o), invalid, "{p} {o}");
        }
    }
    assert!(decide("p", "ok/role").is_allowed());
    assert!(decide("q", "ok/role").is_allowed());
    // A valid role held only as a principal string is found valid too.
    assert!(decide("q", "p").is_allowed());
    assert!(decide("nobody", "ok/role").is_allowed(), "permissive");
}

/// Limits on a large policy are checked in two halves on two threads;
/// the problem reported is still the first in list order, whichever half
/// (or both) holds one, with its path and the same count as when checked
/// on one thread (a small policy).
#[test]
fn limits_checked_in_halves_report_the_first_problem() {
    use super::{AclError, Config, LimitKind};
    // `n` run_tasks ACLs; a value over 8 bytes at each of `long`, four
    // values at each of `many`; two register_frameworks ACLs (a list
    // that comes before run_tasks), the second with a long role if `reg`.
    let policy = |n: usize, long: &[usize], many: &[usize], reg: bool| {
        let mut s = String::from(r#"{"permissive": false, "run_tasks": ["#);
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            let users = if long.contains(&i) {
                format!(r#""u{i}", "long-user-{i}""#)
            } else if many.contains(&i) {
                r#""a", "b", "c", "d""#.to_owned()
            } else {
                format!(r#""u{i}""#)
            };
            s.push_str(&format!(
                r#"{{"principals": {{"values": ["p{i}"]}}, "users": {{"values": [{users}]}}}}"#
            ));
        }
        let role = if reg { "a-much-too-long-role" } else { "r" };
        s.push_str(&format!(
            r#"], "register_frameworks": [
            {{"principals": {{"type": "ANY"}}, "roles": {{"values": ["r"]}}}},
            {{"principals": {{"values": ["a"]}}, "roles": {{"values": ["{role}"]}}}}]}}"#
        ));
        super::parse(&s).unwrap()
    };
    let tight = |rules: usize| {
        Compiler::new().config(
            Config::new()
                .max_string_len(8)
                .max_values(3)
                .max_rules(rules),
        )
    };
    /// Long values at, many values at, a long role, the rule cap; then
    /// the problem's kind, path and count.
    type Case<'a> = (
        &'a [usize],
        &'a [usize],
        bool,
        usize,
        LimitKind,
        String,
        usize,
    );
    for n in [40usize, 20_000] {
        let (q, h) = (n / 4, n / 2 + n / 4);
        let cases: [Case<'_>; 7] = [
            (
                &[q, h],
                &[],
                false,
                n + 2,
                LimitKind::StringBytes,
                format!("$.run_tasks[{q}].users.values[1]"),
                10 + digits(q),
            ),
            (
                &[h],
                &[],
                false,
                n + 2,
                LimitKind::StringBytes,
                format!("$.run_tasks[{h}].users.values[1]"),
                10 + digits(h),
            ),
            (
                &[h],
                &[q],
                false,
                n + 2,
                LimitKind::ValuesPerEntity,
                format!("$.run_tasks[{q}].users"),
                4,
            ),
            (
                &[q],
                &[h],
                false,
                n + 2,
                LimitKind::StringBytes,
                format!("$.run_tasks[{q}].users.values[1]"),
                10 + digits(q),
            ),
            (
                &[q],
                &[h],
                true,
                n + 2,
                LimitKind::StringBytes,
                "$.register_frameworks[1].roles.values[0]".to_owned(),
                20,
            ),
            // The rule cap falls before the problem in the second half.
            (
                &[h],
                &[],
                false,
                n / 2,
                LimitKind::Rules,
                format!("$.run_tasks[{}]", n / 2 - 2),
                n / 2 + 1,
            ),
            (
                &[],
                &[],
                false,
                n + 1,
                LimitKind::Rules,
                format!("$.run_tasks[{}]", n - 1),
                n + 2,
            ),
        ];
        for (long, many, reg, rules, kind, path, found) in cases {
            let src = policy(n, long, many, reg);
            match tight(rules).compile(&src) {
                Err(AclError::Limit(l)) => {
                    assert_eq!(l.kind(), kind, "{n} {path}");
                    assert_eq!(l.path(), path, "{n}");
                    assert_eq!(l.found(), found, "{n} {path}");
                }
                other => panic!("{n} {path}: {other:?}"),
            }
        }
        // No problem: it compiles.
        assert_eq!(
            tight(n + 2)
                .compile(&policy(n, &[], &[], false))
                .unwrap()
                .rule_count(),
            n + 2
        );
    }
}

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// A value's text is kept in place up to 22 bytes and on the heap above:
/// either way it reads back exactly (multi-byte characters across the
/// boundary too), compares by its text, prints as a string, and compiles
/// to the same decisions.
#[test]
fn value_text_in_place_or_on_the_heap_reads_back() {
    use super::source::Text;
    let strings: Vec<String> = (1..=30)
        .map(|n| "x".repeat(n))
        .chain((18..26).map(|n| format!("{}é", "y".repeat(n))))
        .chain(["ü".repeat(11), "€".repeat(8)])
        .collect();
    for s in &strings {
        let t = Text::new(s);
        assert_eq!(t.as_str(), s);
        assert_eq!(t.as_bytes(), s.as_bytes());
        assert_eq!(matches!(t, Text::Inline { .. }), s.len() <= 22, "{s}");
        assert_eq!(t, Text::new(s));
        assert_ne!(t, Text::new(&format!("{s}z")));
        assert_eq!(format!("{t:?}"), format!("{s:?}"));
    }
    assert_eq!(size_of::<super::source::Value>(), 32);
    let mut text = String::from(r#"{"permissive": false, "run_tasks": ["#);
    for (i, s) in strings.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"principals": {{"values": ["{s}"]}}, "users": {{"values": ["u{s}"]}}}}"#
        ));
    }
    text.push_str("]}");
    let src = super::parse(&text).unwrap();
    let values: Vec<&str> = src
        .iter()
        .filter_map(|a| match a.principals() {
            super::Entity::Some(v) => v.first().map(super::source::Value::as_str),
            _ => None,
        })
        .collect();
    assert_eq!(
        values,
        strings.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let compiled = Compiler::new().compile(&src).unwrap();
    for (i, s) in strings.iter().enumerate() {
        let u = format!("u{s}");
        let d = compiled.authorize(&Request::new(Action::RunTasks, Some(s), Object::One(&u)));
        assert_eq!(d.rule().map(|r| r.index), Some(i as u32), "{s}");
        let miss = compiled.authorize(&Request::new(Action::RunTasks, Some(s), Object::One(s)));
        assert!(!miss.is_allowed(), "{s}");
    }
}

/// The name-table size estimate is at or a little over the distinct
/// strings that go to the name table (never under them by more than the
/// estimator's error: a table sized under its count grows once), and
/// leaves out a role list's `x/%` values, which go elsewhere.
#[test]
fn distinct_name_estimate_is_just_over_the_count() {
    use super::compile::distinct_names;
    let key = HashKey::random();
    for (acls, distinct) in [(5_000usize, 700usize), (60_000, 20_000), (200_000, 150_000)] {
        let mut s = String::from(r#"{"permissive": false, "register_frameworks": ["#);
        for i in 0..acls {
            if i > 0 {
                s.push(',');
            }
            // `distinct - 100` principals (repeating), 100 roles, and
            // their `x/%` forms (not names).
            let p = i % (distinct - 100);
            let r = i % 100;
            s.push_str(&format!(
                r#"{{"principals": {{"values": ["p{p}"]}}, "roles": {{"values": ["r{r}", "r{r}/%"]}}}}"#
            ));
        }
        s.push_str("]}");
        let src = super::parse(&s).unwrap();
        let list = src.acls(super::AclList::RegisterFrameworks);
        let est = distinct_names(list, &key, 2 * acls, true);
        assert!(
            est as f64 >= distinct as f64 * 0.995 && est as f64 <= distinct as f64 * 1.02 + 16.0,
            "{acls} ACLs, {distinct} names: estimate {est}"
        );
    }
}

/// The batch decides without branching on table slots (`decide_one`):
/// on a policy large enough that strings and pairs lie past their home
/// lines, every decision equals the one-by-one path's and the reference
/// interpreter's, hits and misses, both actions, role and user objects.
/// A non-permissive policy of `lists[0]` as register_frameworks ACLs and
/// `lists[1]` as run_tasks ACLs (each an ACL's JSON), parsed and compiled.
fn two_lists(lists: &[Vec<String>; 2]) -> (super::AclSource, super::CompiledAcls) {
    let text = format!(
        r#"{{"permissive": false, "register_frameworks": [{}], "run_tasks": [{}]}}"#,
        lists[0].join(","),
        lists[1].join(",")
    );
    let src = super::parse(&text).unwrap();
    let compiled = Compiler::new().compile(&src).unwrap();
    (src, compiled)
}

#[test]
fn batch_equals_one_by_one_on_a_large_policy() {
    use super::{Decision, Reason};
    let mut lists = [Vec::new(), Vec::new()];
    for i in 0..3000u32 {
        let p = format!("principal-{}", i % 1100);
        let (o, field) = if i % 2 == 0 {
            (format!("team-{}/svc-{}", i % 7, i % 1300), "roles")
        } else {
            (format!("user-{}", i % 1300), "users")
        };
        let subj = if i % 97 == 5 {
            r#"{"type": "ANY"}"#.to_string()
        } else {
            format!(r#"{{"values": ["{p}"]}}"#)
        };
        let obj = if i % 89 == 7 {
            r#"{"type": "NONE"}"#.to_string()
        } else {
            format!(r#"{{"values": ["{o}"]}}"#)
        };
        lists[(i % 2) as usize].push(format!(r#"{{"principals": {subj}, "{field}": {obj}}}"#));
    }
    let (src, compiled) = two_lists(&lists);
    let mut owned = Vec::new();
    for i in 0..1500u32 {
        for (action, o) in [
            (
                Action::RegisterFrameworks,
                format!("team-{}/svc-{}", i % 7, i % 1400),
            ),
            (Action::RunTasks, format!("user-{}", i % 1400)),
            (
                Action::RunTasks,
                format!("user-{}-with-a-longer-name-{i}", i % 1400),
            ),
        ] {
            owned.push((action, format!("principal-{}", (i * 7) % 1200), o));
        }
    }
    let reqs: Vec<Request<'_>> = owned
        .iter()
        .map(|(a, p, o)| Request::new(*a, Some(p), Object::One(o)))
        .collect();
    let mut out = vec![Decision::Allow(Reason::NothingToAuthorize); reqs.len()];
    assert_eq!(compiled.authorize_many(&reqs, &mut out), reqs.len());
    let mut allowed = 0;
    for (q, d) in reqs.iter().zip(&out) {
        assert_eq!(*d, compiled.authorize(q), "{q:?}");
        assert_eq!(*d, super::reference::authorize(&src, q), "{q:?}");
        allowed += usize::from(d.is_allowed());
    }
    assert!(
        allowed > 0 && allowed < reqs.len(),
        "{allowed} of {}",
        reqs.len()
    );
}

/// The filters that let a request matching no pair and no single-sided
/// rule skip the tables: never "quiet" for a request some pair or side
/// rule could match (every pair of the policy is tried), quiet for most
/// requests that match none, and every decision the reference's, one by
/// one and in a batch, with and without an ANY/ANY rule to decide them.
#[test]
fn filters_skip_the_tables_only_when_nothing_there_matches() {
    use super::{Decision, Reason};
    for any_any in [false, true] {
        let mut lists = [Vec::new(), Vec::new()];
        let mut pairs = Vec::new();
        for i in 0..4000u32 {
            let which = (i % 2) as usize;
            let p = format!("principal-{}", i % 1500);
            let (o, field) = if which == 0 {
                (format!("team-{}/svc-{}", i % 7, i % 1700), "roles")
            } else {
                (format!("user-{}", i % 1700), "users")
            };
            let acl = match i % 113 {
                5 => format!(
                    r#"{{"principals": {{"type": "ANY"}}, "{field}": {{"values": ["{o}"]}}}}"#
                ),
                9 => format!(
                    r#"{{"principals": {{"values": ["{p}"]}}, "{field}": {{"type": "NONE"}}}}"#
                ),
                _ => {
                    pairs.push((which, p.clone(), o.clone()));
                    format!(
                        r#"{{"principals": {{"values": ["{p}"]}}, "{field}": {{"values": ["{o}"]}}}}"#
                    )
                }
            };
            lists[which].push(acl);
        }
        if any_any {
            lists[1].push(r#"{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}"#.into());
        }
        let (src, compiled) = two_lists(&lists);
        let action = |which: usize| [Action::RegisterFrameworks, Action::RunTasks][which];
        for (which, p, o) in &pairs {
            let r = Request::new(action(*which), Some(p), Object::One(o));
            assert_eq!(compiled.is_quiet(&r), Some(false), "{r:?}: a pair it holds");
        }
        let mut owned = Vec::new();
        for i in 0..3000u32 {
            let which = (i % 2) as usize;
            let o = if which == 0 {
                format!("team-{}/svc-{}", i % 7, (i * 13) % 1700)
            } else {
                format!("user-{}", (i * 13) % 1700)
            };
            owned.push((which, format!("stranger-{i}"), o.clone()));
            owned.push((which, format!("principal-{}", (i * 7) % 1500), o));
        }
        // Some invalid roles, decided without the tables too.
        owned.push((0, "stranger".into(), "a//b".into()));
        owned.push((0, "principal-3".into(), "..".into()));
        let reqs: Vec<Request<'_>> = owned
            .iter()
            .map(|(w, p, o)| Request::new(action(*w), Some(p), Object::One(o)))
            .collect();
        let quiet = reqs
            .iter()
            .filter(|r| compiled.is_quiet(r) == Some(true))
            .count();
        assert!(
            quiet * 10 > reqs.len() * 8,
            "only {quiet} of {} decided by the filters",
            reqs.len()
        );
        let mut out = vec![Decision::Allow(Reason::NothingToAuthorize); reqs.len()];
        assert_eq!(compiled.authorize_many(&reqs, &mut out), reqs.len());
        let mut by_any_any = 0;
        for (q, d) in reqs.iter().zip(&out) {
            let want = super::reference::authorize(&src, q);
            assert_eq!(*d, want, "{q:?}: batch");
            assert_eq!(compiled.authorize(q), want, "{q:?}");
            by_any_any += usize::from(
                matches!(d, Decision::Allow(Reason::Rule(_))) && compiled.is_quiet(q) == Some(true),
            );
        }
        assert_eq!(
            by_any_any > 0,
            any_any,
            "quiet requests the ANY/ANY rule allowed"
        );
    }
    // A role list with an `x/%` value keeps its tables: no filters.
    let src = super::parse(
        r#"{"permissive": false, "register_frameworks": [
            {"principals": {"values": ["p"]}, "roles": {"values": ["a/%", "b"]}}]}"#,
    )
    .unwrap();
    let compiled = Compiler::new().compile(&src).unwrap();
    for o in ["a/x", "b", "c"] {
        let r = Request::new(Action::RegisterFrameworks, Some("q"), Object::One(o));
        assert_eq!(compiled.is_quiet(&r), Some(false), "{o}");
    }
}
