//! The pharmacy side's storage: dispensings, stored once by the pharmacy's id, and their claims,
//! written with the dispensing and its audit record in one transaction. The co-payment of a
//! dispensing is computed inside that transaction, under the patient's year lock, from the
//! patient's year so far — so concurrent dispensings for one patient can never together pass
//! the yearly ceiling, and a replayed dispensing changes nothing.

use sqlx::{AnyConnection, Row};

use crate::{NewRecord, Store, StoreError, append_in};

/// What the patient has had this year, as the charge needs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct YearSoFar {
    /// Co-payment counted toward the ceiling this calendar year.
    pub counted_ore: u64,
    /// Co-payment charged today on prescriptions from the same prescriber (one cap until 2025).
    pub same_prescriber_today_ore: u64,
}

/// A claim on a payer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClaim {
    /// `helfo`, `rhf` or `hf`.
    pub payer: String,
    /// The trust (RHF or HF claims).
    pub trust: Option<String>,
    /// Amount in øre (negative: a credit).
    pub amount_ore: i64,
}

/// What the edge computed for a dispensing, given the year so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computed {
    /// Accepted (claims only then).
    pub accepted: bool,
    /// The co-payment charged.
    pub copayment_ore: u64,
    /// The part counted toward the ceiling.
    pub counted_ore: u64,
    /// The claims to store.
    pub claims: Vec<NewClaim>,
    /// The answer; `claim_ids` is filled in once the claims are stored.
    pub answer: serde_json::Value,
}

/// The facts a dispensing is stored under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DispensingKey {
    /// The pharmacy's id.
    pub id: String,
    /// SHA-256 of the request as canonical JSON: the same id with another body is a conflict.
    pub body_sha256: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The pharmacy.
    pub pharmacy_id: String,
    /// The patient's key.
    pub patient_key: String,
    /// Calendar year of the date.
    pub year: i32,
    /// The prescriber's HPR number.
    pub prescriber_hpr: String,
    /// When (RFC 3339).
    pub created: String,
    /// The request as canonical JSON (kept for the settlement files).
    pub request: String,
}

/// How a dispensing was recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored now.
    New {
        /// The answer.
        answer: String,
        /// Its audit record.
        audit_seq: i64,
    },
    /// Stored before with the same body: the stored answer.
    Again {
        /// The answer given the first time.
        answer: String,
        /// Its audit record.
        audit_seq: i64,
    },
    /// Stored before with another body: nothing changed.
    Conflict,
}

/// A claim as stored, with its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRecord {
    /// Id.
    pub id: i64,
    /// The dispensing.
    pub dispensing_id: String,
    /// Payer.
    pub payer: String,
    /// Trust.
    pub trust: Option<String>,
    /// Amount, øre.
    pub amount_ore: i64,
    /// `YYYY-MM`.
    pub period: String,
    /// The claim this one credits.
    pub credit_of: Option<i64>,
    /// The settlement it went out in.
    pub settlement: Option<i64>,
    /// The dispensing's stored answer.
    pub answer: String,
    /// The dispensing's request.
    pub request: String,
}

/// The columns a [`ClaimRecord`] is read from, in [`claim`]'s order.
const CLAIM_COLUMNS: &str = "c.id, c.dispensing_id, c.payer, c.trust, c.amount_ore, c.period, \
     c.credit_of, s.settlement_id, d.answer, d.request";

fn claim(r: &sqlx::any::AnyRow) -> Result<ClaimRecord, sqlx::Error> {
    Ok(ClaimRecord {
        id: r.try_get(0)?,
        dispensing_id: r.try_get(1)?,
        payer: r.try_get(2)?,
        trust: r.try_get(3)?,
        amount_ore: r.try_get(4)?,
        period: r.try_get(5)?,
        credit_of: r.try_get(6)?,
        settlement: r.try_get(7)?,
        answer: r.try_get(8)?,
        request: r.try_get(9)?,
    })
}

async fn existing(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(String, String, i64)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT body_sha256, answer, audit_seq FROM dispensings WHERE dispensing_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .transpose()
}

