//! The forms of the web pages, as data: each field with its label, help text, kind, the
//! browser's own checks (so it can say what is wrong as you type), its value and the server's
//! message. One template renders every field the same accessible way.

use cases::{FieldError, Fields};

/// What kind of input a field is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Several lines.
    Area,
    /// A choice from a list.
    Select,
    /// A yes/no checkbox.
    YesNo,
    /// A date.
    Date,
    /// A number.
    Number,
}

/// One field, ready to render.
#[derive(Clone, Debug)]
pub struct Field {
    /// Name (as in the API).
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// Help text.
    pub hint: &'static str,
    /// Kind.
    pub kind: Kind,
    /// Choices (code, label) for a select.
    pub options: Vec<(String, String)>,
    /// Required by the browser.
    pub required: bool,
    /// A pattern the browser checks.
    pub pattern: &'static str,
    /// Minimum and maximum for numbers.
    pub min: &'static str,
    /// Maximum.
    pub max: &'static str,
    /// What to say when the browser's check fails (bokmål).
    pub check_message: &'static str,
    /// The value typed.
    pub value: String,
    /// The server's message.
    pub error: Option<String>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, kind: Kind) -> Field {
        Field {
            name,
            label,
            hint: "",
            kind,
            options: Vec::new(),
            required: false,
            pattern: "",
            min: "",
            max: "",
            check_message: "",
            value: String::new(),
            error: None,
        }
    }

    fn hint(mut self, hint: &'static str) -> Field {
        self.hint = hint;
        self
    }

    fn required(mut self, message: &'static str) -> Field {
        self.required = true;
        self.check_message = message;
        self
    }

    fn pattern(mut self, pattern: &'static str, message: &'static str) -> Field {
        self.pattern = pattern;
        self.check_message = message;
        self
    }

    fn range(mut self, min: &'static str, max: &'static str) -> Field {
        self.min = min;
        self.max = max;
        self
    }

    fn options(mut self, options: &[(&str, &str)]) -> Field {
        self.options = options
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect();
        self
    }

    /// Whether the yes/no box is ticked.
    pub fn checked(&self) -> bool {
        matches!(self.value.as_str(), "ja" | "true" | "on")
    }

    /// Whether `code` is the chosen option.
    pub fn selected(&self, code: &str) -> bool {
        self.value == code
    }

    /// The ids the input is described by (hint and error).
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.id()));
        }
        ids.push(format!("{}-feil", self.id()));
        ids.join(" ")
    }

    /// The element id (dots are not welcome in CSS selectors).
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace('.', "-"))
    }

    /// Whether it is a given kind (for the template).
    pub fn is(&self, kind: &str) -> bool {
        let k = match self.kind {
            Kind::Text => "text",
            Kind::Area => "area",
            Kind::Select => "select",
            Kind::YesNo => "yesno",
            Kind::Date => "date",
            Kind::Number => "number",
        };
        k == kind
    }
}

/// A group of fields under a heading.
#[derive(Clone, Debug)]
pub struct Section {
    /// The heading (legend).
    pub legend: &'static str,
    /// The fields.
    pub fields: Vec<Field>,
}

/// Fills in values and messages; returns the errors that belong to no field on the form.
pub fn fill(sections: &mut [Section], values: &Fields, errors: &[FieldError]) -> Vec<FieldError> {
    let mut unplaced = Vec::new();
    for s in sections.iter_mut() {
        for f in &mut s.fields {
            if let Some(v) = values.get(f.name) {
                f.value = v.clone();
            }
        }
    }
    for e in errors {
        let field = sections
            .iter_mut()
            .flat_map(|s| s.fields.iter_mut())
            .find(|f| f.name == e.field);
        match field {
            Some(f) if f.error.is_none() => f.error = Some(e.message.clone()),
            Some(_) => {}
            None => unplaced.push(e.clone()),
        }
    }
    unplaced
}

