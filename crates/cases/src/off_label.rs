//! **O1–O5** — applications for off-label and off-licence treatment financed by the health trust
//! (seeds/002 §5, vedlegg 1), and the approval chain they go through.
//!
//! ```text
//!  draft ──submit──► submitted ──recommend──► recommended ──approve──► approved ──evaluate: stop──► stopped
//!    ▲                   │  (clinic head)          │  (medical director)   │  ▲
//!    │                   │                         ├──approve, patient of ─┘  └─ evaluate: continue
//!    └──submit── returned ◄──return────────────────┤   another trust ──► awaiting_home_trust
//!                                                  └──reject──► rejected        │ approve (that trust's
//!  withdrawn ◄──withdraw (the applicant, any time before approval)             ▼  medical director)
//!                                                                           approved
//! ```
//!
//! Every move but submitting needs a reason, and says what it records: an approval names who
//! approved and when, for the patient's record (O2).
//!
//! **Reading — the order of the two trusts' approvals** (the seeds say both must approve, not
//! in which order): the treating trust's chain comes first (clinic head, then medical
//! director), and only an approved case goes to the patient's own trust's medical director.
//! The treating trust knows the treatment and is the one that pays (O5); asking the patient's
//! trust to approve something its treating trust may still reject would waste its time. O2
//! holds for admitted and outpatients too: the setting never skips the director.

use decide::Decision;
use domain::{
    ActionKind, Atc, Authorisation, Date, DecisionRequest, Drug, MonthsPerYear, NyeMetoder, Opioid,
    OpioidKind, Ore, Patient, PatientId, Payer, PrescriberRole, PrescriptionGroup, Role, Setting,
    StartedIn, Treatment, Usage,
};
use ruleset::RuleSet;

use crate::fields::{FieldError, Fields, Reader, codes};
use crate::{Actor, Refusal};

domain::coded_enum!(
    /// Where an application stands.
    State {
        /// Being written; only the applicant sees it.
        Draft = "draft",
        /// Sent to the clinic or department head.
        Submitted = "submitted",
        /// Sent back to the applicant for changes.
        Returned = "returned",
        /// Recommended by the clinic head; with the medical director.
        Recommended = "recommended",
        /// Approved by the treating trust; the trust the patient belongs to must approve too.
        AwaitingHomeTrust = "awaiting_home_trust",
        /// Approved: the treatment may start (financing settled, O1 step 4).
        Approved = "approved",
        /// Rejected by a medical director.
        Rejected = "rejected",
        /// Withdrawn by the applicant.
        Withdrawn = "withdrawn",
        /// Stopped at an evaluation (a stop rule fired).
        Stopped = "stopped",
    }
);

impl State {
    /// The state in bokmål.
    pub fn describe(self) -> &'static str {
        match self {
            State::Draft => "utkast",
            State::Submitted => "sendt til klinikkleder",
            State::Returned => "returnert for endringer",
            State::Recommended => "anbefalt, hos fagdirektør",
            State::AwaitingHomeTrust => "godkjent her, venter på pasientens helseforetak",
            State::Approved => "godkjent – behandlingen kan starte",
            State::Rejected => "avslått",
            State::Withdrawn => "trukket",
            State::Stopped => "avsluttet ved evaluering",
        }
    }

    /// Whether the case is finished (no move leads out).
    pub fn is_final(self) -> bool {
        matches!(self, State::Rejected | State::Withdrawn | State::Stopped)
    }
}

domain::coded_enum!(
    /// The moves.
    Move {
        /// The applicant sends the application (again, after a return).
        Submit = "submit",
        /// The clinic or department head recommends it.
        Recommend = "recommend",
        /// Sent back for changes (clinic head or medical director).
        Return = "return",
        /// A medical director approves (the treating trust's, then the patient's trust's).
        Approve = "approve",
        /// A medical director rejects.
        Reject = "reject",
        /// The applicant withdraws it.
        Withdraw = "withdraw",
        /// Evaluation at a plan date: treatment continues.
        EvaluateContinue = "evaluate_continue",
        /// Evaluation at a plan date: a stop rule fired, treatment stops.
        EvaluateStop = "evaluate_stop",
    }
);