/// Rows of `CLAIM_COLUMNS` as claims.
fn claims_of(rows: &[sqlx::any::AnyRow]) -> Result<Vec<ClaimRecord>, StoreError> {
    rows.iter()
        .map(claim)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

impl Store {
    /// Records a dispensing exactly once. If the id is known: the stored answer (same body) or
    /// [`Recorded::Conflict`] (another body), and nothing is written. Otherwise, in one
    /// transaction: take the patient's year, read the year so far, let `compute` decide, store
    /// the dispensing, its claims and the audit record that `audit` makes from the answer.
    pub async fn record_dispensing(
        &self,
        key: DispensingKey,
        compute: impl FnOnce(YearSoFar) -> Computed + Send + 'static,
        audit: impl FnOnce(&str) -> NewRecord + Send + 'static,
    ) -> Result<Recorded, StoreError> {
        self.write(move |conn| Box::pin(record_in(conn, key, compute, audit)))
            .await
    }

    /// The answer stored for a dispensing id, if any.
    pub async fn dispensing_answer(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT answer FROM dispensings WHERE dispensing_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Claims on `payer` in periods `from..=to` (`YYYY-MM`), oldest first, with their state.
    pub async fn claims(
        &self,
        payer: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CLAIM_COLUMNS} \
             FROM claims c JOIN dispensings d ON d.dispensing_id = c.dispensing_id \
             LEFT JOIN settled_claims s ON s.claim_id = c.id \
             WHERE c.payer = $1 AND c.period >= $2 AND c.period <= $3 ORDER BY c.id"
        )))
        .bind(payer)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        claims_of(&rows)
    }

    /// Settles the open claims on `payer` in `period`: one settlement, each claim in it exactly
    /// once (a claim already settled is not taken again). Returns the settlement's id and its
    /// claims; `None` when nothing was open.
    pub async fn settle(
        &self,
        payer: &str,
        period: &str,
        created: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let (payer, period, created) = (payer.to_string(), period.to_string(), created.to_string());
        let settled = self
            .write(move |conn| {
                Box::pin(async move {
                    let open = sqlx::query(
                        "SELECT c.id, c.amount_ore FROM claims c \
                         LEFT JOIN settled_claims s ON s.claim_id = c.id \
                         WHERE c.payer = $1 AND c.period = $2 AND s.claim_id IS NULL",
                    )
                    .bind(&payer)
                    .bind(&period)
                    .fetch_all(&mut *conn)
                    .await?;
                    if open.is_empty() {
                        return Ok(None);
                    }
                    let count = open.len() as i64;
                    let sum: i64 = open.iter().map(|r| r.get::<i64, _>(1)).sum();
                    let row = sqlx::query(
                        "INSERT INTO settlements (payer, period, created, claims, sum_ore) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(&payer)
                    .bind(&period)
                    .bind(&created)
                    .bind(count)
                    .bind(sum)
                    .fetch_one(&mut *conn)
                    .await?;
                    let settlement: i64 = row.try_get(0)?;
                    // One statement for all of them; the key makes a second settlement of the
                    // same claim impossible.
                    sqlx::query(
                        "INSERT INTO settled_claims (claim_id, settlement_id) \
                         SELECT c.id, $3 FROM claims c LEFT JOIN settled_claims s ON s.claim_id = c.id \
                         WHERE c.payer = $1 AND c.period = $2 AND s.claim_id IS NULL",
                    )
                    .bind(&payer)
                    .bind(&period)
                    .bind(settlement)
                    .execute(&mut *conn)
                    .await?;
                    Ok(Some(settlement))
                })
            })
            .await?;
        let Some(settlement) = settled else {
            return Ok(None);
        };
        let count = self
            .settlements_by_id(settlement)
            .await?
            .map_or(0, |(_, n, _)| n);
        Ok(Some((settlement, count)))
    }

    async fn settlements_by_id(&self, id: i64) -> Result<Option<(i64, i64, i64)>, StoreError> {
        let row = sqlx::query("SELECT id, claims, sum_ore FROM settlements WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    /// A page of the claims settled for `payer` in `period` (every settlement of it), after
    /// claim `after`, at most `limit`, by id: a month of a chain's claims is read page by page,
    /// not held in memory whole.
    pub async fn settled_claims_page(
        &self,
        payer: &str,
        period: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ClaimRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CLAIM_COLUMNS} \
             FROM settled_claims s JOIN claims c ON c.id = s.claim_id \
             JOIN dispensings d ON d.dispensing_id = c.dispensing_id \
             WHERE c.payer = $1 AND c.period = $2 AND c.id > $3 ORDER BY c.id LIMIT $4"
        )))
        .bind(payer)
        .bind(period)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        claims_of(&rows)
    }

    /// Credits every claim of a dispensing that has not been credited yet: a new claim of the
    /// opposite amount (`credit_of` naming the old one) in `period`, so the next settlement of
    /// that period takes it back. Nothing is edited. Returns the credit claims' ids (none when
    /// everything was credited already); [`StoreError::NotFound`] with 0 for an unknown id.
    pub async fn credit_dispensing(
        &self,
        dispensing_id: &str,
        period: &str,
        created: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let (id, period, created) = (
            dispensing_id.to_string(),
            period.to_string(),
            created.to_string(),
        );
        self.write(move |conn| {
            Box::pin(async move {
                if existing(conn, &id).await?.is_none() {
                    return Err(StoreError::NotFound(0));
                }
                let open = sqlx::query(
                    "SELECT c.id, c.payer, c.trust, c.amount_ore FROM claims c \
                     WHERE c.dispensing_id = $1 AND c.credit_of IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM claims k WHERE k.credit_of = c.id) ORDER BY c.id",
                )
                .bind(&id)
                .fetch_all(&mut *conn)
                .await?;
                let mut ids = Vec::new();
                for r in &open {
                    let (claim, payer, trust, amount): (i64, String, Option<String>, i64) =
                        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                    let row = sqlx::query(
                        "INSERT INTO claims (dispensing_id, payer, trust, amount_ore, period, credit_of, created) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(&id)
                    .bind(&payer)
                    .bind(&trust)
                    .bind(-amount)
                    .bind(&period)
                    .bind(claim)
                    .bind(&created)
                    .fetch_one(&mut *conn)
                    .await?;
                    ids.push(row.try_get::<i64, _>(0)?);
                }
                Ok(ids)
            })
        })
        .await
    }

    /// The settlements of `payer` in `period`, oldest first (id, claims, sum).
    pub async fn settlements(
        &self,
        payer: &str,
        period: &str,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, claims, sum_ore FROM settlements WHERE payer = $1 AND period = $2 ORDER BY id",
        )
        .bind(payer)
        .bind(period)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}

