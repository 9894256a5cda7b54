//! What is known when a medicine is prescribed or dispensed: the facts the rules decide on.
//!
//! These are the validated counterparts of the wire types in the `contract` crate. Every field
//! here has already been checked (an [`Atc`] is valid, a [`Date`] exists, a dose is a finite,
//! non-negative number), so the rules never have to.

use std::fmt;

use crate::{Atc, Date};

/// A request to decide who pays (contract `decide`).
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionRequest {
    /// Date of prescribing; selects the rules in force.
    pub date: Date,
    /// The medicine.
    pub drug: Drug,
    /// The use it is prescribed for.
    pub usage: Usage,
    /// Where it is given (in hospital, LAR, patient-administered, …): F1, F7.
    pub setting: Setting,
    /// Where the treatment is initiated.
    pub started_in: StartedIn,
    /// Who prescribes.
    pub prescriber: PrescriberRole,
    /// The patient.
    pub patient: Patient,
    /// How long the treatment is expected to last.
    pub treatment: Treatment,
    /// Opioid facts (B5); all empty for other medicines.
    pub opioid: Opioid,
}

/// A medicine as the rules see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Drug {
    /// ATC code at any level.
    pub atc: Atc,
    /// Substance name(s) as written in the list; compared case-insensitively (F4).
    pub substance: String,
    /// Trade name, where the prescription names one.
    pub brand: Option<String>,
    /// Norwegian marketing-authorisation status.
    pub authorisation: Authorisation,
    /// Reseptgruppe (Volven 7421), where known.
    pub prescription_group: Option<PrescriptionGroup>,
    /// THC content of a cannabis product, in percent (G2).
    pub thc_percent: Option<Percent>,
}

coded_enum!(
    /// Norwegian marketing-authorisation (MT) status of a medicine.
    Authorisation {
        /// Has MT and is marketed in Norway.
        Marketed = "marketed",
        /// Has Norwegian MT but is not marketed.
        NotMarketed = "not_marketed",
        /// Has no Norwegian MT: needs an approval exemption (godkjenningsfritak, G1).
        Unauthorised = "unauthorised",
    }
);

coded_enum!(
    /// Reseptgruppe, Volven code list 7421.
    PrescriptionGroup {
        /// Narcotics (group A).
        A = "A",
        /// Habit-forming medicines (group B).
        B = "B",
        /// Other prescription medicines (group C).
        C = "C",
        /// Prescription medicines also sold without prescription in some packs (group CF).
        CF = "CF",
        /// Non-prescription medicines (group F).
        F = "F",
        /// Medicines sold outside pharmacies too (group K).
        K = "K",
    }
);

/// The use a medicine is prescribed for.
#[derive(Clone, Debug, PartialEq)]
pub struct Usage {
    /// Within the approved indication (SPC).
    pub on_label: bool,
    /// On DMP's § 2 refund list with its refund code, conditions met.
    pub refund_listed: bool,
    /// Refund code (ICD-10, ICPC-2 or DMP's own, such as `-90`).
    pub refund_code: Option<RefundCode>,
    /// Treats or prevents an *allmennfarlig smittsom sykdom* (B2).
    pub generally_dangerous_infection: bool,
    /// Treatment or decolonisation of MRSA (B2).
    pub mrsa: bool,
    /// Palliative care, expected lifetime under 12 months (B6).
    pub palliative: bool,
    /// Off-label: established, consensus-based treatment (O1 step 1).
    pub established: bool,
    /// The documentation meets Helfo's § 3 requirement (O1 step 1).
    pub helfo_documentation: bool,
    /// Status of this use in Nye metoder (O1 step 3).
    pub nye_metoder: NyeMetoder,
}

/// A refund code as written on the prescription: `-90`, `-71`, `T90`, `E11` …
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefundCode(String);

