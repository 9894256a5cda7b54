//! **G1–G4** — the approval exemption (godkjenningsfritak, legemiddelforskriften § 2-5): a
//! medicine without Norwegian MT is used only under an exemption, for one patient, one practice
//! or one hospital department, for a stated quantity or a period of at most a year, with a
//! medical justification. Two paths lead to it:
//!
//! - the pharmacy's **notification**: the pharmacy assesses the doctor's justification,
//!   dispenses at once and notifies DMP (FEST `TypeSoknadSlv` 2, "Apotek vurderer");
//! - the doctor's **application** to DMP, approved before anything is dispensed — required for
//!   products on DMP's negative list (FEST `TypeSoknadSlv` 3), for cannabis products over 1 %
//!   THC (G2, hospital specialists only), and for a product whose marketed replacement's
//!   transition has ended (G3). A doctor may always apply instead of leaving it to the pharmacy.
//!
//! [`assess`] reads the case in the order of the rules: the period (G1), the justification (G1,
//! or the shortage, G4), who may apply (G2), whether DMP must approve first (G1's negative list,
//! G2, G3), and how long the exemption lasts (G1, cut at the end of a G3 transition). The counts
//! of the yearly report's table 1 come from the cases stored ([`Filing`] and [`State`]).

use domain::{Atc, Date, PatientId, PrescriberRole, RuleId};
use ruleset::RuleSet;
use ruleset::exemption::{ExemptionRules, TransitionRules};

use crate::fields::{FieldError, Fields, Reader, codes};
use crate::identity::PersonId;
use crate::{Actor, Refusal, Role};

domain::coded_enum!(
    /// Where an exemption stands.
    State {
        /// The pharmacy assessed the justification, dispensed and notified DMP: in force.
        Notified = "notified",
        /// The doctor's application waits for DMP.
        Submitted = "submitted",
        /// DMP approved the application: in force.
        Approved = "approved",
        /// DMP refused the application.
        Refused = "refused",
    }
);

impl State {
    /// In bokmål.
    pub fn describe(self) -> &'static str {
        match self {
            State::Notified => "meldt av apoteket – gjelder",
            State::Submitted => "søknad sendt DMP – venter på vedtak",
            State::Approved => "innvilget av DMP",
            State::Refused => "avslått av DMP",
        }
    }

    /// Whether the exemption may be used (dispensed under).
    pub fn in_force(self) -> bool {
        matches!(self, State::Notified | State::Approved)
    }
}

domain::coded_enum!(
    /// How the exemption came about: the yearly report counts the two apart (tables 1 and 5).
    Filing {
        /// The doctor applied to DMP.
        Application = "application",
        /// The pharmacy notified DMP.
        Notification = "notification",
    }
);

domain::coded_enum!(
    /// Whom the exemption is for (legemiddelforskriften § 2-5).
    Scope {
        /// One named patient.
        Patient = "patient",
        /// A practice (legekontor) to use for its patients.
        Practice = "practice",
        /// A hospital department.
        Department = "department",
    }
);

domain::coded_enum!(
    /// Why an unregistered product rather than a marketed one.
    Ground {
        /// No marketed medicine can be used for this patient (the justification says why).
        NoMarketedAlternative = "no_marketed_alternative",
        /// **G4** The marketed medicine is in shortage.
        Shortage = "shortage",
    }
);

domain::coded_enum!(
    /// What FEST says about the product (`TypeSoknadSlv`), when the product is in FEST.
    FestApplication {
        /// 2: the pharmacy assesses ("Apotek vurderer").
        PharmacyAssesses = "2",
        /// 3: an application to DMP is required ("Må søkes").
        MustApply = "3",
    }
);

