//! FEST snapshots: written in one transaction, read back whole, listed.

use fest::Catalogue;
use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// A stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Id.
    pub id: i64,
    /// `HentetDato`.
    pub retrieved: String,
    /// SHA-256 of the file imported.
    pub sha256: String,
    /// When it was imported.
    pub imported: String,
    /// The file it came from.
    pub source: String,
    /// Packages.
    pub packages: i64,
    /// Products.
    pub products: i64,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    /// A new snapshot.
    New(Snapshot),
    /// The same `HentetDato` was already there: nothing written.
    AlreadyThere(Snapshot),
}

struct Item {
    kind: &'static str,
    id: String,
    varenr: Option<String>,
    atc: Option<String>,
    name: String,
    detail: String,
}

fn item<T: Serialize>(
    kind: &'static str,
    id: &str,
    varenr: Option<&str>,
    atc: Option<&str>,
    name: &str,
    v: &T,
) -> Item {
    Item {
        kind,
        id: id.to_string(),
        varenr: varenr.map(str::to_string),
        atc: atc.map(str::to_string),
        name: name.to_string(),
        detail: serde_json::to_string(v).unwrap_or_else(|_| "null".into()),
    }
}

fn items(cat: &Catalogue) -> Vec<Item> {
    let atc = |m: &fest::model::Medicine| m.atc.as_ref().map(|a| a.code.clone());
    let mut out = Vec::new();
    for p in &cat.packages {
        out.push(item(
            "package",
            &p.id,
            Some(&p.varenr),
            atc(&p.medicine).as_deref(),
            &p.medicine.name_form_strength,
            p,
        ));
    }
    for p in &cat.products {
        out.push(item(
            "product",
            &p.id,
            None,
            atc(&p.medicine).as_deref(),
            &p.brand,
            p,
        ));
    }
    for s in &cat.substances {
        out.push(item("substance", &s.id, None, None, &s.name, s));
    }
    for s in &cat.strengths {
        out.push(item("strength", &s.id, None, None, &s.substance, s));
    }
    for m in &cat.substance_medicines {
        out.push(item(
            "substance_medicine",
            &m.id,
            None,
            atc(&m.medicine).as_deref(),
            &m.medicine.name_form_strength,
            m,
        ));
    }
    for (i, r) in cat.refunds.iter().enumerate() {
        out.push(item(
            "refund_basis",
            &format!("{}#{i}", r.basis.code),
            None,
            None,
            &r.basis.name,
            r,
        ));
    }
    for c in &cat.conditions {
        out.push(item(
            "condition",
            &c.id,
            None,
            None,
            c.number.as_deref().unwrap_or(""),
            c,
        ));
    }
    for g in &cat.substitution_groups {
        out.push(item("substitution_group", &g.id, None, None, &g.code, g));
    }
    for c in &cat.code_systems {
        out.push(item("code_system", &c.oid, None, None, &c.name, c));
    }
    out
}

impl Store {
    /// Stores a catalogue as a new snapshot, all or nothing; the same `HentetDato` again is a
    /// no-op.
    pub async fn import_catalogue(
        &self,
        cat: &Catalogue,
        sha256: &str,
        source: &str,
        imported: &str,
    ) -> Result<Imported, StoreError> {
        if let Some(s) = self.snapshot_by_retrieved(&cat.retrieved).await? {
            return Ok(Imported::AlreadyThere(s));
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO fest_snapshot (retrieved, sha256, imported, source, packages, products) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&cat.retrieved)
        .bind(sha256)
        .bind(imported)
        .bind(source)
        .bind(cat.packages.len() as i64)
        .bind(cat.products.len() as i64)
        .fetch_one(&mut *tx)
        .await?;
        let snapshot: i64 = row.try_get(0)?;
        // 7 values a row; 500 rows a statement stays under SQLite's 32,766 parameters.
        for chunk in items(cat).chunks(500) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p: Vec<String> = (1..=7).map(|k| format!("${}", i * 7 + k)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO fest_item (snapshot, kind, id, varenr, atc, name, detail) VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for it in chunk {
                q = q
                    .bind(snapshot)
                    .bind(it.kind)
                    .bind(&it.id)
                    .bind(&it.varenr)
                    .bind(&it.atc)
                    .bind(&it.name)
                    .bind(&it.detail);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let s = self
            .snapshot_by_retrieved(&cat.retrieved)
            .await?
            .ok_or(StoreError::NotFound(snapshot))?;
        Ok(Imported::New(s))
    }

    async fn snapshot_by_retrieved(&self, retrieved: &str) -> Result<Option<Snapshot>, StoreError> {
        let row = sqlx::query(
            "SELECT id, retrieved, sha256, imported, source, packages, products FROM fest_snapshot WHERE retrieved = $1",
        )
        .bind(retrieved)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(snapshot).transpose()?)
    }

    /// Every snapshot, newest `HentetDato` first.
    pub async fn snapshots(&self) -> Result<Vec<Snapshot>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, retrieved, sha256, imported, source, packages, products FROM fest_snapshot ORDER BY retrieved DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(snapshot).collect::<Result<_, _>>()?)
    }

    /// The catalogue of a snapshot, read back whole.
    pub async fn catalogue(&self, s: &Snapshot) -> Result<Catalogue, StoreError> {
        let rows =
            sqlx::query("SELECT kind, detail FROM fest_item WHERE snapshot = $1 ORDER BY kind, id")
                .bind(s.id)
                .fetch_all(&self.pool)
                .await?;
        let mut cat = Catalogue {
            retrieved: s.retrieved.clone(),
            ..Catalogue::default()
        };
        let bad = |e: serde_json::Error| {
            StoreError::Corrupt(format!("FEST-øyeblikksbilde {}: {e}", s.retrieved))
        };
        for r in &rows {
            let kind: String = r.try_get(0)?;
            let detail: String = r.try_get(1)?;
            match kind.as_str() {
                "package" => cat
                    .packages
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "product" => cat
                    .products
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "substance" => cat
                    .substances
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "strength" => cat
                    .strengths
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "substance_medicine" => cat
                    .substance_medicines
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "refund_basis" => cat
                    .refunds
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "condition" => cat
                    .conditions
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "substitution_group" => cat
                    .substitution_groups
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                "code_system" => cat
                    .code_systems
                    .push(serde_json::from_str(&detail).map_err(bad)?),
                other => return Err(StoreError::Corrupt(format!("ukjent FEST-type «{other}»"))),
            }
        }
        // Packages in varenummer order, as a pharmacy lists them.
        cat.packages.sort_by(|a, b| a.varenr.cmp(&b.varenr));
        Ok(cat)
    }

    /// The catalogue in force: the newest snapshot, if any.
    pub async fn latest_catalogue(&self) -> Result<Option<(Snapshot, Catalogue)>, StoreError> {
        match self.snapshots().await?.into_iter().next() {
            Some(s) => {
                let cat = self.catalogue(&s).await?;
                Ok(Some((s, cat)))
            }
            None => Ok(None),
        }
    }
}

fn snapshot(r: &sqlx::any::AnyRow) -> Result<Snapshot, sqlx::Error> {
    Ok(Snapshot {
        id: r.try_get(0)?,
        retrieved: r.try_get(1)?,
        sha256: r.try_get(2)?,
        imported: r.try_get(3)?,
        source: r.try_get(4)?,
        packages: r.try_get(5)?,
        products: r.try_get(6)?,
    })
}
