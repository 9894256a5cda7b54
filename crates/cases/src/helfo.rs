//! **B3–B5** — the individual application to Helfo under blåreseptforskriften § 3, decided
//! automatically where the rules decide (Helfo's goal, B3), and otherwise sent to a caseworker.
//!
//! The order of [`assess`] is the order a caseworker reads the case in: does Helfo pay at all
//! (the decision engine: F3 the trust pays, § 2 / § 4 directly, the general conditions, B4 who
//! may apply, B5 the opioid cap), then the § 3 conditions of the form (severity, long-term need,
//! previous treatment, approved use), then how long the decision lasts (B3 time limits, as
//! rule data). Patients without a fødselsnummer or D-number take the paper path (B3).

use domain::{
    ActionKind, Atc, Authorisation, BlockerCode, Date, DecisionRequest, Drug, MonthsPerYear,
    NyeMetoder, Omeq, Opioid, OpioidKind, Pain, Patient, PatientId, Payer, PrescriberRole,
    PrescriptionGroup, RefundCode, RuleId, Scheme, Setting, StartedIn, Treatment, Usage,
};
use ruleset::{DecisionLimits, RuleSet};

use crate::fields::{FieldError, Fields, Reader, codes};
use crate::identity::PersonId;
use crate::{Actor, Refusal, Role};

domain::coded_enum!(
    /// Where an application stands.
    State {
        /// Granted (automatically or by a caseworker): the doctor writes a blue prescription.
        Granted = "granted",
        /// Refused, with the reason and the paragraph.
        Refused = "refused",
        /// In the caseworker queue, with why it could not be decided automatically.
        Manual = "manual",
        /// A paper application (no fødselsnummer or D-number): printed and posted; a caseworker
        /// registers it and decides.
        Paper = "paper",
        /// The caseworker has asked the applicant for more information, with a deadline
        /// (forvaltningsloven § 17); the applicant's answer puts it back in the queue.
        MoreInformation = "more_information",
    }
);

impl State {
    /// In bokmål.
    pub fn describe(self) -> &'static str {
        match self {
            State::Granted => "innvilget",
            State::Refused => "avslått",
            State::Manual => "til manuell behandling",
            State::Paper => "papirsøknad – venter på saksbehandler",
            State::MoreInformation => "venter på opplysninger fra søker",
        }
    }

    /// Whether a caseworker still has to decide. A case waiting for the applicant's
    /// information is still the caseworker's: past the deadline they decide on what they have.
    pub fn is_pending(self) -> bool {
        matches!(self, State::Manual | State::Paper | State::MoreInformation)
    }
}

domain::coded_enum!(
    /// Severity (B3: serious disease, or risk factors that with high probability cause or
    /// worsen serious disease).
    Severity {
        /// Serious disease.
        Serious = "serious",
        /// Risk factors that with high probability cause or worsen serious disease.
        RiskFactors = "risk_factors",
        /// Neither.
        NotSerious = "not_serious",
    }
);

domain::coded_enum!(
    /// Previous treatment (B3: weighty medical reasons why the relevant medicines cannot be used).
    PreviousTreatment {
        /// The relevant § 2 medicines were tried without effect or with intolerable side effects.
        TriedFailed = "tried_failed",
        /// They are contraindicated for this patient.
        Contraindicated = "contraindicated",
        /// There is no relevant § 2 medicine for the condition.
        NoneRelevant = "none_relevant",
        /// Other reasons (a caseworker judges them).
        Other = "other",
        /// Not tried, no reason given.
        NotTried = "not_tried",
    }
);

