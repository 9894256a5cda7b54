//! The parts of FEST (M30) the product uses, as plain data. Names follow the catalogue's own
//! (in English, with the FEST term in the doc comment), so a reader of DMP's implementation guide
//! finds each field.

use domain::Date;
use serde::{Deserialize, Serialize};

/// A coded value (`kith:CV` / `kith:CS`): the code `V` and its display name `DN`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coded {
    /// `V`.
    pub code: String,
    /// `DN`.
    pub name: String,
}

/// A link from a product or package to refund groups (`Refusjon`), valid from a date, and
/// prescribable / dispensable until dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLink {
    /// `RefRefusjonsgruppe`.
    pub groups: Vec<String>,
    /// `GyldigFraDato`.
    #[serde(with = "crate::dates::one")]
    pub from: Date,
    /// `ForskrivesTilDato`.
    #[serde(with = "crate::dates::maybe")]
    pub prescribe_until: Option<Date>,
    /// `UtleveresTilDato`.
    #[serde(with = "crate::dates::maybe")]
    pub dispense_until: Option<Date>,
}

impl RefundLink {
    /// Valid for prescribing on `date` (from inclusive; "prescribe until" inclusive).
    pub fn valid_on(&self, date: Date) -> bool {
        self.from <= date && self.prescribe_until.is_none_or(|u| date <= u)
    }
}

/// What products and packages share (`typeLegemiddel`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Medicine {
    /// `Atc`.
    pub atc: Option<Coded>,
    /// `NavnFormStyrke`: name, form and strength.
    pub name_form_strength: String,
    /// `Reseptgruppe` (Volven 7421: A, B, C, CF, F).
    pub prescription_group: String,
    /// `LegemiddelformKort`.
    pub form: Option<Coded>,
    /// `RefVilkar`.
    pub conditions: Vec<String>,
    /// `Preparattype` (11: requires an approval exemption).
    pub preparation_type: Option<Coded>,
    /// `TypeSoknadSlv` (2: the pharmacy assesses; 3: an application is required).
    pub exemption_application: Option<Coded>,
    /// `Refusjon`.
    pub refunds: Vec<RefundLink>,
    /// `PakningByttegruppe/RefByttegruppe`.
    pub substitution_group: Option<String>,
    /// `PakningByttegruppe/GyldigFraDato`: the package is in the group from this date.
    #[serde(default, with = "crate::dates::maybe")]
    pub substitution_from: Option<Date>,
    /// `PakningByttegruppe/GyldigTilDato`: … until this date (inclusive).
    #[serde(default, with = "crate::dates::maybe")]
    pub substitution_until: Option<Date>,
}

impl Medicine {
    /// The substitution group the package belongs to on `date` (B7 uses the group in force).
    pub fn substitution_group_on(&self, date: Date) -> Option<&str> {
        let in_force = self.substitution_from.is_none_or(|f| f <= date)
            && self.substitution_until.is_none_or(|u| date <= u);
        self.substitution_group.as_deref().filter(|_| in_force)
    }
}

/// The kind of a price (`PrisVare/Type`, Volven 7453 «Pristype for legemidler»).
///
/// DMP's file codes it `<Type V="4" S="2.16.578.1.12.4.1.1.7453" DN="AUP"/>`: V 2 refusjonspris,
/// 3 AIP, 4 AUP, 5 trinnpris. The information model (KITH 18/08, v2.5) lists 3 and 4 the other
/// way round, so the term (`DN`) decides when it names a kind, and the code only when it does
/// not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceKind {
    /// Refusjonspris: the most the National Insurance refunds.
    Refund,
    /// AIP: the pharmacy's purchase price.
    Aip,
    /// AUP: the pharmacy's retail price (maximum).
    Aup,
    /// Trinnpris: the stepped price of a generic group.
    Step,
    /// Any other code, kept as written.
    Other(String),
}

impl PriceKind {
    /// From the `Type` element's code and term.
    pub fn from_coded(code: &str, term: &str) -> PriceKind {
        let t = term.to_lowercase();
        if t.contains("aup") {
            PriceKind::Aup
        } else if t.contains("aip") {
            PriceKind::Aip
        } else if t.contains("trinn") {
            PriceKind::Step
        } else if t.contains("refusjon") {
            PriceKind::Refund
        } else {
            match code {
                "2" => PriceKind::Refund,
                "3" => PriceKind::Aip,
                "4" | "AUP" => PriceKind::Aup,
                "5" => PriceKind::Step,
                other => PriceKind::Other(other.to_string()),
            }
        }
    }
}

/// A price of a package for a period (`PrisVare`); a package has several, by kind and period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// `Type`.
    pub kind: PriceKind,
    /// `Pris V`, in øre.
    pub ore: u64,
    /// `GyldigFraDato`.
    #[serde(with = "crate::dates::maybe")]
    pub from: Option<Date>,
    /// `GyldigTilDato` (inclusive).
    #[serde(with = "crate::dates::maybe")]
    pub until: Option<Date>,
}

