//! Reading a FEST file as a stream.
//!
//! The file is one `<FEST>` element (namespace `m30`) with catalogues (`Kat…`) of entries
//! (`Oppf…`: `Id`, `Tidspunkt`, `Status`, then the entry itself, mostly in the `fs`
//! namespace). The reader walks the events; for each entry of a catalogue the product uses it
//! builds a small tree of just that entry, turns it into the model, and drops it. Catalogues the
//! product does not use (interactions, doses, commodities…) are skipped without building
//! anything. Memory is bounded by the model, not by the file.

use std::io::BufRead;

use domain::Date;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::model::*;

/// The namespace of the M30 message.
pub const M30_NS: &str = "http://www.kith.no/xmlstds/eresept/m30/2014-12-01";

/// Why a file was refused: where (byte offset, and the entry if inside one) and what.
#[derive(Debug, thiserror::Error)]
#[error("byte {position}{}: {message}", entry.as_deref().map(|e| format!(" (i {e})")).unwrap_or_default())]
pub struct ParseError {
    /// Byte offset in the (uncompressed) file.
    pub position: u64,
    /// The entry being read (`OppfLegemiddelpakning ID_…`), if any.
    pub entry: Option<String>,
    /// What is wrong (bokmål).
    pub message: String,
}

/// A small tree of one entry.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn coded(&self, name: &str) -> Option<Coded> {
        self.child(name).map(|c| Coded {
            code: c.attr("V").unwrap_or("").to_string(),
            name: c.attr("DN").unwrap_or("").to_string(),
        })
    }
}

/// Which catalogues are read, and the entry element of each.
const ENTRIES: &[&str] = &[
    "OppfLegemiddelMerkevare",
    "OppfLegemiddelpakning",
    "OppfVirkestoff",
    "OppfLegemiddelVirkestoff",
    "OppfRefusjon",
    "OppfVilkar",
    "OppfKodeverk",
    "OppfByttegruppe",
];

struct Failure(String);

type Built<T> = Result<T, Failure>;

fn required(node: &Node, name: &str) -> Built<String> {
    node.text_of(name)
        .ok_or_else(|| Failure(format!("mangler <{name}> i <{}>", node.name)))
}

fn date(node: &Node, name: &str) -> Built<Option<Date>> {
    match node.text_of(name) {
        None => Ok(None),
        Some(t) => Date::parse(&t)
            .map(Some)
            .map_err(|_| Failure(format!("<{name}>: ugyldig dato «{t}»"))),
    }
}

fn pq(node: &Node, name: &str) -> Option<(f64, String)> {
    let c = node.child(name)?;
    let v = c.attr("V")?.parse().ok()?;
    Some((v, c.attr("U").unwrap_or("").to_string()))
}

fn medicine(n: &Node) -> Built<Medicine> {
    let mut refunds = Vec::new();
    for r in n.children("Refusjon") {
        refunds.push(RefundLink {
            groups: r
                .children("RefRefusjonsgruppe")
                .map(|g| g.text.trim().to_string())
                .collect(),
            from: date(r, "GyldigFraDato")?
                .ok_or_else(|| Failure("mangler <GyldigFraDato> i <Refusjon>".into()))?,
            prescribe_until: date(r, "ForskrivesTilDato")?,
            dispense_until: date(r, "UtleveresTilDato")?,
        });
    }
    Ok(Medicine {
        atc: n.coded("Atc"),
        name_form_strength: required(n, "NavnFormStyrke")?,
        prescription_group: n
            .child("Reseptgruppe")
            .and_then(|c| c.attr("V"))
            .ok_or_else(|| Failure("mangler <Reseptgruppe V=…>".into()))?
            .to_string(),
        form: n.coded("LegemiddelformKort"),
        conditions: n
            .children("RefVilkar")
            .map(|c| c.text.trim().to_string())
            .collect(),
        preparation_type: n.coded("Preparattype"),
        exemption_application: n.coded("TypeSoknadSlv"),
        refunds,
        substitution_group: n
            .child("PakningByttegruppe")
            .and_then(|p| p.text_of("RefByttegruppe")),
        substitution_from: match n.child("PakningByttegruppe") {
            Some(p) => date(p, "GyldigFraDato")?,
            None => None,
        },
        substitution_until: match n.child("PakningByttegruppe") {
            Some(p) => date(p, "GyldigTilDato")?,
            None => None,
        },
    })
}