/// A checked application.
#[derive(Clone, Debug, PartialEq)]
pub struct HelfoForm {
    /// Fødselsnummer, D-number or neither.
    pub patient_id_kind: PatientId,
    /// The number, when there is one.
    pub patient_id: Option<PersonId>,
    /// Name and birth date, for a paper application.
    pub patient_name: Option<String>,
    /// Birth date, for a paper application.
    pub birth_date: Option<Date>,
    /// The prescriber's HPR number: printed on a paper application above the signature line
    /// (the electronic application carries it in the token).
    pub prescriber_hpr: Option<String>,
    /// Member of the National Insurance.
    pub member: bool,
    /// Age in years, if given (co-payment, not the decision).
    pub age: Option<u16>,
    /// The medicine.
    pub atc: Atc,
    /// Substance.
    pub substance: String,
    /// Brand, if one.
    pub brand: Option<String>,
    /// Marketing status.
    pub authorisation: Authorisation,
    /// Prescription group.
    pub prescription_group: Option<PrescriptionGroup>,
    /// Refund code (ICPC-2 / ICD-10 or DMP's list), if one.
    pub refund_code: Option<RefundCode>,
    /// The diagnosis in words.
    pub diagnosis: String,
    /// The use is within the approved indication (EEA/UK).
    pub on_label: bool,
    /// Scientific documentation is attached (needed outside the approved indication).
    pub documentation_attached: bool,
    /// Severity.
    pub severity: Severity,
    /// Months of use within one year.
    pub months_per_year: MonthsPerYear,
    /// Risk of repeated treatment over a long period / readiness.
    pub repeated: bool,
    /// Previous treatment.
    pub previous_treatment: PreviousTreatment,
    /// What was tried and why it cannot be used.
    pub previous_treatment_details: Option<String>,
    /// A health trust has offered trial treatment (then the trust pays, B3).
    pub trust_offered_trial: bool,
    /// For a generally dangerous communicable disease (§ 4, B2): no application.
    pub communicable: bool,
    /// Opioids: total daily dose in mg OMEQ, pain type and kind (B5).
    pub opioid: Opioid,
}

/// The field names, in the order of the form.
pub const FIELDS: &[&str] = &[
    "patient_id_kind",
    "patient_id",
    "patient_name",
    "birth_date",
    "prescriber_hpr",
    "member",
    "age",
    "atc",
    "substance",
    "brand",
    "authorisation",
    "prescription_group",
    "refund_code",
    "diagnosis",
    "on_label",
    "documentation_attached",
    "severity",
    "months_per_year",
    "repeated",
    "previous_treatment",
    "previous_treatment_details",
    "trust_offered_trial",
    "communicable",
    "omeq",
    "pain",
    "opioid_kind",
];

