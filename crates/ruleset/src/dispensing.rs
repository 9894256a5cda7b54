//! Rule data the pharmacy uses at the counter: how long a blue prescription lasts and how much
//! one dispensing may hand out (`GYLDIGHET`), and the opioid conversion table that turns a
//! prescribed dose into mg OMEQ per day (`OMEQ`, domain.md § 8).

use domain::Atc;
use serde::Deserialize;

/// `GYLDIGHET`: validity and quantity of a blue prescription.
#[derive(Clone, Debug)]
pub struct DispensingLimits {
    /// A blue prescription cannot be dispensed on blue from this many months after issue.
    pub blue_valid_months: u32,
    /// At most this many months' supply per dispensing on a blue prescription.
    pub blue_max_supply_months: u32,
}

/// How a medicine is taken, as far as the OMEQ table tells routes apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Swallowed (tablets, capsules, mixtures).
    Oral,
    /// Suppositories.
    Rectal,
    /// Patches.
    Transdermal,
    /// Under the tongue or in the cheek.
    Sublingual,
    /// Nasal spray.
    Nasal,
    /// Injection or infusion.
    Parenteral,
}

impl Route {
    /// Norwegian, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Route::Oral => "oral",
            Route::Rectal => "rektal",
            Route::Transdermal => "depotplaster",
            Route::Sublingual => "sublingval/buccal",
            Route::Nasal => "nesespray",
            Route::Parenteral => "injeksjon/infusjon",
        }
    }
}

/// A prescribed daily dose of one opioid, as the prescription states it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dose {
    /// Milligrams per day.
    MgPerDay(f64),
    /// Micrograms per hour (patches).
    UgPerHour(f64),
}

impl Dose {
    /// The dose in mg per day: 1 µg/h is 24 µg = 0.024 mg a day (arithmetic, not law).
    pub fn mg_per_day(self) -> f64 {
        match self {
            Dose::MgPerDay(mg) => mg,
            Dose::UgPerHour(ug) => ug * 24.0 / 1000.0,
        }
    }
}

/// One row of the conversion table.
#[derive(Clone, Debug)]
pub struct Factor {
    /// The substance, for people.
    pub substance: String,
    /// The ATC codes (or groups) it applies to.
    pub atc: Vec<Atc>,
    /// The route.
    pub route: Route,
    /// mg OMEQ per mg of the substance per day, or by tier (methadone).
    pub conversion: Conversion,
}

/// How one substance converts.
#[derive(Clone, Debug)]
pub enum Conversion {
    /// A fixed factor.
    Fixed(f64),
    /// By tier of the resulting morphine dose (methadone): ascending `omeq_from`, each with its
    /// factor. The first tier whose range holds `mg × factor` applies; below the first tier the
    /// first factor, above the last the last.
    Tiered(Vec<(f64, f64)>),
}

/// `OMEQ`: Helsedirektoratet's equipotency table, and which forms are which route.
#[derive(Clone, Debug)]
pub struct OmeqTable {
    /// Routes outside the refund-code -71 scope (injections, nasal sprays, sublingual): an
    /// opioid decision does not cover them.
    pub excluded_routes: Vec<Route>,
    /// FEST form names (`LegemiddelformKort`, lower-cased fragments) to route; first match wins.
    pub forms: Vec<(Vec<String>, Route)>,
    /// The factors.
    pub factors: Vec<Factor>,
    /// Parts the source does not confirm.
    pub unconfirmed: Vec<String>,
}

impl OmeqTable {
    /// The route of a FEST form name, if the table knows it.
    pub fn route_of_form(&self, form: &str) -> Option<Route> {
        let form = form.to_lowercase();
        self.forms
            .iter()
            .find(|(fragments, _)| fragments.iter().any(|f| form.contains(f.as_str())))
            .map(|(_, r)| *r)
    }

    /// mg OMEQ per day of `dose` of the medicine `atc` taken by `route`; `None` when the table
    /// has no factor for it (the prescriber must then state the dose in mg OMEQ).
    pub fn omeq(&self, atc: &Atc, route: Route, dose: Dose) -> Option<f64> {
        let row = self
            .factors
            .iter()
            .find(|f| f.route == route && f.atc.iter().any(|a| atc == a || atc.is_in(a)))?;
        let mg = dose.mg_per_day();
        let omeq = match &row.conversion {
            Conversion::Fixed(factor) => mg * factor,
            Conversion::Tiered(tiers) => {
                let fits = |i: usize| {
                    let (from, factor) = tiers[i];
                    let to = tiers.get(i + 1).map_or(f64::INFINITY, |t| t.0);
                    let omeq = mg * factor;
                    (from..to).contains(&omeq).then_some(omeq)
                };
                (0..tiers.len()).find_map(fits).unwrap_or_else(|| {
                    let first = tiers[0];
                    if mg * first.1 < first.0 {
                        mg * first.1
                    } else {
                        mg * tiers[tiers.len() - 1].1
                    }
                })
            }
        };
        // Whole tenths of a mg: the table's factors carry no more precision than that.
        Some((omeq * 10.0).round() / 10.0)
    }
}