impl Move {
    /// The move in bokmål, as on the buttons.
    pub fn describe(self) -> &'static str {
        match self {
            Move::Submit => "Send inn",
            Move::Recommend => "Anbefal",
            Move::Return => "Returner for endringer",
            Move::Approve => "Godkjenn",
            Move::Reject => "Avslå",
            Move::Withdraw => "Trekk søknaden",
            Move::EvaluateContinue => "Evaluert: fortsett behandlingen",
            Move::EvaluateStop => "Evaluert: avslutt (stoppkriterium)",
        }
    }
}

domain::coded_enum!(
    /// Per patient or per patient group (O2: "skjema per pasient eller pasientgruppe").
    Scope {
        /// One patient.
        Patient = "patient",
        /// A patient group.
        Group = "group",
    }
);

domain::coded_enum!(
    /// Off-label (a medicine with MT, outside its approved use) or off-licence (no Norwegian MT,
    /// on approval exemption). The kind the overview of trial treatment counts by (O4).
    UseKind {
        /// A medicine with MT, outside its approved use.
        OffLabel = "off_label",
        /// A medicine without Norwegian MT (approval exemption).
        OffLicence = "off_licence",
    }
);

impl UseKind {
    /// In bokmål.
    pub fn describe(self) -> &'static str {
        match self {
            UseKind::OffLabel => "utenfor godkjent indikasjon (off-label)",
            UseKind::OffLicence => "uten markedsføringstillatelse (off-licence)",
        }
    }
}

domain::coded_enum!(
    /// The best documentation the application rests on (O3).
    Documentation {
        /// Randomised controlled trials (phase III).
        Rct = "rct",
        /// Phase II studies.
        PhaseII = "phase_ii",
        /// Retrospective series or registry data.
        Registry = "registry",
        /// Case reports (only for incidence under 5 a year in Norway).
        CaseReport = "case_report",
    }
);

impl Documentation {
    /// In bokmål.
    pub fn describe(self) -> &'static str {
        match self {
            Documentation::Rct => "randomiserte kontrollerte studier (fase III)",
            Documentation::PhaseII => "fase II-studier",
            Documentation::Registry => "retrospektive serier / registerdata",
            Documentation::CaseReport => "kasuistikk",
        }
    }
}

/// A treatment plan (O3): what is given and why, and when and how it is judged.
#[derive(Clone, Debug, PartialEq)]
pub struct TreatmentPlan {
    /// Purpose, administration, dosing, precautions and follow-up.
    pub purpose: String,
    /// Dosing and administration.
    pub dosing: String,
    /// The evaluation dates, ascending.
    pub evaluation_dates: Vec<Date>,
    /// The stop rules for lack of response, one per line.
    pub stop_rules: Vec<String>,
}

