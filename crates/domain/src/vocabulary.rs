//! The words a decision is made of: who pays, under which scheme, on which paper, what must be
//! done first and what stands in the way. Each has a stable code (the contract's value) and,
//! where people read it, a Norwegian name.

coded_enum!(
    /// A rule of `shared/domain.md`, by its id. Explanations, cases and rule data name rules
    /// this way, so a reviewer can check each step against the text.
    RuleId {
        /// Financing follows treatment responsibility.
        F1 = "F1",
        /// The § 1b annet ledd criteria.
        F2 = "F2",
        /// Listed ⇒ no National Insurance cover, for any use.
        F3 = "F3",
        /// How a list entry matches.
        F4 = "F4",
        /// The list of 1 November 2024.
        F5 = "F5",
        /// Transition for blue prescriptions written before listing.
        F6 = "F6",
        /// Out of scope of the off-label framework.
        F7 = "F7",
        /// § 2 pre-approved refund.
        B1 = "B1",
        /// § 4 infectious diseases.
        B2 = "B2",
        /// § 3 individual application.
        B3 = "B3",
        /// Who may apply under § 3.
        B4 = "B4",
        /// Opioids.
        B5 = "B5",
        /// Palliative care at end of life.
        B6 = "B6",
        /// Generic / biosimilar substitution.
        B7 = "B7",
        /// Off-label decision flow.
        O1 = "O1",
        /// Off-label approval chain.
        O2 = "O2",
        /// What an off-label application contains.
        O3 = "O3",
        /// Oversight of off-label treatment.
        O4 = "O4",
        /// How to prescribe HF-financed patient-administered treatment.
        O5 = "O5",
        /// Approval exemption (godkjenningsfritak).
        G1 = "G1",
        /// Cannabis products over 1 % THC.
        G2 = "G2",
        /// 90-day transition when a marketed product replaces unregistered ones.
        G3 = "G3",
        /// Exemptions in shortages.
        G4 = "G4",
        /// Primary-care emergency stock.
        E1 = "E1",
        /// Specialist-care emergency stock.
        E2 = "E2",
        /// First expiry, first out.
        E3 = "E3",
        /// Rationing.
        E4 = "E4",
        /// The general conditions of any blue prescription (§ 1a, § 1b første ledd): membership
        /// and the long-term condition; `domain.md` §8.
        General = "GEN",
        /// Co-payment (egenandel), blåreseptforskriften § 8; `domain.md` §8.
        Copayment = "EGENANDEL",
        /// A prescription's validity at dispensing (a blue prescription is valid one year) and
        /// how much one dispensing may hand out.
        Validity = "GYLDIGHET",
        /// The opioid conversion table (mg OMEQ per day); `domain.md` §8.
        Omeq = "OMEQ",
        /// The register of health trusts, their RHF and catchment municipalities.
        Trusts = "HELSEFORETAK",
        /// How Helfo handles a § 3 application: where a paper application is sent, the
        /// applicant's deadline to answer a request for more information, the appeal deadline.
        CaseHandling = "SAKSBEHANDLING",
    }
);

coded_enum!(
    /// Who pays if the path is followed.
    Payer {
        /// The National Insurance (administered by Helfo).
        Folketrygden = "folketrygden",
        /// A regional health authority.
        Rhf = "rhf",
        /// A hospital trust.
        Hf = "hf",
        /// The patient.
        Patient = "patient",
        /// Someone else (e.g. the manufacturer, in compassionate use).
        Other = "other",
    }
);

coded_enum!(
    /// The financing path.
    Scheme {
        /// On the § 1b list (F3): the RHF pays.
        HList = "h_list",
        /// Blåreseptforskriften § 2: pre-approved refund.
        S2 = "s2",
        /// Blåreseptforskriften § 3: individual application.
        S3 = "s3",
        /// Blåreseptforskriften § 4: communicable diseases.
        S4 = "s4",
        /// Off-label / off-licence use started in specialist care (O1–O5).
        HfOffLabel = "hf_off_label",
        /// In hospital, outpatient, LAR, compulsory mental health care (F1).
        HfTreatment = "hf_treatment",
        /// An approved clinical trial (F7).
        ClinicalTrial = "clinical_trial",
        /// Compassionate use before marketing authorisation (F7).
        CompassionateUse = "compassionate_use",
        /// No public cover.
        None = "none",
    }
);

coded_enum!(
    /// The paper to write.
    Prescription {
        /// Blue prescription.
        Blue = "blue",
        /// H-prescription.
        H = "h",
        /// White prescription.
        White = "white",
        /// E-prescription without refund, with a note naming the paying HF (O5).
        WhiteNote = "white_note",
        /// Ordered and supplied through FHI (B2).
        Fhi = "fhi",
        /// No prescription (given in hospital, trial, compassionate use).
        None = "none",
    }
);