/// Validates a period's table.
pub(crate) fn build_omeq(r: crate::raw::RawOmeq) -> Result<OmeqTable, String> {
    let mut forms = Vec::new();
    for f in r.form {
        if f.contains.is_empty() || f.contains.iter().any(|c| c.trim().is_empty()) {
            return Err("form.contains: ventet minst ett ikke-tomt navn".into());
        }
        forms.push((
            f.contains.iter().map(|c| c.to_lowercase()).collect(),
            f.route,
        ));
    }
    let mut factors = Vec::new();
    for f in r.factor {
        if f.atc.is_empty() {
            return Err(format!("factor «{}»: atc kan ikke være tom", f.substance));
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        let conversion = match (f.mg_per_day, f.tiers.is_empty()) {
            (Some(x), true) if positive(x) => Conversion::Fixed(x),
            (None, false) => {
                let tiers: Vec<(f64, f64)> =
                    f.tiers.iter().map(|t| (t.omeq_from, t.factor)).collect();
                let ascending = tiers.windows(2).all(|w| w[0].0 < w[1].0);
                if !ascending
                    || tiers
                        .iter()
                        .any(|t| !positive(t.1) || !t.0.is_finite() || t.0 < 0.0)
                {
                    return Err(format!(
                        "factor «{}»: tiers må ha stigende omeq_from og faktorer over 0",
                        f.substance
                    ));
                }
                Conversion::Tiered(tiers)
            }
            _ => {
                return Err(format!(
                    "factor «{}»: ventet enten mg_per_day (over 0) eller tiers",
                    f.substance
                ));
            }
        };
        factors.push(Factor {
            substance: f.substance,
            atc: f.atc.into_iter().map(|a| a.0).collect(),
            route: f.route,
            conversion,
        });
    }
    Ok(OmeqTable {
        unconfirmed: r.unconfirmed,
        excluded_routes: r.excluded_routes,
        forms,
        factors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> OmeqTable {
        let atc = |c: &str| vec![Atc::parse(c).unwrap()];
        OmeqTable {
            unconfirmed: Vec::new(),
            excluded_routes: vec![Route::Sublingual],
            forms: vec![
                (vec!["sublingval".into()], Route::Sublingual),
                (vec!["plaster".into()], Route::Transdermal),
                (vec!["tablett".into()], Route::Oral),
            ],
            factors: vec![
                Factor {
                    substance: "oksykodon".into(),
                    atc: atc("N02AA05"),
                    route: Route::Oral,
                    conversion: Conversion::Fixed(1.5),
                },
                Factor {
                    substance: "fentanyl".into(),
                    atc: atc("N02AB03"),
                    route: Route::Transdermal,
                    conversion: Conversion::Fixed(100.0),
                },
                Factor {
                    substance: "metadon".into(),
                    atc: atc("N07BC02"),
                    route: Route::Oral,
                    conversion: Conversion::Tiered(vec![
                        (30.0, 5.0),
                        (90.0, 6.0),
                        (300.0, 8.0),
                        (600.0, 10.0),
                        (1000.0, 12.0),
                    ]),
                },
            ],
        }
    }

    #[test]
    fn forms_name_their_route_first_match_first() {
        let t = table();
        assert_eq!(
            t.route_of_form("Sublingvaltablett"),
            Some(Route::Sublingual)
        );
        assert_eq!(t.route_of_form("Depottablett"), Some(Route::Oral));
        assert_eq!(t.route_of_form("Depotplaster"), Some(Route::Transdermal));
        assert_eq!(t.route_of_form("Injeksjonsvæske"), None);
    }

    #[test]
    fn doses_convert_by_the_table() {
        let t = table();
        let oxy = Atc::parse("N02AA05").unwrap();
        assert_eq!(t.omeq(&oxy, Route::Oral, Dose::MgPerDay(40.0)), Some(60.0));
        assert_eq!(t.omeq(&oxy, Route::Rectal, Dose::MgPerDay(40.0)), None);
        // Fentanyl 25 µg/h = 0.6 mg/day × 100 = 60 mg OMEQ (≈ 2.4 per µg/h).
        let fentanyl = Atc::parse("N02AB03").unwrap();
        assert_eq!(
            t.omeq(&fentanyl, Route::Transdermal, Dose::UgPerHour(25.0)),
            Some(60.0)
        );
    }

    #[test]
    fn methadone_converts_by_the_tier_its_morphine_dose_falls_in() {
        let t = table();
        let m = Atc::parse("N07BC02").unwrap();
        let omeq = |mg| t.omeq(&m, Route::Oral, Dose::MgPerDay(mg)).unwrap();
        assert_eq!(omeq(10.0), 50.0, "5:1 for 30–89");
        assert_eq!(omeq(20.0), 120.0, "20 × 5 = 100 is past 89: 6:1");
        assert_eq!(omeq(50.0), 400.0, "50 × 6 = 300 is past 299: 8:1");
        assert_eq!(omeq(4.0), 20.0, "below the first tier: its factor");
        assert_eq!(omeq(200.0), 2400.0, "200 × 12 = 2400: the last tier, 12:1");
    }
}