/// A complete application (vedlegg 1), checked.
#[derive(Clone, Debug, PartialEq)]
pub struct OffLabelForm {
    /// Per patient or group.
    pub scope: Scope,
    /// The patient's record number in the trust (never a national identity number here).
    pub patient_ref: Option<String>,
    /// The group, for a group application.
    pub group_description: Option<String>,
    /// Patients expected in a year (1 for a single patient).
    pub patients: u32,
    /// The clinic or department.
    pub clinic: String,
    /// The trust the patient belongs to, if not the treating one (O2).
    pub home_trust: Option<String>,
    /// The medicine.
    pub atc: Atc,
    /// Substance.
    pub substance: String,
    /// Brand, if one.
    pub brand: Option<String>,
    /// Off-label or off-licence.
    pub use_kind: UseKind,
    /// Prescription group, if known.
    pub prescription_group: Option<PrescriptionGroup>,
    /// The indication it is used for.
    pub indication: String,
    /// Where it is given.
    pub setting: Setting,
    /// Established, consensus-based treatment (O1 step 1).
    pub established: bool,
    /// Helfo has refused individual cover (O1 step 1 → step 2).
    pub helfo_refused: bool,
    /// Status in Nye metoder (O1 step 3).
    pub nye_metoder: NyeMetoder,
    /// The documentation level and references (O3).
    pub documentation: Documentation,
    /// References (a full peer-reviewed article at minimum).
    pub references: String,
    /// Incidence under 5 patients a year in Norway.
    pub incidence_under_5: bool,
    /// ECOG performance status, 0–4.
    pub ecog: u8,
    /// Why, when ECOG is above 1.
    pub ecog_justification: Option<String>,
    /// A biomarker is required for the effect.
    pub biomarker_required: bool,
    /// ... and has been demonstrated.
    pub biomarker_demonstrated: bool,
    /// Safety.
    pub safety: String,
    /// Uncertainty of effect.
    pub uncertainty: String,
    /// Consequences of not treating.
    pub consequences: String,
    /// Estimated cost (per year, for all patients of the application).
    pub cost_estimate: Ore,
    /// Informed consent recorded (including use of health data).
    pub consent_recorded: bool,
    /// The treatment plan.
    pub plan: TreatmentPlan,
}

/// The field names of the form, in the order of vedlegg 1 (the web form and the API use them).
pub const FIELDS: &[&str] = &[
    "scope",
    "patient_ref",
    "group_description",
    "patients",
    "clinic",
    "home_trust",
    "atc",
    "substance",
    "brand",
    "use_kind",
    "prescription_group",
    "indication",
    "setting",
    "established",
    "helfo_refused",
    "nye_metoder",
    "documentation",
    "references",
    "incidence_under_5",
    "ecog",
    "ecog_justification",
    "biomarker_required",
    "biomarker_demonstrated",
    "safety",
    "uncertainty",
    "consequences",
    "cost_estimate",
    "consent_recorded",
    "plan_purpose",
    "plan_dosing",
    "evaluation_dates",
    "stop_rules",
];

