//! The one op shape the generator sends and receives, in text-unicode's JSON form (shared by
//! ShareDB and Quire): `[position, "text"]`, or `["text"]` at position 0.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A text-unicode op that inserts `text` at `position`: `[position, text]`, or `[text]` at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertOp<'a> {
    pub position: u64,
    pub text: &'a str,
}

impl Serialize for InsertOp<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        if self.position > 0 {
            seq.serialize_element(&self.position)?;
        }
        seq.serialize_element(self.text)?;
        seq.end()
    }
}

/// A received op of the form [`InsertOp`]; any other shape fails to decode. The text borrows
/// from the frame: an insert with JSON escapes fails too (the generator never sends one, so it
/// would be someone else's op).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedInsert<'a> {
    pub position: u64,
    pub text: &'a str,
}

impl<'de: 'a, 'a> Deserialize<'de> for ReceivedInsert<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ReceivedInsert<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single-insert text-unicode op: [n, \"text\"] or [\"text\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first: SkipOrText<'de> = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let (position, text) = match first {
                    SkipOrText::Text(text) => (0, text),
                    SkipOrText::Skip(n) => {
                        let text: &'de str = seq
                            .next_element()?
                            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                        (n, text)
                    }
                };
                if text.is_empty() {
                    return Err(de::Error::custom("empty insert"));
                }
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("more than one component"));
                }
                Ok(ReceivedInsert { position, text })
            }
        }
        d.deserialize_seq(V)
    }
}

/// The first component: a skip count or the inserted text.
enum SkipOrText<'a> {
    Skip(u64),
    Text(&'a str),
}

impl<'de: 'a, 'a> Deserialize<'de> for SkipOrText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SkipOrText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a skip count or an unescaped string")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(SkipOrText::Skip(n))
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(SkipOrText::Text(s))
            }
        }
        d.deserialize_any(V)
    }
}
