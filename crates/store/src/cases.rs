//! The cases of the workflows (issue 4), stored without knowing their rules: the `cases` crate
//! decides what may change; this module makes each change atomic (the case and its event in one
//! transaction) and refuses one made from a stale version.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{NewRecord, Receipt, Store, StoreError, append_in};

/// A case's columns (everything but its id and version).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseData {
    /// `off_label` or `helfo`.
    pub kind: String,
    /// State code.
    pub state: String,
    /// The applicant (token subject).
    pub author: String,
    /// The applicant's name.
    pub author_name: String,
    /// Treating trust.
    pub trust: Option<String>,
    /// The trust the patient belongs to, if another.
    pub home_trust: Option<String>,
    /// Clinic.
    pub clinic: Option<String>,
    /// ATC code.
    pub atc: String,
    /// Substance.
    pub substance: String,
    /// The patient key look-ups use (record number; fødselsnummer for Helfo).
    pub patient_key: Option<String>,
    /// Off-label or off-licence.
    pub use_kind: Option<String>,
    /// Patient or group.
    pub scope: Option<String>,
    /// Patients covered.
    pub patients: i64,
    /// Estimated cost, øre.
    pub cost_ore: i64,
    /// The form as typed (JSON object).
    pub fields: String,
    /// What the engine filled in (JSON).
    pub derived: Option<String>,
    /// Decision valid from.
    pub valid_from: Option<String>,
    /// Decision valid until (inclusive).
    pub valid_until: Option<String>,
    /// Opioid daily dose decided.
    pub omeq: Option<f64>,
    /// Evaluations recorded.
    pub evaluations: i64,
    /// Created (RFC 3339).
    pub created: String,
    /// Final approval date.
    pub approved: Option<String>,
}

/// A stored case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRecord {
    /// Id.
    pub id: i64,
    /// Version: grows by one on every change.
    pub version: i64,
    /// Last changed (RFC 3339).
    pub updated: String,
    /// The columns.
    pub data: CaseData,
}

/// One change of a case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseEvent {
    /// The case's version after the change.
    pub version: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who (token subject).
    pub actor: String,
    /// Their name.
    pub actor_name: String,
    /// In which role.
    pub role: String,
    /// The move.
    pub action: String,
    /// From.
    pub from_state: Option<String>,
    /// To.
    pub to_state: String,
    /// The line for the record.
    pub record: String,
}

/// Which cases to list (all given conditions must hold).
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    /// Kind.
    pub kind: Option<String>,
    /// Any of these states.
    pub states: Vec<String>,
    /// Treating trust or the patient's trust.
    pub trust_or_home: Option<String>,
    /// Applicant.
    pub author: Option<String>,
    /// Patient key.
    pub patient_key: Option<String>,
    /// ATC code.
    pub atc: Option<String>,
}

const COLUMNS: &str = "id, version, updated, kind, state, author, author_name, trust, home_trust, clinic, atc, \
     substance, patient_key, use_kind, scope, patients, cost_ore, fields, derived, valid_from, valid_until, \
     omeq, evaluations, created, approved";

fn record(r: &AnyRow) -> Result<CaseRecord, sqlx::Error> {
    Ok(CaseRecord {
        id: r.try_get(0)?,
        version: r.try_get(1)?,
        updated: r.try_get(2)?,
        data: CaseData {
            kind: r.try_get(3)?,
            state: r.try_get(4)?,
            author: r.try_get(5)?,
            author_name: r.try_get(6)?,
            trust: r.try_get(7)?,
            home_trust: r.try_get(8)?,
            clinic: r.try_get(9)?,
            atc: r.try_get(10)?,
            substance: r.try_get(11)?,
            patient_key: r.try_get(12)?,
            use_kind: r.try_get(13)?,
            scope: r.try_get(14)?,
            patients: r.try_get(15)?,
            cost_ore: r.try_get(16)?,
            fields: r.try_get(17)?,
            derived: r.try_get(18)?,
            valid_from: r.try_get(19)?,
            valid_until: r.try_get(20)?,
            omeq: r.try_get(21)?,
            evaluations: r.try_get(22)?,
            created: r.try_get(23)?,
            approved: r.try_get(24)?,
        },
    })
}

