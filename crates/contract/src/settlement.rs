//! Settlement files (pharmacy contract v1): the claims on Helfo as one e-resept **M18**
//! `Oppgjorskrav` (ER-M18-2013-04-16), and the trusts' invoices as tables. Pure: the stored
//! dispensings (request and answer, as JSON) in, text out.
//!
//! Readings where the message standard leaves a choice, stated once here:
//! - `RefHjemmel` uses Volven 7427 as FEST does (200 § 2, 950 H-resept); § 3 and § 4 are written
//!   as 300 and 400 with their names (`DN`), since FEST's own files carry only 200 and 950.
//! - `Nodekspedisjon` is `V="N"` (not an emergency dispensing) and `ReseptType` `V="E"`
//!   (e-prescription): every dispensing here is made on an e-prescription.
//! - `Pasient/Ident/TypeId` uses Volven 8116 (`FNR`, `DNR`); a patient without a number is named
//!   by birth date only.

use std::fmt::Write;

use domain::RefundBasis;
use serde_json::Value;

/// One claim of a settlement, with its dispensing.
pub struct SettledClaim<'a> {
    /// The claim's id (`RegningsNr`).
    pub id: i64,
    /// The amount claimed, in øre (negative: a credit).
    pub amount_ore: i64,
    /// The claim this one credits (`KrediteringRef`).
    pub credit_of: Option<i64>,
    /// The dispensing as recorded (pharmacy contract request).
    pub request: &'a Value,
    /// The answer it got.
    pub answer: &'a Value,
}

/// Øre as a decimal amount in kroner (`kith:MO`'s `V`).
fn kroner(ore: i64) -> String {
    let sign = if ore < 0 { "-" } else { "" };
    let ore = ore.unsigned_abs();
    format!("{sign}{}.{:02}", ore / 100, ore % 100)
}

/// Escapes text for an XML attribute or element.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter().fold(v, |v, k| &v[*k]).as_str().unwrap_or("")
}

/// The refund basis (`RefHjemmel`) of a dispensing's financing path.
fn basis(scheme: &str) -> (&'static str, &'static str) {
    let basis = match scheme {
        "s3" => RefundBasis::S3,
        "s4" => RefundBasis::S4,
        "h" => RefundBasis::HResept,
        _ => RefundBasis::S2,
    };
    (basis.code(), basis.describe())
}

/// The settlement to Helfo as M18 `Oppgjorskrav`: `number` is the settlement's number
/// (`OppgjorsNr`), `sent` the date it is sent (`AvsenderDato`, `YYYY-MM-DD`). For a month of a
/// chain's claims write [`m18_header`], each [`m18_claim`] and [`M18_END`] as a stream instead.
pub fn m18(number: &str, sent: &str, claims: &[SettledClaim]) -> String {
    let total: i64 = claims.iter().map(|c| c.amount_ore).sum();
    let mut x = m18_header(number, sent, claims.len(), total);
    for c in claims {
        x.push_str(&m18_claim(c));
    }
    x.push_str(M18_END);
    x
}

/// The end of an M18 file.
pub const M18_END: &str = "</m18:Oppgjorskrav>\n";

/// The start of an M18 file: the settlement's number, date, total and count of claims.
pub fn m18_header(number: &str, sent: &str, count: usize, total_ore: i64) -> String {
    let mut x = String::with_capacity(512);
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <m18:Oppgjorskrav xmlns:m18=\"http://www.kith.no/xmlstds/eresept/m18/2013-04-16\" \
         xmlns:fk1=\"http://www.kith.no/xmlstds/felleskomponent1\">\n\
         <m18:OppgjorsNr>{}</m18:OppgjorsNr><m18:AvsenderDato>{}</m18:AvsenderDato>\
         <m18:RefKrav V=\"{}\" U=\"NOK\"/><m18:AntEnkeltregninger>{}</m18:AntEnkeltregninger>\n",
        esc(number),
        esc(sent),
        kroner(total_ore),
        count
    );
    x
}

