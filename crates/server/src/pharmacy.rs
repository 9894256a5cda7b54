//! The pharmacy side over HTTP (pharmacy contract v1): `POST /api/v1/pharmacy/dispensings`
//! records a dispensing exactly once and answers who pays what; `GET /api/v1/pharmacy/claims`
//! lists the claims on a payer.
//!
//! The handler gathers the facts — the packages and prices from the FEST snapshot in force,
//! the financing path from the decision engine (`decide`, on the same catalogue), the F6
//! registration from `dispense`, the patient's Helfo decisions for § 3 — and hands them to the
//! pure charge (`dispense::charge`), which the store runs under the patient's year lock.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dispense::charge::{ChargeFacts, Exemption};
use dispense::pharmacy::{
    Dispensing, ExemptionNeed, Party, Refusal, RxForm, check_exemption, check_prescription,
    check_transition, lines, price_of,
};
use domain::{Ore, Role, Scheme, WrittenForm};
use fest::model::PriceKind;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{Computed, DispensingKey, NewClaim, NewRecord, Recorded};

use crate::extract::Query;
use crate::{ApiError, AppState, authorize, json_headers, now_rfc3339};

/// Who records dispensings.
pub const PHARMACISTS: &[Role] = &[Role::Pharmacist];
/// Who reads claims.
pub const CLAIM_READERS: &[Role] = &[Role::Pharmacist, Role::HelfoCaseworker, Role::Analyst];

fn unprocessable(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, field, message)
}

/// The facts gathered at the edge for one dispensing, owned, for the store's transaction.
struct Facts {
    dispensing: Dispensing,
    refusals: Vec<Refusal>,
    register_as: Option<WrittenForm>,
    dispensed_varenr: String,
    price: Ore,
    cheapest: Option<(String, Ore)>,
    refused_cheaper_price: Option<Ore>,
    exemption: Option<Exemption>,
    party: Option<Party>,
    basis: String,
    copayment: ruleset::Copayment,
    /// The financing basis for the settlement files: `s2`, `s3`, `s4`, `h`, `white_note`, `white`.
    scheme: &'static str,
    dispensed_name: String,
    dispensed_atc: Option<String>,
    unit_price: Option<Ore>,
    /// The paying trust's details from the register, for the line and the invoice.
    trust: Option<TrustDetails>,
    /// The prescribed daily dose in mg OMEQ, as stated or converted (opioids).
    omeq: Option<f64>,
    /// What the pharmacist should know but that does not stop the dispensing.
    warnings: Vec<String>,
}

/// A paying trust as the register names it (`HELSEFORETAK`).
struct TrustDetails {
    id: String,
    org_nr: String,
    invoice_address: String,
    rhf: String,
}

impl TrustDetails {
    fn of(register: &ruleset::TrustRegister, t: &ruleset::Trust) -> TrustDetails {
        TrustDetails {
            id: t.id.clone(),
            org_nr: t.org_nr.clone(),
            invoice_address: t.invoice_address.clone(),
            rhf: register.rhf_of(t).name.clone(),
        }
    }
}

/// `POST /api/v1/pharmacy/dispensings`.
pub async fn record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, PHARMACISTS)?;
    let stored = record_dispensing(&state, &user, role, &body).await?;
    let mut response = (stored.status, json_headers(), stored.answer.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::HeaderName::from_static("x-audit-seq"),
        axum::http::HeaderValue::from(stored.audit_seq),
    );
    Ok(response)
}

/// A dispensing as stored: `201` the first time, `200` for the same request again.
pub(crate) struct Stored {
    pub(crate) status: StatusCode,
    pub(crate) answer: Value,
    pub(crate) audit_seq: i64,
}