coded_enum!(
    /// What must be done before the medicine can be given on this path.
    ActionKind {
        /// Individual application to Helfo (§ 3).
        HelfoApplication = "helfo_application",
        /// Paper application to Helfo, for a patient without fødselsnummer or D-number.
        HelfoPaperApplication = "helfo_paper_application",
        /// Approval in the treating HF (O2).
        HfApproval = "hf_approval",
        /// Approval in the HF the patient belongs to (O2).
        SecondHfApproval = "second_hf_approval",
        /// Approval exemption from DMP (G1).
        Godkjenningsfritak = "godkjenningsfritak",
        /// Exception for use during assessment in Nye metoder (O1).
        NyeMetoder = "nye_metoder",
        /// Order through FHI (B2).
        FhiOrder = "fhi_order",
    }
);

coded_enum!(
    /// Who may file a Helfo application (B4, B5).
    Applicant {
        /// Any doctor.
        AnyDoctor = "any_doctor",
        /// A GP, a doctor at a GP office, or a pain-clinic doctor.
        GpOrPainClinic = "gp_or_pain_clinic",
        /// A doctor at an interdisciplinary pain clinic.
        PainClinic = "pain_clinic",
        /// A specialist in the disease's field or a doctor at a public hospital.
        SpecialistOrHospital = "specialist_or_hospital",
        /// A doctor at a public hospital.
        PublicHospital = "public_hospital",
    }
);

coded_enum!(
    /// What stops this prescriber or this path.
    BlockerCode {
        /// The prescriber's role may not prescribe or apply for this.
        PrescriberNotQualified = "prescriber_not_qualified",
        /// The long-term condition is not met.
        NotLongTerm = "not_long_term",
        /// The opioid dose is over the limit for blue prescription.
        OmeqOverLimit = "omeq_over_limit",
        /// A listed medicine on a blue prescription without transition.
        ListedNoCover = "listed_no_cover",
        /// Not a member of the National Insurance.
        NotMember = "not_member",
        /// Beslutningsforum decided no.
        BeslutningsforumNo = "beslutningsforum_no",
        /// The prescription is no longer valid.
        PrescriptionExpired = "prescription_expired",
    }
);

impl crate::PrescriberRole {
    /// Whether a doctor in this role may file an application reserved for `applicant`.
    ///
    /// Reading: the contract's roles are disjoint. A pain-clinic doctor is not counted as a
    /// "specialist or hospital doctor", as the contract also keeps pain clinics apart from
    /// hospital doctors for H-prescriptions.
    pub fn may_apply_as(self, applicant: Applicant) -> bool {
        use crate::PrescriberRole::*;
        match applicant {
            Applicant::AnyDoctor => true,
            Applicant::GpOrPainClinic => matches!(self, Gp | PainClinic),
            Applicant::PainClinic => self == PainClinic,
            Applicant::SpecialistOrHospital => matches!(self, Specialist | HospitalDoctor),
            Applicant::PublicHospital => self == HospitalDoctor,
        }
    }
}

impl Scheme {
    /// The scheme in words, with its paragraph (bokmål); never the internal code.
    pub fn describe(self) -> &'static str {
        match self {
            Scheme::HList => "H-reseptlegemiddel (blåreseptforskriften § 1b annet ledd)",
            Scheme::S2 => "forhåndsgodkjent refusjon (blåreseptforskriften § 2)",
            Scheme::S3 => "individuell stønad etter søknad til Helfo (blåreseptforskriften § 3)",
            Scheme::S4 => "smittsomme sykdommer (blåreseptforskriften § 4)",
            Scheme::HfOffLabel => "helseforetaket betaler bruk utenfor godkjent indikasjon",
            Scheme::HfTreatment => "del av behandlingen i spesialisthelsetjenesten",
            Scheme::ClinicalTrial => "klinisk studie",
            Scheme::CompassionateUse => "compassionate use-program",
            Scheme::None => "ingen offentlig dekning",
        }
    }
}

impl Applicant {
    /// Norwegian description of who may apply.
    pub fn describe(self) -> &'static str {
        match self {
            Applicant::AnyDoctor => "enhver lege",
            Applicant::GpOrPainClinic => {
                "fastlege, lege ved fastlegekontor eller lege ved tverrfaglig smerteklinikk"
            }
            Applicant::PainClinic => "lege ved tverrfaglig smerteklinikk",
            Applicant::SpecialistOrHospital => {
                "spesialist i sykdommens fagfelt eller lege ved offentlig sykehus"
            }
            Applicant::PublicHospital => "lege ved offentlig sykehus",
        }
    }
}

impl Payer {
    /// Norwegian name, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Folketrygden => "folketrygden (Helfo)",
            Self::Rhf => "regionalt helseforetak (RHF)",
            Self::Hf => "helseforetaket (HF)",
            Self::Patient => "pasienten selv",
            Self::Other => "andre (produsenten)",
        }
    }
}

