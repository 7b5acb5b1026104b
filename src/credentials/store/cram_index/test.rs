use super::*;

fn key(n: u32) -> [u32; 8] {
    [n; 8]
}

#[test]
fn finds_every_entry_and_nothing_else() {
    let names: Vec<String> = (0..1000).map(|i| format!("p{i}")).collect();
    let items: Vec<Item<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Item {
            name: n,
            index: i as u32,
            key: (i % 7 != 0).then_some(key(i as u32 + 1)),
        })
        .collect();
    let index = CramIndex::build(&items, key(u32::MAX));
    for (i, n) in names.iter().enumerate() {
        let f = index.find(n);
        assert!(bool::from(f.exists), "{n}");
        assert_eq!(bool::from(f.known), i % 7 != 0, "{n}");
        assert_eq!(f.index, i as u32);
        let want = if i % 7 == 0 {
            key(u32::MAX)
        } else {
            key(i as u32 + 1)
        };
        assert_eq!(f.key, want);
    }
    for n in ["", "p1000", "P1", "p1 ", " p1", "q0"] {
        let f = index.find(n);
        assert!(!bool::from(f.exists), "{n}");
        assert!(!bool::from(f.known));
        assert_eq!(f.key, key(u32::MAX));
    }
}

#[test]
fn overflow_is_detected_and_build_always_places_everything() {
    let names: Vec<String> = (0..64).map(|i| format!("n{i}")).collect();
    let items: Vec<Item<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Item {
            name: n,
            index: i as u32,
            key: Some(key(i as u32)),
        })
        .collect();
    let hashers = [RandomState::new(), RandomState::new()];
    // One bucket of width one cannot hold two names.
    assert!(place(&items[..2], &hashers, &key(0), 1, 1).is_none());
    assert!(place(&items[..1], &hashers, &key(0), 1, 1).is_some());
    let index = CramIndex::build(&items, key(9999));
    assert!(index.slots.len() >= 64);
    for (i, n) in names.iter().enumerate() {
        assert_eq!(index.find(n).index, i as u32);
    }
    let empty = CramIndex::build(&[], key(1));
    assert!(!bool::from(empty.find("x").exists));
    assert_eq!(empty.find("x").key, key(1));
}