/// Records one dispensing (pharmacy contract v1) for `user`: the API and the pharmacist's web
/// page both come here, so they answer alike.
pub(crate) async fn record_dispensing(
    state: &AppState,
    user: &crate::auth::User,
    role: Role,
    body: &[u8],
) -> Result<Stored, ApiError> {
    let d = contract::pharmacy::parse_dispensing(body)?;
    // The idempotency key's body: the request as canonical JSON (keys sorted, no spaces), so
    // a resend that differs only in layout is the same request.
    let canonical = serde_json::from_slice::<Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_default();
    let body_sha256 = hex::encode(Sha256::digest(canonical.as_bytes()));
    let facts = gather(state, d).await?;
    let d = &facts.dispensing;
    let key = DispensingKey {
        id: d.id.clone(),
        body_sha256,
        date: d.date.to_string(),
        pharmacy_id: d.pharmacy.id.clone(),
        patient_key: d.patient.key(&d.prescription.id),
        year: d.date.year(),
        prescriber_hpr: d.prescription.prescriber.hpr.clone(),
        created: now_rfc3339(),
        request: canonical.clone(),
    };
    let (actor, role_code, rule_set) = (
        user.subject.clone(),
        role.code().to_string(),
        state.rules.label(d.date).to_string(),
    );
    let request = canonical.clone();
    let recorded = state
        .store
        .record_dispensing(
            key,
            move |year| compute(&facts, year),
            move |answer| NewRecord {
                at: now_rfc3339(),
                actor,
                role: role_code,
                action: "pharmacy:dispensing".into(),
                rule_set,
                request,
                response: answer.to_string(),
            },
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "utlevering");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "$",
                "utleveringen kunne ikke lagres; ingenting er registrert, prøv igjen",
            )
        })?;
    let (status, answer, audit_seq) = match recorded {
        Recorded::New { answer, audit_seq } => (StatusCode::CREATED, answer, audit_seq),
        Recorded::Again { answer, audit_seq } => (StatusCode::OK, answer, audit_seq),
        Recorded::Conflict => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "dispensing_id",
                "denne utleverings-id-en er allerede registrert med et annet innhold; ingenting er endret",
            ));
        }
    };
    let answer = serde_json::from_str(&answer).unwrap_or(Value::Null);
    Ok(Stored {
        status,
        answer,
        audit_seq,
    })
}

