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
    /// `PrisVare` of type AUP (pharmacy retail price), in øre.
    pub price_ore: Option<u64>,
    /// `Markedsforingsinfo/Markedsforingsdato`.
    #[serde(with = "crate::dates::maybe")]
    pub marketed: Option<Date>,
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
    /// `Refusjonsvilkar/RefVilkar`.
    pub conditions: Vec<String>,
}

impl RefundCode {
    /// Valid for prescribing on `date`.
    pub fn valid_on(&self, date: Date) -> bool {
        self.from.is_none_or(|f| f <= date) && self.prescribe_until.is_none_or(|u| date <= u)
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
}

/// The OID of the ATC code system with Norwegian names (Volven 7180).
pub const ATC_OID: &str = "2.16.578.1.12.4.1.1.7180";
/// Refund basis codes (Volven 7427).
pub const BASIS_OID: &str = "2.16.578.1.12.4.1.1.7427";
/// § 2 (preapproved refund) in 7427.
pub const BASIS_SECTION_2: &str = "200";
/// H-prescription (the trusts pay) in 7427.
pub const BASIS_H_PRESCRIPTION: &str = "950";