impl Price {
    /// In force on `date`.
    pub fn valid_on(&self, date: Date) -> bool {
        self.from.is_none_or(|f| f <= date) && self.until.is_none_or(|u| date <= u)
    }
}

/// A reference that holds for a period (`Refusjonsvilkar`: `RefVilkar`, `FraDato`, `TilDato`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatedRef {
    /// The id referred to.
    pub id: String,
    /// From (inclusive).
    #[serde(with = "crate::dates::maybe")]
    pub from: Option<Date>,
    /// Until (inclusive).
    #[serde(with = "crate::dates::maybe")]
    pub until: Option<Date>,
}

impl DatedRef {
    /// In force on `date`.
    pub fn valid_on(&self, date: Date) -> bool {
        self.from.is_none_or(|f| f <= date) && self.until.is_none_or(|u| date <= u)
    }
}

/// A branded product (`LegemiddelMerkevare`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `Id`.
    pub id: String,
    /// The shared part.
    pub medicine: Medicine,
    /// `Varenavn`: the brand.
    pub brand: String,
    /// `LegemiddelformLang`.
    pub form_long: Option<String>,
    /// `SortertVirkestoffMedStyrke/RefVirkestoffMedStyrke` and `…UtenStyrke/RefVirkestoff`.
    pub substances: Vec<String>,
    /// `ProduktInfo/Produsent`.
    pub producer: Option<String>,
}

/// A package (`Legemiddelpakning`), the unit a pharmacy dispenses, by `Varenr`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// `Id`.
    pub id: String,
    /// The shared part.
    pub medicine: Medicine,
    /// `Varenr`: the six-digit article number.
    pub varenr: String,
    /// `Pakningsinfo/RefLegemiddelMerkevare`.
    pub product: String,
    /// `Pakningsinfo/Pakningsstr` with `EnhetPakning`.
    pub size: String,
    /// `Pakningsinfo/DDD` (value, unit).
    pub ddd: Option<(f64, String)>,
    /// The AUP (pharmacy retail price) of the latest period, in øre: what look-ups show. A
    /// dispensing uses [`Package::price_on`] with its own date.
    pub price_ore: Option<u64>,
    /// Every `PrisVare`: each kind, each period.
    #[serde(default)]
    pub prices: Vec<Price>,
    /// `Markedsforingsinfo/Markedsforingsdato`.
    #[serde(with = "crate::dates::maybe")]
    pub marketed: Option<Date>,
}

impl Package {
    /// The price of `kind` in force on `date` (the latest-starting period if several overlap).
    pub fn price_on(&self, kind: &PriceKind, date: Date) -> Option<u64> {
        self.prices
            .iter()
            .filter(|p| &p.kind == kind && p.valid_on(date))
            .max_by_key(|p| p.from)
            .map(|p| p.ore)
    }
}

/// An active substance (`Virkestoff`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Substance {
    /// `Id`.
    pub id: String,
    /// `Navn`.
    pub name: String,
    /// `NavnEngelsk`.
    pub name_english: Option<String>,
}

/// A substance with strength (`VirkestoffMedStyrke`), pointing at its substance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubstanceStrength {
    /// `Id`.
    pub id: String,
    /// `RefVirkestoff`.
    pub substance: String,
    /// `Styrke` (value, unit).
    pub strength: Option<(f64, String)>,
}

/// A medicine for prescribing by substance (`LegemiddelVirkestoff`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubstanceMedicine {
    /// `Id`.
    pub id: String,
    /// The shared part.
    pub medicine: Medicine,
    /// `RefLegemiddelMerkevare`.
    pub products: Vec<String>,
    /// `RefPakning`.
    pub packages: Vec<String>,
}

/// A refund basis (`Refusjonshjemmel`, Volven 7427: 200 § 2, 950 H-resept, …) and its groups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RefundBasis {
    /// `Refusjonshjemmel` (code and name).
    pub basis: Coded,
    /// `KreverVarekobling`.
    pub requires_product_link: bool,
    /// `KreverVedtak`: an individual decision is required.
    pub requires_decision: bool,
    /// The groups.
    pub groups: Vec<RefundGroup>,
}

/// A refund group (`Refusjonsgruppe`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RefundGroup {
    /// `Id`.
    pub id: String,
    /// `GruppeNr`.
    pub number: Coded,
    /// `Atc`.
    pub atc: Option<Coded>,
    /// `KreverRefusjonskode`: the prescription must carry one of the group's codes.
    pub requires_code: bool,
    /// `RefusjonsberettighetBruk`: the refund-eligible use, in words.
    pub eligible_use: Option<String>,
    /// `RefVilkar` (for commodities).
    pub conditions: Vec<String>,
    /// `Refusjonskode`.
    pub codes: Vec<RefundCode>,
}