const ATC_PATTERN: &str = "[A-Za-z][0-9]{2}([A-Za-z]([A-Za-z]([0-9]{2})?)?)?";
const ATC_MESSAGE: &str = "ATC-kode som L01FF02: bokstav, to sifre, så bokstaver og sifre";
const DATE_MESSAGE: &str = "dato som dd.mm.åååå (eller ÅÅÅÅ-MM-DD)";
/// What the browser accepts as a date: Norwegian `24.11.2026` or ISO `2026-11-24`.
const DATE_PATTERN: &str = "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{4}";

fn yes_no(name: &'static str, label: &'static str) -> Field {
    Field::new(name, label, Kind::YesNo)
}

/// The off-label application (vedlegg 1, O3), in the order of the form.
pub fn off_label(trusts: &ruleset::TrustRegister) -> Vec<Section> {
    let mut home_trust = Field::new(
        "home_trust",
        "Pasientens helseforetak, hvis et annet",
        Kind::Select,
    )
    .hint("Tilhører pasienten et annet helseforetak, må også det godkjenne før oppstart (O2).");
    home_trust.options =
        std::iter::once((String::new(), "det behandlende helseforetaket".to_string()))
            .chain(
                trusts
                    .trusts
                    .iter()
                    .map(|t| (t.name.clone(), t.name.clone())),
            )
            .collect();
    vec![
        Section {
            legend: "Pasient eller pasientgruppe",
            fields: vec![
                Field::new("scope", "Søknaden gjelder", Kind::Select)
                    .options(&[("patient", "én pasient"), ("group", "en pasientgruppe")])
                    .required("velg pasient eller pasientgruppe"),
                Field::new("patient_ref", "Pasientens journalnummer", Kind::Text)
                    .hint("Journalnummeret i helseforetaket – ikke fødselsnummer."),
                Field::new("group_description", "Pasientgruppen", Kind::Area)
                    .hint("For gruppesøknader: hvem gruppen omfatter."),
                Field::new("patients", "Antall pasienter per år (gruppe)", Kind::Number)
                    .range("1", "100000"),
                Field::new("clinic", "Klinikk / avdeling", Kind::Text)
                    .required("fyll inn klinikk eller avdeling"),
                home_trust,
            ],
        },
        Section {
            legend: "Legemiddel og bruk",
            fields: vec![
                Field::new("atc", "ATC-kode", Kind::Text)
                    .pattern(ATC_PATTERN, ATC_MESSAGE)
                    .required(ATC_MESSAGE),
                Field::new("substance", "Virkestoff", Kind::Text).required("fyll inn virkestoff"),
                Field::new("brand", "Handelsnavn", Kind::Text),
                Field::new("use_kind", "Type bruk", Kind::Select)
                    .options(&[
                        ("off_label", "utenfor godkjent indikasjon (off-label)"),
                        ("off_licence", "uten markedsføringstillatelse (off-licence)"),
                    ])
                    .required("velg type bruk"),
                Field::new("prescription_group", "Reseptgruppe", Kind::Select).options(&[
                    ("", "ukjent"),
                    ("A", "A"),
                    ("B", "B"),
                    ("C", "C"),
                    ("CF", "CF"),
                    ("F", "F"),
                ]),
                Field::new("indication", "Indikasjon", Kind::Area)
                    .required("fyll inn indikasjonen"),
                Field::new("setting", "Hvor gis behandlingen", Kind::Select)
                    .options(&[
                        ("patient_administered", "pasienten tar den selv (resept)"),
                        ("outpatient", "poliklinisk"),
                        ("inpatient", "innlagt"),
                    ])
                    .required("velg hvor behandlingen gis"),
                yes_no("established", "Etablert, konsensusbasert behandling"),
                yes_no("helfo_refused", "Helfo har avslått individuell stønad"),
                Field::new("nye_metoder", "Status i Nye metoder", Kind::Select)
                    .options(&[
                        ("none", "ikke vurdert i Nye metoder"),
                        ("under_assessment", "til vurdering"),
                        ("decided_yes", "Beslutningsforum: ja"),
                        ("decided_no", "Beslutningsforum: nei"),
                    ])
                    .required("velg status i Nye metoder"),
            ],
        },
        Section {
            legend: "Dokumentasjon og vurdering (O3)",
            fields: vec![
                Field::new("documentation", "Dokumentasjonsnivå", Kind::Select)
                    .options(&[
                        ("rct", "randomiserte studier (fase III)"),
                        ("phase_ii", "fase II-studier"),
                        ("registry", "retrospektive serier / registerdata"),
                        (
                            "case_report",
                            "kasuistikk (bare ved forekomst under 5 per år)",
                        ),
                    ])
                    .required("velg dokumentasjonsnivå"),
                Field::new("references", "Referanser", Kind::Area)
                    .hint("Minst én fullstendig fagfellevurdert artikkel.")
                    .required("fyll inn referanser"),
                yes_no(
                    "incidence_under_5",
                    "Forekomst under 5 pasienter per år i Norge",
                ),
                Field::new("ecog", "ECOG-funksjonsstatus", Kind::Number)
                    .range("0", "4")
                    .hint("0–4. Over 1 krever begrunnelse.")
                    .required("ECOG fra 0 til 4"),
                Field::new(
                    "ecog_justification",
                    "Begrunnelse for ECOG over 1",
                    Kind::Area,
                ),
                yes_no("biomarker_required", "Effekten forutsetter en biomarkør"),
                yes_no("biomarker_demonstrated", "Biomarkøren er påvist"),
                Field::new("safety", "Sikkerhet", Kind::Area).required("vurder sikkerhet"),
                Field::new("uncertainty", "Usikkerhet om effekt", Kind::Area)
                    .required("vurder usikkerheten"),
                Field::new(
                    "consequences",
                    "Konsekvenser av ikke å behandle",
                    Kind::Area,
                )
                .required("beskriv konsekvensene av ikke å behandle"),
                Field::new("cost_estimate", "Anslått kostnad per år (kr)", Kind::Text)
                    .pattern("[0-9 ]+([,.][0-9]{1,2})?", "beløp i kroner, f.eks. 850 000")
                    .required("beløp i kroner, f.eks. 850 000"),
                yes_no(
                    "consent_recorded",
                    "Informert samtykke er innhentet og journalført (også til bruk av helsedata)",
                ),
            ],
        },
        Section {
            legend: "Behandlingsplan",
            fields: vec![
                Field::new(
                    "plan_purpose",
                    "Formål, oppfølging og evaluering",
                    Kind::Area,
                )
                .required("beskriv formål og oppfølging"),
                Field::new("plan_dosing", "Dosering og administrasjon", Kind::Area)
                    .required("beskriv doseringen"),
                Field::new("evaluation_dates", "Evalueringsdatoer", Kind::Area)
                    .hint("Én dato per linje, ÅÅÅÅ-MM-DD, etter dagens dato.")
                    .required("minst én evalueringsdato"),
                Field::new("stop_rules", "Stoppkriterier", Kind::Area)
                    .hint("Ett per linje, f.eks. «Progresjon etter RECIST».")
                    .required("minst ett stoppkriterium"),
            ],
        },
    ]
}

