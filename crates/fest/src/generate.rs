//! Writes FEST files for tests and benchmarks: valid against DMP's M30 schema
//! (`ER-M30-2014-12-01.xsd`), with real substance names and ATC codes, Norwegian product names,
//! plausible prices and DDDs, and the structures of the implementation guide: § 2 refund groups
//! with ICPC-2 and ICD-10 codes and conditions, H-prescription groups, products that need an
//! approval exemption, substitution groups, the ATC code system with Norwegian names. Bulk (to
//! reach the size of a real file) is interaction entries, as in the real file.
//!
//! **This is not DMP's data.** The products, prices and groups are made up; only the substance
//! names, ATC codes and DDDs are real. Deterministic: the same options give the same bytes.

use std::io::{self, Write};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Number of packages (a real file has about 11,000).
    pub packages: usize,
    /// `HentetDato`.
    pub retrieved: String,
    /// Interaction entries per package (bulk: 5.6, the default, makes 11,000 packages ~120 MB).
    pub interactions_per_package: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            packages: 200,
            retrieved: "2026-11-15T02:00:00".into(),
            interactions_per_package: 5.6,
        }
    }
}

/// A real substance: name (Norwegian), ATC, strengths (mg), form, DDD (value, unit), brands,
/// prescription group, and the § 2 refund group it belongs to (if any).
struct Sub {
    name: &'static str,
    english: &'static str,
    atc: &'static str,
    strengths: &'static [f64],
    unit: &'static str,
    form: (&'static str, &'static str),
    ddd: (f64, &'static str),
    brands: &'static [&'static str],
    group: &'static str,
    refund: Option<usize>,
}

const TAB: (&str, &str) = ("53", "Tablett");
const CAP: (&str, &str) = ("10", "Kapsel, hard");
const INJ: (&str, &str) = ("32", "Injeksjonsvæske, oppløsning");
const INH: (&str, &str) = ("38", "Inhalasjonspulver");

