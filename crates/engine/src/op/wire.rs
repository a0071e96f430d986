//! JSON form of components and ops, as `ot-text-unicode` writes them:
//! a positive integer is a skip, a string an insert, `{"d": n}` a delete.
//! `{"d": "text"}` (the invertible delete) is accepted and read as a delete of
//! that many code points; the engine always writes numbers.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Component, TextOp};

impl Serialize for Component {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Component::Skip(n) => serializer.serialize_u64(*n as u64),
            Component::Insert(text) => serializer.serialize_str(text),
            Component::Delete(n) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("d", &(*n as u64))?;
                map.end()
            }
        }
    }
}

struct ComponentVisitor;

impl<'de> Visitor<'de> for ComponentVisitor {
    type Value = Component;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"an op component: a skip count, an insert string or {"d": n}"#)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Component, E> {
        usize::try_from(n)
            .map(Component::Skip)
            .map_err(|_| E::custom("skip count overflows"))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Component, E> {
        u64::try_from(n)
            .map_err(|_| E::custom("skip count must not be negative"))
            .and_then(|n| self.visit_u64(n))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Component, E> {
        Ok(Component::Insert(text.into()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Component, A::Error> {
        let mut length = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key != "d" || length.is_some() {
                return Err(de::Error::custom(r#"a delete is exactly {"d": n}"#));
            }
            length = Some(map.next_value::<DeleteLength>()?.0);
        }
        length
            .map(Component::Delete)
            .ok_or_else(|| de::Error::custom(r#"a delete is exactly {"d": n}"#))
    }
}

impl<'de> Deserialize<'de> for Component {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ComponentVisitor)
    }
}

/// The value of `"d"`: a count, or the deleted text (counted in code points).
struct DeleteLength(usize);

impl<'de> Deserialize<'de> for DeleteLength {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LengthVisitor;
        impl Visitor<'_> for LengthVisitor {
            type Value = DeleteLength;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a delete length or the deleted text")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<DeleteLength, E> {
                usize::try_from(n)
                    .map(DeleteLength)
                    .map_err(|_| E::custom("delete length overflows"))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<DeleteLength, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom("delete length must not be negative"))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DeleteLength, E> {
                Ok(DeleteLength(text.chars().count()))
            }
        }
        deserializer.deserialize_any(LengthVisitor)
    }
}

impl Serialize for TextOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.components.len()))?;
        for component in &self.components {
            seq.serialize_element(component)?;
        }
        seq.end()
    }
}

/// Reads a component list and validates it with [`TextOp::from_components`];
/// an invalid op is a deserialisation error carrying the [`crate::OpError`] text.
impl<'de> Deserialize<'de> for TextOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OpVisitor;
        impl<'de> Visitor<'de> for OpVisitor {
            type Value = TextOp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of op components")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextOp, A::Error> {
                let mut components = Vec::new();
                while let Some(component) = seq.next_element::<Component>()? {
                    components.push(component);
                }
                TextOp::from_components(components).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_seq(OpVisitor)
    }
}