/// Checks the form, with an error next to every field that is wrong.
pub fn validate(fields: &Fields) -> Result<HelfoForm, Vec<FieldError>> {
    let mut r = Reader::new(fields);
    let patient_id_kind = r.choice(
        "patient_id_kind",
        PatientId::from_code,
        &codes(PatientId::ALL, PatientId::code),
    );
    let (mut patient_id, mut patient_name, mut birth_date) = (None, None, None);
    match patient_id_kind {
        Some(PatientId::None) => {
            patient_name = Some(r.text("patient_name", "pasientens navn (papirsøknad)"));
            birth_date = r.date("birth_date");
            r.text(
                "prescriber_hpr",
                "ditt HPR-nummer (papirsøknaden skrives ut med det)",
            );
        }
        Some(kind) => {
            // «130972 48022» as people write it: the space is not part of the number.
            let text = r
                .text("patient_id", "fødselsnummer eller D-nummer (11 sifre)")
                .replace(' ', "");
            if !text.is_empty() {
                match PersonId::parse(&text, kind) {
                    Ok(id) => patient_id = Some(id),
                    Err(e) => r.error("patient_id", e),
                }
            }
        }
        None => {}
    }
    let member = r.yes_no("member");
    let age = r
        .optional("age")
        .map(|_| r.number("age", "alder", 0, 130))
        .and_then(|a| a.map(|a| a as u16));
    let atc = r.atc("atc");
    let substance = r.text("substance", "virkestoff");
    let brand = r.optional("brand");
    let authorisation = r.choice(
        "authorisation",
        Authorisation::from_code,
        &codes(Authorisation::ALL, Authorisation::code),
    );
    let prescription_group = r.optional_choice(
        "prescription_group",
        PrescriptionGroup::from_code,
        &codes(PrescriptionGroup::ALL, PrescriptionGroup::code),
    );
    let refund_code = match r.optional("refund_code") {
        Some(c) => match RefundCode::parse(&c) {
            Ok(code) => Some(code),
            Err(e) => {
                r.error("refund_code", e);
                None
            }
        },
        None => None,
    };
    let diagnosis = r.text("diagnosis", "diagnosen");
    let on_label = r.yes_no("on_label");
    let documentation_attached = r.yes_no("documentation_attached");
    let severity = r.choice(
        "severity",
        Severity::from_code,
        &codes(Severity::ALL, Severity::code),
    );
    let months = r.decimal(
        "months_per_year",
        "måneder med behandling i løpet av ett år (0–12)",
        0.0,
        12.0,
    );
    let repeated = r.yes_no("repeated");
    let previous_treatment = r.choice(
        "previous_treatment",
        PreviousTreatment::from_code,
        &codes(PreviousTreatment::ALL, PreviousTreatment::code),
    );
    let previous_treatment_details = r.optional("previous_treatment_details");
    if matches!(
        previous_treatment,
        Some(
            PreviousTreatment::TriedFailed
                | PreviousTreatment::Contraindicated
                | PreviousTreatment::Other
        )
    ) && previous_treatment_details.is_none()
    {
        r.error(
            "previous_treatment_details",
            "beskriv hva som er prøvd, eller hvorfor det ikke kan brukes (B3)",
        );
    }
    let trust_offered_trial = r.yes_no("trust_offered_trial");
    let communicable = r.yes_no("communicable");
    let omeq = r
        .optional("omeq")
        .and_then(|_| r.decimal("omeq", "døgndose i mg OMEQ", 0.0, 1_000_000.0));
    let pain = r.optional_choice("pain", Pain::from_code, &codes(Pain::ALL, Pain::code));
    let opioid_kind = r
        .optional_choice(
            "opioid_kind",
            OpioidKind::from_code,
            &codes(OpioidKind::ALL, OpioidKind::code),
        )
        .unwrap_or(OpioidKind::Standard);
    if omeq.is_some() && pain.is_none() {
        r.error("pain", "oppgi smertetype når døgndosen er oppgitt (B5)");
    }
    // An HPR number is digits only (Helsepersonellregisteret gives up to nine).
    let prescriber_hpr = r.optional("prescriber_hpr");
    if let Some(h) = &prescriber_hpr
        && !(h.len() <= 9 && !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
    {
        r.error("prescriber_hpr", "HPR-nummeret er bare sifre, høyst ni");
    }
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    match (
        patient_id_kind,
        atc,
        authorisation,
        severity,
        months,
        previous_treatment,
    ) {
        (Some(kind), Some(atc), Some(auth), Some(severity), Some(months), Some(prev)) => {
            Ok(HelfoForm {
                patient_id_kind: kind,
                patient_id,
                patient_name,
                birth_date,
                prescriber_hpr,
                member,
                age,
                atc,
                substance,
                brand,
                authorisation: auth,
                prescription_group,
                refund_code,
                diagnosis,
                on_label,
                documentation_attached,
                severity,
                months_per_year: MonthsPerYear::new(months).unwrap_or(MonthsPerYear::FULL_YEAR),
                repeated,
                previous_treatment: prev,
                previous_treatment_details,
                trust_offered_trial,
                communicable,
                opioid: Opioid {
                    omeq: omeq.and_then(|o| Omeq::new(o).ok()),
                    pain,
                    kind: opioid_kind,
                },
            })
        }
        _ => Err(vec![FieldError {
            field: "$".into(),
            message: "skjemaet er ufullstendig".into(),
        }]),
    }
}

/// The facts of the application as a decision request.
pub fn decision_request(
    form: &HelfoForm,
    prescriber: PrescriberRole,
    date: Date,
) -> DecisionRequest {
    DecisionRequest {
        date,
        drug: Drug {
            atc: form.atc,
            substance: form.substance.clone(),
            brand: form.brand.clone(),
            authorisation: form.authorisation,
            prescription_group: form.prescription_group,
            thc_percent: None,
        },
        usage: Usage {
            on_label: form.on_label,
            refund_listed: false,
            refund_code: form.refund_code.clone(),
            generally_dangerous_infection: form.communicable,
            mrsa: false,
            palliative: false,
            established: true,
            helfo_documentation: form.on_label || form.documentation_attached,
            nye_metoder: NyeMetoder::None,
        },
        setting: Setting::PatientAdministered,
        // An application to Helfo: the framework for use started in the trusts (O1) is not
        // what is being asked; its step 1 leads here anyway.
        started_in: StartedIn::Primary,
        prescriber,
        patient: Patient {
            id: form.patient_id_kind,
            member: form.member,
            other_hf: false,
            age: form.age,
        },
        treatment: Treatment {
            months_per_year: form.months_per_year,
            repeated: form.repeated,
        },
        opioid: form.opioid.clone(),
    }
}

/// What the automatic assessment found.
#[derive(Clone, Debug, PartialEq)]
pub enum Assessment {
    /// No application: someone else pays or the doctor writes it directly. Nothing is stored.
    NotNeeded {
        /// The rule.
        rule: RuleId,
        /// Why, and what to do instead.
        reason: String,
    },
    /// Granted at once.
    Granted {
        /// From.
        valid_from: Date,
        /// Until (inclusive); `None`: no time limit.
        valid_until: Option<Date>,
        /// Why that limit (B3 time limits).
        limit: String,
    },
    /// Refused at once.
    Refused {
        /// The rule.
        rule: RuleId,
        /// Why, in bokmål, with the paragraph.
        reason: String,
    },
    /// A caseworker must decide.
    Manual {
        /// Why it could not be decided automatically.
        reason: String,
    },
    /// A paper application (no fødselsnummer or D-number).
    Paper {
        /// What the doctor must do.
        reason: String,
    },
}

impl Assessment {
    /// The state the case is stored in (`None`: not stored).
    pub fn state(&self) -> Option<State> {
        match self {
            Assessment::NotNeeded { .. } => None,
            Assessment::Granted { .. } => Some(State::Granted),
            Assessment::Refused { .. } => Some(State::Refused),
            Assessment::Manual { .. } => Some(State::Manual),
            Assessment::Paper { .. } => Some(State::Paper),
        }
    }

    /// The reason, as recorded.
    pub fn reason(&self) -> String {
        match self {
            Assessment::NotNeeded { reason, .. }
            | Assessment::Refused { reason, .. }
            | Assessment::Manual { reason }
            | Assessment::Paper { reason } => reason.clone(),
            Assessment::Granted {
                valid_from,
                valid_until,
                limit,
            } => match valid_until {
                Some(u) => format!("Innvilget fra {valid_from} til og med {u} ({limit})."),
                None => format!("Innvilget fra {valid_from}, uten tidsbegrensning ({limit})."),
            },
        }
    }
}

/// Decides an application automatically where the rules decide (B3's goal), in the order a
/// caseworker would read it.
///
/// A refusal ends with how to appeal it (forvaltningsloven § 27), from the rule data in force.
pub fn assess(
    form: &HelfoForm,
    prescriber: PrescriberRole,
    today: Date,
    rules: &RuleSet,
) -> Result<Assessment, FieldError> {
    let assessment = assess_conditions(form, prescriber, today, rules)?;
    Ok(match (assessment, rules.case_handling.at(today)) {
        (Assessment::Refused { rule, reason }, Ok(handling)) => Assessment::Refused {
            rule,
            reason: format!("{reason} {}", appeal(&handling.value)),
        },
        (a, _) => a,
    })
}

fn assess_conditions(
    form: &HelfoForm,
    prescriber: PrescriberRole,
    today: Date,
    rules: &RuleSet,
) -> Result<Assessment, FieldError> {
    // B6: refund code -90 (palliative care in the last phase of life) is prescribed directly on
    // blue prescription; there is nothing to apply for under § 3.
    if let Ok(b6) = rules.palliative.at(today)
        && form.refund_code.as_ref() == Some(&b6.value.refund_code)
    {
        return Ok(Assessment::NotNeeded {
            rule: RuleId::B6,
            reason: format!(
                "Refusjonskode {} gjelder palliativ behandling i livets sluttfase: legemidlet forskrives direkte på \
                 blå resept (forhåndsgodkjent refusjon, uten egenandel), og søknad etter § 3 skal ikke sendes ({}, B6).",
                b6.value.refund_code, b6.source.basis
            ),
        });
    }
    let request = decision_request(form, prescriber, today);
    let decision = decide::decide(&request, rules).map_err(|e| FieldError {
        field: e.field().trim_start_matches("drug.").into(),
        message: e.message(),
    })?;
    let refused = |rule: RuleId, reason: String| Ok(Assessment::Refused { rule, reason });

    // Does folketrygden pay under § 3 at all? The engine's path says.
    match decision.scheme {
        Scheme::S3 => {}
        Scheme::HList => {
            return Ok(Assessment::NotNeeded {
                rule: RuleId::F3,
                reason: "Legemidlet står på H-reseptlisten for denne bruken: det regionale helseforetaket betaler \
                         (forskriften § 1b, F3). Søknad til Helfo skal ikke sendes; skriv H-resept."
                    .into(),
            });
        }
        Scheme::S2 | Scheme::S4 => {
            return Ok(Assessment::NotNeeded {
                rule: if decision.scheme == Scheme::S2 {
                    RuleId::B1
                } else {
                    RuleId::B2
                },
                reason: if decision.scheme == Scheme::S2 {
                    "Kan skrives direkte på blå resept etter § 2: ingen søknad.".into()
                } else {
                    "Allmennfarlig smittsom sykdom: legemidlet skrives på blå resept etter § 4 for alle som oppholder seg \
                     i Norge, medlem av folketrygden eller ikke, uten egenandel. Ingen søknad (B2)."
                        .into()
                },
            });
        }
        _ if decision.payer != Payer::Folketrygden => {
            return Ok(Assessment::NotNeeded {
                rule: decision
                    .explanation
                    .iter()
                    .rev()
                    .find(|s| s.applied)
                    .map_or(RuleId::General, |s| s.rule),
                reason: format!(
                    "Beslutningsmotoren gir {} som betaler ({}): søknad til Helfo er ikke veien.",
                    decision.payer.describe(),
                    decision.scheme.code()
                ),
            });
        }
        _ => {}
    }
    // What blocks the path: membership, the long-term condition, who applies, the opioid cap.
    if let Some(b) = decision.blockers.first() {
        let rule = match b.code {
            BlockerCode::PrescriberNotQualified => RuleId::B4,
            BlockerCode::OmeqOverLimit => RuleId::B5,
            BlockerCode::NotLongTerm | BlockerCode::NotMember => RuleId::General,
            _ => RuleId::B3,
        };
        return refused(rule, format!("{} ({})", b.message, paragraph(rule)));
    }
    // A trust that offered trial treatment pays for it too (B3). Reading: the seeds say the
    // trust «dekker» trial treatment it has offered; an application for that treatment is
    // therefore refused under § 3 with that reason, not queued — the doctor turns to the trust.
    if form.trust_offered_trial {
        return refused(
            RuleId::B3,
            "Helseforetaket har tilbudt utprøvende behandling og betaler også for den (blåreseptforskriften § 3, B3)."
                .into(),
        );
    }
    // Severity (B3).
    match form.severity {
        Severity::NotSerious => {
            return refused(
                RuleId::B3,
                "Vilkåret om alvorlig sykdom er ikke oppfylt (blåreseptforskriften §§ 1a og 3, B3).".into(),
            );
        }
        Severity::RiskFactors | Severity::Serious => {}
    }
    // Approved use (B3): outside the approved indication a specialist applies with documentation.
    if !form.on_label && !form.documentation_attached {
        return refused(
            RuleId::B3,
            "Bruk utenfor godkjent indikasjon krever vedlagt vitenskapelig dokumentasjon (blåreseptforskriften § 3, B3)."
                .into(),
        );
    }
    // Previous treatment (B3); cancer pain has no such requirement (domain.md §8, -71).
    let cancer_pain = form.opioid.pain == Some(Pain::Cancer);
    if form.previous_treatment == PreviousTreatment::NotTried && !cancer_pain {
        return refused(
            RuleId::B3,
            "Det er ikke gitt tungtveiende medisinske grunner til at relevante legemidler på § 2 ikke kan brukes \
             (blåreseptforskriften § 3, B3)."
                .into(),
        );
    }
    // The paper path for patients without a fødselsnummer or D-number (B3).
    if decision
        .actions
        .iter()
        .any(|a| a.kind == ActionKind::HelfoPaperApplication)
    {
        return Ok(Assessment::Paper {
            reason: "Pasienten har verken fødselsnummer eller D-nummer: søknaden må sendes på papir (B3). Skriv ut \
                     søknaden, signer og send den til Helfo; en saksbehandler registrerer og avgjør den."
                .into(),
        });
    }
    // What needs a person's judgment goes to the caseworker queue, with why.
    let mut manual = Vec::new();
    // B5: an opioid application states the total daily dose of all opioids in mg OMEQ and the
    // kind of pain; without them the limits (100 and 300 mg OMEQ) and who may apply cannot be
    // checked, so nothing is granted automatically.
    let opioid = rules
        .opioids
        .at(today)
        .is_ok_and(|b5| form.atc.is_in_any(&b5.value.scope));
    if opioid && (form.opioid.omeq.is_none() || form.opioid.pain.is_none()) {
        manual.push("opioid uten oppgitt samlet døgndose i mg OMEQ eller smertetype: grensene i B5 kan ikke kontrolleres");
    }
    // B4: an unknown prescription group never waives the specialist requirement of groups A
    // and B (opioids and pregabalin are exempt from it, and B5 decides for opioids).
    let exempt = rules
        .applicant
        .at(today)
        .is_ok_and(|b4| form.atc.is_in_any(&b4.value.group_ab_exempt));
    if form.prescription_group.is_none() && !exempt && !opioid {
        manual.push("reseptgruppen er ikke oppgitt: om spesialist eller sykehuslege må søke (B4, gruppe A/B) kan ikke avgjøres automatisk");
    }
    if form.severity == Severity::RiskFactors {
        manual.push("risikofaktorer i stedet for alvorlig sykdom må vurderes skjønnsmessig");
    }
    if !form.on_label {
        manual.push("vitenskapelig dokumentasjon for bruk utenfor godkjent indikasjon må vurderes");
    }
    if form.previous_treatment == PreviousTreatment::Other {
        manual.push("andre grunner for ikke å bruke relevante § 2-legemidler må vurderes");
    }
    if !manual.is_empty() {
        return Ok(Assessment::Manual {
            reason: format!("Til manuell behandling: {}.", manual.join("; ")),
        });
    }
    let (valid_until, limit) = valid_until(form, today, rules)?;
    Ok(Assessment::Granted {
        valid_from: today,
        valid_until,
        limit,
    })
}

fn paragraph(rule: RuleId) -> &'static str {
    match rule {
        RuleId::B4 => "blåreseptforskriften § 3, B4",
        RuleId::B5 => "blåreseptforskriften § 3, refusjonskode -71, B5",
        RuleId::General => "blåreseptforskriften § 1b og folketrygdloven § 5-14",
        _ => "blåreseptforskriften § 3, B3",
    }
}