/// Looks everything up that the charge needs; refusals are collected, not returned early, so
/// the pharmacist sees every reason at once.
async fn gather(state: &AppState, d: Dispensing) -> Result<Facts, ApiError> {
    let loaded = crate::catalogue::current(state)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "FEST");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "$", "katalogen kunne ikke leses; prøv igjen")
        })?
        .ok_or_else(|| {
            unprocessable(
                "drug.varenr",
                "ingen FEST-katalog er importert: priser og pakninger kan ikke slås opp (`legemiddel fest import FIL`)",
            )
        })?;
    let cat = &loaded.catalogue;
    let package = |field: &str, varenr: &str| {
        cat.packages
            .iter()
            .find(|p| p.varenr == varenr)
            .ok_or_else(|| {
                unprocessable(
                    field,
                    format!(
                        "varenummer {varenr} finnes ikke i FEST-katalogen i kraft ({})",
                        loaded.snapshot.retrieved
                    ),
                )
            })
    };
    let prescribed = package("drug.varenr", &d.varenr)?;
    let group = prescribed.medicine.substitution_group_on(d.date);
    let offered = match &d.substitution.offered_varenr {
        Some(v) => {
            let p = package("substitution.offered_varenr", v)?;
            if group.is_none() || p.medicine.substitution_group_on(d.date) != group {
                return Err(unprocessable(
                    "substitution.offered_varenr",
                    format!(
                        "{v} er ikke i samme byttegruppe som {} på datoen (B7)",
                        d.varenr
                    ),
                ));
            }
            Some(p)
        }
        None => None,
    };
    let aup = |p: &fest::model::Package| p.price_on(&PriceKind::Aup, d.date);
    // B7: the cheapest package in the group in force, offered or not.
    let cheapest = group.and_then(|g| {
        cat.packages
            .iter()
            .filter(|p| p.medicine.substitution_group_on(d.date) == Some(g))
            .filter_map(|p| aup(p).map(|price| (p.varenr.clone(), Ore(price))))
            .min_by_key(|(v, price)| (*price, v.clone()))
    });
    let limits = &state
        .rules
        .dispensing
        .at(d.date)
        .map_err(|e| unprocessable("date", e.to_string()))?
        .value;
    let register = &state
        .rules
        .trusts
        .at(d.date)
        .map_err(|e| unprocessable("date", e.to_string()))?
        .value;
    let mut warnings = Vec::new();
    let mut refusals = check_prescription(&d, limits);
    let reserved = d.prescription.reservation.is_some();
    let (dispensed, refused_cheaper_price) = match offered {
        Some(o) if !d.substitution.patient_refused && !reserved => (o, None),
        Some(o) if d.substitution.patient_refused && !reserved => (prescribed, aup(o).map(Ore)),
        _ => (prescribed, None),
    };
    // G1: an unregistered product only under its approval exemption, of the kind FEST names.
    let need = match (
        dispensed
            .medicine
            .preparation_type
            .as_ref()
            .map(|c| c.code.as_str()),
        dispensed
            .medicine
            .exemption_application
            .as_ref()
            .map(|c| c.code.as_str()),
    ) {
        (Some("11"), Some("2")) => ExemptionNeed::PharmacyAssesses,
        (Some("11"), _) => ExemptionNeed::MustApply,
        _ => ExemptionNeed::None,
    };
    refusals.extend(check_exemption(need, d.approval_exemption.as_ref()));
    // G3: a marketed replacement ends the notification path after its transition.
    let replaced = match (need, dispensed.medicine.atc.as_ref()) {
        (ExemptionNeed::None, _) | (_, None) => None,
        (_, Some(atc)) => match (
            domain::Atc::parse(&atc.code),
            state.rules.transitions.at(d.date),
        ) {
            (Ok(atc), Ok(g3)) => g3
                .value
                .replacing(&atc, d.date)
                .map(|r| (r.marketed.clone(), r.last_day)),
            _ => None,
        },
    };
    let (refusal, warning) = check_transition(
        need,
        d.approval_exemption.as_ref(),
        replaced.as_ref().map(|(m, last)| (m.as_str(), *last)),
        d.date,
    );
    refusals.extend(refusal);
    warnings.extend(warning);
    let unit_price = aup(dispensed).map(Ore);
    let price = match aup(dispensed) {
        Some(p) => price_of(Ore(p), d.milli_packages),
        None => {
            refusals.push(Refusal {
                code: "no_price",
                message: format!(
                    "FEST har ingen AUP for {} på {}: prisen kan ikke settes.",
                    dispensed.varenr, d.date
                ),
                rule: "FEST",
            });
            Ore(0)
        }
    };

    // F3/F6 and validity as the pharmacy module decides them, on the catalogue's facts.
    let atc = dispensed
        .medicine
        .atc
        .as_ref()
        .and_then(|a| domain::Atc::parse(&a.code).ok());
    // The substance as the catalogue's index names it (the same reading `fest::resolve` uses).
    let substance = loaded
        .index
        .varenr(&dispensed.varenr)
        .and_then(|h| h.substances.split(", ").next().map(str::to_string))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| dispensed.medicine.name_form_strength.clone());
    let omeq = prescribed_omeq(state, &d, dispensed, atc.as_ref())?;
    // E4: DMP's restrictions in a shortage, by the catalogue's ATC code; a refusal names the
    // restriction, and a patient in a prioritised group is let through.
    if let (Some(code), Ok(rationing)) = (atc.as_ref(), state.rules.rationing.at(d.date)) {
        let packages = u32::try_from(d.milli_packages.div_ceil(1000)).unwrap_or(u32::MAX);
        if let Err(r) = stock::rationing::check(
            &rationing.value,
            code,
            d.date,
            packages,
            d.patient.priority_group.as_deref(),
        ) {
            refusals.push(Refusal {
                code: "rationed",
                message: r.message,
                rule: "E4",
            });
        }
    }
    let mut register_as = None;
    if let (Some(atc), true) = (atc, refusals.is_empty()) {
        let written = match d.prescription.form {
            RxForm::Blue => WrittenForm::Blue,
            RxForm::H => WrittenForm::H,
            RxForm::White | RxForm::WhiteNote => WrittenForm::White,
        };
        let request = domain::DispensingRequest {
            date: d.date,
            drug: domain::Drug {
                atc,
                substance: substance.clone(),
                brand: None,
                authorisation: domain::Authorisation::Marketed,
                prescription_group: None,
                thc_percent: None,
            },
            prescription: domain::IssuedPrescription {
                form: written,
                issued: d.prescription.issued,
                valid_until: d.prescription.valid_until,
            },
        };
        match dispense::dispense(&request, &state.rules) {
            Ok(decision) if decision.accepted => register_as = decision.register_as,
            Ok(decision) => refusals.extend(decision.blockers.iter().map(|b| Refusal {
                code: b.code.code(),
                message: b.message.to_string(),
                rule: "F3",
            })),
            Err(e) => refusals.push(Refusal {
                code: "invalid",
                message: e.message(),
                rule: "GYLDIGHET",
            }),
        }
    }

    let copayment = state
        .rules
        .copayment
        .at(d.date)
        .map_err(|e| unprocessable("date", e.to_string()))?
        .value
        .clone();
    let age = d.date.years_since(d.patient.birth_date).unwrap_or(0);
    let child = age < u32::from(copayment.no_copayment_under_age);
    let (mut exemption, mut party, mut basis) = (None, None, String::new());
    let mut trust = None;
    let mut scheme = d.prescription.form.code();
    match (d.prescription.form, register_as) {
        (_, Some(WrittenForm::H)) | (RxForm::H, _) => {
            exemption = Some(Exemption::HPrescription);
            scheme = "h";
            // The trust of the patient's municipality pays, through its RHF (HELSEFORETAK).
            let home = d.patient.municipality.as_deref();
            match home.and_then(|m| register.for_municipality(m)) {
                Some(t) => {
                    let details = TrustDetails::of(register, t);
                    party = Some(Party::Rhf {
                        trust: t.name.clone(),
                        rhf: details.rhf.clone(),
                    });
                    trust = Some(details);
                }
                None => {
                    warnings.push(match home {
                        Some(m) => format!(
                            "Kommune {m} står ikke i helseforetaksregisteret: kravet til RHF føres uten helseforetak til kommunen er lagt inn (rules/trusts.toml)."
                        ),
                        None => "Pasientens bostedskommune (patient.municipality) er ikke oppgitt: kravet til RHF føres uten helseforetak.".into(),
                    });
                    party = Some(Party::Rhf {
                        trust: String::new(),
                        rhf: String::new(),
                    });
                }
            }
            basis = if d.prescription.form == RxForm::Blue {
                "H-resept (F6: blå resept registrert som H-resept); RHF betaler".into()
            } else {
                "H-resept (§ 1b-listen); RHF betaler".into()
            };
        }
        (RxForm::WhiteNote, _) => {
            // O5: the note names the trust; it must be one the register knows, or the invoice
            // goes to nobody.
            let named = d.prescription.paying_trust.as_deref().unwrap_or_default();
            let t = register.trust(named).ok_or_else(|| {
                unprocessable(
                    "prescription.paying_trust",
                    format!(
                        "«{named}» er ikke et helseforetak i registeret; oppgi navnet eller id-en, f.eks. «{}» eller «{}»",
                        register.trusts[0].name, register.trusts[0].id
                    ),
                )
            })?;
            exemption = Some(Exemption::TrustPays);
            basis = format!("hvit resept med merknad: {} betaler (O5)", t.name);
            party = Some(Party::Hf {
                trust: t.name.clone(),
            });
            trust = Some(TrustDetails::of(register, t));
        }
        (RxForm::White, _) => {
            basis = "hvit resept: pasienten betaler".into();
        }
        (RxForm::Blue, _) if refusals.is_empty() => {
            match blue_path(state, &loaded, &d, omeq, dispensed).await? {
                Ok((scheme_exemption, why, code)) => {
                    exemption = scheme_exemption;
                    scheme = code;
                    party = Some(Party::Folketrygden);
                    basis = why;
                }
                Err(refusal) => refusals.push(refusal),
            }
        }
        (RxForm::Blue, _) => {}
    }
    // § 8: the patient's own exemptions, where the scheme itself leaves a co-payment.
    if exemption.is_none() && party.is_some() {
        exemption = if child {
            Some(Exemption::Child)
        } else if d.prescription.occupational_injury {
            Some(Exemption::OccupationalInjury)
        } else if d.patient.minimum_pensioner {
            Some(Exemption::MinimumPensioner)
        } else {
            None
        };
    }
    // The cheaper product's price for the same quantity (B7).
    let refused_cheaper_price = refused_cheaper_price.map(|p| price_of(p, d.milli_packages));
    let dispensed_name = cat
        .products
        .iter()
        .find(|p| p.id == dispensed.product)
        .map_or_else(
            || dispensed.medicine.name_form_strength.clone(),
            |p| format!("{} {}", p.brand, dispensed.size).trim().to_string(),
        );
    let dispensed_atc = dispensed.medicine.atc.as_ref().map(|a| a.code.clone());
    Ok(Facts {
        scheme,
        dispensed_name,
        dispensed_atc,
        unit_price,
        dispensed_varenr: dispensed.varenr.clone(),
        dispensing: d,
        trust,
        omeq,
        warnings,
        refusals,
        register_as,
        price,
        cheapest,
        refused_cheaper_price,
        exemption,
        party,
        basis,
        copayment,
    })
}

