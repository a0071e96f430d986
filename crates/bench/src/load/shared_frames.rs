//! Broadcast frames decoded once per generator thread, not once per client.
//!
//! A server sends one op, or one delivery round of ops, to every session of a document as
//! byte-identical frames: up to hundreds per document. Each simulated client parsed that JSON
//! again, although real clients run on machines of their own: with 500 writers and 500
//! watchers on one document the parse was a third of the generator's time, taken from the
//! cores the server under test runs on. So each generator thread keeps the last few frames
//! that decoded to remote ops only, as byte ranges into the frame, and a client receiving an
//! identical frame replays those instead of parsing. Every client still applies every op to
//! its own replica and checks its versions, so the convergence check stays per client. Acks,
//! errors and anything else are decoded every time. This is the same for every target.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use super::target::{Event, Insert, LoadError, Origin};

/// Distinct frames remembered per thread: Quire delivers to a document's sessions in 8 groups,
/// whose rounds may reach one thread's clients interleaved.
const FRAMES_PER_THREAD: usize = 8;

/// Decodes `frame` with `decode`, or replays the ops of an identical frame this thread decoded
/// before. `decode` must produce remote ops that depend on the frame's bytes alone.
pub fn decode<'f>(
    frame: &'f str,
    on: &mut dyn FnMut(Event<'f>),
    decode: impl FnOnce(&mut dyn FnMut(Event<'f>)) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    if let Some(ops) = lookup(frame) {
        for op in ops.iter() {
            on(op.event(frame));
        }
        return Ok(());
    }
    let mut shared = Some(Vec::new());
    decode(&mut |event| {
        if let Some(ops) = &mut shared {
            match SharedOp::of(frame, &event) {
                Some(op) => ops.push(op),
                None => shared = None,
            }
        }
        on(event);
    })?;
    if let Some(ops) = shared.filter(|ops| !ops.is_empty()) {
        remember(frame, ops);
    }
    Ok(())
}

/// One remote op of a decoded frame; `text` indexes the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SharedOp {
    version: u64,
    origin: Option<Origin>,
    position: u64,
    text: Range<usize>,
}

impl SharedOp {
    /// A remote op whose text borrows from `frame` (it does unless the decoder unescaped it).
    fn of(frame: &str, event: &Event<'_>) -> Option<SharedOp> {
        let Event::Remote {
            version,
            origin,
            insert: Insert { position, text },
        } = *event
        else {
            return None;
        };
        let start = (text.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?;
        let range = start..start.checked_add(text.len())?;
        (frame.get(range.clone()) == Some(text)).then_some(SharedOp {
            version,
            origin,
            position,
            text: range,
        })
    }

    fn event<'f>(&self, frame: &'f str) -> Event<'f> {
        Event::Remote {
            version: self.version,
            origin: self.origin,
            insert: Insert {
                position: self.position,
                text: &frame[self.text.clone()],
            },
        }
    }
}

/// The last frames decoded on this thread, newest first.
#[derive(Default)]
struct Recent {
    frames: VecDeque<(Box<str>, Arc<[SharedOp]>)>,
}

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::new(Recent::default());
}

fn lookup(frame: &str) -> Option<Arc<[SharedOp]>> {
    RECENT.with_borrow(|recent| {
        recent
            .frames
            .iter()
            .find(|(known, _)| known.len() == frame.len() && **known == *frame)
            .map(|(_, ops)| Arc::clone(ops))
    })
}

fn remember(frame: &str, ops: Vec<SharedOp>) {
    RECENT.with_borrow_mut(|recent| {
        if recent.frames.len() == FRAMES_PER_THREAD {
            recent.frames.pop_back();
        }
        recent.frames.push_front((frame.into(), ops.into()));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(version: u64, text: &str) -> Event<'_> {
        Event::Remote {
            version,
            origin: None,
            insert: Insert { position: 3, text },
        }
    }

    /// A decoder for frames like `{"v":7,"t":"abc"}` that counts its calls; with `copy`, the
    /// op's text is that string instead of a slice of the frame (as if it were unescaped).
    fn decode_counting<'f>(
        frame: &'f str,
        calls: &mut usize,
        copy: Option<&'f str>,
    ) -> Result<Vec<Event<'f>>, LoadError> {
        let mut events = Vec::new();
        decode(frame, &mut |e| events.push(e), |on| {
            *calls += 1;
            let v = frame[5..frame.find(',').unwrap()].parse().unwrap();
            let t = &frame[frame.find(r#""t":""#).unwrap() + 5..frame.len() - 2];
            on(remote(v, copy.unwrap_or(t)));
            Ok(())
        })?;
        Ok(events)
    }

    #[test]
    fn an_identical_frame_is_replayed_without_decoding() {
        let mut calls = 0;
        let first = r#"{"v":7,"t":"héllo"}"#.to_string();
        assert_eq!(
            decode_counting(&first, &mut calls, None).unwrap(),
            [remote(7, "héllo")]
        );
        let again = first.clone();
        let replayed = decode_counting(&again, &mut calls, None).unwrap();
        assert_eq!(replayed, [remote(7, "héllo")]);
        assert_eq!(calls, 1, "decoded once");
        let Event::Remote { insert, .. } = replayed[0] else {
            unreachable!()
        };
        assert_eq!(
            insert.text.as_ptr(),
            again[12..].as_ptr(),
            "borrows the new frame"
        );
        // Same length, other bytes: decoded.
        decode_counting(r#"{"v":8,"t":"héllo"}"#, &mut calls, None).unwrap();
        assert_eq!(calls, 2);
    }

    #[test]
    fn frames_with_other_events_or_copied_text_are_not_kept() {
        let mut calls = 0;
        let frame = r#"{"v":9,"t":"copied"}"#;
        let copy = String::from("copied");
        decode_counting(frame, &mut calls, Some(&copy)).unwrap();
        decode_counting(frame, &mut calls, Some(&copy)).unwrap();
        assert_eq!(calls, 2, "text not borrowed from the frame");

        let ack = r#"{"ack":1}"#;
        for _ in 0..2 {
            decode(ack, &mut |_| {}, |on| {
                calls += 1;
                on(Event::Ack {
                    origin: Origin { client: 0, n: 1 },
                    version: 1,
                });
                Ok(())
            })
            .unwrap();
        }
        assert_eq!(calls, 4, "acks are decoded every time");
    }

    #[test]
    fn old_frames_are_forgotten() {
        let mut calls = 0;
        let frame = |n: usize| format!(r#"{{"v":{n},"t":"x"}}"#);
        for n in 100..=100 + FRAMES_PER_THREAD {
            decode_counting(&frame(n), &mut calls, None).unwrap();
        }
        assert_eq!(calls, FRAMES_PER_THREAD + 1);
        decode_counting(&frame(100 + FRAMES_PER_THREAD), &mut calls, None).unwrap();
        assert_eq!(calls, FRAMES_PER_THREAD + 1, "the newest is kept");
        decode_counting(&frame(100), &mut calls, None).unwrap();
        assert_eq!(calls, FRAMES_PER_THREAD + 2, "the oldest was dropped");
    }
}