/// A checked form.
#[derive(Clone, Debug, PartialEq)]
pub struct ExemptionForm {
    /// Whom it is for.
    pub scope: Scope,
    /// The patient's fødselsnummer (scope patient).
    pub patient_id: Option<PersonId>,
    /// The practice or department (other scopes).
    pub holder: Option<String>,
    /// The product's varenummer, when it has one in FEST.
    pub varenr: Option<String>,
    /// The product's name, form and strength.
    pub product: String,
    /// ATC code.
    pub atc: Atc,
    /// Substance.
    pub substance: String,
    /// THC content in percent, for a cannabis product (G2).
    pub thc_percent: Option<f64>,
    /// The product has MT in an EEA country, the USA, or a PIC-S or MRA country (else the
    /// negative list, G1).
    pub authorised_abroad: bool,
    /// A biological medicine (the negative list, G1).
    pub biological: bool,
    /// The quantity, in packages.
    pub quantity: Option<u32>,
    /// From.
    pub valid_from: Date,
    /// Until (inclusive), when a period is stated.
    pub valid_until: Option<Date>,
    /// The medical justification.
    pub justification: String,
    /// Why unregistered.
    pub ground: Ground,
    /// Why no marketed medicine can be used (ground `no_marketed_alternative`).
    pub why_not_marketed: Option<String>,
    /// The marketed medicine in shortage (ground `shortage`, G4).
    pub shortage_of: Option<String>,
    /// The prescribing doctor (a pharmacy's notification names the doctor whose justification
    /// it assessed).
    pub prescriber_name: String,
}

/// The field names, in the order of the form.
pub const FIELDS: &[&str] = &[
    "scope",
    "patient_id",
    "holder",
    "varenr",
    "product",
    "atc",
    "substance",
    "thc_percent",
    "authorised_abroad",
    "biological",
    "quantity",
    "valid_from",
    "valid_until",
    "justification",
    "ground",
    "why_not_marketed",
    "shortage_of",
    "prescriber_name",
];

/// Checks the form, with an error next to every field that is wrong.
pub fn validate(fields: &Fields) -> Result<ExemptionForm, Vec<FieldError>> {
    let mut r = Reader::new(fields);
    let scope = r.choice("scope", Scope::from_code, &codes(Scope::ALL, Scope::code));
    let (mut patient_id, mut holder) = (None, None);
    match scope {
        Some(Scope::Patient) => {
            let text = r
                .text(
                    "patient_id",
                    "pasientens fødselsnummer eller D-nummer (11 sifre)",
                )
                .replace(' ', "");
            if !text.is_empty() {
                // A D-number has 4–7 in its first digit.
                let kind = if text.starts_with(['4', '5', '6', '7']) {
                    PatientId::Dnr
                } else {
                    PatientId::Fnr
                };
                match PersonId::parse(&text, kind) {
                    Ok(id) => patient_id = Some(id),
                    Err(e) => r.error("patient_id", e),
                }
            }
        }
        Some(Scope::Practice) => holder = Some(r.text("holder", "legekontorets navn")),
        Some(Scope::Department) => holder = Some(r.text("holder", "sykehusavdelingens navn")),
        None => {}
    }
    let varenr = r.optional("varenr");
    if let Some(v) = &varenr
        && !(v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()))
    {
        r.error("varenr", "varenummeret er seks sifre");
    }
    let product = r.text("product", "preparatets navn, form og styrke");
    let atc = r.atc("atc");
    let substance = r.text("substance", "virkestoff");
    let thc_percent = r
        .optional("thc_percent")
        .and_then(|_| r.decimal("thc_percent", "THC-innhold i prosent (0–100)", 0.0, 100.0));
    let authorised_abroad = r.yes_no("authorised_abroad");
    let biological = r.yes_no("biological");
    let quantity = r
        .optional("quantity")
        .and_then(|_| r.number("quantity", "antall pakninger", 1, 100_000));
    let valid_from = r.date("valid_from");
    let valid_until = r
        .optional("valid_until")
        .and_then(|_| r.date("valid_until"));
    if quantity.is_none()
        && valid_until.is_none()
        && !r
            .errors
            .iter()
            .any(|e| e.field == "quantity" || e.field == "valid_until")
    {
        r.error(
            "quantity",
            "oppgi mengde (antall pakninger) eller en periode (til-dato), G1",
        );
    }
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until < from
    {
        r.error("valid_until", "til-datoen ligger før fra-datoen");
    }
    let justification = r.text("justification", "den medisinske begrunnelsen (G1)");
    let ground = r.choice(
        "ground",
        Ground::from_code,
        &codes(Ground::ALL, Ground::code),
    );
    let why_not_marketed = r.optional("why_not_marketed");
    let shortage_of = r.optional("shortage_of");
    match ground {
        Some(Ground::NoMarketedAlternative) if why_not_marketed.is_none() => r.error(
            "why_not_marketed",
            "begrunn hvorfor et markedsført legemiddel ikke kan brukes (G1)",
        ),
        Some(Ground::Shortage) if shortage_of.is_none() => r.error(
            "shortage_of",
            "oppgi det markedsførte legemidlet det er mangel på (G4)",
        ),
        _ => {}
    }
    let prescriber_name = r.text("prescriber_name", "forskrivende leges navn");
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    match (scope, atc, valid_from, ground) {
        (Some(scope), Some(atc), Some(valid_from), Some(ground)) => Ok(ExemptionForm {
            scope,
            patient_id,
            holder,
            varenr,
            product,
            atc,
            substance,
            thc_percent,
            authorised_abroad,
            biological,
            quantity,
            valid_from,
            valid_until,
            justification,
            ground,
            why_not_marketed,
            shortage_of,
            prescriber_name,
        }),
        _ => Err(vec![FieldError {
            field: "$".into(),
            message: "skjemaet er ufullstendig".into(),
        }]),
    }
}