/// The financing path of a blue prescription, from the decision engine on the catalogue in
/// force: § 2 (with -90 exempt), § 4 (exempt), § 3 only with the patient's Helfo decision.
async fn blue_path(
    state: &AppState,
    loaded: &crate::catalogue::Loaded,
    d: &Dispensing,
    omeq: Option<f64>,
    dispensed: &fest::model::Package,
) -> Result<Result<(Option<Exemption>, String, &'static str), Refusal>, ApiError> {
    let mut request = json!({
        "date": d.date.to_string(),
        "drug": {"varenr": d.varenr},
        "prescriber": {"role": d.prescription.prescriber.role.code()},
        "patient": {"age": d.date.years_since(d.patient.birth_date).unwrap_or(0)},
    });
    if let Some(code) = &d.prescription.refund_code {
        request["use"] = json!({"refund_code": code.as_str()});
    }
    let bytes = request.to_string().into_bytes();
    let completed = contract::catalogue::complete(&bytes, Some((&loaded.catalogue, &loaded.index)))
        .map_err(|e| unprocessable(&e.field, e.message))?;
    let completed = completed.map(|(b, _)| b).unwrap_or(bytes);
    let req = contract::parse_decision_request(&completed)
        .map_err(|e| unprocessable(&e.field, e.message))?;
    let decision =
        decide::decide(&req, &state.rules).map_err(|e| unprocessable(e.field(), e.message()))?;
    let palliative = state
        .rules
        .palliative
        .at(d.date)
        .ok()
        .map(|p| p.value.refund_code.clone());
    let code = d.prescription.refund_code.as_ref();
    Ok(match decision.scheme {
        Scheme::S2 if code.is_some() && code == palliative.as_ref() => Ok((
            Some(Exemption::Palliative),
            "blåreseptforskriften § 2, refusjonskode -90 (B6)".into(),
            "s2",
        )),
        Scheme::S2 => Ok((
            None,
            format!(
                "blåreseptforskriften § 2, refusjonskode {}",
                code.map_or("-", |c| c.as_str())
            ),
            "s2",
        )),
        Scheme::S4 => Ok((
            Some(Exemption::Section4),
            "blåreseptforskriften § 4 (smittsom sykdom)".into(),
            "s4",
        )),
        Scheme::S3 => {
            let Some(id) = &d.patient.id else {
                return Ok(Err(Refusal {
                    code: "no_helfo_decision",
                    message: "§ 3 krever Helfos vedtak, som finnes bare for pasienter med fødselsnummer eller D-nummer.".into(),
                    rule: "B3",
                }));
            };
            let atc = req.drug.atc;
            let opioid = state
                .rules
                .opioids
                .at(d.date)
                .is_ok_and(|b5| b5.value.scope.iter().any(|g| atc == *g || atc.is_in(g)));
            if opioid && omeq.is_none() {
                return Ok(Err(Refusal {
                    code: "opioid_dose_missing",
                    message: "Et opioid på § 3 ekspederes mot vedtakets døgndose i mg OMEQ: oppgi prescription.daily_dose (mg per døgn eller µg per time) eller daily_dose_omeq.".into(),
                    rule: "B5",
                }));
            }
            match crate::workflow::helfo_coverage(
                state,
                id.as_str(),
                atc,
                d.date,
                omeq,
                route_of(state, d, dispensed),
            )
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "$",
                    "Helfo-vedtakene kunne ikke leses; prøv igjen",
                )
            })? {
                Ok(grant) => Ok((
                    None,
                    format!(
                        "blåreseptforskriften § 3, Helfos vedtak (sak {})",
                        grant.case_id
                    ),
                    "s3",
                )),
                Err(why) => Err(Refusal {
                    code: "no_helfo_decision",
                    message: format!("§ 3: {why}"),
                    rule: "B3",
                }),
            }
        }
        other => Err(Refusal {
            code: "not_refundable",
            message: format!(
                "Blå resept, men legemidlet har ikke grunnlag for refusjon her ({}): {}",
                other.code(),
                decision
                    .blockers
                    .iter()
                    .map(|b| b.message.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            rule: "B1",
        }),
    })
}

