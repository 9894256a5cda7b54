//! Legal sources cited by rules that have no data file of their own. Rules with data cite the
//! `basis` of their file instead, so that a change of law is a change of data.

/// F1: financing follows treatment responsibility; hospital use is the HF's.
pub const F1: &str = "blåreseptforskriften § 1a; Nasjonalt rammeverk for bruk av legemidler utenfor godkjent indikasjon (2022) punkt 3.1";
/// F7: clinical trials and compassionate use are outside the framework.
pub const F7: &str =
    "Nasjonalt rammeverk for bruk av legemidler utenfor godkjent indikasjon (2022) punkt 2";
/// B1: pre-approved refund.
pub const S2: &str = "blåreseptforskriften § 2";
/// B3: individual application.
pub const S3: &str = "blåreseptforskriften § 3";
/// B7: generic substitution at the pharmacy.
pub const B7: &str = "apotekloven § 6-6 (bytteordningen)";
/// O1: the off-label decision flow.
pub const O1: &str =
    "Nasjonalt rammeverk for bruk av legemidler utenfor godkjent indikasjon (2022) punkt 5";
/// O2: the approval chain.
pub const O2: &str =
    "Nasjonalt rammeverk for bruk av legemidler utenfor godkjent indikasjon (2022) punkt 5.1–5.3";
/// O3: what an application contains.
pub const O3: &str = "Nasjonalt rammeverk for bruk av legemidler utenfor godkjent indikasjon (2022) punkt 5.3 og vedlegg 1";
/// O5: how to prescribe HF-financed treatment.
pub const O5: &str =
    "Nasjonalt rammeverk for bruk av legemidler utenfor godkjent indikasjon (2022) punkt 6";
/// H-prescriptions: who may write them and how they are settled.
pub const H_PRESCRIPTION: &str =
    "forskrift om helseforetaksfinansierte reseptlegemidler til bruk utenfor sykehus";
/// Membership of the National Insurance.
pub const MEMBERSHIP: &str = "blåreseptforskriften § 1a; folketrygdloven kapittel 2 (medlemskap)";
/// G1: approval exemption.
pub const G1: &str = "legemiddelforskriften § 2-5";
/// G3: the transition when a product with MT replaces unregistered ones.
pub const G3: &str = "legemiddelforskriften § 2-5; DMPs overgangsordning fra 2024";
/// Stønad is for a person's disease.
pub const HUMAN_DISEASE: &str = "blåreseptforskriften § 1";