/// The look-up before a § 3 application.
pub fn helfo_lookup() -> Vec<Section> {
    vec![Section {
        legend: "Oppslag: pasient og legemiddel",
        fields: helfo_identity_and_drug(),
    }]
}

fn helfo_identity_and_drug() -> Vec<Field> {
    vec![
        Field::new("patient_id_kind", "Pasientens identitet", Kind::Select)
            .options(&[
                ("fnr", "fødselsnummer"),
                ("dnr", "D-nummer"),
                ("none", "verken fødselsnummer eller D-nummer (papirsøknad)"),
            ])
            .required("velg identitet"),
        Field::new("patient_id", "Fødselsnummer / D-nummer", Kind::Text)
            .pattern("[0-9]{11}", "11 sifre")
            .hint("11 sifre. Kontrollsifrene sjekkes."),
        Field::new("atc", "ATC-kode", Kind::Text)
            .pattern(ATC_PATTERN, ATC_MESSAGE)
            .required(ATC_MESSAGE),
        Field::new("substance", "Virkestoff", Kind::Text).required("fyll inn virkestoff"),
        Field::new("brand", "Handelsnavn", Kind::Text),
    ]
}

/// The § 3 application, with the questions B3–B5 make relevant.
pub fn helfo() -> Vec<Section> {
    let mut identity = helfo_identity_and_drug();
    let drug = identity.split_off(2);
    identity.extend([
        Field::new("patient_name", "Navn (papirsøknad)", Kind::Text),
        Field::new("birth_date", "Fødselsdato (papirsøknad)", Kind::Date)
            .pattern(DATE_PATTERN, DATE_MESSAGE),
        Field::new(
            "prescriber_hpr",
            "Ditt HPR-nummer (papirsøknad)",
            Kind::Text,
        )
        .pattern("[0-9]{1,9}", "HPR-nummeret: bare sifre, høyst ni")
        .hint("Skrives ut over underskriftslinjen."),
        yes_no("member", "Medlem av folketrygden"),
        Field::new("age", "Alder", Kind::Number).range("0", "130"),
    ]);
    let mut medicine = drug;
    medicine.extend([
        Field::new("authorisation", "Markedsføring", Kind::Select)
            .options(&[
                ("marketed", "markedsført i Norge"),
                ("not_marketed", "ikke markedsført i Norge"),
                ("unauthorised", "uten markedsføringstillatelse"),
            ])
            .required("velg markedsføringsstatus"),
        Field::new("prescription_group", "Reseptgruppe", Kind::Select).options(&[
            ("", "ukjent"),
            ("A", "A"),
            ("B", "B"),
            ("C", "C"),
            ("CF", "CF"),
            ("F", "F"),
        ]),
        Field::new(
            "refund_code",
            "Refusjonskode (ICPC-2/ICD-10), hvis en",
            Kind::Text,
        ),
        Field::new("diagnosis", "Diagnose", Kind::Text).required("fyll inn diagnosen"),
        yes_no(
            "on_label",
            "Bruken er innenfor godkjent indikasjon (EØS/UK)",
        ),
        yes_no(
            "documentation_attached",
            "Vitenskapelig dokumentasjon er vedlagt (bruk utenfor godkjent indikasjon)",
        ),
    ]);
    vec![
        Section {
            legend: "Pasient",
            fields: identity,
        },
        Section {
            legend: "Legemiddel",
            fields: medicine,
        },
        Section {
            legend: "Vilkår (B3)",
            fields: vec![
                Field::new("severity", "Alvorlighet", Kind::Select)
                    .options(&[
                        ("serious", "alvorlig sykdom"),
                        (
                            "risk_factors",
                            "risikofaktorer som med høy sannsynlighet gir alvorlig sykdom",
                        ),
                        ("not_serious", "ikke alvorlig"),
                    ])
                    .required("velg alvorlighet"),
                Field::new(
                    "months_per_year",
                    "Måneder med behandling i løpet av ett år",
                    Kind::Number,
                )
                .range("0", "12")
                .hint("Minst 3 måneder i løpet av ett år (lagt sammen).")
                .required("tall fra 0 til 12"),
                yes_no(
                    "repeated",
                    "Risiko for gjentatt behandling over lengre tid / beredskap",
                ),
                Field::new("previous_treatment", "Tidligere behandling", Kind::Select)
                    .options(&[
                        (
                            "tried_failed",
                            "relevante § 2-legemidler er prøvd uten effekt / med bivirkninger",
                        ),
                        ("contraindicated", "relevante legemidler er kontraindisert"),
                        ("none_relevant", "det finnes ikke relevante § 2-legemidler"),
                        ("other", "andre tungtveiende grunner"),
                        ("not_tried", "ikke prøvd"),
                    ])
                    .required("velg tidligere behandling"),
                Field::new(
                    "previous_treatment_details",
                    "Hva er prøvd, og hvorfor kan det ikke brukes",
                    Kind::Area,
                ),
                yes_no(
                    "trust_offered_trial",
                    "Et helseforetak har tilbudt utprøvende behandling",
                ),
                yes_no(
                    "communicable",
                    "Allmennfarlig smittsom sykdom (§ 4: ingen søknad)",
                ),
            ],
        },
        Section {
            legend: "Opioider (B5) – bare ved smertebehandling",
            fields: vec![
                Field::new("omeq", "Samlet døgndose (mg OMEQ)", Kind::Number).range("0", "1000000"),
                Field::new("pain", "Smertetype", Kind::Select).options(&[
                    ("", "ikke opioid"),
                    ("non_cancer", "langvarige ikke-kreftrelaterte smerter"),
                    ("cancer", "kreftrelaterte smerter"),
                    ("unclarified", "uavklart smertetilstand"),
                ]),
                Field::new("opioid_kind", "Type opioid", Kind::Select).options(&[
                    ("", "vanlig"),
                    ("methadone", "metadon"),
                    ("fast_acting", "hurtigvirkende"),
                    ("not_marketed", "ikke markedsført"),
                ]),
            ],
        },
    ]
}