/// Checks a whole application against O3, with an error next to every field that is wrong.
/// `today` is the submission date: evaluation dates must lie after it.
pub fn validate(
    fields: &Fields,
    treating_trust: &str,
    today: Date,
) -> Result<OffLabelForm, Vec<FieldError>> {
    let mut r = Reader::new(fields);
    let scope = r.choice("scope", Scope::from_code, &codes(Scope::ALL, Scope::code));
    let patient_ref = r.optional("patient_ref");
    let group_description = r.optional("group_description");
    let patients = match scope {
        Some(Scope::Group) => r.number("patients", "antall pasienter per år", 1, 100_000),
        _ => Some(1),
    };
    match scope {
        Some(Scope::Patient) if patient_ref.is_none() => r.error(
            "patient_ref",
            "fyll inn pasientens journalnummer (ikke fødselsnummer)",
        ),
        Some(Scope::Group) if group_description.is_none() => {
            r.error("group_description", "beskriv pasientgruppen")
        }
        _ => {}
    }
    if let Some(p) = &patient_ref
        && p.len() == 11
        && p.bytes().all(|b| b.is_ascii_digit())
    {
        r.error(
            "patient_ref",
            "ser ut som et fødselsnummer: bruk journalnummeret i helseforetaket",
        );
    }
    let clinic = r.text("clinic", "klinikk eller avdeling");
    let home_trust = r.optional("home_trust");
    if home_trust.as_deref() == Some(treating_trust) {
        r.error(
            "home_trust",
            "pasientens helseforetak er det behandlende; la feltet stå tomt",
        );
    }
    let atc = r.atc("atc");
    let substance = r.text("substance", "virkestoff");
    let brand = r.optional("brand");
    let use_kind = r.choice(
        "use_kind",
        UseKind::from_code,
        &codes(UseKind::ALL, UseKind::code),
    );
    let prescription_group = r.optional_choice(
        "prescription_group",
        PrescriptionGroup::from_code,
        &codes(PrescriptionGroup::ALL, PrescriptionGroup::code),
    );
    let indication = r.text("indication", "indikasjonen legemidlet skal brukes for");
    let setting = r.choice(
        "setting",
        |c| {
            Setting::from_code(c).filter(|s| {
                matches!(
                    s,
                    Setting::PatientAdministered | Setting::Outpatient | Setting::Inpatient
                )
            })
        },
        &["patient_administered", "outpatient", "inpatient"],
    );
    let established = r.yes_no("established");
    let helfo_refused = r.yes_no("helfo_refused");
    let nye_metoder = r.choice(
        "nye_metoder",
        NyeMetoder::from_code,
        &codes(NyeMetoder::ALL, NyeMetoder::code),
    );
    let documentation = r.choice(
        "documentation",
        Documentation::from_code,
        &codes(Documentation::ALL, Documentation::code),
    );
    let references = r.text(
        "references",
        "referanser (minst én fullstendig fagfellevurdert artikkel)",
    );
    let incidence_under_5 = r.yes_no("incidence_under_5");
    // O3: a case report suffices only for very small groups (under 5 a year in Norway).
    if documentation == Some(Documentation::CaseReport) && !incidence_under_5 {
        r.error(
            "documentation",
            "kasuistikk er bare nok når forekomsten er under 5 pasienter i året i Norge (O3)",
        );
    }
    let ecog = r.number("ecog", "ECOG-funksjonsstatus (0–4)", 0, 4);
    let ecog_justification = r.optional("ecog_justification");
    // O3: performance ECOG 0–1; exceptions must be justified.
    if ecog.is_some_and(|e| e > 1) && ecog_justification.is_none() {
        r.error(
            "ecog_justification",
            "ECOG over 1: begrunn unntaket (O3 krever som hovedregel ECOG 0–1)",
        );
    }
    let biomarker_required = r.yes_no("biomarker_required");
    let biomarker_demonstrated = r.yes_no("biomarker_demonstrated");
    if biomarker_required && !biomarker_demonstrated {
        r.error(
            "biomarker_demonstrated",
            "en nødvendig biomarkør må være påvist før søknaden sendes (O3)",
        );
    }
    let safety = r.text("safety", "vurdering av sikkerhet");
    let uncertainty = r.text("uncertainty", "vurdering av usikkerhet om effekt");
    let consequences = r.text("consequences", "konsekvenser av ikke å behandle");
    let cost_estimate = r.kroner("cost_estimate", "kostnadsanslag i kroner per år");
    if cost_estimate == Some(Ore(0)) {
        r.error("cost_estimate", "kostnadsanslaget må være over 0 kr");
    }
    let consent_recorded = r.yes_no("consent_recorded");
    if !consent_recorded {
        r.error(
            "consent_recorded",
            "informert samtykke (også til bruk av helsedata) må være innhentet og journalført (O3)",
        );
    }
    let purpose = r.text("plan_purpose", "formål og oppfølging i behandlingsplanen");
    let dosing = r.text("plan_dosing", "dosering og administrasjon");
    let evaluation_dates = r.dates("evaluation_dates", "minst én evalueringsdato (ÅÅÅÅ-MM-DD)");
    if evaluation_dates.first().is_some_and(|d| *d <= today) {
        r.error(
            "evaluation_dates",
            format!("evalueringsdatoene må ligge etter i dag ({today})"),
        );
    }
    let stop_rules = r.lines("stop_rules", "minst ett stoppkriterium (ett per linje)");

    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    // Every `None` above has recorded an error, so these are all present.
    match (
        scope,
        patients,
        atc,
        use_kind,
        setting,
        nye_metoder,
        documentation,
        ecog,
        cost_estimate,
    ) {
        (
            Some(scope),
            Some(patients),
            Some(atc),
            Some(use_kind),
            Some(setting),
            Some(nye_metoder),
            Some(documentation),
            Some(ecog),
            Some(cost_estimate),
        ) => Ok(OffLabelForm {
            scope,
            patient_ref: patient_ref.filter(|_| scope == Scope::Patient),
            group_description: group_description.filter(|_| scope == Scope::Group),
            patients,
            clinic,
            home_trust,
            atc,
            substance,
            brand,
            use_kind,
            prescription_group,
            indication,
            setting,
            established,
            helfo_refused,
            nye_metoder,
            documentation,
            references,
            incidence_under_5,
            ecog: ecog as u8,
            ecog_justification,
            biomarker_required,
            biomarker_demonstrated,
            safety,
            uncertainty,
            consequences,
            cost_estimate,
            consent_recorded,
            plan: TreatmentPlan {
                purpose,
                dosing,
                evaluation_dates,
                stop_rules,
            },
        }),
        _ => Err(vec![FieldError {
            field: "$".into(),
            message: "skjemaet er ufullstendig".into(),
        }]),
    }
}