/// How long a grant lasts (B3 time limits, rule data): pregabalin never ends, then the limited
/// groups in file order, then other group A/B medicines; otherwise no end date.
pub fn valid_until(
    form: &HelfoForm,
    from: Date,
    rules: &RuleSet,
) -> Result<(Option<Date>, String), FieldError> {
    let limits: &DecisionLimits = &rules
        .decision_limits
        .at(from)
        .map_err(|e| FieldError {
            field: "date".into(),
            message: e.to_string(),
        })?
        .value;
    let months = limit_months(form, limits);
    let Some((months, why)) = months else {
        return Ok((None, "B3: vedtaket er ikke tidsbegrenset".into()));
    };
    let end = from
        .plus_months(u32::from(months))
        .and_then(|d| d.previous_day())
        .ok_or_else(|| FieldError {
            field: "date".into(),
            message: "datoen er utenfor kalenderen".into(),
        })?;
    Ok((Some(end), format!("B3: {why}, {months} måneder")))
}

fn limit_months(form: &HelfoForm, limits: &DecisionLimits) -> Option<(u16, String)> {
    if limits.unlimited.iter().any(|a| form.atc.is_in(a)) {
        return None;
    }
    for g in &limits.limited {
        let mut by_atc = g.atc.iter().any(|a| form.atc.is_in(a));
        // A group limited to some uses or brands (GLP-1 analogues for obesity, not for diabetes).
        if !g.only_for_codes.is_empty() || !g.only_for_brands.is_empty() {
            let for_code = form
                .refund_code
                .as_ref()
                .is_some_and(|c| g.only_for_codes.contains(c));
            let for_brand = form.brand.as_deref().is_some_and(|b| {
                g.only_for_brands
                    .iter()
                    .any(|name| ruleset::starts_with_word(b, name))
            });
            by_atc = by_atc && (for_code || for_brand);
        }
        let by_code = g
            .refund_code
            .as_ref()
            .is_some_and(|c| form.refund_code.as_ref() == Some(c));
        let by_marketing = g.not_marketed && form.authorisation != Authorisation::Marketed;
        if by_atc || by_code || by_marketing {
            return Some((g.months, g.name.clone()));
        }
    }
    matches!(
        form.prescription_group,
        Some(PrescriptionGroup::A | PrescriptionGroup::B)
    )
    .then(|| (limits.group_ab_months, "reseptgruppe A/B".to_string()))
}