async fn record_in(
    conn: &mut AnyConnection,
    key: DispensingKey,
    compute: impl FnOnce(YearSoFar) -> Computed,
    audit: impl FnOnce(&str) -> NewRecord,
) -> Result<Recorded, StoreError> {
    // The patient's year: created if new, then taken. A write comes first, so SQLite takes its
    // write lock (waiting for another writer) before anything is read.
    sqlx::query(
        "INSERT INTO patient_years (patient_key, year, touched) VALUES ($1, $2, $3) \
         ON CONFLICT (patient_key, year) DO NOTHING",
    )
    .bind(&key.patient_key)
    .bind(key.year)
    .bind(&key.created)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE patient_years SET touched = $3 WHERE patient_key = $1 AND year = $2 RETURNING year",
    )
    .bind(&key.patient_key)
    .bind(key.year)
    .bind(&key.created)
    .fetch_one(&mut *conn)
    .await?;
    // Stored before (or by another transaction while this one waited for the lock)?
    if let Some((sha, answer, audit_seq)) = existing(conn, &key.id).await? {
        return Ok(if sha == key.body_sha256 {
            Recorded::Again { answer, audit_seq }
        } else {
            Recorded::Conflict
        });
    }
    let year = sqlx::query(
        "SELECT CAST(COALESCE(SUM(counted_ore), 0) AS BIGINT) FROM dispensings WHERE patient_key = $1 AND year = $2",
    )
    .bind(&key.patient_key)
    .bind(key.year)
    .fetch_one(&mut *conn)
    .await?;
    let same = sqlx::query(
        "SELECT CAST(COALESCE(SUM(copayment_ore), 0) AS BIGINT) FROM dispensings \
         WHERE patient_key = $1 AND date = $2 AND prescriber_hpr = $3",
    )
    .bind(&key.patient_key)
    .bind(&key.date)
    .bind(&key.prescriber_hpr)
    .fetch_one(&mut *conn)
    .await?;
    let so_far = YearSoFar {
        counted_ore: u64::try_from(year.try_get::<i64, _>(0)?).unwrap_or(0),
        same_prescriber_today_ore: u64::try_from(same.try_get::<i64, _>(0)?).unwrap_or(0),
    };
    let computed = compute(so_far);
    // Claims first: their ids go in the answer. The dispensing they belong to follows in the
    // same transaction (PostgreSQL checks the reference at commit).
    let period = key.date.get(..7).unwrap_or("").to_string();
    let mut ids = Vec::new();
    for c in &computed.claims {
        let row = sqlx::query(
            "INSERT INTO claims (dispensing_id, payer, trust, amount_ore, period, created) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&key.id)
        .bind(&c.payer)
        .bind(&c.trust)
        .bind(c.amount_ore)
        .bind(&period)
        .bind(&key.created)
        .fetch_one(&mut *conn)
        .await?;
        ids.push(row.try_get::<i64, _>(0)?);
    }
    let mut answer = computed.answer;
    answer["claim_ids"] = serde_json::Value::from(ids);
    let answer = answer.to_string();
    let record = audit(&answer);
    let audit_seq = append_in(conn, vec![record])
        .await?
        .pop()
        .map(|r| r.seq)
        .ok_or_else(|| StoreError::Corrupt("utleveringen fikk ingen revisjonspost".into()))?;
    sqlx::query(
        "INSERT INTO dispensings (dispensing_id, body_sha256, date, pharmacy_id, patient_key, year, \
         prescriber_hpr, accepted, copayment_ore, counted_ore, request, answer, audit_seq, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&key.id)
    .bind(&key.body_sha256)
    .bind(&key.date)
    .bind(&key.pharmacy_id)
    .bind(&key.patient_key)
    .bind(key.year)
    .bind(&key.prescriber_hpr)
    .bind(computed.accepted)
    .bind(computed.copayment_ore as i64)
    .bind(computed.counted_ore as i64)
    .bind(&key.request)
    .bind(&answer)
    .bind(audit_seq)
    .bind(&key.created)
    .execute(&mut *conn)
    .await?;
    Ok(Recorded::New { answer, audit_seq })
}