/// The facts of the application as a decision request (O1 is what decides it).
pub fn decision_request(form: &OffLabelForm, date: Date) -> DecisionRequest {
    DecisionRequest {
        date,
        drug: Drug {
            atc: form.atc,
            substance: form.substance.clone(),
            brand: form.brand.clone(),
            authorisation: match form.use_kind {
                UseKind::OffLabel => Authorisation::Marketed,
                UseKind::OffLicence => Authorisation::Unauthorised,
            },
            prescription_group: form.prescription_group,
            thc_percent: None,
        },
        usage: Usage {
            on_label: false,
            refund_listed: false,
            refund_code: None,
            generally_dangerous_infection: false,
            mrsa: false,
            palliative: false,
            established: form.established,
            // O1 step 1: Helfo is expected to cover established treatment with RCT-level
            // documentation, unless it has refused.
            helfo_documentation: form.established
                && form.documentation == Documentation::Rct
                && !form.helfo_refused,
            nye_metoder: form.nye_metoder,
        },
        setting: form.setting,
        started_in: StartedIn::Specialist,
        prescriber: PrescriberRole::HospitalDoctor,
        patient: Patient {
            id: PatientId::Fnr,
            member: true,
            other_hf: form.home_trust.is_some(),
            age: None,
        },
        treatment: Treatment {
            months_per_year: MonthsPerYear::FULL_YEAR,
            repeated: false,
        },
        opioid: Opioid {
            omeq: None,
            pain: None,
            kind: OpioidKind::Standard,
        },
    }
}

/// What the decision engine filled in on submission.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// The decision, as the engine gave it.
    pub scheme: domain::Scheme,
    /// Who pays.
    pub payer: Payer,
    /// The paper to write (O5).
    pub prescription: domain::Prescription,
    /// What must be done before start.
    pub actions: Vec<ActionKind>,
    /// An approval exemption from DMP is needed (O5.3).
    pub godkjenningsfritak: bool,
    /// The second trust must approve (O2).
    pub second_trust: bool,
    /// The trust that pays, as the prescription's note names it (O5): the treating trust.
    pub paying_trust: String,
    /// Its RHF and the address its invoices go to, from the register (`HELSEFORETAK`).
    pub paying_rhf: Option<String>,
    /// Where the pharmacy's invoice goes.
    pub invoice_address: Option<String>,
    /// Nye metoder status and what follows (O1 step 3).
    pub nye_metoder: NyeMetoder,
    /// The rule data version.
    pub rule_set: String,
    /// The sources cited.
    pub citations: Vec<String>,
    /// The explanation, rule by rule: (rule id, applied, text).
    pub explanation: Vec<(String, bool, String)>,
}

