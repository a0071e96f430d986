//! The rare paths that need whole texts: turning a fresh snapshot into an op
//! (to rebase unacknowledged local edits onto it after a resync) and undoing
//! a local op the server refused.
//!
//! Both are O(document) and run only on resync or rejection, never per
//! keystroke.

use quire_engine::Text;
use quire_engine::op::{Component, TextOp};

/// An op turning `old` into `new`: one replace of the span between their
/// common prefix and common suffix (in code points). Transforming local edits
/// over it keeps every edit outside that span where it was and keeps local
/// inserts inside it.
pub(crate) fn diff(old: &Text, new: &Text) -> TextOp {
    let old = old.to_string();
    let new = new.to_string();
    let prefix_bytes: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let (old_rest, new_rest) = (&old[prefix_bytes..], &new[prefix_bytes..]);
    let suffix_bytes: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let deleted = old_rest[..old_rest.len() - suffix_bytes].chars().count();
    let inserted = &new_rest[..new_rest.len() - suffix_bytes];
    let components = [
        Component::Skip(old[..prefix_bytes].chars().count()),
        Component::Delete(deleted),
        Component::Insert(inserted.into()),
    ];
    // Zero-length parts are dropped here so `from_components` cannot refuse them.
    TextOp::from_components(components.into_iter().filter(|c| c.len_chars() > 0))
        .unwrap_or_default()
}

/// The op undoing `op`, which applies to `base`: deleted text comes back,
/// inserted text goes. `None` if `op` does not fit `base`.
pub(crate) fn invert(op: &TextOp, base: &Text) -> Option<TextOp> {
    let base = base.to_string();
    let mut chars = base.chars();
    let mut inverse = Vec::with_capacity(op.components().len());
    for component in op.components() {
        match component {
            Component::Skip(n) => {
                inverse.push(Component::Skip(*n));
                for _ in 0..*n {
                    chars.next()?;
                }
            }
            Component::Delete(n) => {
                let text: String = chars.by_ref().take(*n).collect();
                if text.chars().count() != *n {
                    return None;
                }
                inverse.push(Component::Insert(text.as_str().into()));
            }
            Component::Insert(text) => inverse.push(Component::Delete(text.chars().count())),
        }
    }
    TextOp::from_components(inverse).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_diff(old: &str, new: &str) {
        let op = diff(&Text::from(old), &Text::from(new));
        assert_eq!(op.apply_to_str(old).unwrap(), new, "{old:?} -> {new:?}");
    }

    #[test]
    fn diff_turns_old_into_new() {
        for (old, new) in [
            ("", ""),
            ("", "abc"),
            ("abc", ""),
            ("abc", "abc"),
            ("héllo wörld", "héllo brave wörld"),
            ("aaaa", "aa"),
            ("😀x😀", "😀y😀"),
            ("abcdef", "xyz"),
        ] {
            check_diff(old, new);
        }
    }

    #[test]
    fn invert_undoes() {
        let base = Text::from("héllo 😀 wörld");
        let op = TextOp::from_components([
            Component::Skip(2),
            Component::Delete(3),
            Component::Insert("XY".into()),
            Component::Skip(2),
            Component::Delete(1),
        ])
        .unwrap();
        let after = op.apply_to_str(&base.to_string()).unwrap();
        let inverse = invert(&op, &base).unwrap();
        assert_eq!(inverse.apply_to_str(&after).unwrap(), base.to_string());
        let too_long =
            TextOp::from_components([Component::Skip(40), Component::Delete(1)]).unwrap();
        assert!(invert(&too_long, &base).is_none());
    }
}
