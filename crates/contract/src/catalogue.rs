//! Decision requests that name a product by varenummer or FEST id (an addition to contract v1):
//! completed from a FEST catalogue before parsing (see `fest::resolve` for what FEST decides and
//! the precedence), and answered with the catalogue's notes in the explanation and a
//! `catalogue` object. The CLI and the service both call these, with the catalogue they hold.

use serde_json::{Value, json};

use crate::ContractError;

/// Whether a request body names a product (cheap: v1 requests never mention these fields).
pub fn names_product(body: &[u8]) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    has(b"\"varenr\"") || has(b"\"fest_id\"")
}

/// The request completed from `catalogue` (`None`: it names no product, use it as it is).
pub fn complete(
    body: &[u8],
    catalogue: Option<(&fest::Catalogue, &fest::Index)>,
) -> Result<Option<(Vec<u8>, fest::resolve::Resolution)>, ContractError> {
    if !names_product(body) {
        return Ok(None);
    }
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| ContractError::new("$", format!("ugyldig JSON: {e}")))?;
    let Some((cat, index)) = catalogue else {
        return Err(ContractError::new(
            "drug.varenr",
            "et varenummer krever en importert FEST-katalog (`legemiddel fest import FIL`)",
        ));
    };
    match fest::resolve::resolve(&mut value, cat, index) {
        Ok(Some(r)) => Ok(Some((value.to_string().into_bytes(), r))),
        Ok(None) => Ok(None),
        Err(e) => Err(ContractError::new(e.field, e.message)),
    }
}

/// Puts the catalogue's notes in the explanation (before the rules, as the facts they are) and
/// reports a disagreement between FEST's H-prescription groups and the § 1b list data (F3)
/// instead of hiding it. Returns the answer's `catalogue` object.
pub fn annotate(decision: &mut decide::Decision<'_>, r: fest::resolve::Resolution) -> Value {
    let mut summary = r.summary;
    let listed = decision.scheme == domain::Scheme::HList;
    let mut steps: Vec<decide::Step> = r
        .notes
        .into_iter()
        .filter_map(|n| {
            domain::RuleId::from_code(n.rule).map(|rule| decide::Step {
                rule,
                applied: n.applied,
                text: n.text.into(),
            })
        })
        .collect();
    if r.h_prescription.is_some() != listed {
        let text = match &r.h_prescription {
            Some(g) => format!(
                "FEST og § 1b-listen er uenige: FEST har pakningen i H-reseptgruppen «{g}», men listen i regeldataene \
                 har den ikke på datoen. Beslutningen følger regeldataene; meld avviket."
            ),
            None => "FEST og § 1b-listen er uenige: listen i regeldataene har legemidlet, men FEST har det ikke i en \
                     H-reseptgruppe. Beslutningen følger regeldataene; meld avviket."
                .to_string(),
        };
        summary["disagreements"] = json!([text]);
        steps.push(decide::Step {
            rule: domain::RuleId::F3,
            applied: false,
            text: text.into(),
        });
    }
    steps.append(&mut decision.explanation);
    decision.explanation = steps;
    summary
}

/// Adds `"catalogue": {…}` to a decision written by `contract::write_decision` (an added field;
/// contract v1's fields are untouched).
pub fn with_summary(out: Vec<u8>, summary: &Value) -> Vec<u8> {
    match serde_json::from_slice::<Value>(&out) {
        Ok(Value::Object(mut map)) => {
            map.insert("catalogue".into(), summary.clone());
            Value::Object(map).to_string().into_bytes()
        }
        _ => out,
    }
}