/// Checks the application and runs the decision engine on it (O1): the trust must be the one
/// that pays, and nothing may block the path. What the engine found is kept with the case.
pub fn submit(
    fields: &Fields,
    actor: &Actor,
    today: Date,
    rules: &RuleSet,
) -> Result<(OffLabelForm, Derived), Refusal> {
    let trust = actor.trust.as_deref().unwrap_or("");
    let mut form = validate(fields, trust, today).map_err(Refusal::Invalid)?;
    // The patient's trust is one of the register (chosen from a list, never typed): a typo
    // would leave an approved case waiting for a trust that does not exist (O2).
    let register = rules.trusts.at(today).map(|r| &r.value).map_err(|e| {
        Refusal::Invalid(vec![FieldError {
            field: "$".into(),
            message: e.to_string(),
        }])
    })?;
    if let Some(named) = &form.home_trust {
        match register.trust(named) {
            Some(t) if t.name == trust => {
                return Err(Refusal::Invalid(vec![FieldError {
                    field: "home_trust".into(),
                    message: "pasientens helseforetak er det behandlende; la feltet stå tomt"
                        .into(),
                }]));
            }
            Some(t) => form.home_trust = Some(t.name.clone()),
            None => {
                return Err(Refusal::Invalid(vec![FieldError {
                    field: "home_trust".into(),
                    message: format!(
                        "«{named}» er ikke et helseforetak i registeret; velg pasientens helseforetak fra listen"
                    ),
                }]));
            }
        }
    }
    let request = decision_request(&form, today);
    let decision = decide::decide(&request, rules).map_err(|e| {
        Refusal::Invalid(vec![FieldError {
            field: "$".into(),
            message: e.message(),
        }])
    })?;
    if let Some(b) = decision.blockers.first() {
        let field = match b.code {
            domain::BlockerCode::BeslutningsforumNo => "nye_metoder",
            _ => "atc",
        };
        return Err(Refusal::Invalid(vec![FieldError {
            field: field.into(),
            message: b.message.to_string(),
        }]));
    }
    if !matches!(decision.payer, Payer::Hf | Payer::Rhf) {
        let (field, message) = if decision.scheme == domain::Scheme::S3 {
            (
                "helfo_refused",
                "etablert behandling med dokumentasjon som oppfyller Helfos krav: søk Helfo om individuell \
                 stønad først (O1 trinn 1). Avslår Helfo, kryss av her, så betaler helseforetaket."
                    .to_string(),
            )
        } else {
            (
                "atc",
                format!(
                    "beslutningsmotoren gir {} ({}): helseforetaket er ikke finansieringsansvarlig, så søknaden \
                     hører ikke hjemme her",
                    decision.payer.describe(),
                    decision.scheme.code()
                ),
            )
        };
        return Err(Refusal::Invalid(vec![FieldError {
            field: field.into(),
            message,
        }]));
    }
    let mut derived = derived(&decision, &form);
    // O5: the prescription's note names the trust that pays and where its invoice goes.
    derived.paying_trust = trust.to_string();
    if let Some(t) = register.trust(trust) {
        derived.paying_rhf = Some(register.rhf_of(t).name.clone());
        derived.invoice_address = Some(t.invoice_address.clone());
    }
    Ok((form, derived))
}

fn derived(decision: &Decision<'_>, form: &OffLabelForm) -> Derived {
    let actions: Vec<ActionKind> = decision.actions.iter().map(|a| a.kind).collect();
    Derived {
        paying_trust: String::new(),
        paying_rhf: None,
        invoice_address: None,
        scheme: decision.scheme,
        payer: decision.payer,
        prescription: decision.prescription,
        godkjenningsfritak: actions.contains(&ActionKind::Godkjenningsfritak),
        second_trust: form.home_trust.is_some(),
        nye_metoder: form.nye_metoder,
        actions,
        rule_set: decision.rule_set.to_string(),
        citations: decision.citations.iter().map(|c| c.to_string()).collect(),
        explanation: decision
            .explanation
            .iter()
            .map(|s| (s.rule.code().to_string(), s.applied, s.text.to_string()))
            .collect(),
    }
}

