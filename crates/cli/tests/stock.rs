//! `legemiddel stock …` as a stockpile manager runs it, on SQLite and PostgreSQL: a generated
//! ledger imported and verified, coverage against E1/E2 as CSV, a delivery picked first expiry
//! first out, a supply stop simulated; a malformed file refused by line and column with nothing
//! stored; a back-dated event that would have made stock negative refused and named.

use std::path::Path;

mod service;

use service::{drop_database, places, run as legemiddel};

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("legemiddel-stock-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A sales file in Parquet as DuckDB writes one by default (a DATE column, UTF-8 text, a
/// DOUBLE, Snappy-compressed): `(days since 1970-01-01, atc, packages)`.
fn parquet_sales(path: &Path, rows: &[(i32, &str, f64)]) {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type(
            "message sales { required int32 date (DATE); required binary atc (UTF8); required double packages; }",
        )
        .unwrap(),
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut w =
        SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
    let mut g = w.next_row_group().unwrap();
    let mut c = g.next_column().unwrap().unwrap();
    c.typed::<Int32Type>()
        .write_batch(&rows.iter().map(|r| r.0).collect::<Vec<_>>(), None, None)
        .unwrap();
    c.close().unwrap();
    let mut c = g.next_column().unwrap().unwrap();
    let atc: Vec<ByteArray> = rows.iter().map(|r| ByteArray::from(r.1)).collect();
    c.typed::<ByteArrayType>()
        .write_batch(&atc, None, None)
        .unwrap();
    c.close().unwrap();
    let mut c = g.next_column().unwrap().unwrap();
    c.typed::<DoubleType>()
        .write_batch(&rows.iter().map(|r| r.2).collect::<Vec<_>>(), None, None)
        .unwrap();
    c.close().unwrap();
    g.close().unwrap();
    w.close().unwrap();
}

#[test]
fn a_stockpile_manager_imports_verifies_covers_picks_and_simulates() {
    let dir = temp("flow");
    let ledger = dir.join("lager.csv");
    let (code, out) = legemiddel(&[
        "stock",
        "generate",
        "--out",
        ledger.to_str().unwrap(),
        "--medicines",
        "6",
        "--years",
        "1",
        "--from",
        "2025-12-01",
    ]);
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&ledger).unwrap();
    assert!(
        text.starts_with("wholesaler,varenr,lot,atc,expiry,date,kind,quantity,reverses,note,key\n")
    );
    assert!(
        text.contains(",000003,"),
        "varenumre keep their leading zeros"
    );
    let events = text.lines().count() - 1;

    for (location, flag, place) in places(&dir) {
        let p = [flag, place.as_str()];
        let (code, out) =
            legemiddel(&[&["stock", "import"][..], &p, &[ledger.to_str().unwrap()]].concat());
        assert_eq!(code, 0, "{place}: {out}");
        assert!(
            out.starts_with(&format!(
                "{events} hendelser lagret, 0 fantes fra før, 0 avvist"
            )),
            "{place}: {out}"
        );
        let (code, out) = legemiddel(&[&["stock", "verify"][..], &p].concat());
        assert_eq!(code, 0, "{place}: {out}");
        assert!(
            out.contains(&format!("{events} hendelser regnet om")),
            "{place}: {out}"
        );

        let (code, csv) = legemiddel(
            &[
                &[
                    "stock",
                    "coverage",
                    "--date",
                    "2026-11-30",
                    "--format",
                    "csv",
                ][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{place}: {csv}");
        assert!(csv.starts_with("atc,grossist,gruppe,beholdning,salg_12_mnd,dager,krav_dager,krav_pakninger,mangler,status"), "{place}: {csv}");
        assert!(
            csv.contains("J01CA04,nasjonalt,penicilliner med utvidet spektrum,"),
            "{place}: {csv}"
        );
        // Sized from pharmacy sales instead (E1): the 365 days to the date, fractions summed.
        let sales = dir.join("salg.csv");
        write(
            &sales,
            "date,wholesaler,atc,packages\n2026-06-01,AHN,J01CA04,3650\n2026-06-02,AHN,J01CA04,0.5\n2024-01-01,AHN,J01CA04,999\n",
        );
        let (code, csv) = legemiddel(
            &[
                &[
                    "stock",
                    "coverage",
                    "--date",
                    "2026-11-30",
                    "--format",
                    "csv",
                    "--sales",
                    sales.to_str().unwrap(),
                ][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{place}: {csv}");
        let ahn = csv
            .lines()
            .find(|l| l.starts_with("J01CA04,AHN,"))
            .unwrap_or_default();
        assert_eq!(ahn.split(',').nth(4), Some("3651"), "{place}: {ahn}");
        // The same from Parquet: national rows split among the wholesalers, so the national
        // line carries the year's sum (20 454 days after 1970 is 2026-01-01; the last row is
        // outside the year).
        let pq = dir.join("salg.parquet");
        parquet_sales(
            &pq,
            &[
                (20454, "J01CA04", 1000.0),
                (20500, "J01CA04", 250.5),
                (19000, "J01CA04", 9999.0),
            ],
        );
        let (code, csv) = legemiddel(
            &[
                &[
                    "stock",
                    "coverage",
                    "--date",
                    "2026-11-30",
                    "--format",
                    "csv",
                    "--sales",
                    pq.to_str().unwrap(),
                ][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{place}: {csv}");
        let national = csv
            .lines()
            .find(|l| l.starts_with("J01CA04,nasjonalt,"))
            .unwrap_or_default();
        let sold: i64 = national.split(',').nth(4).unwrap().parse().unwrap();
        assert!(
            (1249..=1252).contains(&sold),
            "{place}: 1 250.5 split and rounded per wholesaler: {national}"
        );
        write(&sales, "date,atc,packages\n2026-06-01,J01CA04,abc\n");
        let (code, out) = legemiddel(
            &[
                &["stock", "coverage", "--sales", sales.to_str().unwrap()][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 2, "{place}: {out}");
        assert!(out.contains("--sales, linje 2, packages"), "{place}: {out}");
        let xlsx = dir.join(format!("dekning-{flag}.xlsx"));
        let (code, out) = legemiddel(
            &[
                &[
                    "stock",
                    "coverage",
                    "--format",
                    "xlsx",
                    "--out",
                    xlsx.to_str().unwrap(),
                ][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{place}: {out}");
        assert!(
            std::fs::read(&xlsx).unwrap().starts_with(b"PK"),
            "an XLSX is a zip"
        );

        // FEFO: the picks come in order of expiry, and are recorded.
        let (code, out) = legemiddel(
            &[
                &[
                    "stock",
                    "allocate",
                    "--wholesaler",
                    "AHN",
                    "--varenr",
                    "000003",
                    "--quantity",
                    "10",
                    "--date",
                    "2026-11-30",
                ][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{place}: {out}");
        assert!(out.contains("registrert som"), "{place}: {out}");
        let (code, out) = legemiddel(
            &[
                &[
                    "stock",
                    "simulate",
                    "--atc",
                    "J01CA",
                    "--days",
                    "400",
                    "--date",
                    "2026-11-30",
                ][..],
                &p,
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{place}: {out}");
        assert!(
            out.contains("Rasjonering (E4) bør vurderes fra dag"),
            "{place}: {out}"
        );
        let (code, out) = legemiddel(&[&["stock", "verify"][..], &p].concat());
        assert_eq!(code, 0, "{place}: still consistent after the picks: {out}");

        // Bad input: named by line and column, nothing stored.
        let bad = dir.join("feil.csv");
        write(
            &bad,
            "wholesaler,varenr,lot,atc,expiry,date,kind,quantity,reverses,note,key\n\
                     AHN,999999,X1,J01CA04,2027-01-01,2026-01-01,received,5,,,\n\
                     AHN,999999,X1,J01CA04,2027-01-01,2026-01-02,sold,5,,,\n",
        );
        let (code, out) =
            legemiddel(&[&["stock", "import"][..], &p, &[bad.to_str().unwrap()]].concat());
        assert_eq!(code, 2, "{place}: {out}");
        assert!(
            out.contains("linje 3, kind") && out.contains("«sold»"),
            "{place}: {out}"
        );
        let (_, lots) = legemiddel(&[&["stock", "coverage", "--format", "csv"][..], &p].concat());
        assert!(
            !lots.contains("999999"),
            "{place}: nothing of the bad file was stored"
        );

        // A back-dated issue that would have emptied the lot before a later issue.
        let back = dir.join("tilbake.csv");
        write(
            &back,
            "wholesaler,varenr,lot,atc,expiry,date,kind,quantity,reverses,note,key\n\
                      NMD,888888,Y1,J01CA04,2027-01-01,2026-01-01,received,10,,,\n\
                      NMD,888888,Y1,J01CA04,2027-01-01,2026-01-10,issued,10,,,\n\
                      NMD,888888,Y1,J01CA04,2027-01-01,2026-01-05,issued,1,,,\n",
        );
        let (code, out) =
            legemiddel(&[&["stock", "import"][..], &p, &[back.to_str().unwrap()]].concat());
        assert_eq!(code, 0, "{place}: {out}");
        assert!(
            out.contains("2 hendelser lagret, 0 fantes fra før, 1 avvist"),
            "{place}: {out}"
        );
        assert!(
            out.contains(
                "avvist: linje 4: beholdningen av partiet ville blitt -1 pakninger 2026-01-10"
            ),
            "{place}: {out}"
        );

        if let store::Location::Url(url) = location {
            drop_database(&url);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
