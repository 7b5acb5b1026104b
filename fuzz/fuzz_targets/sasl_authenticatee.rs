//! The CRAM-MD5 authenticatee under arbitrary server message sequences: it
//! never panics, never sends anything but one start and one response, a
//! terminal status never changes, and it completes only after responding.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mesos_auth::sasl::{Authenticatee, ClientMessage, ServerMessage, Status};
use mesos_auth::{Principal, Secret};

#[derive(Arbitrary, Debug)]
enum Msg {
    Mechanisms(Vec<String>),
    CramOnly,
    Step(Vec<u8>),
    Completed,
    Failed,
    Error(String),
}

fuzz_target!(|msgs: Vec<Msg>| {
    let mut client = Authenticatee::new(
        Principal::new("tim").unwrap(),
        &Secret::new(b"tanstaaftanstaaf"),
    )
    .unwrap();
    let (mut starts, mut steps) = (0, 0);
    let mut terminal: Option<Status> = None;
    for msg in msgs.into_iter().take(16) {
        let m = match msg {
            Msg::Mechanisms(l) => ServerMessage::Mechanisms(l.into()),
            Msg::CramOnly => ServerMessage::Mechanisms(["CRAM-MD5"].into()),
            Msg::Step(d) => ServerMessage::Step(d.into()),
            Msg::Completed => ServerMessage::Completed,
            Msg::Failed => ServerMessage::Failed,
            Msg::Error(e) => ServerMessage::Error(e),
        };
        let _ = client.handle_message(m);
        while let Some(out) = client.poll_output() {
            match out {
                ClientMessage::Start { mechanism, data } => {
                    assert_eq!(mechanism, "CRAM-MD5");
                    assert!(data.is_empty());
                    starts += 1;
                }
                ClientMessage::Step(r) => {
                    assert!(r.starts_with(b"tim ") && r.len() == 36);
                    steps += 1;
                }
            }
        }
        assert!(starts <= 1 && steps <= starts);
        let status = client.status();
        if let Some(t) = &terminal {
            assert_eq!(&status, t, "terminal status changed");
        } else if status.is_terminal() {
            terminal = Some(status.clone());
        }
        if matches!(status, Status::Completed(_)) {
            assert_eq!(steps, 1, "completed before responding");
        }
    }
});