const SUBSTANCES: &[Sub] = &[
    Sub {
        name: "amlodipin",
        english: "amlodipine",
        atc: "C08CA01",
        strengths: &[5.0, 10.0],
        unit: "mg",
        form: TAB,
        ddd: (5.0, "mg"),
        brands: &[
            "Norvasc",
            "Amlodipin Sandoz",
            "Amlodipin Krka",
            "Amlodipin Teva",
        ],
        group: "C",
        refund: Some(0),
    },
    Sub {
        name: "losartan",
        english: "losartan",
        atc: "C09CA01",
        strengths: &[50.0, 100.0],
        unit: "mg",
        form: TAB,
        ddd: (50.0, "mg"),
        brands: &["Cozaar", "Losartan Actavis", "Losartan Krka"],
        group: "C",
        refund: Some(0),
    },
    Sub {
        name: "ramipril",
        english: "ramipril",
        atc: "C09AA05",
        strengths: &[2.5, 5.0, 10.0],
        unit: "mg",
        form: TAB,
        ddd: (2.5, "mg"),
        brands: &["Triatec", "Ramipril Actavis"],
        group: "C",
        refund: Some(0),
    },
    Sub {
        name: "metoprolol",
        english: "metoprolol",
        atc: "C07AB02",
        strengths: &[50.0, 100.0, 200.0],
        unit: "mg",
        form: TAB,
        ddd: (150.0, "mg"),
        brands: &["Selo-Zok", "Metoprolol Sandoz"],
        group: "C",
        refund: Some(0),
    },
    Sub {
        name: "atorvastatin",
        english: "atorvastatin",
        atc: "C10AA05",
        strengths: &[10.0, 20.0, 40.0, 80.0],
        unit: "mg",
        form: TAB,
        ddd: (20.0, "mg"),
        brands: &[
            "Lipitor",
            "Atorvastatin Krka",
            "Atorvastatin Teva",
            "Atorvastatin Orion",
        ],
        group: "C",
        refund: Some(1),
    },
    Sub {
        name: "simvastatin",
        english: "simvastatin",
        atc: "C10AA01",
        strengths: &[20.0, 40.0],
        unit: "mg",
        form: TAB,
        ddd: (30.0, "mg"),
        brands: &["Zocor", "Simvastatin Bluefish", "Simvastatin Krka"],
        group: "C",
        refund: Some(1),
    },
    Sub {
        name: "metformin",
        english: "metformin",
        atc: "A10BA02",
        strengths: &[500.0, 850.0, 1000.0],
        unit: "mg",
        form: TAB,
        ddd: (2.0, "g"),
        brands: &["Glucophage", "Metformin Actavis", "Metformin Sandoz"],
        group: "C",
        refund: Some(2),
    },
    Sub {
        name: "sitagliptin",
        english: "sitagliptin",
        atc: "A10BH01",
        strengths: &[25.0, 50.0, 100.0],
        unit: "mg",
        form: TAB,
        ddd: (0.1, "g"),
        brands: &["Januvia", "Sitagliptin Krka"],
        group: "C",
        refund: Some(2),
    },
    Sub {
        name: "empagliflozin",
        english: "empagliflozin",
        atc: "A10BK03",
        strengths: &[10.0, 25.0],
        unit: "mg",
        form: TAB,
        ddd: (17.5, "mg"),
        brands: &["Jardiance"],
        group: "C",
        refund: Some(2),
    },
    Sub {
        name: "levotyroksin",
        english: "levothyroxine",
        atc: "H03AA01",
        strengths: &[0.025, 0.05, 0.1],
        unit: "mg",
        form: TAB,
        ddd: (0.15, "mg"),
        brands: &["Levaxin", "Euthyrox"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "omeprazol",
        english: "omeprazole",
        atc: "A02BC01",
        strengths: &[10.0, 20.0, 40.0],
        unit: "mg",
        form: CAP,
        ddd: (20.0, "mg"),
        brands: &["Losec", "Omeprazol Actavis", "Omeprazol Sandoz"],
        group: "C",
        refund: Some(3),
    },
    Sub {
        name: "pantoprazol",
        english: "pantoprazole",
        atc: "A02BC02",
        strengths: &[20.0, 40.0],
        unit: "mg",
        form: TAB,
        ddd: (40.0, "mg"),
        brands: &["Somac", "Pantoprazol Krka"],
        group: "C",
        refund: Some(3),
    },
    Sub {
        name: "montelukast",
        english: "montelukast",
        atc: "R03DC03",
        strengths: &[4.0, 5.0, 10.0],
        unit: "mg",
        form: TAB,
        ddd: (10.0, "mg"),
        brands: &["Singulair", "Montelukast Teva", "Montelukast Krka"],
        group: "C",
        refund: Some(4),
    },
    Sub {
        name: "salbutamol",
        english: "salbutamol",
        atc: "R03AC02",
        strengths: &[0.2, 0.4],
        unit: "mg",
        form: INH,
        ddd: (0.8, "mg"),
        brands: &["Ventoline", "Buventol Easyhaler"],
        group: "C",
        refund: Some(4),
    },
    Sub {
        name: "sertralin",
        english: "sertraline",
        atc: "N06AB06",
        strengths: &[50.0, 100.0],
        unit: "mg",
        form: TAB,
        ddd: (50.0, "mg"),
        brands: &["Zoloft", "Sertralin Actavis", "Sertralin Sandoz"],
        group: "C",
        refund: Some(5),
    },
    Sub {
        name: "escitalopram",
        english: "escitalopram",
        atc: "N06AB10",
        strengths: &[5.0, 10.0, 20.0],
        unit: "mg",
        form: TAB,
        ddd: (10.0, "mg"),
        brands: &["Cipralex", "Escitalopram Krka", "Escitalopram Teva"],
        group: "C",
        refund: Some(5),
    },
    Sub {
        name: "mirtazapin",
        english: "mirtazapine",
        atc: "N06AX11",
        strengths: &[15.0, 30.0, 45.0],
        unit: "mg",
        form: TAB,
        ddd: (30.0, "mg"),
        brands: &["Remeron", "Mirtazapin Orion"],
        group: "C",
        refund: Some(5),
    },
    Sub {
        name: "kvetiapin",
        english: "quetiapine",
        atc: "N05AH04",
        strengths: &[25.0, 100.0, 200.0, 300.0],
        unit: "mg",
        form: TAB,
        ddd: (0.4, "g"),
        brands: &["Seroquel", "Quetiapin Krka"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "olanzapin",
        english: "olanzapine",
        atc: "N05AH03",
        strengths: &[5.0, 10.0, 20.0],
        unit: "mg",
        form: TAB,
        ddd: (10.0, "mg"),
        brands: &["Zyprexa", "Olanzapin Teva"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "levetiracetam",
        english: "levetiracetam",
        atc: "N03AX14",
        strengths: &[250.0, 500.0, 1000.0],
        unit: "mg",
        form: TAB,
        ddd: (1.5, "g"),
        brands: &["Keppra", "Levetiracetam Actavis"],
        group: "C",
        refund: Some(6),
    },
    Sub {
        name: "lamotrigin",
        english: "lamotrigine",
        atc: "N03AX09",
        strengths: &[25.0, 50.0, 100.0, 200.0],
        unit: "mg",
        form: TAB,
        ddd: (0.3, "g"),
        brands: &["Lamictal", "Lamotrigin Orion"],
        group: "C",
        refund: Some(6),
    },
    Sub {
        name: "pregabalin",
        english: "pregabalin",
        atc: "N02BF02",
        strengths: &[25.0, 75.0, 150.0, 300.0],
        unit: "mg",
        form: CAP,
        ddd: (0.3, "g"),
        brands: &["Lyrica", "Pregabalin Krka", "Pregabalin Sandoz"],
        group: "B",
        refund: None,
    },
    Sub {
        name: "oksykodon",
        english: "oxycodone",
        atc: "N02AA05",
        strengths: &[5.0, 10.0, 20.0, 40.0],
        unit: "mg",
        form: TAB,
        ddd: (75.0, "mg"),
        brands: &["OxyContin", "Oxycodone Depot Actavis"],
        group: "A",
        refund: None,
    },
    Sub {
        name: "morfin",
        english: "morphine",
        atc: "N02AA01",
        strengths: &[10.0, 30.0, 60.0],
        unit: "mg",
        form: TAB,
        ddd: (0.1, "g"),
        brands: &["Dolcontin"],
        group: "A",
        refund: None,
    },
    Sub {
        name: "paracetamol",
        english: "paracetamol",
        atc: "N02BE01",
        strengths: &[500.0, 1000.0],
        unit: "mg",
        form: TAB,
        ddd: (3.0, "g"),
        brands: &["Paracet", "Pinex", "Panodil"],
        group: "F",
        refund: None,
    },
    Sub {
        name: "apiksaban",
        english: "apixaban",
        atc: "B01AF02",
        strengths: &[2.5, 5.0],
        unit: "mg",
        form: TAB,
        ddd: (10.0, "mg"),
        brands: &["Eliquis"],
        group: "C",
        refund: Some(7),
    },
    Sub {
        name: "rivaroksaban",
        english: "rivaroxaban",
        atc: "B01AF01",
        strengths: &[10.0, 15.0, 20.0],
        unit: "mg",
        form: TAB,
        ddd: (20.0, "mg"),
        brands: &["Xarelto", "Rivaroxaban Krka"],
        group: "C",
        refund: Some(7),
    },
    Sub {
        name: "warfarin",
        english: "warfarin",
        atc: "B01AA03",
        strengths: &[2.5],
        unit: "mg",
        form: TAB,
        ddd: (7.5, "mg"),
        brands: &["Marevan"],
        group: "C",
        refund: Some(7),
    },
    Sub {
        name: "fenoksymetylpenicillin",
        english: "phenoxymethylpenicillin",
        atc: "J01CE02",
        strengths: &[660.0, 1000.0],
        unit: "mg",
        form: TAB,
        ddd: (2.0, "g"),
        brands: &["Apocillin", "Weifapenin"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "amoksicillin",
        english: "amoxicillin",
        atc: "J01CA04",
        strengths: &[250.0, 500.0, 750.0],
        unit: "mg",
        form: TAB,
        ddd: (1.5, "g"),
        brands: &["Imacillin", "Amoxicillin Sandoz"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "etanercept",
        english: "etanercept",
        atc: "L04AB01",
        strengths: &[25.0, 50.0],
        unit: "mg",
        form: INJ,
        ddd: (7.0, "mg"),
        brands: &["Enbrel", "Benepali", "Erelzi"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "adalimumab",
        english: "adalimumab",
        atc: "L04AB04",
        strengths: &[40.0, 80.0],
        unit: "mg",
        form: INJ,
        ddd: (2.9, "mg"),
        brands: &["Humira", "Amgevita", "Hyrimoz"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "evolokumab",
        english: "evolocumab",
        atc: "C10AX13",
        strengths: &[140.0],
        unit: "mg",
        form: INJ,
        ddd: (9.3, "mg"),
        brands: &["Repatha"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "erenumab",
        english: "erenumab",
        atc: "N02CD01",
        strengths: &[70.0, 140.0],
        unit: "mg",
        form: INJ,
        ddd: (2.5, "mg"),
        brands: &["Aimovig"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "semaglutid",
        english: "semaglutide",
        atc: "A10BJ06",
        strengths: &[0.25, 0.5, 1.0],
        unit: "mg",
        form: INJ,
        ddd: (0.11, "mg"),
        brands: &["Ozempic", "Wegovy"],
        group: "C",
        refund: Some(2),
    },
    Sub {
        name: "deflazacort",
        english: "deflazacort",
        atc: "H02AB13",
        strengths: &[6.0, 30.0],
        unit: "mg",
        form: TAB,
        ddd: (30.0, "mg"),
        brands: &["Emflaza"],
        group: "C",
        refund: None,
    },
    Sub {
        name: "metylfenidat",
        english: "methylphenidate",
        atc: "N06BA04",
        strengths: &[10.0, 18.0, 36.0],
        unit: "mg",
        form: TAB,
        ddd: (30.0, "mg"),
        brands: &["Ritalin", "Concerta", "Medikinet"],
        group: "A",
        refund: Some(8),
    },
    Sub {
        name: "melatonin",
        english: "melatonin",
        atc: "N05CH01",
        strengths: &[2.0, 3.0, 5.0],
        unit: "mg",
        form: TAB,
        ddd: (2.0, "mg"),
        brands: &["Circadin", "Melatonin Unikem"],
        group: "C",
        refund: None,
    },
];

/// Codes with their terms.
type Codes = &'static [(&'static str, &'static str)];

/// § 2 refund groups: (group number, ATC, use in words, ICPC-2 codes, ICD-10 codes, condition).
type RefundGroupRow = (
    &'static str,
    &'static str,
    &'static str,
    Codes,
    Codes,
    Option<usize>,
);

const REFUND_GROUPS: &[RefundGroupRow] = &[
    (
        "1",
        "C02",
        "Hypertensjon",
        &[
            ("K86", "Hypertensjon ukomplisert"),
            ("K87", "Hypertensjon med organkomplikasjon"),
        ],
        &[("I10", "Essensiell hypertensjon")],
        None,
    ),
    (
        "2",
        "C10",
        "Hyperlipidemi",
        &[("T93", "Lipidforstyrrelse")],
        &[("E78", "Forstyrrelser i lipoproteinmetabolismen")],
        Some(0),
    ),
    (
        "3",
        "A10",
        "Diabetes mellitus type 2",
        &[("T90", "Diabetes type 2")],
        &[("E11", "Diabetes mellitus type 2")],
        None,
    ),
    (
        "4",
        "A02B",
        "Refluksøsofagitt",
        &[("D84", "Øsofagussykdom")],
        &[("K21", "Gastroøsofageal reflukssykdom")],
        Some(1),
    ),
    (
        "5",
        "R03",
        "Astma",
        &[("R96", "Astma")],
        &[("J45", "Astma")],
        None,
    ),
    (
        "6",
        "N06A",
        "Depresjon",
        &[("P76", "Depressiv lidelse")],
        &[
            ("F32", "Depressiv episode"),
            ("F33", "Tilbakevendende depressiv lidelse"),
        ],
        None,
    ),
    (
        "7",
        "N03A",
        "Epilepsi",
        &[("N88", "Epilepsi")],
        &[("G40", "Epilepsi")],
        None,
    ),
    (
        "8",
        "B01A",
        "Atrieflimmer, forebygging av slag",
        &[("K78", "Atrieflimmer/flutter")],
        &[("I48", "Atrieflimmer og atrieflutter")],
        Some(2),
    ),
    (
        "9",
        "N06BA",
        "Hyperkinetisk forstyrrelse og narkolepsi",
        &[
            ("P81", "Hyperkinetisk forstyrrelse"),
            ("P06", "Søvnforstyrrelse"),
        ],
        &[
            ("F90", "Hyperkinetiske forstyrrelser"),
            ("G474", "Narkolepsi og katapleksi"),
        ],
        None,
    ),
];

/// Refund codes that DMP narrows with an `Underterm` (ICPC-2 only): the code counts only for
/// this part of its diagnosis (methylphenidate: P06 «Søvnforstyrrelse», only «Narkolepsi»).
const SUBTERMS: &[(&str, &str)] = &[("P06", "Narkolepsi")];

const CONDITIONS: &[(&str, &str)] = &[
    (
        "181",
        "Refusjon ytes kun til pasienter som ikke har nådd behandlingsmålet med kostholdsendring og livsstilstiltak.",
    ),
    (
        "116",
        "Refusjon ytes kun til pasienter som har forsøkt behandling med H2-reseptorantagonist uten tilstrekkelig effekt.",
    ),
    (
        "244",
        "Refusjon ytes kun til pasienter med ikke-valvulær atrieflimmer og minst én risikofaktor for slag.",
    ),
];

/// H-prescription groups (7427: 950): the trusts pay. Etanercept and adalimumab are H-resept
/// since 2006; deflazacort and the inhaled amikacin since the list of 2024-11-01.
const H_GROUPS: &[(&str, &str, &str)] = &[
    ("H1", "L04AB", "TNF-hemmere"),
    ("H2", "H02AB13", "Duchenne muskeldystrofi"),
];

/// ATC groups above the substances, with Norwegian names (7180).
const ATC_GROUPS: &[(&str, &str)] = &[
    ("A", "Fordøyelsesorganer og stoffskifte"),
    ("A02", "Midler mot syrerelaterte lidelser"),
    ("A02B", "Midler mot ulcus og gastroøsofageal reflukssykdom"),
    ("A02BC", "Protonpumpehemmere"),
    ("A10", "Antidiabetika"),
    ("A10B", "Blodsukkersenkende midler, ekskl. insuliner"),
    ("A10BA", "Biguanider"),
    ("A10BH", "DPP-4-hemmere"),
    ("A10BJ", "GLP-1-analoger"),
    ("A10BK", "SGLT2-hemmere"),
    ("B", "Blod og bloddannende organer"),
    ("B01", "Antitrombotiske midler"),
    ("B01A", "Antitrombotiske midler"),
    ("B01AA", "Vitamin K-antagonister"),
    ("B01AF", "Direkte faktor Xa-hemmere"),
    ("C", "Hjerte og kretsløp"),
    ("C07", "Betablokkere"),
    ("C07A", "Betablokkere"),
    ("C07AB", "Selektive betablokkere"),
    ("C08", "Kalsiumantagonister"),
    (
        "C08C",
        "Selektive kalsiumantagonister med hovedsakelig vaskulær effekt",
    ),
    ("C08CA", "Dihydropyridinderivater"),
    ("C09", "Midler med virkning på renin-angiotensinsystemet"),
    ("C09A", "ACE-hemmere, usammensatte"),
    ("C09AA", "ACE-hemmere, usammensatte"),
    ("C09C", "Angiotensin II-reseptorantagonister, usammensatte"),
    ("C09CA", "Angiotensin II-reseptorantagonister, usammensatte"),
    ("C10", "Lipidmodifiserende midler"),
    ("C10A", "Lipidmodifiserende midler, usammensatte"),
    ("C10AA", "HMG-CoA-reduktasehemmere"),
    ("C10AX", "Andre lipidmodifiserende midler"),
    (
        "H",
        "Hormoner til systemisk bruk, ekskl. kjønnshormoner og insuliner",
    ),
    ("H02", "Kortikosteroider til systemisk bruk"),
    ("H02A", "Kortikosteroider til systemisk bruk, usammensatte"),
    ("H02AB", "Glukokortikoider"),
    ("H03", "Tyreoideaterapi"),
    ("H03A", "Tyreoideapreparater"),
    ("H03AA", "Tyreoideahormoner"),
    ("J", "Antiinfektiver til systemisk bruk"),
    ("J01", "Antibakterielle midler til systemisk bruk"),
    ("J01C", "Betalaktamantibakterielle midler, penicilliner"),
    ("J01CA", "Penicilliner med utvidet spektrum"),
    ("J01CE", "Betalaktamasefølsomme penicilliner"),
    ("L", "Antineoplastiske og immunmodulerende midler"),
    ("L04", "Immunsuppressiver"),
    ("L04A", "Immunsuppressiver"),
    ("L04AB", "TNF-alfa-hemmere"),
    ("N", "Nervesystemet"),
    ("N02", "Analgetika"),
    ("N02A", "Opioider"),
    ("N02AA", "Naturlige opiumalkaloider"),
    ("N02B", "Andre analgetika og antipyretika"),
    ("N02BE", "Anilider"),
    ("N02BF", "Gabapentinoider"),
    ("N02C", "Migrenemidler"),
    ("N02CD", "CGRP-antagonister"),
    ("N03", "Antiepileptika"),
    ("N03A", "Antiepileptika"),
    ("N03AX", "Andre antiepileptika"),
    ("N05", "Psykoleptika"),
    ("N05A", "Antipsykotika"),
    ("N05AH", "Diazepiner, oksazepiner, tiazepiner og oksepiner"),
    ("N05C", "Hypnotika og sedativa"),
    ("N05CH", "Melatoninreseptoragonister"),
    ("N06", "Psykoanaleptika"),
    ("N06A", "Antidepressiver"),
    ("N06AB", "Selektive serotoninreopptakshemmere"),
    ("N06AX", "Andre antidepressiver"),
    ("R", "Respirasjonsorganer"),
    ("R03", "Midler mot obstruktiv lungesykdom"),
    ("R03A", "Adrenergika til inhalasjon"),
    ("R03AC", "Selektive beta-2-adrenoreseptoragonister"),
    (
        "R03D",
        "Andre midler mot obstruktiv lungesykdom til systemisk bruk",
    ),
    ("R03DC", "Leukotrienreseptorantagonister"),
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn id(kind: &str, n: usize) -> String {
    // Shaped like FEST's ids (ID_ + a GUID), deterministic.
    let h = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ kind
            .bytes()
            .fold(0u64, |a, b| a.rotate_left(5) ^ u64::from(b));
    format!(
        "ID_{:08X}-{:04X}-4{:03X}-8{:03X}-{:012X}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        n % 0x1000,
        (h & 0xFFF),
        n
    )
}

fn strength(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{}", s as i64)
    } else {
        format!("{s}").replace('.', ",")
    }
}

/// A product's or package's link to a refund group (`fs:Refusjon`).
/// Øre as DMP writes kroner: `139.6`, `312.4`, `250` (no trailing zeros).
fn kroner(ore: u64) -> String {
    match ore % 100 {
        0 => format!("{}", ore / 100),
        c if c % 10 == 0 => format!("{}.{}", ore / 100, c / 10),
        c => format!("{}.{c:02}", ore / 100),
    }
}

fn refund_link(out: &mut impl Write, group: &str, from: &str) -> io::Result<()> {
    write!(
        out,
        "<fs:Refusjon><fs:RefRefusjonsgruppe>{group}</fs:RefRefusjonsgruppe><fs:GyldigFraDato>{from}</fs:GyldigFraDato></fs:Refusjon>"
    )
}

/// What a generated file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packages.
    pub packages: usize,
    /// Branded products.
    pub products: usize,
    /// Refund groups (§ 2 and H-prescription).
    pub refund_groups: usize,
    /// Substitution groups.
    pub substitution_groups: usize,
    /// Interaction entries (bulk).
    pub interactions: usize,
}

struct ProductPlan {
    sub: usize,
    strength: usize,
    id: String,
    /// The brand name: the substance's own brands first; then generics by maker, then
    /// parallel imports, as a real catalogue grows.
    name: String,
    /// The maker.
    maker: String,
}

const MAKERS: &[&str] = &[
    "Accord",
    "Actavis",
    "Aurobindo",
    "Bluefish",
    "Krka",
    "Medical Valley",
    "Mylan",
    "Orion",
    "Sandoz",
    "Stada",
    "Teva",
    "Viatris",
    "Zentiva",
];
const IMPORTERS: &[&str] = &["2care4", "Abacus Medicine", "Orifarm", "Paranova"];

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn plan_name(s: &Sub, brand: usize, round: usize) -> (String, String) {
    let own = s.brands[brand];
    if round == 0 {
        let maker = own.split(' ').nth(1).unwrap_or("Originalprodusent");
        return (own.to_string(), maker.to_string());
    }
    let k = round - 1 + brand * 5;
    if k < MAKERS.len() * 2 && round <= MAKERS.len() {
        let maker = MAKERS[k % MAKERS.len()];
        (
            format!("{} {maker}", capitalised(s.name)),
            maker.to_string(),
        )
    } else {
        let importer = IMPORTERS[(round + brand) % IMPORTERS.len()];
        (format!("{own} ({importer})"), importer.to_string())
    }
}

/// Package sizes (count of units) a catalogue has.
const SIZES: &[u32] = &[7, 10, 14, 20, 28, 30, 50, 56, 84, 98, 100];

/// Writes one FEST file.
pub fn write<W: Write>(mut out: W, opts: &Options) -> io::Result<Stats> {
    const NS: &str = r#"xmlns="http://www.kith.no/xmlstds/eresept/m30/2014-12-01" xmlns:fs="http://www.kith.no/xmlstds/eresept/forskrivning/2014-12-01""#;
    let ts = &opts.retrieved;
    let oppf = |out: &mut W, tag: &str, n_id: &str| -> io::Result<()> {
        write!(
            out,
            "<{tag}><Id>{n_id}</Id><Tidspunkt>{ts}</Tidspunkt><Status V=\"A\" DN=\"Aktiv oppføring\"/>"
        )
    };
    // Plan products and packages: cycle substances × brands × strengths, 1–3 packages each.
    let mut products = Vec::new();
    let mut packages: Vec<(usize, usize)> = Vec::new(); // (product index, size index)
    let mut round = 0;
    'plan: loop {
        for (si, s) in SUBSTANCES.iter().enumerate() {
            for bi in 0..s.brands.len() {
                for ki in 0..s.strengths.len() {
                    let pi = products.len();
                    let (name, maker) = plan_name(s, bi, round);
                    products.push(ProductPlan {
                        sub: si,
                        strength: ki,
                        id: id("merkevare", pi),
                        name,
                        maker,
                    });
                    for size in 0..(1 + (pi + round) % 3) {
                        packages.push((pi, size));
                        if packages.len() >= opts.packages {
                            break 'plan;
                        }
                    }
                }
            }
        }
        round += 1;
        if opts.packages == 0 {
            break;
        }
    }
    let refund_ids: Vec<String> = (0..REFUND_GROUPS.len())
        .map(|i| id("refusjonsgruppe", i))
        .collect();
    let h_ids: Vec<String> = (0..H_GROUPS.len()).map(|i| id("hgruppe", i)).collect();
    let condition_ids: Vec<String> = (0..CONDITIONS.len()).map(|i| id("vilkar", i)).collect();
    let substance_ids: Vec<String> = (0..SUBSTANCES.len()).map(|i| id("virkestoff", i)).collect();
    // Substitution group per (substance, strength) with more than one brand.
    let subst_key = |p: &ProductPlan| p.sub * 16 + p.strength;
    let mut subst_groups: Vec<usize> = products
        .iter()
        .filter(|p| SUBSTANCES[p.sub].brands.len() > 1)
        .map(subst_key)
        .collect();
    subst_groups.sort_unstable();
    subst_groups.dedup();
    let subst_id = |key: usize| id("byttegruppe", key);
    let h_group = |s: &Sub| {
        H_GROUPS
            .iter()
            .position(|(_, atc, _)| s.atc.starts_with(atc))
    };

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, "<FEST {NS}><HentetDato>{ts}</HentetDato>")?;

    let medicine = |out: &mut W, p: &ProductPlan, with_group: bool| -> io::Result<()> {
        let s = &SUBSTANCES[p.sub];
        let brand = p.name.as_str();
        write!(
            out,
            "<fs:Atc V=\"{}\" S=\"2.16.578.1.12.4.1.1.7180\" DN=\"{}\"/><fs:NavnFormStyrke>{} {} {} {}</fs:NavnFormStyrke><fs:Reseptgruppe V=\"{}\" DN=\"Reseptgruppe {}\"/><fs:LegemiddelformKort V=\"{}\" S=\"2.16.578.1.12.4.1.1.7448\" DN=\"{}\"/>",
            s.atc,
            s.name,
            esc(brand),
            s.form.1,
            strength(s.strengths[p.strength]),
            s.unit,
            s.group,
            s.group,
            s.form.0,
            s.form.1
        )?;
        // Deflazacort and the second melatonin brand have no Norwegian MT: approval exemption.
        let unregistered = s.atc == "H02AB13" || brand == "Melatonin Unikem";
        if unregistered {
            let (v, dn) = if s.atc == "H02AB13" {
                ("3", "Må søkes")
            } else {
                ("2", "Apotek vurderer")
            };
            write!(
                out,
                "<fs:Preparattype V=\"11\" DN=\"Krever godkj. fritak\"/><fs:TypeSoknadSlv V=\"{v}\" DN=\"{dn}\"/>"
            )?;
        } else {
            write!(
                out,
                "<fs:Preparattype V=\"7\" DN=\"Legemiddel\"/><fs:TypeSoknadSlv V=\"1\" DN=\"Skal ikke søkes\"/>"
            )?;
        }
        if let Some(g) = s.refund {
            refund_link(out, &refund_ids[g], "2020-01-01")?;
        }
        if let Some(h) = h_group(s) {
            refund_link(out, &h_ids[h], "2024-11-01")?;
        }
        if with_group && s.brands.len() > 1 {
            write!(
                out,
                "<fs:PakningByttegruppe><fs:RefByttegruppe>{}</fs:RefByttegruppe><fs:GyldigFraDato>2020-01-01</fs:GyldigFraDato></fs:PakningByttegruppe>",
                subst_id(subst_key(p))
            )?;
        }
        Ok(())
    };

    // KatLegemiddelMerkevare
    write!(out, "<KatLegemiddelMerkevare>")?;
    for (pi, p) in products.iter().enumerate() {
        let s = &SUBSTANCES[p.sub];
        oppf(
            &mut out,
            "OppfLegemiddelMerkevare",
            &id("oppf-merkevare", pi),
        )?;
        write!(out, "<fs:LegemiddelMerkevare>")?;
        medicine(&mut out, p, false)?;
        write!(
            out,
            "<fs:Id>{}</fs:Id><fs:Varenavn>{}</fs:Varenavn><fs:LegemiddelformLang>{}</fs:LegemiddelformLang><fs:SortertVirkestoffUtenStyrke><fs:Sortering>1</fs:Sortering><fs:RefVirkestoff>{}</fs:RefVirkestoff></fs:SortertVirkestoffUtenStyrke><fs:ProduktInfo><fs:Produsent>{}</fs:Produsent></fs:ProduktInfo>",
            p.id,
            esc(&p.name),
            s.form.1,
            substance_ids[p.sub],
            esc(&p.maker)
        )?;
        for (n, heading) in [
            "Indikasjoner",
            "Dosering",
            "Kontraindikasjoner",
            "Forsiktighetsregler",
            "Interaksjoner",
            "Bivirkninger",
        ]
        .iter()
        .enumerate()
        {
            write!(
                out,
                "<fs:Preparatomtaleavsnitt><fs:Avsnittoverskrift V=\"{}\" DN=\"{heading}\"/><fs:Lenke><fs:Beskrivelse>{heading} – {}</fs:Beskrivelse><fs:Www V=\"https://www.legemiddelsok.no/preparatomtale/{}#{}\"/></fs:Lenke></fs:Preparatomtaleavsnitt>",
                n + 1,
                s.name,
                pi,
                n + 1
            )?;
        }
        writeln!(out, "</fs:LegemiddelMerkevare></OppfLegemiddelMerkevare>")?;
    }
    write!(out, "</KatLegemiddelMerkevare>")?;

    // KatLegemiddelpakning
    write!(out, "<KatLegemiddelpakning>")?;
    for (k, &(pi, size)) in packages.iter().enumerate() {
        let p = &products[pi];
        let s = &SUBSTANCES[p.sub];
        let count = SIZES[(size * 4 + pi) % SIZES.len()];
        let price_ore = 4_000 + (k as u64 * 7919) % 90_000 + (count as u64) * 150;
        oppf(&mut out, "OppfLegemiddelpakning", &id("oppf-pakning", k))?;
        write!(out, "<fs:Legemiddelpakning>")?;
        medicine(&mut out, p, true)?;
        write!(
            out,
            "<fs:Id>{}</fs:Id><fs:Varenr>{:06}</fs:Varenr><fs:Ean>70{:011}</fs:Ean><fs:Pakningsinfo><fs:RefLegemiddelMerkevare>{}</fs:RefLegemiddelMerkevare><fs:Pakningsstr>{count}</fs:Pakningsstr><fs:EnhetPakning V=\"1\" S=\"2.16.578.1.12.4.1.1.7452\" DN=\"stk\"/><fs:Pakningstype V=\"9\" S=\"2.16.578.1.12.4.1.1.7453\" DN=\"Blister\"/><fs:Mengde>{count}</fs:Mengde><fs:DDD V=\"{}\" U=\"{}\"/></fs:Pakningsinfo>",
            id("pakning", k),
            100_000 + k,
            100_000 + k,
            p.id,
            s.ddd.0,
            s.ddd.1
        )?;
        // As DMP writes prices: the kind coded in 7453 (2 refusjonspris, 3 AIP, 4 AUP, 5
        // trinnpris), amounts without trailing zeros, one period each; last year's AUP ended
        // when this year's began.
        let aip = price_ore * 3 / 4;
        let last_year = price_ore - price_ore / 20;
        for (code, term, amount, from, until) in [
            ("4", "AUP", last_year, "2025-01-01", Some("2025-12-31")),
            ("4", "AUP", price_ore, "2026-01-01", None),
            ("3", "AIP", aip, "2026-01-01", None),
        ] {
            write!(
                out,
                "<fs:PrisVare><fs:Type V=\"{code}\" S=\"2.16.578.1.12.4.1.1.7453\" DN=\"{term}\"/><fs:Pris V=\"{}\" U=\"NOK\"/><fs:GyldigFraDato>{from}</fs:GyldigFraDato>",
                kroner(amount)
            )?;
            if let Some(u) = until {
                write!(out, "<fs:GyldigTilDato>{u}</fs:GyldigTilDato>")?;
            }
            write!(out, "</fs:PrisVare>")?;
        }
        writeln!(
            out,
            "<fs:Markedsforingsinfo><fs:Markedsforingsdato>2015-03-01</fs:Markedsforingsdato></fs:Markedsforingsinfo></fs:Legemiddelpakning></OppfLegemiddelpakning>"
        )?;
    }
    write!(out, "</KatLegemiddelpakning>")?;

    // KatVirkestoff
    write!(out, "<KatVirkestoff>")?;
    for (i, s) in SUBSTANCES.iter().enumerate() {
        oppf(&mut out, "OppfVirkestoff", &id("oppf-virkestoff", i))?;
        writeln!(
            out,
            "<fs:Virkestoff><fs:Id>{}</fs:Id><fs:Navn>{}</fs:Navn><fs:NavnEngelsk>{}</fs:NavnEngelsk></fs:Virkestoff></OppfVirkestoff>",
            substance_ids[i], s.name, s.english
        )?;
    }
    write!(out, "</KatVirkestoff>")?;

    // KatLegemiddelVirkestoff: prescribing by substance, one entry per substance and strength,
    // pointing at (some of) its products and packages.
    write!(out, "<KatLegemiddelVirkestoff>")?;
    // (substance, strength) → its products and packages (indices).
    type BySubstance = ((usize, usize), Vec<usize>, Vec<usize>);
    let mut by_substance: Vec<BySubstance> = Vec::new();
    for (pi, p) in products.iter().enumerate() {
        let key = (p.sub, p.strength);
        match by_substance.iter_mut().find(|(k, _, _)| *k == key) {
            Some(e) => e.1.push(pi),
            None => by_substance.push((key, vec![pi], Vec::new())),
        }
    }
    for (k, &(pi, _)) in packages.iter().enumerate() {
        let key = (products[pi].sub, products[pi].strength);
        if let Some(e) = by_substance.iter_mut().find(|(kk, _, _)| *kk == key) {
            e.2.push(k);
        }
    }
    for (i, ((si, ki), prods, packs)) in by_substance.iter().enumerate() {
        let s = &SUBSTANCES[*si];
        oppf(&mut out, "OppfLegemiddelVirkestoff", &id("oppf-lmv", i))?;
        write!(
            out,
            "<fs:LegemiddelVirkestoff><fs:Atc V=\"{}\" S=\"2.16.578.1.12.4.1.1.7180\" DN=\"{}\"/><fs:NavnFormStyrke>{} {} {} {}</fs:NavnFormStyrke><fs:Reseptgruppe V=\"{}\" DN=\"Reseptgruppe {}\"/><fs:LegemiddelformKort V=\"{}\" S=\"2.16.578.1.12.4.1.1.7448\" DN=\"{}\"/>",
            s.atc,
            s.name,
            s.name,
            s.form.1,
            strength(s.strengths[*ki]),
            s.unit,
            s.group,
            s.group,
            s.form.0,
            s.form.1
        )?;
        if let Some(g) = s.refund {
            refund_link(&mut out, &refund_ids[g], "2020-01-01")?;
        }
        write!(
            out,
            "<fs:Id>{}</fs:Id><fs:SortertVirkestoffUtenStyrke><fs:Sortering>1</fs:Sortering><fs:RefVirkestoff>{}</fs:RefVirkestoff></fs:SortertVirkestoffUtenStyrke>",
            id("lmv", i),
            substance_ids[*si]
        )?;
        for pi in prods.iter().take(20) {
            write!(
                out,
                "<fs:RefLegemiddelMerkevare>{}</fs:RefLegemiddelMerkevare>",
                products[*pi].id
            )?;
        }
        for k in packs.iter().take(40) {
            write!(out, "<fs:RefPakning>{}</fs:RefPakning>", id("pakning", *k))?;
        }
        writeln!(out, "</fs:LegemiddelVirkestoff></OppfLegemiddelVirkestoff>")?;
    }
    write!(out, "</KatLegemiddelVirkestoff>")?;

    // KatRefusjon: § 2 (200) with codes and conditions; H-resept (950).
    write!(out, "<KatRefusjon>")?;
    oppf(&mut out, "OppfRefusjon", &id("oppf-refusjon", 0))?;
    write!(
        out,
        "<Refusjonshjemmel><Refusjonshjemmel V=\"200\" S=\"2.16.578.1.12.4.1.1.7427\" DN=\"Blåreseptforskriften § 2\"/><KreverVarekobling>true</KreverVarekobling><KreverVedtak>false</KreverVedtak>"
    )?;
    for (i, (nr, atc, text, icpc, icd, cond)) in REFUND_GROUPS.iter().enumerate() {
        write!(
            out,
            "<Refusjonsgruppe><Id>{}</Id><GruppeNr V=\"{nr}\" S=\"2.16.578.1.12.4.1.1.7434\" DN=\"{text}\"/><Atc V=\"{atc}\" S=\"2.16.578.1.12.4.1.1.7180\" DN=\"{text}\"/><KreverRefusjonskode>true</KreverRefusjonskode><RefusjonsberettighetBruk>{text}</RefusjonsberettighetBruk>",
            refund_ids[i]
        )?;
        let codes = icpc
            .iter()
            .map(|c| (c, "2.16.578.1.12.4.1.1.7170"))
            .chain(icd.iter().map(|c| (c, "2.16.578.1.12.4.1.1.7110")));
        for ((code, term), system) in codes {
            write!(
                out,
                "<Refusjonskode><Refusjonskode V=\"{code}\" S=\"{system}\" DN=\"{term}\"/>"
            )?;
            if let Some((_, sub)) = SUBTERMS.iter().find(|(c, _)| c == code) {
                write!(out, "<Underterm>{sub}</Underterm>")?;
            }
            write!(out, "<GyldigFraDato>2020-01-01</GyldigFraDato>")?;
            if let Some(c) = cond {
                write!(
                    out,
                    "<Refusjonsvilkar><RefVilkar>{}</RefVilkar><FraDato>2020-01-01</FraDato></Refusjonsvilkar>",
                    condition_ids[*c]
                )?;
            }
            write!(out, "</Refusjonskode>")?;
        }
        write!(out, "</Refusjonsgruppe>")?;
    }
    writeln!(out, "</Refusjonshjemmel></OppfRefusjon>")?;
    oppf(&mut out, "OppfRefusjon", &id("oppf-refusjon", 1))?;
    write!(
        out,
        "<Refusjonshjemmel><Refusjonshjemmel V=\"950\" S=\"2.16.578.1.12.4.1.1.7427\" DN=\"H-resept\"/><KreverVarekobling>true</KreverVarekobling><KreverVedtak>false</KreverVedtak>"
    )?;
    for (i, (nr, atc, text)) in H_GROUPS.iter().enumerate() {
        write!(
            out,
            "<Refusjonsgruppe><Id>{}</Id><GruppeNr V=\"{nr}\" DN=\"{text}\"/><Atc V=\"{atc}\" S=\"2.16.578.1.12.4.1.1.7180\" DN=\"{text}\"/><KreverRefusjonskode>false</KreverRefusjonskode><RefusjonsberettighetBruk>{text}</RefusjonsberettighetBruk></Refusjonsgruppe>",
            h_ids[i]
        )?;
    }
    writeln!(out, "</Refusjonshjemmel></OppfRefusjon>")?;
    write!(out, "</KatRefusjon>")?;

    // KatVilkar
    write!(out, "<KatVilkar>")?;
    for (i, (nr, text)) in CONDITIONS.iter().enumerate() {
        oppf(&mut out, "OppfVilkar", &id("oppf-vilkar", i))?;
        writeln!(
            out,
            "<Vilkar><Id>{}</Id><VilkarNr>{nr}</VilkarNr><Gruppe V=\"1\" DN=\"Refusjonsvilkår\"/><GjelderFor V=\"F\" DN=\"Forskriver\"/><Tekst>{text}</Tekst><GyldigFraDato>2020-01-01</GyldigFraDato></Vilkar></OppfVilkar>",
            condition_ids[i]
        )?;
    }
    write!(out, "</KatVilkar>")?;

    // KatKodeverk: ATC (7180) with Norwegian names, refund bases (7427).
    write!(out, "<KatKodeverk>")?;
    oppf(&mut out, "OppfKodeverk", &id("oppf-kodeverk", 0))?;
    write!(
        out,
        "<Info><Id>2.16.578.1.12.4.1.1.7180</Id><Betegnelse>ATC</Betegnelse><Kortnavn>ATC</Kortnavn><AnsvarligUtgiver>DMP</AnsvarligUtgiver></Info>"
    )?;
    for (i, (code, name)) in ATC_GROUPS
        .iter()
        .map(|(c, n)| (*c, *n))
        .chain(SUBSTANCES.iter().map(|s| (s.atc, s.name)))
        .enumerate()
    {
        write!(
            out,
            "<Element><Id>{}</Id><Kode>{code}</Kode><Term><Term>{}</Term></Term></Element>",
            id("atc", i),
            esc(name)
        )?;
    }
    writeln!(out, "</OppfKodeverk>")?;
    oppf(&mut out, "OppfKodeverk", &id("oppf-kodeverk", 1))?;
    write!(
        out,
        "<Info><Id>2.16.578.1.12.4.1.1.7427</Id><Betegnelse>Refusjonshjemmel</Betegnelse><Kortnavn>Refusjonshjemmel</Kortnavn><AnsvarligUtgiver>DMP</AnsvarligUtgiver></Info>"
    )?;
    for (i, (code, name)) in [
        ("200", "Blåreseptforskriften § 2"),
        ("300", "Blåreseptforskriften § 3"),
        ("400", "Blåreseptforskriften § 4"),
        ("950", "H-resept"),
    ]
    .iter()
    .enumerate()
    {
        write!(
            out,
            "<Element><Id>{}</Id><Kode>{code}</Kode><Term><Term>{name}</Term></Term></Element>",
            id("hjemmel", i)
        )?;
    }
    writeln!(out, "</OppfKodeverk>")?;
    // DMP's own refund codes (7434) and the ICD-10-based codes for § 3 (7435).
    let own: &[(&str, &str)] = &[
        ("-04", "Allmennfarlige smittsomme sykdommer"),
        ("-71", "Kroniske sterke smerter"),
        ("-90", "Palliativ behandling i livets sluttfase"),
        ("-99", "Utprøvende behandling"),
    ];
    let icd: &[(&str, &str)] = &[
        ("E11", "Diabetes mellitus type 2"),
        ("E78", "Forstyrrelser i lipoproteinmetabolismen"),
        ("F32", "Depressiv episode"),
        ("G40", "Epilepsi"),
        ("I10", "Essensiell hypertensjon"),
        ("I48", "Atrieflimmer og atrieflutter"),
        ("J45", "Astma"),
        ("K21", "Gastroøsofageal reflukssykdom"),
    ];
    for (n, (oid, name, codes)) in [
        ("2.16.578.1.12.4.1.1.7434", "Refusjonskoder, DMP", own),
        (
            "2.16.578.1.12.4.1.1.7435",
            "Refusjonskoder for individuell stønad (ICD-10)",
            icd,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        oppf(&mut out, "OppfKodeverk", &id("oppf-kodeverk", 2 + n))?;
        write!(
            out,
            "<Info><Id>{oid}</Id><Betegnelse>{name}</Betegnelse><Kortnavn>{name}</Kortnavn><AnsvarligUtgiver>DMP</AnsvarligUtgiver></Info>"
        )?;
        for (i, (code, term)) in codes.iter().enumerate() {
            write!(
                out,
                "<Element><Id>{}</Id><Kode>{code}</Kode><Term><Term>{term}</Term></Term></Element>",
                id(&format!("kode{n}"), i)
            )?;
        }
        writeln!(out, "</OppfKodeverk>")?;
    }
    write!(out, "</KatKodeverk>")?;

    // KatByttegruppe
    write!(out, "<KatByttegruppe>")?;
    for (i, key) in subst_groups.iter().enumerate() {
        oppf(&mut out, "OppfByttegruppe", &id("oppf-byttegruppe", i))?;
        writeln!(
            out,
            "<Byttegruppe><Id>{}</Id><Kode V=\"{:05}\"/><MerknadTilByttbarhet>false</MerknadTilByttbarhet><GyldigFraDato>2020-01-01</GyldigFraDato></Byttegruppe></OppfByttegruppe>",
            subst_id(*key),
            key
        )?;
    }
    write!(out, "</KatByttegruppe>")?;

    // KatInteraksjon: the bulk of a real file.
    let interactions = (opts.packages as f64 * opts.interactions_per_package).round() as usize;
    write!(out, "<KatInteraksjon>")?;
    for i in 0..interactions {
        let a = &SUBSTANCES[i % SUBSTANCES.len()];
        let b = &SUBSTANCES[(i * 7 + 3) % SUBSTANCES.len()];
        oppf(&mut out, "OppfInteraksjon", &id("oppf-interaksjon", i))?;
        write!(
            out,
            "<Interaksjon><Id>{}</Id><Relevans V=\"{}\" DN=\"Bør unngås\"/><KliniskKonsekvens>Samtidig bruk av {} og {} kan gi økt risiko for bivirkninger. Effekten av {} kan bli forsterket eller svekket, og pasienten bør følges opp klinisk ved oppstart, doseendring og seponering. Vurder alternativ behandling der det finnes.</KliniskKonsekvens><Interaksjonsmekanisme>Farmakokinetisk interaksjon via CYP3A4 og P-glykoprotein; {} hemmer metabolismen av {} (generert eksempeltekst, ikke faglig innhold).</Interaksjonsmekanisme><Kildegrunnlag V=\"4\" DN=\"Interaksjonsstudier\"/><Handtering>Unngå kombinasjonen om mulig. Hvis kombinasjonen er nødvendig: overvåk effekt og bivirkninger, og juster dosen av {} ved behov. Informer pasienten om symptomer som skal føre til kontakt med lege.</Handtering><Referanse><Kilde>Preparatomtale for {} og {}, avsnitt 4.5 (generert)</Kilde></Referanse><Substansgruppe><Navn>{}</Navn><Substans><Substans>{}</Substans><Atc V=\"{}\"/></Substans></Substansgruppe><Substansgruppe><Navn>{}</Navn><Substans><Substans>{}</Substans><Atc V=\"{}\"/></Substans></Substansgruppe></Interaksjon></OppfInteraksjon>",
            id("interaksjon", i),
            1 + i % 3,
            a.name,
            b.name,
            a.name,
            b.name,
            a.name,
            a.name,
            a.name,
            b.name,
            a.name,
            a.name,
            a.atc,
            b.name,
            b.name,
            b.atc
        )?;
        if i % 4 == 3 {
            writeln!(out)?;
        }
    }
    write!(out, "</KatInteraksjon>")?;
    writeln!(out, "</FEST>")?;
    Ok(Stats {
        packages: packages.len(),
        products: products.len(),
        refund_groups: REFUND_GROUPS.len() + H_GROUPS.len(),
        substitution_groups: subst_groups.len(),
        interactions,
    })
}