/// The route of the package's form, as the OMEQ table on the date reads FEST's form name.
fn route_of(state: &AppState, d: &Dispensing, p: &fest::model::Package) -> Option<ruleset::Route> {
    let table = &state.rules.omeq.at(d.date).ok()?.value;
    table.route_of_form(&p.medicine.form.as_ref()?.name)
}

/// The prescribed daily dose in mg OMEQ: as stated (`daily_dose_omeq`), or converted from the
/// substance's dose by the OMEQ table on the date (domain.md § 8). When both are given they must
/// agree, to a tenth of a milligram or one per cent.
fn prescribed_omeq(
    state: &AppState,
    d: &Dispensing,
    dispensed: &fest::model::Package,
    atc: Option<&domain::Atc>,
) -> Result<Option<f64>, ApiError> {
    let stated = d.prescription.daily_dose_omeq;
    let Some(dose) = d.prescription.daily_dose else {
        return Ok(stated);
    };
    let table = &state
        .rules
        .omeq
        .at(d.date)
        .map_err(|e| unprocessable("date", e.to_string()))?
        .value;
    let form = dispensed
        .medicine
        .form
        .as_ref()
        .map_or("", |f| f.name.as_str());
    let route = route_of(state, d, dispensed);
    let converted = atc
        .zip(route)
        .and_then(|(atc, route)| table.omeq(atc, route, dose))
        .ok_or_else(|| {
            unprocessable(
                "prescription.daily_dose",
                format!(
                    "OMEQ-tabellen har ingen omregning for {} ({}); oppgi døgndosen i mg OMEQ (daily_dose_omeq)",
                    dispensed.medicine.name_form_strength,
                    route.map_or_else(|| format!("formen «{form}»"), |r| r.describe().to_string())
                ),
            )
        })?;
    if let Some(stated) = stated
        && (stated - converted).abs() > (converted * 0.01).max(0.1)
    {
        return Err(unprocessable(
            "prescription.daily_dose_omeq",
            format!(
                "oppgitt {stated} mg OMEQ stemmer ikke med døgndosen omregnet etter OMEQ-tabellen: {converted} mg OMEQ"
            ),
        ));
    }
    Ok(Some(converted))
}

