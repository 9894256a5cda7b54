//! The hash chain of the audit trail. Pure: no database here.
//!
//! Each record's hash covers its own fields and the previous record's hash, so changing,
//! removing or reordering any record breaks every hash after it. Fields are length-prefixed
//! before hashing, so no choice of field contents can make two different records hash alike.

use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record to be appended: what happened, who did it, what was asked and answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecord {
    /// When, as RFC 3339 UTC (`2026-11-23T21:07:14.123Z`).
    pub at: String,
    /// Who: the token's subject (a HelseID or local user id), never a national identity number.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// What: `decide`, `dispense`, `cds:order-sign`, …
    pub action: String,
    /// The rule data in force (the decision's `rule_set`), so it can be replayed.
    pub rule_set: String,
    /// The request, as JSON.
    pub request: String,
    /// The answer, as JSON.
    pub response: String,
}

/// A record as stored: its place in the chain and its hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Position, from 1, without gaps.
    pub seq: i64,
    /// The content.
    pub content: NewRecord,
    /// The previous record's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// The hash of a record at `seq` following `prev_hash`.
pub fn hash(seq: i64, prev_hash: &str, r: &NewRecord) -> String {
    let mut h = Sha256::new();
    for field in [
        prev_hash,
        &seq.to_string(),
        &r.at,
        &r.actor,
        &r.role,
        &r.action,
        &r.rule_set,
        &r.request,
        &r.response,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Chains `records` after a head (`seq`, `hash`), returning them with their hashes.
pub fn link(head_seq: i64, head_hash: &str, records: Vec<NewRecord>) -> Vec<Record> {
    let mut prev = head_hash.to_string();
    records
        .into_iter()
        .enumerate()
        .map(|(i, content)| {
            let seq = head_seq + 1 + i as i64;
            let hash = hash(seq, &prev, &content);
            Record {
                seq,
                content,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            }
        })
        .collect()
}

/// Where a chain first fails to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Break {
    /// A record is missing (the sequence has a gap) or out of order.
    Gap {
        /// The sequence number expected.
        expected: i64,
        /// The one found.
        found: i64,
    },
    /// A record's `prev_hash` is not the previous record's hash.
    Link {
        /// The record.
        seq: i64,
    },
    /// A record's content does not match its hash: it was changed.
    Content {
        /// The record.
        seq: i64,
    },
    /// The stored head (`audit_head`) does not name the last record: records were cut off or
    /// added behind the service's back.
    Head {
        /// The head row's sequence number (-1: the row is gone).
        stored: i64,
        /// The last record found.
        found: i64,
    },
}

/// Checks records that follow (`head_seq`, `head_hash`), in order. Returns the new head.
pub fn verify<'a>(
    head_seq: i64,
    head_hash: &str,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<(i64, String), Break> {
    let (mut seq, mut prev) = (head_seq, head_hash.to_string());
    for r in records {
        if r.seq != seq + 1 {
            return Err(Break::Gap {
                expected: seq + 1,
                found: r.seq,
            });
        }
        if r.prev_hash != prev {
            return Err(Break::Link { seq: r.seq });
        }
        if hash(r.seq, &r.prev_hash, &r.content) != r.hash {
            return Err(Break::Content { seq: r.seq });
        }
        seq = r.seq;
        prev = r.hash.clone();
    }
    Ok((seq, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(n: usize) -> NewRecord {
        NewRecord {
            at: format!("2026-11-23T10:00:0{n}Z"),
            actor: "lege-1".into(),
            role: "prescriber".into(),
            action: "decide".into(),
            rule_set: "legemiddel-regler 2026.11.1".into(),
            request: format!("{{\"n\":{n}}}"),
            response: "{}".into(),
        }
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it() {
        let chain = link(0, GENESIS, (0..5).map(rec).collect());
        assert_eq!(verify(0, GENESIS, &chain), Ok((5, chain[4].hash.clone())));

        let mut changed = chain.clone();
        changed[2].content.response = "{\"payer\":\"patient\"}".into();
        assert_eq!(verify(0, GENESIS, &changed), Err(Break::Content { seq: 3 }));

        let mut removed = chain.clone();
        removed.remove(1);
        assert_eq!(
            verify(0, GENESIS, &removed),
            Err(Break::Gap {
                expected: 2,
                found: 3
            })
        );

        let mut relinked = chain.clone();
        relinked[3].prev_hash = GENESIS.into();
        assert_eq!(verify(0, GENESIS, &relinked), Err(Break::Link { seq: 4 }));
    }

    #[test]
    fn appending_in_batches_gives_the_same_chain() {
        let whole = link(0, GENESIS, (0..6).map(rec).collect());
        let first = link(0, GENESIS, (0..2).map(rec).collect());
        let rest = link(2, &first[1].hash, (2..6).map(rec).collect());
        assert_eq!([first, rest].concat(), whole);
    }

    #[test]
    fn field_boundaries_matter() {
        let a = NewRecord {
            actor: "ab".into(),
            role: "c".into(),
            ..rec(1)
        };
        let b = NewRecord {
            actor: "a".into(),
            role: "bc".into(),
            ..rec(1)
        };
        assert_ne!(hash(1, GENESIS, &a), hash(1, GENESIS, &b));
    }
}
