//! Validation of one `append_ops` request that needs no database: the ops of
//! each document must be consecutive within the request. Produces one run per
//! document (in first-appearance order) for the backend to check against the
//! stored log and to insert. Shared by both backends so they refuse exactly
//! the same requests.

use crate::{LoggedOp, StoreError, StoreResult};
use quire_engine::{DocumentId, SeqId};
use std::collections::HashMap;

/// The ops of one document within a request: `first..=last`, consecutive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DocRun {
    pub doc: DocumentId,
    pub first: SeqId,
    pub last: SeqId,
}

pub(crate) fn plan_append(ops: &[LoggedOp]) -> StoreResult<Vec<DocRun>> {
    let mut runs: Vec<DocRun> = Vec::new();
    let mut index: HashMap<DocumentId, usize> = HashMap::new();
    for op in ops {
        match index.get(&op.doc) {
            Some(&i) => {
                let run = &mut runs[i];
                if run.last.next() != Some(op.seq) {
                    return Err(StoreError::Continuity(format!(
                        "document {}: seq {} follows seq {} in one request",
                        op.doc, op.seq.0, run.last.0
                    )));
                }
                run.last = op.seq;
            }
            None => {
                index.insert(op.doc, runs.len());
                runs.push(DocRun {
                    doc: op.doc,
                    first: op.seq,
                    last: op.seq,
                });
            }
        }
    }
    Ok(runs)
}

/// Checks a run against the stored log: `stored_last` is the highest sequence
/// id the document has ever had (log, snapshots, pruning horizon), 0 if none.
pub(crate) fn check_continues(run: &DocRun, stored_last: u64) -> StoreResult<()> {
    if stored_last.checked_add(1) == Some(run.first.0) {
        Ok(())
    } else {
        Err(StoreError::Continuity(format!(
            "document {}: request starts at seq {} but the stored log ends at seq {}",
            run.doc, run.first.0, stored_last
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_engine::{DocVersion, OperationId, UserId};

    fn op(doc: DocumentId, seq: u64) -> LoggedOp {
        LoggedOp {
            doc,
            seq: SeqId(seq),
            version: DocVersion(seq),
            user: UserId(uuid::Uuid::nil()),
            operation_id: OperationId::new_random(),
            op_json: "[]".into(),
            created_at_ms: seq as i64,
        }
    }

    #[test]
    fn runs_group_interleaved_documents() {
        let (a, b) = (DocumentId::new_random(), DocumentId::new_random());
        let runs = plan_append(&[op(a, 3), op(b, 1), op(a, 4), op(b, 2), op(a, 5)]).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(
            (runs[0].doc, runs[0].first, runs[0].last),
            (a, SeqId(3), SeqId(5))
        );
        assert_eq!(
            (runs[1].doc, runs[1].first, runs[1].last),
            (b, SeqId(1), SeqId(2))
        );
    }

    #[test]
    fn gaps_and_repeats_are_refused() {
        let a = DocumentId::new_random();
        assert!(matches!(
            plan_append(&[op(a, 1), op(a, 3)]),
            Err(StoreError::Continuity(_))
        ));
        assert!(matches!(
            plan_append(&[op(a, 1), op(a, 1)]),
            Err(StoreError::Continuity(_))
        ));
        assert!(matches!(
            plan_append(&[op(a, u64::MAX), op(a, 0)]),
            Err(StoreError::Continuity(_))
        ));
    }

    #[test]
    fn continuation_is_checked_against_the_stored_end() {
        let run = DocRun {
            doc: DocumentId::new_random(),
            first: SeqId(8),
            last: SeqId(9),
        };
        assert!(check_continues(&run, 7).is_ok());
        assert!(matches!(
            check_continues(&run, 8),
            Err(StoreError::Continuity(_))
        ));
        assert!(matches!(
            check_continues(&run, u64::MAX),
            Err(StoreError::Continuity(_))
        ));
    }
}
