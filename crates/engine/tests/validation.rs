//! Validation: every bad input is a typed error, never a panic, and a rejected
//! op changes nothing.

mod common;

use common::{PIECES, chars, edit_on, non_empty_text, text};
use proptest::prelude::*;
use quire_engine::op::MAX_LENGTH;
use quire_engine::{ClientOp, Component, Edit, Limits, OpError, Text, TextOp};

/// Strings from arbitrary Unicode plus the tricky pieces (emoji, combining marks).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), text(6)]
}

/// Numbers that stress the arithmetic: small, near the limits, huge.
fn any_number() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..20,
        Just(MAX_LENGTH),
        Just(MAX_LENGTH + 1),
        Just(usize::MAX),
        Just(usize::MAX - 1),
        any::<usize>(),
    ]
}

fn any_edit() -> impl Strategy<Value = Edit> {
    let component = prop_oneof![
        any_number().prop_map(Component::Skip),
        any_number().prop_map(Component::Delete),
        any_text().prop_map(|t| Component::Insert(t.as_str().into())),
    ];
    prop_oneof![
        (any_number(), any_text()).prop_map(|(position, text)| Edit::Insert { position, text }),
        (any_number(), any_number())
            .prop_map(|(position, length)| Edit::Delete { position, length }),
        (any_number(), any_number(), any_text()).prop_map(|(position, length, text)| {
            Edit::Replace {
                position,
                length,
                text,
            }
        }),
        prop::collection::vec(component, 0..6).prop_map(|components| Edit::Compound { components }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Arbitrary edits against an arbitrary document: conversion, fitting and
    /// applying return errors instead of panicking, and a rejected op leaves
    /// the text untouched.
    #[test]
    fn validation_never_panics(doc in text(10), edit in any_edit(), max_op in 0usize..8, max_doc in 0usize..40) {
        let limits = Limits { max_op_chars: max_op, max_document_chars: max_doc };
        let mut rope = Text::from_str(&doc);
        match edit.to_text_op(&limits) {
            Ok(op) => {
                let fits = op.check_fits(chars(&doc), &limits);
                let applied = rope.apply(&op);
                match (&fits, &applied) {
                    // Fitting the document implies applying succeeds.
                    (Ok(()), _) => prop_assert!(applied.is_ok()),
                    (Err(_), Err(_)) => prop_assert_eq!(rope.to_string(), doc.clone()),
                    // Too large for the limits but still inside the document.
                    (Err(e), Ok(())) => prop_assert!(e.is_size_limit(), "{e:?}"),
                }
                let reference = op.apply_to_str(&doc);
                prop_assert_eq!(reference.is_ok(), applied.is_ok());
                if let Ok(expected) = reference {
                    prop_assert_eq!(rope.to_string(), expected);
                }
            }
            Err(_) => prop_assert_eq!(rope.to_string(), doc.clone()),
        }
    }

    /// Arbitrary JSON-ish client ops deserialize or fail cleanly.
    #[test]
    fn client_op_parsing_never_panics(
        kind in prop::sample::select(&["insert", "delete", "replace", "compound", "other"][..]),
        position in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), Just("1e400".to_owned()), Just("18446744073709551616".to_owned()), Just("-1".to_owned()), Just("2.5".to_owned())],
        body in any_text(),
    ) {
        let json = format!(
            r#"{{"operationId":"op-1","userId":"6f1c1f0e-1d2b-4c4f-9a51-0d0f5a8e2b11","baseVersion":3,"type":"{kind}","position":{position},"length":{position},"text":{body:?},"components":[{position},{body:?},{{"d":{position}}}]}}"#
        );
        if let Ok(op) = serde_json::from_str::<ClientOp>(&json) {
            let _ = op.edit.to_text_op(&Limits::default());
        }
        let _ = serde_json::from_str::<TextOp>(&format!("[{position},{body:?}]"));
    }

    /// Valid client edits convert, fit, and apply like the reference.
    #[test]
    fn valid_edits_apply((doc, edit) in text(10).prop_flat_map(|d| { let n = chars(&d); (Just(d), edit_on(n)) })) {
        let limits = Limits::default();
        let op = edit.to_text_op(&limits).expect("valid edit converts");
        op.check_fits(chars(&doc), &limits).expect("valid edit fits");
        let mut rope = Text::from_str(&doc);
        rope.apply(&op).expect("applies");
        prop_assert_eq!(rope.to_string(), op.apply_to_str(&doc).unwrap());
        prop_assert_eq!(rope.len_chars() as isize, chars(&doc) as isize + op.net_change());
    }

    /// An insert of any non-empty text at any position of any document.
    #[test]
    fn insert_anywhere((doc, pos) in text(10).prop_flat_map(|d| { let n = chars(&d); (Just(d), 0..=n) }), ins in non_empty_text(3)) {
        let op = Edit::Insert { position: pos, text: ins.clone() }.to_text_op(&Limits::default()).unwrap();
        let result = op.apply_to_str(&doc).unwrap();
        let split = doc.char_indices().nth(pos).map_or(doc.len(), |(i, _)| i);
        prop_assert_eq!(result, format!("{}{}{}", &doc[..split], ins, &doc[split..]));
    }
}

