//! The drug catalogue in force (the newest FEST snapshot), kept in memory with its look-up
//! index and reloaded when `legemiddel fest import` (another process) adds a newer one; and its
//! endpoints: `GET /api/v1/catalogue?q=` and `GET /api/v1/catalogue/{varenr}`.

use std::sync::Arc;

use crate::extract::{Path, Query};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::RwLock;

use crate::{ANYONE, ApiError, AppState, authorize};

/// A snapshot, loaded.
pub struct Loaded {
    /// Which.
    pub snapshot: store::Snapshot,
    /// The catalogue.
    pub catalogue: fest::Catalogue,
    /// Its look-ups.
    pub index: fest::Index,
}

/// The cache of the snapshot in force.
#[derive(Default)]
pub struct Cache(RwLock<Option<Arc<Loaded>>>);

/// The catalogue in force, if one is imported.
pub async fn current(state: &AppState) -> Result<Option<Arc<Loaded>>, store::StoreError> {
    let newest = state.store.snapshots().await?.into_iter().next();
    let Some(newest) = newest else {
        return Ok(None);
    };
    if let Some(l) = state.catalogue.0.read().await.as_ref()
        && l.snapshot.id == newest.id
    {
        return Ok(Some(l.clone()));
    }
    let mut slot = state.catalogue.0.write().await;
    if let Some(l) = slot.as_ref()
        && l.snapshot.id == newest.id
    {
        return Ok(Some(l.clone()));
    }
    let catalogue = state.store.catalogue(&newest).await?;
    let index = fest::Index::new(&catalogue);
    tracing::info!(retrieved = %newest.retrieved, packages = index.len(), "FEST-katalog lastet");
    if let Some(age) = fest::age_days(&newest.retrieved, crate::today())
        && age > state.fest_max_age_days
    {
        tracing::warn!(
            retrieved = %newest.retrieved,
            age_days = age,
            max_age_days = state.fest_max_age_days,
            "FEST-katalogen i kraft er eldre enn tillatt: importer en ny fil fra DMP"
        );
    }
    let loaded = Arc::new(Loaded {
        snapshot: newest,
        catalogue,
        index,
    });
    *slot = Some(loaded.clone());
    Ok(Some(loaded))
}

fn unavailable(e: store::StoreError) -> ApiError {
    tracing::error!(error = %e, "FEST-katalogen");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "$",
        "katalogen kunne ikke leses; prøv igjen",
    )
}

fn no_catalogue() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "$",
        "ingen FEST-katalog er importert; kjør `legemiddel fest import FIL`",
    )
}

/// A hit as JSON.
pub fn hit_json(h: &fest::Hit) -> Value {
    json!({
        "varenr": h.varenr,
        "name": h.name,
        "brand": h.brand,
        "atc": h.atc,
        "substances": h.substances,
        "size": h.size,
        "prescription_group": h.prescription_group,
        "price_ore": h.price_ore,
        "fest_id": h.package_id,
    })
}

#[derive(serde::Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/catalogue?q=TEXT&limit=N`.
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, ANYONE)?;
    let text = q.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "q",
            "skriv navn, virkestoff, ATC-kode eller varenummer",
        ));
    }
    let loaded = current(&state)
        .await
        .map_err(unavailable)?
        .ok_or_else(no_catalogue)?;
    let hits: Vec<Value> = loaded
        .index
        .search(&text, q.limit.unwrap_or(50).min(500))
        .into_iter()
        .map(hit_json)
        .collect();
    // `total` counts every match, so a client showing `hits` (at most `limit`) can say how many
    // it leaves out.
    let total = loaded.index.count(&text);
    let body = json!({ "snapshot": loaded.snapshot.retrieved, "total": total, "hits": hits });
    Ok((crate::json_headers(), body.to_string()).into_response())
}