/// A caseworker's decision on a case in the queue.
#[derive(Clone, Debug, PartialEq)]
pub enum Ruling {
    /// Granted, until the date given (or without limit).
    Grant {
        /// Until (inclusive).
        valid_until: Option<Date>,
    },
    /// Refused.
    Refuse,
    /// Ask the applicant for more information (the reason is the question), to be answered
    /// by the deadline.
    AskForInformation {
        /// The last day to answer; `None`: the rule data's default from today.
        deadline: Option<Date>,
    },
}

/// How to appeal a refusal, as every refusal must say (forvaltningsloven § 27, folketrygdloven
/// § 21-12): the deadline from the rule data, and where the appeal goes.
pub fn appeal(handling: &ruleset::CaseHandling) -> String {
    let weeks = match handling.appeal_weeks {
        6 => "seks uker".to_string(),
        w => format!("{w} uker"),
    };
    format!(
        "Vedtaket kan påklages innen {weeks} etter at det er mottatt (folketrygdloven § 21-12). \
         Klagen sendes til {}.",
        handling.helfo_address.join(", ")
    )
}

/// Checks that `actor` may decide a case in `state`: Helfo caseworkers decide, and only what
/// waits for them. A reason is required.
///
/// **B3 time limits** hold for a caseworker's grant as for an automatic one: `limit` is the
/// last day the rule data allows for this application from today (an opioid decision: a year),
/// and a grant without an end, or with a later one, ends on it. An earlier end is the
/// caseworker's to set. Returns the new state, the record's line and the grant's last day (or,
/// for a request for information, the deadline to answer).
///
/// A refusal says how to appeal ([`appeal`]); a request for information names its deadline,
/// by default [`more_information_days`](ruleset::CaseHandling::more_information_days) from today.
pub fn rule_on(
    state: State,
    ruling: &Ruling,
    reason: &str,
    actor: &Actor,
    today: Date,
    limit: Option<(Date, &str)>,
    handling: &ruleset::CaseHandling,
) -> Result<(State, String, Option<Date>), Refusal> {
    if actor.role != Role::HelfoCaseworker {
        return Err(Refusal::Forbidden(
            "bare en saksbehandler i Helfo kan avgjøre søknader".into(),
        ));
    }
    if !state.is_pending() {
        return Err(Refusal::Conflict(format!(
            "søknaden er allerede {}",
            state.describe()
        )));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::Invalid(vec![FieldError {
            field: "reason".into(),
            message: "skriv en begrunnelse for vedtaket".into(),
        }]));
    }
    Ok(match ruling {
        Ruling::Grant { valid_until } => {
            if valid_until.is_some_and(|u| u < today) {
                return Err(Refusal::Invalid(vec![FieldError {
                    field: "valid_until".into(),
                    message: format!("sluttdatoen kan ikke ligge før i dag ({today})"),
                }]));
            }
            let (last, limited) = match (*valid_until, limit) {
                (Some(u), Some((l, _))) if u > l => (Some(l), true),
                (None, Some((l, _))) => (Some(l), true),
                (u, _) => (u, false),
            };
            let until = last.map_or("uten tidsbegrensning".to_string(), |u| {
                format!("til og med {u}")
            });
            let why = match (limited, limit) {
                (true, Some((_, rule))) => format!(" ({rule})"),
                _ => String::new(),
            };
            (
                State::Granted,
                format!(
                    "Innvilget av {} (saksbehandler) {today}, {until}{why}. {reason}",
                    actor.name
                ),
                last,
            )
        }
        Ruling::Refuse => (
            State::Refused,
            format!(
                "Avslått av {} (saksbehandler) {today}. {reason} {}",
                actor.name,
                appeal(handling)
            ),
            None,
        ),
        Ruling::AskForInformation { deadline } => {
            let deadline = match deadline {
                Some(d) if *d <= today => {
                    return Err(Refusal::Invalid(vec![FieldError {
                        field: "deadline".into(),
                        message: format!("fristen må ligge etter i dag ({today})"),
                    }]));
                }
                Some(d) => *d,
                None => today
                    .plus_days(handling.more_information_days)
                    .ok_or_else(|| {
                        Refusal::Invalid(vec![FieldError {
                            field: "deadline".into(),
                            message: "fristen kan ikke regnes ut fra dagens dato".into(),
                        }])
                    })?,
            };
            (
                State::MoreInformation,
                format!(
                    "{} (saksbehandler) ba {today} om flere opplysninger, frist {deadline}: {reason}",
                    actor.name
                ),
                Some(deadline),
            )
        }
    })
}