fn op(edit: Edit) -> Result<TextOp, OpError> {
    edit.to_text_op(&Limits::default())
}

#[test]
fn shape_errors_are_typed() {
    assert_eq!(
        op(Edit::Insert {
            position: 0,
            text: String::new()
        }),
        Err(OpError::EmptyInsert)
    );
    assert_eq!(
        op(Edit::Delete {
            position: 0,
            length: 0
        }),
        Err(OpError::ZeroLength)
    );
    assert_eq!(
        op(Edit::Replace {
            position: 0,
            length: 0,
            text: "x".into()
        }),
        Err(OpError::ZeroLength)
    );
    assert_eq!(
        op(Edit::Replace {
            position: 0,
            length: 1,
            text: String::new()
        }),
        Err(OpError::EmptyInsert)
    );
    assert_eq!(
        op(Edit::Delete {
            position: usize::MAX,
            length: 1
        }),
        Err(OpError::Overflow)
    );
    assert_eq!(
        op(Edit::Insert {
            position: usize::MAX,
            text: "x".into()
        }),
        Err(OpError::Overflow)
    );
    assert_eq!(
        op(Edit::Compound {
            components: vec![Component::Skip(usize::MAX), Component::Delete(usize::MAX)]
        }),
        Err(OpError::Overflow)
    );
    assert_eq!(
        op(Edit::Compound {
            components: vec![Component::Skip(0)]
        }),
        Err(OpError::ZeroLength)
    );
    assert_eq!(
        op(Edit::Compound {
            components: vec![Component::Insert("".into())]
        }),
        Err(OpError::EmptyInsert)
    );
}

#[test]
fn size_limits_are_typed() {
    let limits = Limits {
        max_op_chars: 3,
        max_document_chars: 5,
    };
    let too_long = Edit::Insert {
        position: 0,
        text: "😀😀😀😀".into(),
    };
    assert_eq!(
        too_long.to_text_op(&limits),
        Err(OpError::TooLarge { chars: 4, max: 3 })
    );
    // Three emoji are three code points (twelve bytes): within the limit.
    let ok = Edit::Insert {
        position: 0,
        text: "😀😀😀".into(),
    }
    .to_text_op(&limits)
    .unwrap();
    assert_eq!(ok.check_fits(2, &limits), Ok(()));
    assert_eq!(
        ok.check_fits(3, &limits),
        Err(OpError::DocumentTooLarge { chars: 6, max: 5 })
    );
    let compound = Edit::Compound {
        components: vec!["ab".into(), Component::Skip(1), "cd".into()],
    };
    assert_eq!(
        compound.to_text_op(&limits),
        Err(OpError::TooLarge { chars: 4, max: 3 })
    );
}

#[test]
fn ranges_beyond_the_document_are_rejected_and_change_nothing() {
    let limits = Limits::default();
    let mut doc = Text::from_str("h😀llo");
    for edit in [
        Edit::Insert {
            position: 6,
            text: "x".into(),
        },
        Edit::Delete {
            position: 5,
            length: 1,
        },
        Edit::Delete {
            position: 0,
            length: 6,
        },
        Edit::Replace {
            position: 4,
            length: 2,
            text: "x".into(),
        },
    ] {
        let op = edit.to_text_op(&limits).unwrap();
        let err = op.check_fits(5, &limits).unwrap_err();
        assert!(
            matches!(err, OpError::OutOfRange { doc_len: 5, .. }),
            "{err:?}"
        );
        assert!(matches!(
            doc.apply(&op),
            Err(OpError::OutOfRange { doc_len: 5, .. })
        ));
        assert_eq!(doc.to_string(), "h😀llo");
    }
}