/// The page of one package: the hit, its ATC path with Norwegian names, its refund groups and
/// conditions, and the packages it may be exchanged with.
pub fn package_json(loaded: &Loaded, varenr: &str) -> Option<Value> {
    let hit = loaded.index.varenr(varenr)?;
    let cat = &loaded.catalogue;
    let package = cat.packages.iter().find(|p| p.varenr == hit.varenr)?;
    let groups: Vec<Value> = package
        .medicine
        .refunds
        .iter()
        .flat_map(|link| link.groups.iter().map(move |g| (link, g)))
        .filter_map(|(link, gid)| {
            cat.refunds.iter().find_map(|basis| {
                basis.groups.iter().find(|g| &g.id == gid).map(|g| {
                    json!({
                        "basis": basis.basis.code,
                        "basis_name": basis.basis.name,
                        "group": g.number.code,
                        "use": g.eligible_use,
                        "valid_from": link.from.to_string(),
                        "codes": g.codes.iter().map(|c| json!({
                            "code": c.code.code, "term": c.code.name,
                            "conditions": c.conditions.iter().filter_map(|id| cat.conditions.iter().find(|k| &k.id == id)).map(|k| json!({"number": k.number, "text": k.text})).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                })
            })
        })
        .collect();
    // The substitution group in force today (PakningByttegruppe's dates), on both sides.
    let today = crate::today();
    let substitutes: Vec<Value> = match package.medicine.substitution_group_on(today) {
        Some(g) => cat
            .packages
            .iter()
            .filter(|p| {
                p.varenr != package.varenr && p.medicine.substitution_group_on(today) == Some(g)
            })
            .filter_map(|p| loaded.index.varenr(&p.varenr).map(hit_json))
            .collect(),
        None => Vec::new(),
    };
    let mut v = hit_json(hit);
    v["atc_path"] = loaded
        .index
        .atc_path(&hit.atc)
        .into_iter()
        .map(|(c, n)| json!({"code": c, "name": n}))
        .collect();
    v["refund"] = Value::Array(groups);
    v["approval_exemption"] = json!(
        package
            .medicine
            .preparation_type
            .as_ref()
            .is_some_and(|p| p.code == "11")
    );
    v["exemption_application"] = json!(
        package
            .medicine
            .exemption_application
            .as_ref()
            .map(|c| c.name.clone())
    );
    v["ddd"] = json!(package.ddd.as_ref().map(|(v, u)| format!("{v} {u}")));
    v["substitutes"] = Value::Array(substitutes);
    v["snapshot"] = json!(loaded.snapshot.retrieved);
    Some(v)
}

/// `GET /api/v1/catalogue/{varenr}`.
pub(crate) async fn package(
    State(state): State<Arc<AppState>>,
    Path(varenr): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, ANYONE)?;
    let loaded = current(&state)
        .await
        .map_err(unavailable)?
        .ok_or_else(no_catalogue)?;
    let body = package_json(&loaded, &varenr).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "varenr",
            format!(
                "varenummer {varenr} finnes ikke i FEST {}",
                loaded.snapshot.retrieved
            ),
        )
    })?;
    Ok((crate::json_headers(), body.to_string()).into_response())
}

/// A decision request naming a product, completed from the catalogue in force (loaded only
/// when the request names one).
pub async fn complete(
    state: &AppState,
    body: &[u8],
) -> Result<Option<(Vec<u8>, fest::resolve::Resolution)>, ApiError> {
    if !contract::catalogue::names_product(body) {
        return Ok(None);
    }
    let loaded = current(state).await.map_err(unavailable)?;
    let cat = loaded.as_ref().map(|l| (&l.catalogue, &l.index));
    contract::catalogue::complete(body, cat).map_err(ApiError::from)
}

/// The ATC tree at `code` (empty: the main groups): the path above with Norwegian names, the
/// groups below with their package counts, and the packages with exactly this code.
pub fn atc_json(loaded: &Loaded, code: &str) -> Value {
    let code = code.trim().to_ascii_uppercase();
    json!({
        "code": code,
        "path": loaded.index.atc_path(&code).into_iter().map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
        "children": loaded.index.atc_children(&code).into_iter().map(|(c, n, count)| json!({"code": c, "name": n, "packages": count})).collect::<Vec<_>>(),
        "packages": loaded.index.with_atc(&code).into_iter().map(hit_json).collect::<Vec<_>>(),
        "snapshot": loaded.snapshot.retrieved,
    })
}

#[derive(serde::Deserialize)]
pub(crate) struct AtcQuery {
    code: Option<String>,
}

/// `GET /api/v1/catalogue/atc?code=C08`.
pub(crate) async fn atc(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<AtcQuery>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, ANYONE)?;
    let loaded = current(&state)
        .await
        .map_err(unavailable)?
        .ok_or_else(no_catalogue)?;
    let body = atc_json(&loaded, q.code.as_deref().unwrap_or(""));
    Ok((crate::json_headers(), body.to_string()).into_response())
}
