//! Client-op vectors for other implementations (the TypeScript SDK):
//! `vectors/client_ops.json` holds a document, a client op in Quire's
//! client-op form, a concurrent server op in component form (both made
//! against the document), and what must come out: the client op transformed
//! over the server op (side left, what the server applies), the server op
//! transformed over the client op (side right, what the client applies), and
//! the final text.
//!
//! `client_op_vectors_hold` checks the checked-in file against the engine.
//! Regenerate it with
//! `cargo test -p quire-engine --test vectors -- --ignored generate_client_op_vectors`.

mod common;

use std::path::PathBuf;

use common::{chars, edit_on, op_on, text};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use quire_engine::{
    ClientOp, Component, DocVersion, Edit, Limits, OperationId, TextOp, UserId, transform_x,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Vector {
    name: String,
    document: String,
    client_op: ClientOp,
    server_op: TextOp,
    expected: Expected,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Expected {
    /// The client op in component form.
    client_components: TextOp,
    /// Client op over server op, side left: what the server applies.
    client_transformed: TextOp,
    /// Server op over client op, side right: what the client applies.
    server_transformed: TextOp,
    /// Document after the client op alone, after the server op alone, after both.
    after_client: String,
    after_server: String,
    text: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct VectorFile {
    description: String,
    cases: Vec<Vector>,
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/client_ops.json")
}

fn user() -> UserId {
    "6f1c1f0e-1d2b-4c4f-9a51-0d0f5a8e2b11".parse().unwrap()
}

/// Computes a vector's expectations with the engine.
fn vector(name: String, document: &str, edit: Edit, server_op: TextOp) -> Vector {
    let client = edit
        .to_text_op(&Limits::default())
        .expect("valid client edit");
    let (client_transformed, server_transformed) = transform_x(&client, &server_op);
    let after_client = client.apply_to_str(document).unwrap();
    let after_server = server_op.apply_to_str(document).unwrap();
    let text = client_transformed.apply_to_str(&after_server).unwrap();
    assert_eq!(
        server_transformed.apply_to_str(&after_client).unwrap(),
        text
    );
    Vector {
        client_op: ClientOp {
            operation_id: OperationId::parse(name.clone()).unwrap(),
            user_id: user(),
            base_version: DocVersion(0),
            edit,
        },
        name,
        document: document.to_owned(),
        server_op,
        expected: Expected {
            client_components: client,
            client_transformed,
            server_transformed,
            after_client,
            after_server,
            text,
        },
    }
}

fn edit_op(edit: Edit) -> TextOp {
    edit.to_text_op(&Limits::default()).unwrap()
}

/// Hand-picked cases: ties, replaces, overlapping deletes, no-ops, astral text.
fn chosen() -> Vec<Vector> {
    use Edit::*;
    let s = |t: &str| t.to_owned();
    let cases: Vec<(&str, &str, Edit, Edit)> = vec![
        (
            "tie-insert-empty-doc",
            "",
            Insert {
                position: 0,
                text: s("a"),
            },
            Insert {
                position: 0,
                text: s("b"),
            },
        ),
        (
            "tie-insert-middle",
            "abcd",
            Insert {
                position: 2,
                text: s("X"),
            },
            Insert {
                position: 2,
                text: s("Y"),
            },
        ),
        (
            "tie-insert-end",
            "ab😀",
            Insert {
                position: 3,
                text: s("🤖"),
            },
            Insert {
                position: 3,
                text: s("é"),
            },
        ),
        (
            "insert-before-server-insert",
            "abcd",
            Insert {
                position: 1,
                text: s("X"),
            },
            Insert {
                position: 3,
                text: s("Y"),
            },
        ),
        (
            "insert-after-server-insert",
            "abcd",
            Insert {
                position: 3,
                text: s("X"),
            },
            Insert {
                position: 1,
                text: s("Y"),
            },
        ),
        (
            "insert-inside-server-delete",
            "abcdef",
            Insert {
                position: 3,
                text: s("X"),
            },
            Delete {
                position: 1,
                length: 4,
            },
        ),
        (
            "delete-around-server-insert",
            "abcdef",
            Delete {
                position: 1,
                length: 4,
            },
            Insert {
                position: 3,
                text: s("Y"),
            },
        ),
        (
            "delete-same-range-noop",
            "abcdef",
            Delete {
                position: 1,
                length: 2,
            },
            Delete {
                position: 1,
                length: 2,
            },
        ),
        (
            "delete-inside-server-delete",
            "abcdef",
            Delete {
                position: 2,
                length: 1,
            },
            Delete {
                position: 0,
                length: 5,
            },
        ),
        (
            "delete-overlapping",
            "abcdef",
            Delete {
                position: 1,
                length: 3,
            },
            Delete {
                position: 2,
                length: 3,
            },
        ),
        (
            "replace-vs-insert-inside",
            "abcdef",
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
            Insert {
                position: 2,
                text: s("Y"),
            },
        ),
        (
            "replace-vs-insert-at-start",
            "abcdef",
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
            Insert {
                position: 1,
                text: s("Y"),
            },
        ),
        (
            "replace-vs-insert-at-end",
            "abcdef",
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
            Insert {
                position: 4,
                text: s("Y"),
            },
        ),
        (
            "insert-at-end-vs-replace",
            "abcdef",
            Insert {
                position: 4,
                text: s("Y"),
            },
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
        ),
        (
            "replace-vs-same-replace",
            "abcdef",
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
            Replace {
                position: 1,
                length: 3,
                text: s("S"),
            },
        ),
        (
            "replace-vs-overlapping-replace",
            "abcdef",
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
            Replace {
                position: 2,
                length: 3,
                text: s("S"),
            },
        ),
        (
            "replace-vs-covering-delete",
            "abcdef",
            Replace {
                position: 1,
                length: 3,
                text: s("R"),
            },
            Delete {
                position: 0,
                length: 6,
            },
        ),
        (
            "astral-replace",
            "😀🤖👍🏽",
            Replace {
                position: 2,
                length: 2,
                text: s("é"),
            },
            Insert {
                position: 1,
                text: s("x"),
            },
        ),
        (
            "combining-mark-split",
            "e\u{301}x",
            Delete {
                position: 1,
                length: 1,
            },
            Insert {
                position: 1,
                text: s("\u{300}"),
            },
        ),
        (
            "emoji-vs-emoji-delete",
            "👍🏽👍🏽",
            Insert {
                position: 2,
                text: s("🤖"),
            },
            Delete {
                position: 1,
                length: 2,
            },
        ),
        (
            "compound-client",
            "abcdef",
            Compound {
                components: vec![
                    Component::Skip(1),
                    "X".into(),
                    Component::Delete(2),
                    Component::Skip(1),
                    "Y".into(),
                ],
            },
            Insert {
                position: 3,
                text: s("Z"),
            },
        ),
    ];
    cases
        .into_iter()
        .map(|(name, doc, client, server)| vector(name.to_owned(), doc, client, edit_op(server)))
        .collect()
}

/// Deterministic random cases from the property-test strategies.
fn random(count: usize) -> Vec<Vector> {
    let mut runner = TestRunner::deterministic();
    let case = text(8).prop_flat_map(|doc| {
        let n = chars(&doc);
        (proptest::strategy::Just(doc), edit_on(n), op_on(n))
    });
    (0..count)
        .map(|i| {
            let (doc, edit, server) = case.new_tree(&mut runner).unwrap().current();
            vector(format!("random-{i}"), &doc, edit, server)
        })
        .collect()
}

fn generate() -> VectorFile {
    let mut cases = chosen();
    cases.extend(random(60));
    VectorFile {
        description: "Quire client-op transform vectors, generated by quire-engine \
            (crates/engine/tests/vectors.rs). Each case: document; clientOp (client-op form, \
            docs/protocol.md §1) and serverOp (component form), both made against document. \
            expected.clientTransformed = client op over server op with side left (what the \
            server applies); expected.serverTransformed = server op over client op with side \
            right (what the client applies); expected.text = the converged text. Positions \
            count Unicode code points."
            .into(),
        cases,
    }
}

/// Serialises one case per line, so diffs stay readable.
fn render(file: &VectorFile) -> String {
    let cases: Vec<String> = file
        .cases
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    format!(
        "{{\"description\": {},\n\"cases\": [\n{}\n]}}\n",
        serde_json::to_string(&file.description).unwrap(),
        cases.join(",\n")
    )
}

#[test]
#[ignore = "writes vectors/client_ops.json; run explicitly to regenerate"]
fn generate_client_op_vectors() {
    std::fs::write(path(), render(&generate())).unwrap();
}

#[test]
fn client_op_vectors_hold() {
    let json = std::fs::read_to_string(path()).expect("vectors/client_ops.json exists");
    let file: VectorFile = serde_json::from_str(&json).unwrap();
    assert!(file.cases.len() >= 60, "only {} cases", file.cases.len());
    for case in &file.cases {
        let recomputed = vector(
            case.name.clone(),
            &case.document,
            case.client_op.edit.clone(),
            case.server_op.clone(),
        );
        assert_eq!(&recomputed, case, "case {}", case.name);
    }
    // Coverage the consumers rely on: every edit type and astral text.
    for kind in ["insert", "delete", "replace", "compound"] {
        assert!(
            json.contains(&format!("\"type\":\"{kind}\"")),
            "no {kind} case"
        );
    }
    assert!(
        file.cases
            .iter()
            .any(|c| c.document.chars().any(|ch| ch as u32 > 0xFFFF))
    );
}