impl Prescription {
    /// Norwegian name of the paper, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Blue => "blå resept",
            Self::H => "H-resept",
            Self::White => "hvit resept",
            Self::WhiteNote => "e-resept uten refusjon, med merknad om betalende helseforetak",
            Self::Fhi => "rekvireres fra Folkehelseinstituttet",
            Self::None => "ingen resept",
        }
    }
}

impl ActionKind {
    /// What must be done, in Norwegian, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::HelfoApplication => "søknad til Helfo om individuell stønad",
            Self::HelfoPaperApplication => {
                "papirsøknad til Helfo (pasienten har verken fødselsnummer eller D-nummer)"
            }
            Self::HfApproval => {
                "godkjenning i helseforetaket (klinikkleder anbefaler, fagdirektør godkjenner)"
            }
            Self::SecondHfApproval => "godkjenning også i helseforetaket pasienten tilhører",
            Self::Godkjenningsfritak => "godkjenningsfritak fra DMP",
            Self::NyeMetoder => "søknad om unntak for bruk mens metoden vurderes i Nye metoder",
            Self::FhiOrder => "bestilling fra Folkehelseinstituttet",
        }
    }
}

coded_enum!(
    /// What a signed-in user may do, by function: the service's endpoints and the case
    /// workflows' transitions each name the roles they allow. The codes are those of the tokens'
    /// `roles` claim.
    Role {
        /// A doctor who prescribes (and applies: O2, B3).
        Prescriber = "prescriber",
        /// Clinic or department head (assesses and recommends off-label treatment, O2).
        ClinicHead = "clinic_head",
        /// The trust's medical director, fagdirektør (approves off-label treatment, O2).
        MedicalDirector = "medical_director",
        /// A pharmacist (dispenses).
        Pharmacist = "pharmacist",
        /// A Helfo caseworker (decides § 3 applications sent to manual processing, B3).
        HelfoCaseworker = "helfo_caseworker",
        /// A caseworker at DMP (decides applications for approval exemptions, G1).
        DmpCaseworker = "dmp_caseworker",
        /// An analyst at the agency (statistics, overviews).
        Analyst = "analyst",
        /// A stockpile manager.
        StockpileManager = "stockpile_manager",
        /// An administrator of the service.
        Administrator = "administrator",
    }
);

impl Role {
    /// The role's name in bokmål, as shown on the web pages.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Prescriber => "lege (forskriver)",
            Role::ClinicHead => "klinikkleder / avdelingsleder",
            Role::MedicalDirector => "fagdirektør",
            Role::Pharmacist => "farmasøyt",
            Role::HelfoCaseworker => "saksbehandler i Helfo",
            Role::DmpCaseworker => "saksbehandler i DMP",
            Role::Analyst => "analytiker",
            Role::StockpileManager => "beredskapslageransvarlig",
            Role::Administrator => "administrator",
        }
    }
}

coded_enum!(
    /// The refund basis a prescription is written under, as Volven code system 7427 «Hjemmel for
    /// refusjon» codes it (FEST's `Refusjonshjemmel`, e-resept M1 and M18 `RefHjemmel`). FEST's
    /// own files carry 200 and 950; § 3 and § 4 are the code system's 300 and 400.
    RefundBasis {
        /// § 5-14 § 2: pre-approved refund (blue prescription).
        S2 = "200",
        /// § 5-14 § 3: individual refund after Helfo's approval.
        S3 = "300",
        /// § 5-14 § 4: communicable diseases.
        S4 = "400",
        /// H-prescription: the regional health authority pays.
        HResept = "950",
    }
);

impl RefundBasis {
    /// The code system's object identifier.
    pub const OID: &'static str = "2.16.578.1.12.4.1.1.7427";

    /// The name a prescription or a settlement shows (`DN`).
    pub fn describe(self) -> &'static str {
        match self {
            RefundBasis::S2 => "§ 2",
            RefundBasis::S3 => "§ 3",
            RefundBasis::S4 => "§ 4",
            RefundBasis::HResept => "H-resept",
        }
    }
}

impl Scheme {
    /// The refund basis a prescription on this financing path is written under; `None` where
    /// no prescription names one (the trust pays in hospital, off-label, trials, no cover).
    pub fn refund_basis(self) -> Option<RefundBasis> {
        match self {
            Scheme::S2 => Some(RefundBasis::S2),
            Scheme::S3 => Some(RefundBasis::S3),
            Scheme::S4 => Some(RefundBasis::S4),
            Scheme::HList => Some(RefundBasis::HResept),
            Scheme::HfOffLabel
            | Scheme::HfTreatment
            | Scheme::ClinicalTrial
            | Scheme::CompassionateUse
            | Scheme::None => None,
        }
    }
}