/// The applicant's answer to a request for more information: only the applicant answers, only
/// a case that waits for it, and not with nothing. The case goes back to the caseworker's queue
/// (also after the deadline: a late answer is better read than lost). Returns the new state and
/// the record's line.
pub fn answer(
    state: State,
    text: &str,
    actor: &Actor,
    author: &str,
    today: Date,
) -> Result<(State, String), Refusal> {
    if actor.subject != author {
        return Err(Refusal::Forbidden(
            "bare søkeren kan svare på Helfos spørsmål".into(),
        ));
    }
    if state != State::MoreInformation {
        return Err(Refusal::Conflict(format!(
            "søknaden venter ikke på opplysninger; den er {}",
            state.describe()
        )));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(Refusal::Invalid(vec![FieldError {
            field: "answer".into(),
            message: "skriv opplysningene Helfo ba om".into(),
        }]));
    }
    Ok((
        State::Manual,
        format!("Opplysninger fra {} {today}: {text}", actor.name),
    ))
}

/// A granted decision, as dispensing is checked against it.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// The case.
    pub case_id: i64,
    /// The substance.
    pub atc: Atc,
    /// From.
    pub valid_from: Date,
    /// Until (inclusive).
    pub valid_until: Option<Date>,
    /// The opioid daily dose decided, mg OMEQ.
    pub omeq: Option<f64>,
}

