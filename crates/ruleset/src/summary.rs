//! What is in force on a date, for people: each rule's data with its period and source, as
//! label–value lines. Used by `legemiddel rules --date` (and the service's `/api/v1/rules`).

use domain::{Atc, Date, Period};

use crate::{InForce, RuleSet, Source};

/// One rule's data in force on a date.
#[derive(Clone, Debug)]
pub struct RuleInForce<'r> {
    /// Where it comes from.
    pub source: &'r Source,
    /// The period (for list files: the file's entries in force, each with its own period).
    pub period: Option<Period>,
    /// Label and value, in bokmål.
    pub lines: Vec<(String, String)>,
}

impl RuleSet {
    /// Every rule's data in force on `date`, in the order of the law (list, §§ 4, 1b, 3, 2, 8, G).
    pub fn in_force(&self, date: Date) -> Vec<RuleInForce<'_>> {
        let mut out = Vec::new();
        // The § 1b list, one block per list file with entries in force.
        for source in self.sources.iter().filter(|s| s.rule == domain::RuleId::F5) {
            let lines: Vec<(String, String)> = self
                .h_list
                .entries()
                .iter()
                .filter(|e| e.source.file == source.file && e.period.contains(date))
                .map(|e| {
                    let mut value = format!("{} — {}", e.substance, e.usage);
                    if !e.brands.is_empty() {
                        value.push_str(&format!(" (bare handelsnavn {})", e.brands.join(" / ")));
                    }
                    if !e.atc.is_substance() {
                        value.push_str(" (gruppekode: bare dette virkestoffet)");
                    }
                    if let Some(t) = e.transition {
                        value.push_str(&format!(
                            " [overgang F6: blå resepter utstedt før {}]",
                            t.blue_issued_before
                        ));
                    }
                    value.push_str(&format!(" [{}]", e.period));
                    (e.atc.to_string(), value)
                })
                .collect();
            if !lines.is_empty() {
                out.push(RuleInForce {
                    source,
                    period: None,
                    lines,
                });
            }
        }
        push(&mut out, &self.communicable, date, |v| {
            vec![
                (
                    "antiinfektiver (blå resept)".into(),
                    atcs(&v.anti_infectives),
                ),
                (
                    "immunstimulerende (blå resept)".into(),
                    atcs(&v.immunostimulants),
                ),
                ("via FHI".into(), atcs(&v.fhi_supplied)),
                ("forebyggende vaksiner".into(), atcs(&v.preventive_vaccines)),
            ]
        });
        push(&mut out, &self.general, date, |v| {
            vec![(
                "langvarig behandling, minst måneder per år".into(),
                v.long_term_min_months.to_string(),
            )]
        });
        push(&mut out, &self.decision_limits, date, |v| {
            let mut lines = vec![("uten tidsbegrensning".into(), atcs(&v.unlimited))];
            for g in &v.limited {
                lines.push((g.name.clone(), format!("{} måneder", g.months)));
            }
            lines.push((
                "øvrige i reseptgruppe A/B".into(),
                format!("{} måneder", v.group_ab_months),
            ));
            lines.push(("alle andre".into(), "ingen tidsbegrensning".into()));
            lines
        });
        push(&mut out, &self.applicant, date, |v| {
            let mut lines = vec![
                (
                    "reseptgrupper med spesialistkrav".into(),
                    v.specialist_prescription_groups
                        .iter()
                        .map(|g| g.code())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (
                    "unntatt kravet for gruppe A/B".into(),
                    atcs(&v.group_ab_exempt),
                ),
            ];
            for b in &v.public_hospital_only {
                lines.push((
                    "bare lege ved offentlig sykehus".into(),
                    format!("{} ({}, {})", b.brand, b.substance, b.atc),
                ));
            }
            for g in &v.specialist_groups {
                lines.push((
                    "spesialist eller sykehuslege".into(),
                    format!("{} ({})", g.name, g.atc),
                ));
            }
            lines
        });
        push(&mut out, &self.opioids, date, |v| {
            vec![
                ("omfang (refusjonskode -71)".into(), atcs(&v.scope)),
                ("metadon".into(), atcs(&v.methadone)),
                (
                    "fastlege kan søke til og med".into(),
                    format!("{} mg OMEQ per døgn", v.gp_max_omeq),
                ),
                (
                    "dekkes på blå resept til og med".into(),
                    format!(
                        "{} mg OMEQ per døgn (ikke-kreftrelaterte smerter)",
                        v.blue_max_omeq
                    ),
                ),
            ]
        });
        push(&mut out, &self.palliative, date, |v| {
            vec![
                ("refusjonskode".into(), v.refund_code.to_string()),
                ("opioider direkte på blå resept".into(), atcs(&v.opioids)),
            ]
        });
        push(&mut out, &self.copayment, date, |v| {
            let mut lines = vec![
                ("andel av prisen".into(), format!("{} %", v.share_percent)),
                (
                    "maksimum".into(),
                    format!(
                        "{} per {}",
                        v.cap.kroner(),
                        match v.cap_per {
                            crate::CapPer::Prescription => "resept",
                            crate::CapPer::Dispensing => "utlevering",
                        }
                    ),
                ),
                ("egenandelstak".into(), v.yearly_ceiling.kroner()),
                (
                    "ingen egenandel under alder".into(),
                    format!("{} år", v.no_copayment_under_age),
                ),
            ];
            if !v.unconfirmed.is_empty() {
                lines.push(("ikke bekreftet".into(), v.unconfirmed.join(", ")));
            }
            lines
        });
        push(&mut out, &self.cannabis, date, |v| {
            vec![(
                "bare sykehusspesialist over".into(),
                format!("{} % THC", v.thc_percent_above),
            )]
        });
        push(&mut out, &self.approval_exemption, date, |v| {
            let mut lines = vec![
                (
                    "lengste periode".into(),
                    format!("{} dager", v.max_period_days),
                ),
                (
                    "DMPs behandlingstid".into(),
                    format!("om lag {} virkedager", v.dmp_handling_working_days),
                ),
            ];
            for g in &v.negative_groups {
                lines.push((format!("negativlisten: {}", g.atc), g.reason.clone()));
            }
            for n in &v.negative_substances {
                lines.push((format!("negativlisten: {}", n.substance), n.reason.clone()));
            }
            if !v.unconfirmed.is_empty() {
                lines.push(("ikke bekreftet".into(), v.unconfirmed.join("; ")));
            }
            lines
        });
        push(&mut out, &self.transitions, date, |v| {
            let mut lines = vec![(
                "lengste overgangsperiode".into(),
                format!("{} dager", v.max_transition_days),
            )];
            for r in &v.replacements {
                lines.push((
                    format!("{} erstatter {}", r.marketed, r.atc),
                    format!(
                        "fra {}; uregistrerte utleveres til og med {}",
                        r.marketed_from, r.last_day
                    ),
                ));
            }
            if v.replacements.is_empty() {
                lines.push(("kunngjorte erstatninger".into(), "ingen".into()));
            }
            lines
        });
        push(&mut out, &self.dispensing, date, |v| {
            vec![
                (
                    "blå resept gjelder".into(),
                    format!("{} måneder fra utstedelse", v.blue_valid_months),
                ),
                (
                    "høyst forbruk per utlevering".into(),
                    format!("{} måneder (blå resept)", v.blue_max_supply_months),
                ),
            ]
        });
        push(&mut out, &self.omeq, date, |v| {
            let mut lines: Vec<(String, String)> = v
                .factors
                .iter()
                .map(|f| {
                    let conversion = match &f.conversion {
                        crate::dispensing::Conversion::Fixed(x) => format!("× {x}"),
                        crate::dispensing::Conversion::Tiered(t) => t
                            .iter()
                            .map(|(from, x)| format!("fra {from} mg: × {x}"))
                            .collect::<Vec<_>>()
                            .join("; "),
                    };
                    (
                        format!("{} ({})", f.substance, f.route.describe()),
                        conversion,
                    )
                })
                .collect();
            lines.push((
                "dekkes ikke av opioidvedtak".into(),
                v.excluded_routes
                    .iter()
                    .map(|r| r.describe())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            if !v.unconfirmed.is_empty() {
                lines.push(("ikke bekreftet".into(), v.unconfirmed.join(", ")));
            }
            lines
        });
        push(&mut out, &self.trusts, date, |v| {
            v.rhfs
                .iter()
                .map(|r| {
                    let trusts: Vec<&str> = v
                        .trusts
                        .iter()
                        .filter(|t| t.rhf == r.id)
                        .map(|t| t.name.as_str())
                        .collect();
                    (r.name.clone(), trusts.join(", "))
                })
                .collect()
        });
        push(&mut out, &self.stockpiles, date, |v| {
            let mut lines = vec![
                (
                    "grossister".into(),
                    v.wholesalers
                        .iter()
                        .map(|w| format!("{} ({})", w.name, w.id))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                (
                    "ordinært lager".into(),
                    format!("{} dagers salg", v.ordinary_days),
                ),
            ];
            for g in &v.primary {
                let months = match g.requirement {
                    crate::stockpiles::Requirement::Months(m) => format!("{m} måneder"),
                    crate::stockpiles::Requirement::Days(d) => format!("{d} dager"),
                };
                lines.push((
                    format!("primærhelsetjenesten: {}", g.name),
                    format!("{} – {months}", atcs(&g.atc)),
                ));
            }
            for g in &v.specialist {
                let days = match g.requirement {
                    crate::stockpiles::Requirement::Months(m) => format!("{m} måneder"),
                    crate::stockpiles::Requirement::Days(d) => format!("{d} dager"),
                };
                lines.push((
                    format!(
                        "spesialisthelsetjenesten ({}): {}",
                        v.specialist_wholesaler, g.name
                    ),
                    format!("{} – {days}", atcs(&g.atc)),
                ));
            }
            if !v.unconfirmed.is_empty() {
                lines.push(("ikke bekreftet".into(), v.unconfirmed.join("; ")));
            }
            lines
        });
        push(&mut out, &self.rationing, date, |v| {
            let now: Vec<&crate::stockpiles::Restriction> = v
                .iter()
                .filter(|r| r.from <= date && r.until.is_none_or(|u| date <= u))
                .collect();
            if now.is_empty() {
                return vec![("begrensninger i kraft".into(), "ingen".into())];
            }
            now.iter()
                .map(|r| {
                    let mut what = atcs(&r.atc);
                    if let Some(m) = r.max_packages {
                        what.push_str(&format!(", høyst {m} pakning(er) per utlevering"));
                    }
                    if !r.priority_groups.is_empty() {
                        what.push_str(&format!(", prioritert: {}", r.priority_groups.join(", ")));
                    }
                    (format!("{} ({})", r.id, r.title), what)
                })
                .collect()
        });
        push(&mut out, &self.case_handling, date, |v| {
            let mut lines = vec![
                ("papirsøknad sendes til".into(), v.helfo_address.join(", ")),
                (
                    "frist for å svare på forespørsel om opplysninger".into(),
                    format!("{} dager", v.more_information_days),
                ),
                ("klagefrist".into(), format!("{} uker", v.appeal_weeks)),
            ];
            if !v.unconfirmed.is_empty() {
                lines.push(("ikke bekreftet".into(), v.unconfirmed.join("; ")));
            }
            lines
        });
        out
    }
}

fn push<'r, T>(
    out: &mut Vec<RuleInForce<'r>>,
    dated: &'r crate::Dated<T>,
    date: Date,
    lines: impl Fn(&T) -> Vec<(String, String)>,
) {
    if let Ok(InForce {
        period,
        value,
        source,
    }) = dated.at(date)
    {
        out.push(RuleInForce {
            source,
            period: Some(*period),
            lines: lines(value),
        });
    }
}

fn atcs(list: &[Atc]) -> String {
    list.iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