/// The charge and the answer, under the store's lock on the patient's year.
fn compute(f: &Facts, year: store::YearSoFar) -> Computed {
    let d = &f.dispensing;
    let base = json!({
        "dispensing_id": d.id,
        "date": d.date.to_string(),
        "dispensed_varenr": f.dispensed_varenr,
        "prescribed_varenr": d.varenr,
        "cheapest_varenr": f.cheapest.as_ref().map(|c| c.0.clone()),
        "cheapest_price_ore": f.cheapest.as_ref().map(|c| c.1.0),
        "price_ore": f.price.0,
        "unit_price_ore": f.unit_price.map(|p| p.0),
        "packages": d.milli_packages as f64 / 1000.0,
        "dispensed_name": f.dispensed_name,
        "dispensed_atc": f.dispensed_atc,
        "scheme": f.scheme,
        "daily_dose_omeq": f.omeq,
        "warnings": f.warnings,
    });
    if !f.refusals.is_empty() {
        let mut a = base;
        a["accepted"] = json!(false);
        a["register_as"] = Value::Null;
        a["refusals"] = json!(
            f.refusals
                .iter()
                .map(|r| json!({"code": r.code, "message": r.message, "rule": r.rule}))
                .collect::<Vec<_>>()
        );
        a["lines"] = json!([]);
        a["copayment_ore"] = json!(0);
        a["copayment_counts_toward_ceiling_ore"] = json!(0);
        return Computed {
            accepted: false,
            copayment_ore: 0,
            counted_ore: 0,
            claims: Vec::new(),
            answer: a,
        };
    }
    let charge = dispense::charge::charge(
        &ChargeFacts {
            dispensed_price: f.price,
            refused_cheaper_price: f.refused_cheaper_price,
            exemption: f.exemption,
            counted_this_year: Ore(year.counted_ore),
            charged_under_same_cap: Ore(year.same_prescriber_today_ore),
        },
        &f.copayment,
    );
    let out = lines(f.party.clone(), &charge, &f.basis);
    let claims: Vec<NewClaim> = out
        .iter()
        .filter_map(|l| {
            let (payer, trust) = match &l.party {
                Party::Folketrygden => ("helfo", None),
                Party::Rhf { trust, .. } => ("rhf", Some(trust.clone()).filter(|t| !t.is_empty())),
                Party::Hf { trust } => ("hf", Some(trust.clone())),
                Party::Patient => return None,
            };
            Some(NewClaim {
                payer: payer.into(),
                trust,
                amount_ore: i64::try_from(l.amount.0).unwrap_or(i64::MAX),
            })
        })
        .collect();
    let register_as = f.register_as.map_or(
        match d.prescription.form {
            RxForm::H => "h",
            RxForm::Blue => "blue",
            _ => "white",
        },
        |w| w.code(),
    );
    let mut a = base;
    a["accepted"] = json!(true);
    a["refusals"] = json!([]);
    a["register_as"] = json!(register_as);
    a["lines"] = json!(
        out.iter()
            .map(|l| {
                let mut line =
                    json!({"payer": l.party.code(), "amount_ore": l.amount.0, "basis": l.basis});
                match &l.party {
                    Party::Rhf { trust, .. } | Party::Hf { trust } if !trust.is_empty() => {
                        line["trust"] = json!(trust);
                        if let Some(t) = &f.trust {
                            line["trust_id"] = json!(t.id);
                            line["rhf"] = json!(t.rhf);
                            line["org_nr"] = json!(t.org_nr);
                            line["invoice_address"] = json!(t.invoice_address);
                        }
                    }
                    _ => {}
                }
                line
            })
            .collect::<Vec<_>>()
    );
    a["copayment_ore"] = json!(charge.copayment.0);
    a["copayment_counts_toward_ceiling_ore"] = json!(charge.counts_toward_ceiling.0);
    a["difference_ore"] = json!(charge.difference.0);
    a["exemption"] = json!(f.exemption.map(|e| e.describe()));
    a["ceiling_ore"] = json!(f.copayment.yearly_ceiling.0);
    a["counted_this_year_ore"] = json!(year.counted_ore + charge.counts_toward_ceiling.0);
    Computed {
        accepted: true,
        copayment_ore: charge.copayment.0,
        counted_ore: charge.counts_toward_ceiling.0,
        claims,
        answer: a,
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct ClaimsQuery {
    payer: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/pharmacy/claims?payer=helfo|rhf|hf&from=YYYY-MM&to=YYYY-MM`.
pub async fn claims(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ClaimsQuery>,
) -> Result<Response, ApiError> {
    let (user, role) = authorize(&state, &headers, CLAIM_READERS)?;
    let payer = q.payer.unwrap_or_else(|| "helfo".into());
    if !["helfo", "rhf", "hf"].contains(&payer.as_str()) {
        return Err(unprocessable("payer", "ventet helfo, rhf eller hf"));
    }
    let month = |field: &str, v: Option<String>, default: &str| -> Result<String, ApiError> {
        let v = v.unwrap_or_else(|| default.to_string());
        let ok = v.len() == 7
            && v.as_bytes()[4] == b'-'
            && domain::Date::parse(&format!("{v}-01")).is_ok();
        if ok {
            Ok(v)
        } else {
            Err(unprocessable(field, "ventet en måned: ÅÅÅÅ-MM"))
        }
    };
    let from = month("from", q.from, "0000-01")?;
    let to = month("to", q.to, "9999-12")?;
    let list = state.store.claims(&payer, &from, &to).await.map_err(|e| {
        tracing::error!(error = %e, "krav");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "$",
            "kravene kunne ikke leses; prøv igjen",
        )
    })?;
    crate::audit_read(
        &state,
        &user,
        role,
        "GET /api/v1/pharmacy/claims",
        json!({"payer": payer, "from": from, "to": to, "claims": list.len()}),
    )
    .await?;
    let body = json!({
        "claims": list.iter().map(|c| json!({
            "id": c.id,
            "dispensing_id": c.dispensing_id,
            "payer": c.payer,
            "trust": c.trust,
            "amount_ore": c.amount_ore,
            "period": c.period,
            "credit_of": c.credit_of,
            "settled": c.settlement.is_some(),
            "settlement": c.settlement,
            "dispensing": serde_json::from_str::<Value>(&c.answer).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
    });
    Ok((json_headers(), body.to_string()).into_response())
}