/// One step of the assessment: the rule and what it found, in bokmål.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// What it found.
    pub text: String,
}

/// What the rules make of an exemption.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Notified (in force at once) or submitted (waits for DMP).
    pub state: State,
    /// The path.
    pub filing: Filing,
    /// From.
    pub valid_from: Date,
    /// Until (inclusive).
    pub valid_until: Date,
    /// Why DMP must approve first, if it must (empty: the pharmacy may notify).
    pub dmp_reasons: Vec<String>,
    /// Every rule read, in order.
    pub findings: Vec<Finding>,
}

/// Who files: a doctor applies, a pharmacist notifies.
pub fn filing_of(role: Role) -> Option<Filing> {
    match role {
        Role::Prescriber => Some(Filing::Application),
        Role::Pharmacist => Some(Filing::Notification),
        _ => None,
    }
}

/// **G1–G4**: assesses an exemption filed by `filing`. `prescriber` is the applying doctor's role
/// (G2); `fest` what FEST says of the product, if it is there. A path the rules close is a
/// refusal naming the rule; the filing is then not stored.
pub fn assess(
    form: &ExemptionForm,
    filing: Filing,
    prescriber: Option<PrescriberRole>,
    fest: Option<FestApplication>,
    rules: &RuleSet,
) -> Result<Assessment, Refusal> {
    let date = form.valid_from;
    let invalid = |field: &str, message: String| {
        Refusal::Invalid(vec![FieldError {
            field: field.into(),
            message,
        }])
    };
    let g1: &ExemptionRules = &rules
        .approval_exemption
        .at(date)
        .map_err(|e| invalid("valid_from", e.to_string()))?
        .value;
    let g3: &TransitionRules = &rules
        .transitions
        .at(date)
        .map_err(|e| invalid("valid_from", e.to_string()))?
        .value;
    let mut findings = Vec::new();

    // G1: a stated quantity or a period of at most a year.
    let longest = date
        .plus_days(g1.max_period_days - 1)
        .ok_or_else(|| invalid("valid_from", "datoen er utenfor kalenderen".into()))?;
    let mut valid_until = match form.valid_until {
        Some(until) if until > longest => {
            return Err(invalid(
                "valid_until",
                format!(
                    "et godkjenningsfritak gjelder høyst {} dager: til og med {longest} (G1, legemiddelforskriften § 2-5)",
                    g1.max_period_days
                ),
            ));
        }
        Some(until) => until,
        None => longest,
    };
    findings.push(Finding {
        rule: RuleId::G1,
        text: match (form.quantity, form.valid_until) {
            (Some(q), _) => format!("For {q} pakninger, til og med {valid_until} (høyst ett år)."),
            (None, _) => format!("For perioden {date} – {valid_until} (høyst ett år)."),
        },
    });

    // G1 / G4: the justification says why not a marketed medicine — or that it is in shortage.
    findings.push(Finding {
        rule: if form.ground == Ground::Shortage {
            RuleId::G4
        } else {
            RuleId::G1
        },
        text: match form.ground {
            Ground::Shortage => format!(
                "Brukes fordi det er mangel på {} (G4).",
                form.shortage_of
                    .as_deref()
                    .unwrap_or("det markedsførte legemidlet")
            ),
            Ground::NoMarketedAlternative => {
                "Medisinsk begrunnelse med hvorfor et markedsført legemiddel ikke kan brukes."
                    .into()
            }
        },
    });

    let mut dmp_reasons = Vec::new();
    // G2: cannabis over the THC limit — hospital specialists only, by application.
    if let Some(thc) = form.thc_percent {
        let limit = rules
            .cannabis
            .at(date)
            .map_err(|e| invalid("valid_from", e.to_string()))?
            .value
            .thc_percent_above;
        if thc > limit {
            if filing == Filing::Application && prescriber != Some(PrescriberRole::HospitalDoctor) {
                return Err(Refusal::Forbidden(format!(
                    "Bare sykehusspesialister kan søke godkjenningsfritak for cannabisprodukter med mer enn {limit} % THC (G2)."
                )));
            }
            dmp_reasons.push(format!(
                "cannabisprodukt med {thc} % THC, over {limit} % (G2: søkes av sykehusspesialist)"
            ));
            findings.push(Finding {
                rule: RuleId::G2,
                text: format!("{thc} % THC er over {limit} %: sykehusspesialist søker DMP."),
            });
        }
    }

    // G1: DMP first for what FEST says must be applied for, and for the negative list.
    if fest == Some(FestApplication::MustApply) {
        dmp_reasons.push("FEST: «Må søkes» (TypeSoknadSlv 3)".into());
    }
    if !form.authorised_abroad {
        dmp_reasons.push(
            "negativlisten: uten markedsføringstillatelse i EØS, USA eller et PIC-S/MRA-land"
                .into(),
        );
    }
    if form.biological {
        dmp_reasons.push("negativlisten: biologisk legemiddel".into());
    }
    if let Some(reason) = g1.negative_reason(&form.atc, &form.substance) {
        dmp_reasons.push(format!("negativlisten: {reason}"));
    }

    // G3: a marketed product replaces it — dispensing under the transition, then DMP only
    // (unless the marketed product is in shortage, G4).
    if let Some(replacement) = g3.replacing(&form.atc, date) {
        if form.ground == Ground::Shortage {
            findings.push(Finding {
                rule: RuleId::G3,
                text: format!(
                    "{} erstatter uregistrerte produkter fra {}, men er meldt i mangel (G4): fritaket kan brukes.",
                    replacement.marketed, replacement.marketed_from
                ),
            });
        } else if date <= replacement.last_day {
            valid_until = valid_until.min(replacement.last_day);
            findings.push(Finding {
                rule: RuleId::G3,
                text: format!(
                    "{} har markedsføringstillatelse fra {}: det uregistrerte produktet kan utleveres i overgangsperioden, til og med {}.",
                    replacement.marketed, replacement.marketed_from, replacement.last_day
                ),
            });
        } else {
            dmp_reasons.push(format!(
                "{} erstatter produktet; overgangsperioden sluttet {} (G3)",
                replacement.marketed, replacement.last_day
            ));
            findings.push(Finding {
                rule: RuleId::G3,
                text: format!(
                    "Overgangsperioden etter at {} kom på markedet sluttet {}: bare DMP kan gi fritak, med begrunnelse for hvorfor det markedsførte ikke kan brukes.",
                    replacement.marketed, replacement.last_day
                ),
            });
        }
    }

    let state = match (filing, dmp_reasons.is_empty()) {
        (Filing::Notification, false) => {
            return Err(Refusal::Conflict(format!(
                "Apoteket kan ikke melde dette fritaket: DMP må godkjenne først ({}). Legen søker DMP (G1, legemiddelforskriften § 2-5).",
                dmp_reasons.join("; ")
            )));
        }
        (Filing::Notification, true) => State::Notified,
        (Filing::Application, _) => State::Submitted,
    };
    findings.push(Finding {
        rule: RuleId::G1,
        text: match (state, dmp_reasons.is_empty()) {
            (State::Notified, _) => {
                "Apoteket har vurdert begrunnelsen og melder fritaket til DMP: kan utleveres nå.".into()
            }
            (_, true) => format!(
                "Søknad til DMP (apoteket kunne også ha vurdert og meldt det); DMP bruker om lag {} virkedager.",
                g1.dmp_handling_working_days
            ),
            (_, false) => format!(
                "DMP må godkjenne før utlevering ({}); DMP bruker om lag {} virkedager.",
                dmp_reasons.join("; "),
                g1.dmp_handling_working_days
            ),
        },
    });
    Ok(Assessment {
        state,
        filing,
        valid_from: date,
        valid_until,
        dmp_reasons,
        findings,
    })
}