/// One claim as an `Enkeltregning`.
pub fn m18_claim(c: &SettledClaim) -> String {
    let mut x = String::with_capacity(1500);
    let (q, a) = (c.request, c.answer);
    let date = s(q, &["date"]);
    let (hjemmel, hjemmel_name) = basis(s(a, &["scheme"]));
    let _ = write!(
        x,
        "<m18:Enkeltregning><m18:RegningsNr>{}</m18:RegningsNr><m18:SumRefusjon V=\"{}\" U=\"NOK\"/>\
         <m18:ReseptId>{}</m18:ReseptId>",
        c.id,
        kroner(c.amount_ore),
        esc(s(q, &["prescription", "id"]))
    );
    if let Some(credit) = c.credit_of {
        let _ = write!(x, "<m18:KrediteringRef>{credit}</m18:KrediteringRef>");
    }
    let reserved = s(q, &["prescription", "reserved_against_substitution"]);
    let _ = write!(
        x,
        "<m18:Utlevering><m18:Registreringsdato>{date}T00:00:00</m18:Registreringsdato>\
         <m18:Dato>{date}T00:00:00</m18:Dato>"
    );
    if !reserved.is_empty() && reserved != "none" {
        let _ = write!(
            x,
            "<m18:BytteRes V=\"L\" DN=\"Lege har reservert seg mot bytte\"/>"
        );
    }
    let _ = write!(
        x,
        "<m18:Nodekspedisjon V=\"N\" DN=\"Nei\"/><m18:ReseptType V=\"E\" DN=\"eResept\"/>\
         <m18:Multidose>false</m18:Multidose><m18:VareSendPasient>false</m18:VareSendPasient>\
         <m18:Hjemmel><m18:RefHjemmel V=\"{hjemmel}\" S=\"{oid}\" DN=\"{hjemmel_name}\"/>",
        oid = RefundBasis::OID
    );
    let code = s(q, &["prescription", "refund_code"]);
    if !code.is_empty() {
        let _ = write!(x, "<m18:RefKode V=\"{}\"/>", esc(code));
    }
    x.push_str("</m18:Hjemmel><m18:Pasient>");
    let id = s(q, &["patient", "id"]);
    match s(q, &["patient", "id_kind"]) {
        kind @ ("fnr" | "dnr") if !id.is_empty() => {
            let (v, dn) = if kind == "fnr" {
                ("FNR", "Fødselsnummer")
            } else {
                ("DNR", "D-nummer")
            };
            let _ = write!(
                x,
                "<m18:Ident><fk1:Id>{}</fk1:Id><fk1:TypeId V=\"{v}\" S=\"2.16.578.1.12.4.1.1.8116\" DN=\"{dn}\"/></m18:Ident>",
                esc(id)
            );
        }
        _ => {
            let _ = write!(
                x,
                "<m18:Fodselsdato>{}</m18:Fodselsdato>",
                esc(s(q, &["patient", "birth_date"]))
            );
        }
    }
    let copay = a["copayment_ore"].as_i64().unwrap_or(0);
    let _ = write!(
        x,
        "<m18:Vernepliktig>false</m18:Vernepliktig><m18:Egenandel><m18:Egenandel V=\"{}\" U=\"NOK\"/></m18:Egenandel></m18:Pasient>",
        kroner(copay)
    );
    let _ = write!(
        x,
        "<m18:Resept><m18:Forskrivningsdato>{}</m18:Forskrivningsdato><m18:Rekvirent>\
         <m18:Ident><fk1:Id>{}</fk1:Id><fk1:TypeId V=\"HPR\" S=\"2.16.578.1.12.4.1.1.8116\" DN=\"HPR-nummer\"/></m18:Ident>\
         <m18:Etternavn>{}</m18:Etternavn></m18:Rekvirent></m18:Resept>",
        esc(s(q, &["prescription", "issued"])),
        esc(s(q, &["prescription", "prescriber", "hpr"])),
        esc(s(q, &["prescription", "prescriber", "name"]))
    );
    let _ = write!(
        x,
        "<m18:Vare><m18:Navn>{}</m18:Navn><m18:Nr>{}</m18:Nr>",
        esc(s(a, &["dispensed_name"])),
        esc(s(a, &["dispensed_varenr"]))
    );
    let atc = s(a, &["dispensed_atc"]);
    if !atc.is_empty() {
        let _ = write!(x, "<m18:Atc>{}</m18:Atc>", esc(atc));
    }
    let packages = a["packages"].as_f64().unwrap_or(1.0);
    let unit = a["unit_price_ore"].as_i64().unwrap_or(0);
    let _ = writeln!(
        x,
        "<m18:Antall>{packages}</m18:Antall><m18:Pris><m18:Pris V=\"{}\" U=\"NOK\"/></m18:Pris></m18:Vare>\
         </m18:Utlevering></m18:Enkeltregning>",
        kroner(unit)
    );
    x
}

/// The columns of a trust's invoice (one row per dispensing).
pub const INVOICE_COLUMNS: [&str; 10] = [
    "utleveringsdato",
    "apotek",
    "resept_id",
    "varenummer",
    "helseforetak",
    "regionalt_helseforetak",
    "organisasjonsnummer",
    "fakturaadresse",
    "krav_id",
    "beløp",
];

/// The paying trust of a claim, as the dispensing's answer names it (from the register):
/// `(trust id, trust, RHF, organisation number, invoice address)`. The trust's id is empty when
/// the answer names none (an H-prescription whose municipality is not in the register).
pub fn paying_trust<'a>(c: &SettledClaim<'a>, payer: &str) -> [&'a str; 5] {
    let line = c.answer["lines"]
        .as_array()
        .and_then(|lines| {
            lines
                .iter()
                .find(|l| l["payer"].as_str() == Some(payer) && l.get("trust").is_some())
        })
        .unwrap_or(&Value::Null);
    [
        s(line, &["trust_id"]),
        s(line, &["trust"]),
        s(line, &["rhf"]),
        s(line, &["org_nr"]),
        s(line, &["invoice_address"]),
    ]
}

/// A trust's invoice row: date, pharmacy, ReseptId, varenr, the paying trust with its RHF,
/// organisation number and invoice address, claim id; and the amount.
pub fn invoice_row(c: &SettledClaim, payer: &str, trust: &str) -> ([String; 9], i64) {
    let [_, named, rhf, org_nr, address] = paying_trust(c, payer);
    (
        [
            s(c.request, &["date"]).to_string(),
            format!(
                "{} ({})",
                s(c.request, &["pharmacy", "name"]),
                s(c.request, &["pharmacy", "id"])
            ),
            s(c.request, &["prescription", "id"]).to_string(),
            s(c.answer, &["dispensed_varenr"]).to_string(),
            if named.is_empty() { trust } else { named }.to_string(),
            rhf.to_string(),
            org_nr.to_string(),
            address.to_string(),
            c.id.to_string(),
        ],
        c.amount_ore,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_kroner_with_two_decimals() {
        assert_eq!(kroner(31_240), "312.40");
        assert_eq!(kroner(5), "0.05");
        assert_eq!(kroner(-1_250), "-12.50");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("A & B <\"x\">"), "A &amp; B &lt;&quot;x&quot;&gt;");
    }
}