/// Whether a decision for `decided` is also a decision for `wanted` (the look-up's "existing
/// decision", and coverage at the pharmacy): the same substance or group; or, **B5**, both
/// opioids of the -71 scope other than methadone — an opioid decision is for the patient's
/// total daily dose of opioids, while methadone is decided per product.
pub fn same_decision(decided: &Atc, wanted: &Atc, b5: &ruleset::OpioidRules) -> bool {
    if decided == wanted || wanted.is_in(decided) {
        return true;
    }
    let opioid = |a: &Atc| a.is_in_any(&b5.scope) && !a.is_in_any(&b5.methadone);
    opioid(decided) && opioid(wanted)
}

/// What is dispensed, as far as the § 3 decisions care.
#[derive(Clone, Copy, Debug)]
pub struct Dispensed<'r> {
    /// The medicine's ATC code.
    pub atc: Atc,
    /// The prescribed daily dose in mg OMEQ (opioids), where known.
    pub omeq: Option<f64>,
    /// The form's route, where the OMEQ table knows it.
    pub route: Option<ruleset::Route>,
    /// B5 on the dispensing date: the -71 scope and methadone.
    pub opioids: &'r ruleset::OpioidRules,
    /// The routes outside the -71 scope (OMEQ table on the date).
    pub excluded_routes: &'r [ruleset::Route],
}