/// What the state machine needs to know about a case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseHead {
    /// Where it stands.
    pub state: State,
    /// The applicant (token subject).
    pub author: String,
    /// The treating trust.
    pub treating_trust: String,
    /// The trust the patient belongs to, if another.
    pub home_trust: Option<String>,
    /// The plan's evaluation dates (empty before submission).
    pub evaluation_dates: Vec<Date>,
    /// The plan's stop rules.
    pub stop_rules: Vec<String>,
    /// Evaluations recorded so far.
    pub evaluations_done: usize,
}

impl CaseHead {
    /// The next evaluation date of the plan, if any is left.
    pub fn next_evaluation(&self) -> Option<Date> {
        self.evaluation_dates.get(self.evaluations_done).copied()
    }

    /// The moves open to `actor` now (for the buttons; [`apply`] is the authority).
    pub fn moves_for(&self, actor: &Actor) -> Vec<Move> {
        Move::ALL
            .iter()
            .copied()
            .filter(|m| {
                *m != Move::Submit || self.state == State::Draft || self.state == State::Returned
            })
            .filter(|m| check(self, *m, actor).is_ok())
            .collect()
    }
}

/// A move asked for: which, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The move.
    pub movement: Move,
    /// The reason (required for every move but submitting).
    pub reason: String,
    /// For [`Move::EvaluateStop`]: which stop rule fired (index into the plan's).
    pub stop_rule: Option<usize>,
}

/// A move that may be made, and what it records.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The state after.
    pub to: State,
    /// The line for the record (and the patient's journal, on approval).
    pub record: String,
    /// Whether it is an evaluation (the count of evaluations grows).
    pub evaluation: bool,
}

/// Who may make `movement` on `case`, and whether the case allows it: the role and trust
/// checks of O2 in one place.
fn check(case: &CaseHead, movement: Move, actor: &Actor) -> Result<State, Refusal> {
    use State::*;
    let in_trust = |trust: &str| actor.trust.as_deref() == Some(trust);
    let forbidden = |who: &str| {
        Err(Refusal::Forbidden(format!(
            "«{}» kan bare gjøres av {who}",
            movement.describe()
        )))
    };
    let wrong_state = || {
        Err(Refusal::Conflict(format!(
            "saken er «{}»; «{}» passer ikke nå",
            case.state.describe(),
            movement.describe()
        )))
    };
    let is_author = actor.role == Role::Prescriber && actor.subject == case.author;
    match movement {
        Move::Submit | Move::Withdraw => {
            if !is_author {
                return forbidden("legen som skrev søknaden");
            }
            match (movement, case.state) {
                (Move::Submit, Draft | Returned) => Ok(Submitted),
                (
                    Move::Withdraw,
                    Draft | Submitted | Returned | Recommended | AwaitingHomeTrust,
                ) => Ok(Withdrawn),
                _ => wrong_state(),
            }
        }
        Move::Recommend | Move::Return if actor.role == Role::ClinicHead => {
            if !in_trust(&case.treating_trust) {
                return forbidden("klinikkleder i det behandlende helseforetaket");
            }
            match (movement, case.state) {
                (Move::Recommend, Submitted) => Ok(Recommended),
                (Move::Return, Submitted) => Ok(Returned),
                _ => wrong_state(),
            }
        }
        Move::Approve | Move::Reject | Move::Return if actor.role == Role::MedicalDirector => {
            match case.state {
                Recommended if in_trust(&case.treating_trust) => Ok(match movement {
                    Move::Approve if case.home_trust.is_some() => AwaitingHomeTrust,
                    Move::Approve => Approved,
                    Move::Reject => Rejected,
                    _ => Returned,
                }),
                AwaitingHomeTrust
                    if case.home_trust.as_deref().is_some_and(in_trust)
                        && movement != Move::Return =>
                {
                    Ok(if movement == Move::Approve {
                        Approved
                    } else {
                        Rejected
                    })
                }
                Recommended => forbidden("fagdirektør i det behandlende helseforetaket"),
                AwaitingHomeTrust if movement == Move::Return => wrong_state(),
                AwaitingHomeTrust => forbidden("fagdirektør i helseforetaket pasienten tilhører"),
                _ => wrong_state(),
            }
        }
        Move::Recommend => forbidden("klinikk- eller avdelingsleder"),
        Move::Return => forbidden("klinikk- eller avdelingsleder eller fagdirektør"),
        Move::Approve | Move::Reject => forbidden("fagdirektør"),
        Move::EvaluateContinue | Move::EvaluateStop => {
            if actor.role != Role::Prescriber || !in_trust(&case.treating_trust) {
                return forbidden("behandlende lege i det behandlende helseforetaket");
            }
            if case.state != Approved {
                return wrong_state();
            }
            Ok(if movement == Move::EvaluateStop {
                Stopped
            } else {
                Approved
            })
        }
    }
}