/// DMP's answer to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ruling {
    /// Approved.
    Approve,
    /// Refused.
    Refuse,
}

/// **G1** DMP decides a submitted application: only DMP's caseworker, only once, a refusal with
/// its reason. Returns the new state and the line for the record.
pub fn rule_on(
    state: State,
    actor: &Actor,
    ruling: Ruling,
    reason: Option<&str>,
    today: Date,
) -> Result<(State, String), Refusal> {
    if actor.role != Role::DmpCaseworker {
        return Err(Refusal::Forbidden(
            "bare DMPs saksbehandlere avgjør søknader om godkjenningsfritak".into(),
        ));
    }
    if state != State::Submitted {
        return Err(Refusal::Conflict(format!(
            "saken er allerede {}",
            state.describe()
        )));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match ruling {
        Ruling::Approve => Ok((
            State::Approved,
            format!(
                "Innvilget av {} {today}.{}",
                actor.name,
                reason.map(|r| format!(" {r}")).unwrap_or_default()
            ),
        )),
        Ruling::Refuse => match reason {
            None => Err(Refusal::Invalid(vec![FieldError {
                field: "reason".into(),
                message: "et avslag må begrunnes".into(),
            }])),
            Some(r) => Ok((
                State::Refused,
                format!("Avslått av {} {today}: {r}", actor.name),
            )),
        },
    }
}

/// One row of the yearly report's table 1: applications DMP handled (decided that year) and
/// the pharmacies' notifications (filed that year).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct YearCount {
    /// The year.
    pub year: i32,
    /// Applications DMP decided, approved or refused.
    pub applications: u64,
    /// Notifications.
    pub notifications: u64,
}

