/// A step message with its data inline stays 64 bytes, tag beside the
/// length (see `Repr`): moved through the outbox as four whole words.
#[test]
fn a_server_message_is_four_words() {
    assert_eq!(size_of::<super::ServerMessage>(), 64);
    assert_eq!(align_of::<super::ServerMessage>(), 8);
}

/// Inline and heap data are equal by content, and an inline copy holds
/// exactly the bytes given.
#[test]
fn step_data_is_its_bytes() {
    let short = b"<c@h>".as_slice();
    let long = vec![b'x'; 100];
    for bytes in [short, &long] {
        let inline = super::StepData::from(bytes);
        let heap = super::StepData::from(bytes.to_vec());
        assert_eq!(&*inline, bytes);
        assert_eq!(inline, heap);
        assert_eq!(inline.into_vec(), bytes);
    }
}