fn product(n: &Node) -> Built<Product> {
    let mut substances: Vec<String> = n
        .children("SortertVirkestoffMedStyrke")
        .filter_map(|s| s.text_of("RefVirkestoffMedStyrke"))
        .collect();
    substances.extend(
        n.children("SortertVirkestoffUtenStyrke")
            .filter_map(|s| s.text_of("RefVirkestoff")),
    );
    Ok(Product {
        id: required(n, "Id")?,
        medicine: medicine(n)?,
        brand: required(n, "Varenavn")?,
        form_long: n.text_of("LegemiddelformLang"),
        substances,
        producer: n.child("ProduktInfo").and_then(|p| p.text_of("Produsent")),
    })
}

fn package(n: &Node) -> Built<Package> {
    let info = n.child("Pakningsinfo");
    let mut prices = Vec::new();
    for p in n.children("PrisVare") {
        let kind = p
            .child("Type")
            .map(|t| PriceKind::from_coded(t.attr("V").unwrap_or(""), t.attr("DN").unwrap_or("")))
            .ok_or_else(|| Failure("mangler <PrisVare/Type>".into()))?;
        let text = p
            .child("Pris")
            .and_then(|x| x.attr("V"))
            .ok_or_else(|| Failure("mangler <PrisVare/Pris V=…>".into()))?;
        let ore = crate::parse::ore(text)
            .ok_or_else(|| Failure(format!("<PrisVare/Pris V=\"{text}\">: ugyldig beløp")))?;
        prices.push(Price {
            kind,
            ore,
            from: date(p, "GyldigFraDato")?,
            until: date(p, "GyldigTilDato")?,
        });
    }
    // What look-ups show: the AUP of the latest-starting period.
    let price_ore = prices
        .iter()
        .filter(|p| p.kind == PriceKind::Aup)
        .max_by_key(|p| p.from)
        .map(|p| p.ore);
    Ok(Package {
        id: required(n, "Id")?,
        medicine: medicine(n)?,
        varenr: required(n, "Varenr")?,
        product: info
            .and_then(|i| i.text_of("RefLegemiddelMerkevare"))
            .ok_or_else(|| Failure("mangler <Pakningsinfo/RefLegemiddelMerkevare>".into()))?,
        size: info
            .map(|i| {
                let size = i.text_of("Pakningsstr").unwrap_or_default();
                let unit = i
                    .child("EnhetPakning")
                    .and_then(|u| u.attr("DN"))
                    .unwrap_or("");
                format!("{size} {unit}").trim().to_string()
            })
            .unwrap_or_default(),
        ddd: info.and_then(|i| pq(i, "DDD")),
        price_ore,
        prices,
        marketed: match n.child("Markedsforingsinfo") {
            Some(m) => date(m, "Markedsforingsdato")?,
            None => None,
        },
    })
}

/// A decimal amount in kroner (`123.45`) as whole øre, exactly.
pub fn ore(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(frac)
}

fn refund_basis(n: &Node) -> Built<RefundBasis> {
    let mut groups = Vec::new();
    for g in n.children("Refusjonsgruppe") {
        let mut codes = Vec::new();
        for c in g.children("Refusjonskode") {
            let code = c
                .child("Refusjonskode")
                .ok_or_else(|| Failure("mangler <Refusjonskode/Refusjonskode>".into()))?;
            codes.push(RefundCode {
                code: Coded {
                    code: code.attr("V").unwrap_or("").to_string(),
                    name: code.attr("DN").unwrap_or("").to_string(),
                },
                system: code.attr("S").unwrap_or("").to_string(),
                subterm: c.text_of("Underterm"),
                from: date(c, "GyldigFraDato")?,
                prescribe_until: date(c, "ForskrivesTilDato")?,
                dispense_until: date(c, "UtleveresTilDato")?,
                conditions: c
                    .children("Refusjonsvilkar")
                    .filter_map(|v| v.text_of("RefVilkar"))
                    .collect(),
                dated_conditions: c
                    .children("Refusjonsvilkar")
                    .filter_map(|v| {
                        let id = v.text_of("RefVilkar")?;
                        Some((id, v))
                    })
                    .map(|(id, v)| {
                        Ok(DatedRef {
                            id,
                            from: date(v, "FraDato")?,
                            until: date(v, "TilDato")?,
                        })
                    })
                    .collect::<Built<Vec<_>>>()?,
            });
        }
        groups.push(RefundGroup {
            id: required(g, "Id")?,
            number: g.coded("GruppeNr").unwrap_or_default(),
            atc: g.coded("Atc"),
            requires_code: g.text_of("KreverRefusjonskode").as_deref() == Some("true"),
            eligible_use: g.text_of("RefusjonsberettighetBruk"),
            conditions: g
                .children("RefVilkar")
                .map(|c| c.text.trim().to_string())
                .collect(),
            codes,
        });
    }
    Ok(RefundBasis {
        basis: n
            .coded("Refusjonshjemmel")
            .ok_or_else(|| Failure("mangler <Refusjonshjemmel V=…>".into()))?,
        requires_product_link: n.text_of("KreverVarekobling").as_deref() == Some("true"),
        requires_decision: n.text_of("KreverVedtak").as_deref() == Some("true"),
        groups,
    })
}