impl YearCount {
    /// Both together (the report's «totalt»).
    pub fn total(&self) -> u64 {
        self.applications + self.notifications
    }
}

/// A stored exemption as the count needs it.
#[derive(Clone, Copy, Debug)]
pub struct Counted {
    /// The path.
    pub filing: Filing,
    /// Where it stands.
    pub state: State,
    /// The day it was filed.
    pub filed: Date,
    /// The day DMP decided it, if it did.
    pub decided: Option<Date>,
}

/// **Table 1** (seed 003): per year, the applications DMP handled and the notifications, oldest
/// year first. An application waiting for DMP is not yet handled and is not counted.
pub fn yearly_counts(cases: impl IntoIterator<Item = Counted>) -> Vec<YearCount> {
    let mut years = std::collections::BTreeMap::<i32, YearCount>::new();
    for c in cases {
        let (year, application) = match (c.filing, c.state, c.decided) {
            (Filing::Notification, _, _) => (c.filed.year(), false),
            (Filing::Application, State::Approved | State::Refused, Some(d)) => (d.year(), true),
            _ => continue,
        };
        let row = years.entry(year).or_insert(YearCount {
            year,
            ..YearCount::default()
        });
        if application {
            row.applications += 1;
        } else {
            row.notifications += 1;
        }
    }
    years.into_values().collect()
}

#[cfg(test)]
mod tests;