/// Decides whether `actor` may make the move on `case` now, and what it leads to and records.
/// Submitting is checked here for role and state; the form itself by [`submit`].
pub fn apply(
    case: &CaseHead,
    request: &Request,
    actor: &Actor,
    today: Date,
) -> Result<Outcome, Refusal> {
    let to = check(case, request.movement, actor)?;
    let reason = sentence(request.reason.trim());
    if request.movement != Move::Submit && reason.is_empty() {
        return Err(Refusal::Invalid(vec![FieldError {
            field: "reason".into(),
            message: "skriv en begrunnelse; den journalføres med beslutningen".into(),
        }]));
    }
    let who = format!(
        "{} ({}{})",
        actor.name,
        actor.role.describe(),
        actor
            .trust
            .as_deref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default()
    );
    let record = match request.movement {
        Move::Submit => format!("Sendt inn av {who} {today}."),
        Move::Approve => format!(
            "Godkjent av {who} {today}. Begrunnelse: {reason}{}",
            if to == State::AwaitingHomeTrust {
                " Pasientens helseforetak må også godkjenne før oppstart (O2)."
            } else {
                " Behandlingen kan starte; føres i pasientens journal (O2)."
            }
        ),
        Move::EvaluateStop => {
            let Some(rule) = request.stop_rule.and_then(|i| case.stop_rules.get(i)) else {
                return Err(Refusal::Invalid(vec![FieldError {
                    field: "stop_rule".into(),
                    message: "velg stoppkriteriet som slo til".into(),
                }]));
            };
            format!("Evaluert {today} av {who}: avsluttet. Stoppkriterium: «{rule}». {reason}")
        }
        Move::EvaluateContinue => format!(
            "Evaluert {today} av {who}{}: fortsetter. {reason}",
            case.next_evaluation()
                .map(|d| format!(" (planlagt {d})"))
                .unwrap_or_default()
        ),
        other => format!(
            "{} av {who} {today}. Begrunnelse: {reason}",
            describe_past(other)
        ),
    };
    Ok(Outcome {
        to,
        record,
        evaluation: matches!(
            request.movement,
            Move::EvaluateContinue | Move::EvaluateStop
        ),
    })
}

/// The reason as a sentence (a full stop added if it has none), so the record reads well.
fn sentence(reason: &str) -> String {
    match reason.chars().last() {
        None => String::new(),
        Some('.' | '!' | '?') => reason.to_string(),
        Some(_) => format!("{reason}."),
    }
}

fn describe_past(m: Move) -> &'static str {
    match m {
        Move::Recommend => "Anbefalt",
        Move::Return => "Returnert for endringer",
        Move::Reject => "Avslått",
        Move::Withdraw => "Trukket",
        _ => "Behandlet",
    }
}

#[cfg(test)]
mod tests;