/// A refund code of a group (`Refusjonskode`): an ICPC-2 or ICD-10 code, or DMP's own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RefundCode {
    /// The code (`V`), the code system (`S`, an OID) and the term (`DN`).
    pub code: Coded,
    /// `S`.
    pub system: String,
    /// `Underterm` (ICPC-2 only).
    pub subterm: Option<String>,
    /// `GyldigFraDato`.
    #[serde(with = "crate::dates::maybe")]
    pub from: Option<Date>,
    /// `ForskrivesTilDato`.
    #[serde(with = "crate::dates::maybe")]
    pub prescribe_until: Option<Date>,
    /// `UtleveresTilDato`.
    #[serde(with = "crate::dates::maybe")]
    pub dispense_until: Option<Date>,
    /// `Refusjonsvilkar/RefVilkar`, every one whatever its dates.
    pub conditions: Vec<String>,
    /// `Refusjonsvilkar` with their `FraDato` and `TilDato`.
    #[serde(default)]
    pub dated_conditions: Vec<DatedRef>,
}

impl RefundCode {
    /// Valid for prescribing on `date`.
    pub fn valid_on(&self, date: Date) -> bool {
        self.from.is_none_or(|f| f <= date) && self.prescribe_until.is_none_or(|u| date <= u)
    }

    /// The conditions in force on `date` (all of them when the file gave no dates).
    pub fn conditions_on(&self, date: Option<Date>) -> Vec<&str> {
        if self.dated_conditions.is_empty() {
            return self.conditions.iter().map(String::as_str).collect();
        }
        self.dated_conditions
            .iter()
            .filter(|c| date.is_none_or(|d| c.valid_on(d)))
            .map(|c| c.id.as_str())
            .collect()
    }

    /// The term shown to a prescriber: the sub-term replaces the code's term when there is one
    /// (FEST implementation guide 6.4.1: «a sub-term is a limitation of the diagnosis»).
    pub fn shown_term(&self) -> String {
        match &self.subterm {
            Some(sub) => format!("{} – bare «{sub}»", self.code.name),
            None => self.code.name.clone(),
        }
    }
}

/// A refund condition (`Vilkar`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// `Id`.
    pub id: String,
    /// `VilkarNr`.
    pub number: Option<String>,
    /// `Tekst`.
    pub text: String,
}

/// A substitution group (`Byttegruppe`): packages the pharmacy may exchange (B7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubstitutionGroup {
    /// `Id`.
    pub id: String,
    /// `Kode`.
    pub code: String,
    /// `MerknadTilByttbarhet`.
    pub remark: bool,
    /// `BeskrivelseByttbarhet`.
    pub description: Option<String>,
}

/// A code system (`Kodeverk`), e.g. 7180 (ATC with Norwegian names), 7427, 7434, 7435.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeSystem {
    /// `Info/Id`: the OID.
    pub oid: String,
    /// `Info/Betegnelse`.
    pub name: String,
    /// `Info/Kortnavn`.
    pub short_name: String,
    /// `Element`.
    pub elements: Vec<CodeElement>,
}

/// One code of a code system.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeElement {
    /// `Kode`.
    pub code: String,
    /// The first `Term/Term`.
    pub term: String,
}

/// One FEST file, as read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    /// `HentetDato`: when DMP generated it (the snapshot's version).
    pub retrieved: String,
    /// `KatLegemiddelMerkevare`.
    pub products: Vec<Product>,
    /// `KatLegemiddelpakning`.
    pub packages: Vec<Package>,
    /// `KatVirkestoff` (`Virkestoff`).
    pub substances: Vec<Substance>,
    /// `KatVirkestoff` (`VirkestoffMedStyrke`).
    pub strengths: Vec<SubstanceStrength>,
    /// `KatLegemiddelVirkestoff`.
    pub substance_medicines: Vec<SubstanceMedicine>,
    /// `KatRefusjon`.
    pub refunds: Vec<RefundBasis>,
    /// `KatVilkar`.
    pub conditions: Vec<Condition>,
    /// `KatByttegruppe`.
    pub substitution_groups: Vec<SubstitutionGroup>,
    /// `KatKodeverk`.
    pub code_systems: Vec<CodeSystem>,
    /// Entries skipped as not in use (`Status` other than `A`), by catalogue.
    pub inactive: usize,
    /// Catalogues in the file this product does not read (`KatInteraksjon`, …), in file order:
    /// the import summary names them, so nobody believes they were loaded.
    #[serde(default)]
    pub skipped_catalogues: Vec<String>,
}

/// The OID of the ATC code system with Norwegian names (Volven 7180).
pub const ATC_OID: &str = "2.16.578.1.12.4.1.1.7180";
/// Refund basis codes (Volven 7427).
pub const BASIS_OID: &str = "2.16.578.1.12.4.1.1.7427";
/// § 2 (preapproved refund) in 7427.
pub const BASIS_SECTION_2: &str = "200";
/// H-prescription (the trusts pay) in 7427.
pub const BASIS_H_PRESCRIPTION: &str = "950";