/// Adds one entry (`Oppf…` node) to the catalogue.
fn add(cat: &mut Catalogue, entry: &Node) -> Built<()> {
    let status = entry
        .child("Status")
        .and_then(|s| s.attr("V"))
        .unwrap_or("A");
    // The entry's own element is the last child (after Id, Tidspunkt, Status).
    let Some(body) = entry
        .children
        .iter()
        .find(|c| !matches!(c.name.as_str(), "Id" | "Tidspunkt" | "Status"))
    else {
        // An expired entry ("Utgått oppføring") may have no body.
        cat.inactive += 1;
        return Ok(());
    };
    if status != "A" {
        cat.inactive += 1;
        return Ok(());
    }
    match body.name.as_str() {
        "LegemiddelMerkevare" => cat.products.push(product(body)?),
        "Legemiddelpakning" => cat.packages.push(package(body)?),
        "Virkestoff" => cat.substances.push(Substance {
            id: required(body, "Id")?,
            name: required(body, "Navn")?,
            name_english: body.text_of("NavnEngelsk"),
        }),
        "VirkestoffMedStyrke" => cat.strengths.push(SubstanceStrength {
            id: required(body, "Id")?,
            substance: required(body, "RefVirkestoff")?,
            strength: pq(body, "Styrke"),
        }),
        "LegemiddelVirkestoff" => cat.substance_medicines.push(SubstanceMedicine {
            id: required(body, "Id")?,
            medicine: medicine(body)?,
            products: body
                .children("RefLegemiddelMerkevare")
                .map(|c| c.text.trim().to_string())
                .collect(),
            packages: body
                .children("RefPakning")
                .map(|c| c.text.trim().to_string())
                .collect(),
        }),
        "Refusjonshjemmel" => cat.refunds.push(refund_basis(body)?),
        "Vilkar" => cat.conditions.push(Condition {
            id: required(body, "Id")?,
            number: body.text_of("VilkarNr"),
            text: required(body, "Tekst")?,
        }),
        "Byttegruppe" => cat.substitution_groups.push(SubstitutionGroup {
            id: required(body, "Id")?,
            code: body
                .child("Kode")
                .and_then(|k| k.attr("V"))
                .unwrap_or("")
                .to_string(),
            remark: body.text_of("MerknadTilByttbarhet").as_deref() == Some("true"),
            description: body.text_of("BeskrivelseByttbarhet"),
        }),
        "Info" => {
            let elements = entry
                .children("Element")
                .map(|e| CodeElement {
                    code: e.text_of("Kode").unwrap_or_default(),
                    term: e
                        .child("Term")
                        .and_then(|t| t.text_of("Term"))
                        .unwrap_or_default(),
                })
                .collect();
            cat.code_systems.push(CodeSystem {
                oid: required(body, "Id")?,
                name: required(body, "Betegnelse")?,
                short_name: body.text_of("Kortnavn").unwrap_or_default(),
                elements,
            });
        }
        other => {
            return Err(Failure(format!(
                "uventet element <{other}> i <{}>",
                entry.name
            )));
        }
    }
    Ok(())
}