#[test]
fn edges_at_start_end_and_empty_document() {
    let limits = Limits::default();
    let run = |doc: &str, edit: Edit| -> String {
        let op = edit.to_text_op(&limits).unwrap();
        op.check_fits(chars(doc), &limits).unwrap();
        let mut text = Text::from_str(doc);
        text.apply(&op).unwrap();
        assert_eq!(text.to_string(), op.apply_to_str(doc).unwrap());
        text.to_string()
    };
    assert_eq!(
        run(
            "",
            Edit::Insert {
                position: 0,
                text: "😀".into()
            }
        ),
        "😀"
    );
    assert_eq!(
        run(
            "a😀",
            Edit::Insert {
                position: 0,
                text: "é".into()
            }
        ),
        "éa😀"
    );
    assert_eq!(
        run(
            "a😀",
            Edit::Insert {
                position: 2,
                text: "e\u{301}".into()
            }
        ),
        "a😀e\u{301}"
    );
    assert_eq!(
        run(
            "a😀",
            Edit::Delete {
                position: 1,
                length: 1
            }
        ),
        "a"
    );
    assert_eq!(
        run(
            "a😀",
            Edit::Delete {
                position: 0,
                length: 2
            }
        ),
        ""
    );
    assert_eq!(
        run(
            "a😀",
            Edit::Replace {
                position: 0,
                length: 2,
                text: "🤖".into()
            }
        ),
        "🤖"
    );
    assert_eq!(
        run(
            "e\u{301}x",
            Edit::Delete {
                position: 1,
                length: 1
            }
        ),
        "ex"
    );
    // Nothing reads past the end of an empty document.
    let delete = Edit::Delete {
        position: 0,
        length: 1,
    }
    .to_text_op(&limits)
    .unwrap();
    assert!(matches!(
        delete.check_fits(0, &limits),
        Err(OpError::OutOfRange { end: 1, doc_len: 0 })
    ));
    // The no-op applies anywhere and changes nothing.
    let mut empty = Text::new();
    empty.apply(&TextOp::noop()).unwrap();
    assert!(empty.is_empty());
    assert!(TextOp::noop().check_fits(0, &limits).is_ok());
}

#[test]
fn components_normalise_like_ot_text_unicode() {
    let op = TextOp::from_components([
        Component::Skip(1),
        Component::Skip(2),
        "a".into(),
        "😀".into(),
        Component::Delete(1),
        Component::Delete(2),
        Component::Skip(4),
    ])
    .unwrap();
    assert_eq!(serde_json::to_string(&op).unwrap(), r#"[3,"a😀",{"d":3}]"#);
    assert_eq!(op.input_len(), 6);
    assert_eq!(op.net_change(), -1);
    // Only skips: the no-op.
    assert!(
        TextOp::from_components([Component::Skip(5)])
            .unwrap()
            .is_noop()
    );
}

#[test]
fn wire_form_round_trips_and_rejects_bad_components() {
    let op: TextOp = serde_json::from_str(r#"[2,"hé",{"d":"ab😀"}]"#).unwrap();
    assert_eq!(serde_json::to_string(&op).unwrap(), r#"[2,"hé",{"d":3}]"#);
    for bad in [
        r#"[-1]"#,
        r#"[1.5]"#,
        r#"[0]"#,
        r#"[""]"#,
        r#"[{"d":0}]"#,
        r#"[{"x":1}]"#,
        r#"[{"d":1,"e":2}]"#,
        r#"[null]"#,
        r#"[[1]]"#,
        r#"[18446744073709551616]"#,
    ] {
        assert!(
            serde_json::from_str::<TextOp>(bad).is_err(),
            "{bad} accepted"
        );
    }
}

#[test]
fn client_op_wire_form_matches_the_protocol() {
    let json = r#"{"operationId":"a-1","userId":"6f1c1f0e-1d2b-4c4f-9a51-0d0f5a8e2b11","baseVersion":12,"type":"replace","position":3,"length":2,"text":"x"}"#;
    let op: ClientOp = serde_json::from_str(json).unwrap();
    assert_eq!(op.base_version.0, 12);
    assert_eq!(
        op.edit,
        Edit::Replace {
            position: 3,
            length: 2,
            text: "x".into()
        }
    );
    let back: serde_json::Value = serde_json::to_value(&op).unwrap();
    assert_eq!(
        back,
        serde_json::from_str::<serde_json::Value>(json).unwrap()
    );
    let compound = r#"{"operationId":"a-2","userId":"6f1c1f0e-1d2b-4c4f-9a51-0d0f5a8e2b11","baseVersion":0,"type":"compound","components":[3,"x",{"d":2}]}"#;
    let op: ClientOp = serde_json::from_str(compound).unwrap();
    assert_eq!(
        serde_json::to_string(&op.edit.to_text_op(&Limits::default()).unwrap()).unwrap(),
        r#"[3,"x",{"d":2}]"#
    );
    assert!(PIECES.iter().any(|p| p.chars().count() > 1));
}