/// "Who pays?": the decision request, field names as the contract's JSON paths, so a contract
/// error lands next to its field.
pub fn decide() -> Vec<Section> {
    vec![
        Section {
            legend: "Legemiddel",
            fields: vec![
                Field::new("date", "Dato", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .required(DATE_MESSAGE),
                Field::new("drug.varenr", "Varenummer (FEST)", Kind::Text)
                    .pattern("[0-9]{6}", "seks sifre")
                    .hint("Med en importert FEST-katalog er varenummeret nok: katalogen fyller inn ATC, virkestoff og resten."),
                Field::new("drug.atc", "ATC-kode", Kind::Text)
                    .pattern(ATC_PATTERN, ATC_MESSAGE)
                    .hint("Uten varenummer: ATC-kode og virkestoff."),
                Field::new("drug.substance", "Virkestoff", Kind::Text),
                Field::new("drug.brand", "Handelsnavn", Kind::Text),
                Field::new("drug.authorisation", "Markedsføring", Kind::Select).options(&[
                    ("marketed", "markedsført i Norge"),
                    ("not_marketed", "ikke markedsført i Norge"),
                    ("unauthorised", "uten markedsføringstillatelse"),
                ]),
                Field::new("drug.prescription_group", "Reseptgruppe", Kind::Select).options(&[
                    ("", "ukjent"),
                    ("A", "A"),
                    ("B", "B"),
                    ("C", "C"),
                    ("CF", "CF"),
                    ("F", "F"),
                ]),
            ],
        },
        Section {
            legend: "Bruk",
            fields: vec![
                Field::new("use.on_label", "Innenfor godkjent indikasjon", Kind::Select)
                    .options(&[("true", "ja"), ("false", "nei (off-label)")]),
                yes_no("use.refund_listed", "Bruken står på refusjonslisten (§ 2)"),
                Field::new("use.refund_code", "Refusjonskode", Kind::Text)
                    .hint("F.eks. -90 eller -71."),
                yes_no(
                    "use.generally_dangerous_infection",
                    "Allmennfarlig smittsom sykdom (§ 4)",
                ),
                yes_no("use.palliative", "Palliativ behandling i livets sluttfase"),
                yes_no("use.established", "Etablert, konsensusbasert behandling"),
                yes_no(
                    "use.helfo_documentation",
                    "Dokumentasjonen oppfyller Helfos krav",
                ),
                Field::new("use.nye_metoder", "Nye metoder", Kind::Select).options(&[
                    ("none", "ikke vurdert"),
                    ("under_assessment", "til vurdering"),
                    ("decided_yes", "Beslutningsforum: ja"),
                    ("decided_no", "Beslutningsforum: nei"),
                ]),
                Field::new("setting", "Hvor", Kind::Select).options(&[
                    ("patient_administered", "pasienten tar den selv (resept)"),
                    ("outpatient", "poliklinisk"),
                    ("inpatient", "innlagt"),
                    ("lar", "LAR"),
                    ("compulsory_mental_health", "tvungent psykisk helsevern"),
                    ("clinical_trial", "klinisk studie"),
                    ("compassionate_use", "compassionate use"),
                ]),
                Field::new("started_in", "Startet i", Kind::Select).options(&[
                    ("primary", "primærhelsetjenesten"),
                    ("specialist", "spesialisthelsetjenesten"),
                ]),
            ],
        },
        Section {
            legend: "Forskriver og pasient",
            fields: vec![
                Field::new("prescriber.role", "Forskriver", Kind::Select).options(&[
                    ("gp", "fastlege"),
                    ("specialist", "spesialist"),
                    ("hospital_doctor", "sykehuslege"),
                    ("pain_clinic", "lege ved smerteklinikk"),
                ]),
                Field::new("patient.id", "Pasientens identitet", Kind::Select).options(&[
                    ("fnr", "fødselsnummer"),
                    ("dnr", "D-nummer"),
                    ("none", "ingen"),
                ]),
                Field::new("patient.member", "Medlem av folketrygden", Kind::Select)
                    .options(&[("true", "ja"), ("false", "nei")]),
                yes_no("patient.other_hf", "Tilhører et annet helseforetak"),
                Field::new("patient.age", "Alder", Kind::Number).range("0", "130"),
                Field::new(
                    "treatment.months_per_year",
                    "Måneder med behandling per år",
                    Kind::Number,
                )
                .range("0", "12"),
                yes_no("treatment.repeated", "Risiko for gjentatt behandling"),
                Field::new("opioid.omeq", "Opioid: døgndose (mg OMEQ)", Kind::Number)
                    .range("0", "1000000"),
                Field::new("opioid.pain", "Opioid: smertetype", Kind::Select).options(&[
                    ("", "ikke opioid"),
                    ("non_cancer", "ikke-kreftrelatert"),
                    ("cancer", "kreftrelatert"),
                    ("unclarified", "uavklart"),
                ]),
            ],
        },
    ]
}

/// The § 3 form tailored to the case, as the look-up left it (B3–B5 make only some questions
/// relevant): the opioid questions only for a medicine in the -71 scope, name and birth date
/// only on the paper path, the identity number only when there is one.
pub fn helfo_for(is_opioid: bool, paper: bool) -> Vec<Section> {
    let mut sections = helfo();
    for s in &mut sections {
        s.fields.retain(|f| match f.name {
            "patient_name" | "birth_date" | "prescriber_hpr" => paper,
            "patient_id" => !paper,
            _ => true,
        });
        if paper {
            for f in &mut s.fields {
                if matches!(f.name, "patient_name" | "birth_date" | "prescriber_hpr") {
                    f.required = true;
                }
            }
        }
    }
    if !is_opioid {
        sections.retain(|s| !s.legend.starts_with("Opioider"));
    }
    sections
}

/// The pharmacist's dispensing (pharmacy contract v1), in the order of the prescription. The
/// trust of a note is chosen from the register, never typed.
pub fn dispensing(trusts: &ruleset::TrustRegister) -> Vec<Section> {
    let mut trust = Field::new(
        "prescription.paying_trust",
        "Helseforetaket som betaler (merknaden)",
        Kind::Select,
    )
    .hint("Bare for hvit resept med merknad (O5).");
    trust.options = std::iter::once((String::new(), "ingen".to_string()))
        .chain(trusts.trusts.iter().map(|t| (t.id.clone(), t.name.clone())))
        .collect();
    vec![
        Section {
            legend: "Utlevering",
            fields: vec![
                Field::new("dispensing_id", "Utleverings-id", Kind::Text)
                    .required("apotekets egen id for utleveringen")
                    .hint("Apotekets egen id. Sendes skjemaet på nytt med samme id, registreres utleveringen bare én gang."),
                Field::new("date", "Utleveringsdato", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .required(DATE_MESSAGE),
                Field::new("pharmacy.id", "Apotekets id", Kind::Text).required("apotekets id"),
                Field::new("pharmacy.name", "Apotekets navn", Kind::Text).required("apotekets navn"),
            ],
        },
        Section {
            legend: "Pasient",
            fields: vec![
                Field::new("patient.id_kind", "Identifikasjon", Kind::Select).options(&[
                    ("fnr", "fødselsnummer"),
                    ("dnr", "D-nummer"),
                    ("none", "uten nummer"),
                ]),
                Field::new("patient.id", "Fødselsnummer eller D-nummer", Kind::Text)
                    .pattern("[0-9 ]{11,12}", "11 sifre (mellomrom går fint)"),
                Field::new("patient.birth_date", "Fødselsdato", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .required(DATE_MESSAGE)
                    .hint("Avgjør om pasienten er under 16 år på utleveringsdagen."),
                Field::new("patient.municipality", "Bostedskommune (kommunenummer)", Kind::Text)
                    .pattern("[0-9]{4}", "fire sifre")
                    .hint("Avgjør hvilket helseforetak og RHF som betaler en H-resept."),
                yes_no("patient.minimum_pensioner", "Minstepensjonist (ingen egenandel)"),
                Field::new("patient.priority_group", "Prioritert pasientgruppe", Kind::Text)
                    .hint("Bare ved rasjonering (E4): gruppen slik DMPs begrensning navngir den, f.eks. «barn»."),
            ],
        },
        Section {
            legend: "Resept",
            fields: vec![
                Field::new("prescription.id", "ReseptId", Kind::Text).required("reseptens id"),
                Field::new("prescription.form", "Reseptform", Kind::Select).options(&[
                    ("blue", "blå resept"),
                    ("h", "H-resept"),
                    ("white", "hvit resept"),
                    ("white_note", "hvit resept med merknad fra helseforetaket"),
                ]),
                Field::new("prescription.issued", "Utstedt", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .required(DATE_MESSAGE),
                Field::new("prescription.valid_until", "Gyldig til og med", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .required(DATE_MESSAGE),
                Field::new("prescription.prescriber.hpr", "Forskriverens HPR-nummer", Kind::Text)
                    .required("HPR-nummer"),
                Field::new("prescription.prescriber.name", "Forskriverens navn", Kind::Text)
                    .required("navn"),
                Field::new("prescription.prescriber.role", "Forskriver", Kind::Select).options(&[
                    ("gp", "fastlege / allmennlege"),
                    ("specialist", "spesialist"),
                    ("hospital_doctor", "sykehuslege"),
                    ("pain_clinic", "smerteklinikk"),
                ]),
                Field::new("prescription.refund_code", "Refusjonskode", Kind::Text)
                    .hint("Blå resept og H-resept: f.eks. K86, -71 eller -90."),
                trust,
                Field::new(
                    "prescription.reserved_against_substitution",
                    "Legens reservasjon mot bytte",
                    Kind::Select,
                )
                .options(&[
                    ("none", "ingen"),
                    ("misuse_or_adherence", "problemer med misbruk eller etterlevelse"),
                    ("device_handling", "vansker med å håndtere ulike utforminger"),
                    ("excipients", "alvorlige problemer med hjelpestoffer"),
                    ("earlier_switch_side_effects", "uttalte bivirkninger ved tidligere bytte"),
                ]),
                yes_no("prescription.occupational_injury", "Gjelder godkjent yrkesskade (ingen egenandel)"),
                Field::new("prescription.daily_dose.amount", "Døgndose (opioider)", Kind::Number)
                    .range("0", "100000")
                    .hint("Forskrevet døgndose av virkestoffet; omregnes til mg OMEQ etter tabellen i regeldataene."),
                Field::new("prescription.daily_dose.unit", "Enhet for døgndosen", Kind::Select)
                    .options(&[("mg_per_day", "mg per døgn"), ("ug_per_hour", "µg per time (plaster)")]),
                Field::new("prescription.daily_dose_omeq", "Eller: døgndose i mg OMEQ", Kind::Number)
                    .range("0", "10000"),
            ],
        },
        Section {
            legend: "Vare",
            fields: vec![
                Field::new("drug.varenr", "Varenummer (forskrevet)", Kind::Text)
                    .pattern("[0-9]{6}", "seks sifre")
                    .required("seks sifre"),
                Field::new("packages", "Antall pakninger", Kind::Number)
                    .range("0", "1000")
                    .required("et tall over 0"),
                Field::new("supply_days", "Varer i antall dager", Kind::Number)
                    .range("1", "3660")
                    .hint("Etter doseringen: på blå resept høyst tre måneders forbruk."),
                Field::new("substitution.offered_varenr", "Tilbudt byttepreparat (varenummer)", Kind::Text)
                    .pattern("[0-9]{6}", "seks sifre"),
                yes_no("substitution.patient_refused", "Pasienten avslo bytte"),
                Field::new("approval_exemption.kind", "Godkjenningsfritak (uregistrert preparat)", Kind::Select)
                    .options(&[
                        ("", "ikke aktuelt"),
                        ("notification", "apoteket har vurdert og meldt fra (Apotek vurderer)"),
                        ("dmp_approval", "DMP har godkjent søknaden (Må søkes)"),
                    ]),
                Field::new("approval_exemption.reference", "Referanse for fritaket", Kind::Text),
            ],
        },
    ]
}

/// The approval exemption (G1–G4): the doctor's application to DMP, or the pharmacy's
/// notification, in the order of legemiddelforskriften § 2-5.
pub fn exemption() -> Vec<Section> {
    vec![
        Section {
            legend: "Hvem fritaket gjelder",
            fields: vec![
                Field::new("scope", "Fritaket gjelder", Kind::Select)
                    .options(&[
                        ("patient", "én pasient"),
                        ("practice", "et legekontor (praksis)"),
                        ("department", "en sykehusavdeling"),
                    ])
                    .required("velg hvem fritaket gjelder"),
                Field::new("patient_id", "Pasientens fødselsnummer / D-nummer", Kind::Text)
                    .pattern("[0-9 ]{11,12}", "11 sifre")
                    .hint("Når fritaket gjelder én pasient. Kontrollsifrene sjekkes."),
                Field::new("holder", "Legekontor eller avdeling", Kind::Text)
                    .hint("Når fritaket gjelder en praksis eller en sykehusavdeling."),
            ],
        },
        Section {
            legend: "Preparatet",
            fields: vec![
                Field::new("varenr", "Varenummer (FEST), hvis det har ett", Kind::Text)
                    .pattern("[0-9]{6}", "seks sifre")
                    .hint("Finnes preparatet i FEST, sjekkes det at det krever fritak, og om apoteket kan vurdere det."),
                Field::new("product", "Navn, form og styrke", Kind::Text)
                    .required("fyll inn preparatets navn, form og styrke"),
                Field::new("atc", "ATC-kode", Kind::Text)
                    .pattern(ATC_PATTERN, ATC_MESSAGE)
                    .required(ATC_MESSAGE),
                Field::new("substance", "Virkestoff", Kind::Text).required("fyll inn virkestoff"),
                Field::new("thc_percent", "THC-innhold i prosent (cannabisprodukter)", Kind::Text)
                    .pattern("[0-9]+([.,][0-9]+)?", "et tall, f.eks. 10 eller 0,5")
                    .hint("Over 1 % THC: bare sykehusspesialister kan søke (G2)."),
                yes_no(
                    "authorised_abroad",
                    "Har markedsføringstillatelse i et EØS-land, USA eller et PIC-S/MRA-land",
                ),
                yes_no("biological", "Biologisk legemiddel"),
            ],
        },
        Section {
            legend: "Mengde eller periode (høyst ett år)",
            fields: vec![
                Field::new("quantity", "Antall pakninger", Kind::Number).range("1", "100000"),
                Field::new("valid_from", "Fra", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .required(DATE_MESSAGE),
                Field::new("valid_until", "Til og med", Kind::Date)
                    .pattern(DATE_PATTERN, DATE_MESSAGE)
                    .hint("Tomt: ett år fra fra-datoen (eller til overgangsperioden slutter, G3)."),
            ],
        },
        Section {
            legend: "Begrunnelse",
            fields: vec![
                Field::new("justification", "Medisinsk begrunnelse", Kind::Area)
                    .required("skriv den medisinske begrunnelsen"),
                Field::new("ground", "Hvorfor et uregistrert preparat", Kind::Select)
                    .options(&[
                        ("no_marketed_alternative", "et markedsført legemiddel kan ikke brukes"),
                        ("shortage", "det er mangel på det markedsførte legemidlet (G4)"),
                    ])
                    .required("velg grunnen"),
                Field::new(
                    "why_not_marketed",
                    "Hvorfor et markedsført legemiddel ikke kan brukes",
                    Kind::Area,
                ),
                Field::new("shortage_of", "Det markedsførte legemidlet det er mangel på", Kind::Text),
                Field::new("prescriber_name", "Forskrivende lege", Kind::Text)
                    .required("fyll inn legens navn"),
            ],
        },
    ]
}