macro_rules! bind_data {
    ($q:expr, $d:expr) => {
        $q.bind(&$d.kind)
            .bind(&$d.state)
            .bind(&$d.author)
            .bind(&$d.author_name)
            .bind(&$d.trust)
            .bind(&$d.home_trust)
            .bind(&$d.clinic)
            .bind(&$d.atc)
            .bind(&$d.substance)
            .bind(&$d.patient_key)
            .bind(&$d.use_kind)
            .bind(&$d.scope)
            .bind($d.patients)
            .bind($d.cost_ore)
            .bind(&$d.fields)
            .bind(&$d.derived)
            .bind(&$d.valid_from)
            .bind(&$d.valid_until)
            .bind($d.omeq)
            .bind($d.evaluations)
            .bind(&$d.created)
            .bind(&$d.approved)
    };
}

async fn insert_event(
    conn: &mut AnyConnection,
    case_id: i64,
    e: &CaseEvent,
    audit_seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO case_events (case_id, version, at, actor, actor_name, role, action, from_state, to_state, record, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(case_id)
    .bind(e.version)
    .bind(&e.at)
    .bind(&e.actor)
    .bind(&e.actor_name)
    .bind(&e.role)
    .bind(&e.action)
    .bind(&e.from_state)
    .bind(&e.to_state)
    .bind(&e.record)
    .bind(audit_seq)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The receipt of the one audit record a case change appends.
fn receipt(mut linked: Vec<crate::Record>) -> Result<Receipt, StoreError> {
    linked
        .pop()
        .map(|r| Receipt {
            seq: r.seq,
            hash: r.hash,
        })
        .ok_or_else(|| StoreError::Corrupt("saksendringen fikk ingen revisjonspost".into()))
}

impl Store {
    /// Stores a new case at version 1 with its first event **and its audit record**, in one
    /// transaction: all three or none. `audit` makes the record once the id is known. Returns
    /// the id and the record's receipt.
    pub async fn create_case(
        &self,
        data: &CaseData,
        event: &CaseEvent,
        audit: impl FnOnce(i64) -> NewRecord + Send + 'static,
    ) -> Result<(i64, Receipt), StoreError> {
        let (data, event) = (data.clone(), event.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let q = sqlx::query(
                    "INSERT INTO cases (version, updated, kind, state, author, author_name, trust, home_trust, clinic, atc, \
                     substance, patient_key, use_kind, scope, patients, cost_ore, fields, derived, valid_from, valid_until, \
                     omeq, evaluations, created, approved) \
                     VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
                     $21, $22, $23) RETURNING id",
                )
                .bind(&event.at);
                let row = bind_data!(q, data).fetch_one(&mut *conn).await?;
                let id: i64 = row.try_get(0)?;
                let receipt = receipt(append_in(conn, vec![audit(id)]).await?)?;
                insert_event(
                    conn,
                    id,
                    &CaseEvent {
                        version: 1,
                        ..event
                    },
                    receipt.seq,
                )
                .await?;
                Ok((id, receipt))
            })
        })
        .await
    }

    /// Changes a case from `expected_version` to the next, with its event and its audit
    /// record, in one transaction; refused with [`StoreError::Stale`] if the case has moved
    /// since (nothing is written then). Returns the new version and the record's receipt.
    pub async fn update_case(
        &self,
        id: i64,
        expected_version: i64,
        data: &CaseData,
        event: &CaseEvent,
        audit: NewRecord,
    ) -> Result<(i64, Receipt), StoreError> {
        let (data, event) = (data.clone(), event.clone());
        self.write(move |conn| {
            Box::pin(async move {
                let q = sqlx::query(
                    "UPDATE cases SET version = version + 1, updated = $1, kind = $2, state = $3, author = $4, \
                     author_name = $5, trust = $6, home_trust = $7, clinic = $8, atc = $9, substance = $10, \
                     patient_key = $11, use_kind = $12, scope = $13, patients = $14, cost_ore = $15, fields = $16, \
                     derived = $17, valid_from = $18, valid_until = $19, omeq = $20, evaluations = $21, created = $22, \
                     approved = $23 WHERE id = $24 AND version = $25",
                )
                .bind(&event.at);
                let done = bind_data!(q, data)
                    .bind(id)
                    .bind(expected_version)
                    .execute(&mut *conn)
                    .await?;
                if done.rows_affected() != 1 {
                    let current = sqlx::query("SELECT version FROM cases WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    return Err(match current {
                        Some(row) => StoreError::Stale {
                            id,
                            expected: expected_version,
                            current: row.try_get(0)?,
                        },
                        None => StoreError::NotFound(id),
                    });
                }
                let version = expected_version + 1;
                let receipt = receipt(append_in(conn, vec![audit]).await?)?;
                insert_event(
                    conn,
                    id,
                    &CaseEvent {
                        version,
                        ..event
                    },
                    receipt.seq,
                )
                .await?;
                Ok((version, receipt))
            })
        })
        .await
    }

    /// Case events without their audit record. An event names the record written in its own
    /// transaction (`audit_seq`), and that record must exist and name the case; an event from
    /// before issue 9 (no `audit_seq`) must have a `case:*` record naming its case and version.
    /// Empty when the two agree; checked at start-up.
    pub async fn case_events_without_audit(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let linked = sqlx::query(
            "SELECT e.case_id, e.version, a.request FROM case_events e \
             LEFT JOIN audit a ON a.seq = e.audit_seq WHERE e.audit_seq IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut missing = Vec::new();
        for r in &linked {
            let key: (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            let request: Option<String> = r.try_get(2)?;
            let names_case = request
                .and_then(|q| serde_json::from_str::<serde_json::Value>(&q).ok())
                .is_some_and(|q| q["case"].as_i64() == Some(key.0));
            if !names_case {
                missing.push(key);
            }
        }
        let older = sqlx::query("SELECT case_id, version FROM case_events WHERE audit_seq IS NULL")
            .fetch_all(&self.pool)
            .await?;
        if !older.is_empty() {
            let records = sqlx::query(
                "SELECT request, response FROM audit WHERE action >= 'case:' AND action < 'case;'",
            )
            .fetch_all(&self.pool)
            .await?;
            let mut audited = std::collections::HashSet::new();
            for r in &records {
                let request: String = r.try_get(0)?;
                let response: String = r.try_get(1)?;
                let request: serde_json::Value = serde_json::from_str(&request).unwrap_or_default();
                let response: serde_json::Value =
                    serde_json::from_str(&response).unwrap_or_default();
                if let (Some(case), Some(version)) =
                    (request["case"].as_i64(), response["version"].as_i64())
                {
                    audited.insert((case, version));
                }
            }
            for e in &older {
                let key: (i64, i64) = (e.try_get(0)?, e.try_get(1)?);
                if !audited.contains(&key) {
                    missing.push(key);
                }
            }
        }
        missing.sort_unstable();
        Ok(missing)
    }

    /// A case by id.
    pub async fn case(&self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(record).transpose()?)
    }

    /// A case's events, oldest first.
    pub async fn case_events(&self, id: i64) -> Result<Vec<CaseEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, at, actor, actor_name, role, action, from_state, to_state, record \
             FROM case_events WHERE case_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseEvent {
                    version: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    actor_name: r.try_get(3)?,
                    role: r.try_get(4)?,
                    action: r.try_get(5)?,
                    from_state: r.try_get(6)?,
                    to_state: r.try_get(7)?,
                    record: r.try_get(8)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Cases matching `filter`, oldest first (the order a queue is worked in).
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRecord>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM cases WHERE 1 = 1");
        let mut binds: Vec<&str> = Vec::new();
        // Each condition binds its value as the next numbered parameter.
        let next = |value: &'_ str, binds: &mut Vec<_>| {
            binds.push(value.to_string());
            format!("${}", binds.len())
        };
        let mut owned: Vec<String> = Vec::new();
        if let Some(k) = &filter.kind {
            sql.push_str(&format!(" AND kind = {}", next(k, &mut owned)));
        }
        if !filter.states.is_empty() {
            let params: Vec<String> = filter.states.iter().map(|s| next(s, &mut owned)).collect();
            sql.push_str(&format!(" AND state IN ({})", params.join(", ")));
        }
        if let Some(t) = &filter.trust_or_home {
            let p = next(t, &mut owned);
            sql.push_str(&format!(" AND (trust = {p} OR home_trust = {p})"));
        }
        if let Some(a) = &filter.author {
            sql.push_str(&format!(" AND author = {}", next(a, &mut owned)));
        }
        if let Some(p) = &filter.patient_key {
            sql.push_str(&format!(" AND patient_key = {}", next(p, &mut owned)));
        }
        if let Some(a) = &filter.atc {
            sql.push_str(&format!(" AND atc = {}", next(a, &mut owned)));
        }
        binds.extend(owned.iter().map(String::as_str));
        sql.push_str(" ORDER BY id");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(record)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