impl Dispensed<'_> {
    fn is_opioid(atc: &Atc, rules: &ruleset::OpioidRules) -> bool {
        rules.scope.iter().any(|g| atc == g || atc.is_in(g))
    }

    /// Whether decision `g` is for this medicine ([`same_decision`]), in a form the -71 scope
    /// holds (not injections, nasal sprays, sublingual).
    fn covered_by(&self, g: &Grant) -> bool {
        if Self::is_opioid(&self.atc, self.opioids)
            && self
                .route
                .is_some_and(|r| self.excluded_routes.contains(&r))
        {
            return false;
        }
        same_decision(&g.atc, &self.atc, self.opioids)
    }
}

/// Which decision covers a blue prescription for what is `dispensed` on `date` (B5: with
/// several opioid decisions the one with the highest daily dose applies, and the prescribed
/// dose must not exceed it).
pub fn covering<'g>(
    grants: &'g [Grant],
    dispensed: &Dispensed<'_>,
    date: Date,
) -> Result<&'g Grant, String> {
    let atc = dispensed.atc;
    if Dispensed::is_opioid(&atc, dispensed.opioids)
        && let Some(route) = dispensed
            .route
            .filter(|r| dispensed.excluded_routes.contains(r))
    {
        return Err(format!(
            "formen ({}) er utenfor refusjonskode -71 og dekkes ikke av et opioidvedtak (B5)",
            route.describe()
        ));
    }
    let valid: Vec<&Grant> = grants
        .iter()
        .filter(|g| dispensed.covered_by(g))
        .filter(|g| g.valid_from <= date && g.valid_until.is_none_or(|u| date <= u))
        .collect();
    let Some(best) = valid
        .iter()
        .copied()
        .max_by(|a, b| a.omeq.unwrap_or(0.0).total_cmp(&b.omeq.unwrap_or(0.0)))
    else {
        return Err(format!(
            "pasienten har ikke et gyldig vedtak om individuell stønad for {atc} på {date}"
        ));
    };
    match (dispensed.omeq, best.omeq) {
        (Some(prescribed), Some(decided)) if prescribed > decided => Err(format!(
            "foreskrevet døgndose {prescribed} mg OMEQ er over vedtakets {decided} mg OMEQ (B5); den kan ikke ekspederes på blå resept, heller ikke delt på blå og hvit"
        )),
        _ => Ok(best),
    }
}

#[cfg(test)]
mod tests;