impl RefundCode {
    /// A refund code: 1 to 10 characters, letters, digits, `-` and `.` only.
    pub fn parse(text: &str) -> Result<RefundCode, &'static str> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
        if text.is_empty() || text.len() > 10 || !text.chars().all(ok_char) {
            return Err(
                "ventet en refusjonskode som «-90», «-71» eller «T90» (1–10 tegn: bokstaver, sifre, «-», «.»)",
            );
        }
        Ok(RefundCode(text.to_ascii_uppercase()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RefundCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

coded_enum!(
    /// Status of a use in the national system for method assessment, Nye metoder (O1 step 3).
    NyeMetoder {
        /// Not in Nye metoder.
        None = "none",
        /// Under assessment: use is avoided; the exception procedure applies.
        UnderAssessment = "under_assessment",
        /// Beslutningsforum said yes.
        DecidedYes = "decided_yes",
        /// Beslutningsforum said no: the HF does not offer it.
        DecidedNo = "decided_no",
    }
);

coded_enum!(
    /// Where the medicine is given (F1, F7).
    Setting {
        /// The patient takes it outside hospital.
        PatientAdministered = "patient_administered",
        /// In hospital, admitted.
        Inpatient = "inpatient",
        /// In hospital, outpatient (poliklinisk).
        Outpatient = "outpatient",
        /// Drug-assisted rehabilitation (LAR).
        Lar = "lar",
        /// Compulsory mental health care.
        CompulsoryMentalHealth = "compulsory_mental_health",
        /// An approved clinical trial.
        ClinicalTrial = "clinical_trial",
        /// Compassionate use before marketing authorisation.
        CompassionateUse = "compassionate_use",
    }
);

coded_enum!(
    /// Where the treatment is initiated.
    StartedIn {
        /// Primary care.
        Primary = "primary",
        /// Specialist care (spesialisthelsetjenesten).
        Specialist = "specialist",
    }
);

coded_enum!(
    /// Who prescribes or applies.
    PrescriberRole {
        /// GP (fastlege) or a doctor at a GP office.
        Gp = "gp",
        /// Specialist in the disease's field outside a public hospital (e.g. contract specialist).
        Specialist = "specialist",
        /// Doctor at a public hospital.
        HospitalDoctor = "hospital_doctor",
        /// Doctor at an interdisciplinary pain clinic.
        PainClinic = "pain_clinic",
    }
);

/// The patient, as far as the rules need to know: no identity, only its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Patient {
    /// Which identity number the patient has.
    pub id: PatientId,
    /// Member of the National Insurance.
    pub member: bool,
    /// Belongs to another HF's catchment area than the treating HF (O2).
    pub other_hf: bool,
    /// Age in whole years, where known.
    pub age: Option<u16>,
}

coded_enum!(
    /// The kind of identity number a patient has (B3: without one, a paper application).
    PatientId {
        /// National identity number (fødselsnummer).
        Fnr = "fnr",
        /// D-number.
        Dnr = "dnr",
        /// Neither.
        None = "none",
    }
);

/// Expected duration of the treatment (the long-term condition of §§ 2–3).
#[derive(Clone, Debug, PartialEq)]
pub struct Treatment {
    /// Expected months of use within one year, 0–12, added up.
    pub months_per_year: MonthsPerYear,
    /// Risk of repeated treatment over a long period, or kept in readiness much of the year.
    pub repeated: bool,
}

/// Opioid facts (B5). Empty for other medicines.
#[derive(Clone, Debug, PartialEq)]
pub struct Opioid {
    /// Total daily dose of all opioids, in mg oral morphine equivalents.
    pub omeq: Option<Omeq>,
    /// The kind of pain.
    pub pain: Option<Pain>,
    /// The kind of opioid.
    pub kind: OpioidKind,
}

coded_enum!(
    /// The pain an opioid treats (B5).
    Pain {
        /// Long-term non-cancer pain.
        NonCancer = "non_cancer",
        /// Cancer pain.
        Cancer = "cancer",
        /// An unclarified pain condition.
        Unclarified = "unclarified",
    }
);

coded_enum!(
    /// The kind of opioid (B5: some need a pain clinic, and one application each).
    OpioidKind {
        /// A standard (not fast-acting) marketed opioid.
        Standard = "standard",
        /// Methadone.
        Methadone = "methadone",
        /// A fast-acting opioid.
        FastActing = "fast_acting",
        /// A non-marketed opioid.
        NotMarketed = "not_marketed",
    }
);

macro_rules! bounded_number {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $expected:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
        pub struct $name(f64);

        impl $name {
            /// The value, if it is a finite number within the allowed range.
            pub fn new(value: f64) -> Result<Self, &'static str> {
                if value.is_finite() && ($min..=$max).contains(&value) {
                    Ok($name(value))
                } else {
                    Err($expected)
                }
            }

            /// The number.
            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Whole numbers (the common case) without the float formatter.
                if self.0.fract() == 0.0 {
                    write!(f, "{}", self.0 as i64)
                } else {
                    write!(f, "{}", self.0)
                }
            }
        }
    };
}

bounded_number!(
    /// A daily opioid dose in mg oral morphine equivalents (OMEQ). Not money: a measured
    /// quantity compared against limits (100 and 300 mg), where `f64` is exact for the
    /// integers and halves doctors write.
    Omeq, 0.0, 1_000_000.0, "ventet et tall fra 0 til 1000000 (mg OMEQ per døgn)"
);
bounded_number!(
    /// A share in percent, 0–100 (THC content, G2).
    Percent, 0.0, 100.0, "ventet et tall fra 0 til 100 (prosent)"
);
bounded_number!(
    /// Months of use within one year, 0–12.
    MonthsPerYear, 0.0, 12.0, "ventet et tall fra 0 til 12 (måneder i løpet av ett år)"
);

impl MonthsPerYear {
    /// Use all year round.
    pub const FULL_YEAR: MonthsPerYear = MonthsPerYear(12.0);
}

/// A request to accept and register a prescription at the pharmacy (contract `dispense`).
#[derive(Clone, Debug, PartialEq)]
pub struct DispensingRequest {
    /// Date of dispensing; selects the rules in force.
    pub date: Date,
    /// The medicine.
    pub drug: Drug,
    /// The prescription presented.
    pub prescription: IssuedPrescription,
}

/// A prescription as presented at the pharmacy.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedPrescription {
    /// The form it was written on.
    pub form: WrittenForm,
    /// The date it was written.
    pub issued: Date,
    /// The last day it is valid (inclusive).
    pub valid_until: Date,
}

coded_enum!(
    /// The forms a prescription can be written on and registered as at the pharmacy.
    WrittenForm {
        /// Blue prescription (folketrygden pays).
        Blue = "blue",
        /// H-prescription (the RHF pays).
        H = "h",
        /// White prescription (the patient pays).
        White = "white",
    }
);