fn local(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// Reads a whole FEST file from `reader`, calling `progress(bytes read)` now and then.
pub fn parse<R: BufRead>(
    reader: R,
    mut progress: impl FnMut(u64),
) -> Result<Catalogue, ParseError> {
    let mut xml = NsReader::from_reader(reader);
    xml.config_mut().trim_text(true);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut cat = Catalogue::default();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut root_closed = false;
    // The entry being built: a stack of open nodes.
    let mut stack: Vec<Node> = Vec::new();
    let mut entry_start = 0u64;
    // Depth of an element being skipped (a catalogue or entry not used), if any.
    let mut skipping: Option<usize> = None;
    let mut in_retrieved = false;
    let mut last_progress = 0u64;

    let fail = |position: u64, stack: &[Node], message: String| ParseError {
        position,
        entry: stack.first().map(|n| {
            let id = n.text_of("Id").unwrap_or_default();
            format!("{} {id}", n.name).trim().to_string()
        }),
        message,
    };

    loop {
        let position = xml.buffer_position();
        if position - last_progress > 4 << 20 {
            progress(position);
            last_progress = position;
        }
        let (ns, event) = match xml.read_resolved_event_into(&mut buf) {
            Ok(ok) => ok,
            Err(e) => {
                let message = format!("ugyldig XML: {e}");
                return Err(fail(xml.error_position(), &stack, message));
            }
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                let name = local(e.local_name().as_ref());
                if !root_seen {
                    let ns_ok =
                        matches!(ns, ResolveResult::Bound(n) if n.as_ref() == M30_NS.as_bytes());
                    if name != "FEST" || !ns_ok {
                        return Err(fail(
                            position,
                            &stack,
                            format!(
                                "ventet rotelementet <FEST> i navnerommet {M30_NS}; fant <{name}>"
                            ),
                        ));
                    }
                    root_seen = true;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                if !stack.is_empty() {
                    stack.push(node(&e, &xml, position, &stack)?);
                    continue;
                }
                if depth == 2 && name == "HentetDato" {
                    in_retrieved = true;
                } else if ENTRIES.contains(&name.as_str()) && depth == 3 {
                    entry_start = position;
                    stack.push(node(&e, &xml, position, &stack)?);
                } else if depth == 2 && name.starts_with("Kat") {
                    // A catalogue: read its entries if it is one the product uses.
                    let used = ENTRIES.iter().any(|en| en[4..] == name[3..]);
                    if !used {
                        if !cat.skipped_catalogues.contains(&name) {
                            cat.skipped_catalogues.push(name.clone());
                        }
                        skipping = Some(depth);
                    }
                } else if depth >= 2 {
                    skipping = Some(depth);
                }
            }
            Event::Empty(e) => {
                if skipping.is_some() || !root_seen {
                    continue;
                }
                if let Some(parent) = stack.last_mut() {
                    let n = node(&e, &xml, position, &[])?;
                    parent.children.push(n);
                }
            }
            Event::Text(t) => {
                let text = t
                    .decode()
                    .map_err(|e| fail(position, &stack, format!("ugyldig tekst: {e}")))?;
                let text = quick_xml::escape::unescape(&text)
                    .map_err(|e| fail(position, &stack, format!("ugyldig tegnreferanse: {e}")))?;
                if in_retrieved {
                    cat.retrieved.push_str(text.trim());
                } else if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                // An entity reference inside text (`&amp;`, `&#229;`).
                let name = String::from_utf8_lossy(&r).into_owned();
                let resolved = quick_xml::escape::unescape(&format!("&{name};"))
                    .map_err(|e| {
                        fail(
                            position,
                            &stack,
                            format!("ugyldig tegnreferanse &{name};: {e}"),
                        )
                    })?
                    .into_owned();
                if in_retrieved {
                    cat.retrieved.push_str(&resolved);
                } else if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::End(_) => {
                if let Some(d) = skipping {
                    if depth == d {
                        skipping = None;
                    }
                    depth -= 1;
                    continue;
                }
                depth -= 1;
                in_retrieved = false;
                if depth == 0 {
                    root_closed = true;
                }
                if let Some(done) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => {
                            add(&mut cat, &done).map_err(|Failure(m)| {
                                fail(entry_start, std::slice::from_ref(&done), m)
                            })?;
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let end = xml.buffer_position();
    if !root_seen {
        return Err(fail(
            end,
            &[],
            "filen er tom eller har ikke noe <FEST>-element".into(),
        ));
    }
    if !root_closed {
        return Err(fail(
            end,
            &stack,
            "filen slutter før </FEST>: den er avkortet".into(),
        ));
    }
    if cat.retrieved.is_empty() {
        return Err(fail(end, &[], "mangler <HentetDato>".into()));
    }
    progress(end);
    Ok(cat)
}

fn node<R>(
    e: &BytesStart<'_>,
    xml: &NsReader<R>,
    position: u64,
    stack: &[Node],
) -> Result<Node, ParseError> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| ParseError {
            position,
            entry: stack.first().map(|n| n.name.clone()),
            message: format!("ugyldig attributt: {err}"),
        })?;
        let value = a
            .decoded_and_normalized_value(quick_xml::XmlVersion::Implicit1_0, xml.decoder())
            .map_err(|err| ParseError {
                position,
                entry: stack.first().map(|n| n.name.clone()),
                message: format!("ugyldig attributtverdi: {err}"),
            })?
            .into_owned();
        attrs.push((local(a.key.local_name().as_ref()), value));
    }
    Ok(Node {
        name: local(e.local_name().as_ref()),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
