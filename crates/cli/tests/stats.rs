//! `legemiddel stats top` on a data set with known answers: ties, group-level ATC codes, leading
//! zeros in varenummer, the year boundary, veterinary rows under human codes and fractions of
//! packages — from CSV and from Parquet alike; a wrong line named by line and column.

use std::path::Path;

mod service;

use service::run as legemiddel;

const RECORDS: &str =
    "date,patient,varenr,atc,substance,packages,ddd_per_package,unregistered,species
2024-01-01,p1,000123,N05CH01,melatonin,2,30,true,human
2024-06-30,p2,000123,N05CH01,melatonin,1.5,30,true,human
2024-12-31,p3,000456,A12,mineraler,3.5,,true,human
2024-03-03,p4,007777,B03,jern,1,,true,human
2024-03-04,p4,007777,B03,jern,2.5,,true,human
2023-12-31,p1,000123,N05CH01,melatonin,9,30,true,human
2025-01-01,p1,000123,N05CH01,melatonin,9,30,true,human
2024-05-05,hund1,000123,N05CH01,melatonin,7,30,true,vet
2024-05-05,p5,000999,N05CH01,melatonin,8,30,false,human
2024-07-07,p6,000321,\"R05DA\",\"kodein, mikstur\",0.25,,true,human
";

const EXPECTED: &str = "atc,substance,dispensings,packages,ddd
B03,jern,2,3.5,-
N05CH01,melatonin,2,3.5,105.0
A12,mineraler,1,3.5,-
R05DA,\"kodein, mikstur\",1,0.25,-
";

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("legemiddel-stats-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn top(input: &Path, extra: &[&str]) -> (i32, String) {
    legemiddel(
        &[
            &[
                "stats",
                "top",
                "--input",
                input.to_str().unwrap(),
                "--year",
                "2024",
                "--format",
                "csv",
            ][..],
            extra,
        ]
        .concat(),
    )
}

#[test]
fn the_top_table_comes_out_right_with_ties_boundaries_vet_rows_and_fractions() {
    let dir = temp("top");
    let csv = dir.join("utleveringer.csv");
    std::fs::write(&csv, RECORDS).unwrap();
    let (code, out) = top(&csv, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with(EXPECTED), "{out}");
    // With a marks list, and only then, the mark column.
    let marks = dir.join("merker.csv");
    std::fs::write(&marks, "atc,mark\nA12,*\nB03,**\n").unwrap();
    let (code, out) = top(&csv, &["--marks", marks.to_str().unwrap(), "--limit", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("atc,substance,dispensings,packages,ddd,mark\nB03,jern,2,3.5,-,**\nN05CH01,melatonin,2,3.5,105.0,\n"), "{out}");
    // Table 7: human codes dispensed for animals, by dispensings — the dog's melatonin only.
    let (code, out) = top(&csv, &["--table", "vet-human"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("atc,substance,dispensings,packages,ddd\nN05CH01,melatonin,1,7,210.0\n"),
        "{out}"
    );
    // XLSX to a file.
    let xlsx = dir.join("topp.xlsx");
    let (code, out) = legemiddel(&[
        "stats",
        "top",
        "--input",
        csv.to_str().unwrap(),
        "--year",
        "2024",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    // A wrong line: named, exit 2.
    std::fs::write(
        &csv,
        format!("{RECORDS}2024-01-01,p1,123,N05CH01,melatonin,1,,true,human\n"),
    )
    .unwrap();
    let (code, out) = top(&csv, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--input, linje 12, varenr"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes `rows` (the records' text fields) as Parquet, `per_group` rows to a row group, the
/// date as DATE, packages and DDD as DOUBLE (DDD optional), the rest as text.
fn write_parquet(path: &Path, rows: &[Vec<String>], per_group: usize) {
    write_parquet_as(path, rows, per_group, false, true)
}

/// [`write_parquet`], or with the types a columnar writer such as DuckDB gives the columns
/// (`columnar`: every column optional, `unregistered` BOOLEAN), with or without dictionaries.
fn write_parquet_as(
    path: &Path,
    rows: &[Vec<String>],
    per_group: usize,
    columnar: bool,
    dictionary: bool,
) {
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let message = if columnar {
        "message u { optional int32 date (DATE); optional binary patient (UTF8); optional binary varenr (UTF8);
           optional binary atc (UTF8); optional binary substance (UTF8); optional double packages;
           optional double ddd_per_package; optional boolean unregistered; optional binary species (UTF8); }"
    } else {
        "message u { required int32 date (DATE); required binary patient (UTF8); required binary varenr (UTF8);
           required binary atc (UTF8); required binary substance (UTF8); required double packages;
           optional double ddd_per_package; required binary unregistered (UTF8); required binary species (UTF8); }"
    };
    let schema = Arc::new(parquet::schema::parser::parse_message_type(message).unwrap());
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let mut w = SerializedFileWriter::new(
        std::fs::File::create(path).unwrap(),
        schema,
        Arc::new(
            WriterProperties::builder()
                .set_dictionary_enabled(dictionary)
                .build(),
        ),
    )
    .unwrap();
    // Every value present: definition level 1 where the column is optional.
    let all = |n: usize| vec![1i16; n];
    for rows in rows.chunks(per_group) {
        let mut g = w.next_row_group().unwrap();
        for col in 0..9 {
            let mut c = g.next_column().unwrap().unwrap();
            match col {
                0 => {
                    let days: Vec<i32> = rows
                        .iter()
                        .map(|r| {
                            (chrono::NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").unwrap() - epoch)
                                .num_days() as i32
                        })
                        .collect();
                    let levels = all(days.len());
                    c.typed::<Int32Type>()
                        .write_batch(&days, columnar.then_some(&levels[..]), None)
                        .unwrap();
                }
                5 => {
                    let v: Vec<f64> = rows.iter().map(|r| r[5].parse().unwrap()).collect();
                    let levels = all(v.len());
                    c.typed::<DoubleType>()
                        .write_batch(&v, columnar.then_some(&levels[..]), None)
                        .unwrap();
                }
                6 => {
                    let present: Vec<f64> = rows
                        .iter()
                        .filter(|r| !r[6].is_empty())
                        .map(|r| r[6].parse().unwrap())
                        .collect();
                    let levels: Vec<i16> =
                        rows.iter().map(|r| i16::from(!r[6].is_empty())).collect();
                    c.typed::<DoubleType>()
                        .write_batch(&present, Some(&levels), None)
                        .unwrap();
                }
                7 if columnar => {
                    let v: Vec<bool> = rows.iter().map(|r| r[7] == "true").collect();
                    let levels = all(v.len());
                    c.typed::<BoolType>()
                        .write_batch(&v, Some(&levels), None)
                        .unwrap();
                }
                _ => {
                    let v: Vec<ByteArray> = rows
                        .iter()
                        .map(|r| ByteArray::from(r[col].as_str()))
                        .collect();
                    let levels = all(v.len());
                    c.typed::<ByteArrayType>()
                        .write_batch(&v, columnar.then_some(&levels[..]), None)
                        .unwrap();
                }
            }
            c.close().unwrap();
        }
        g.close().unwrap();
    }
    w.close().unwrap();
}

/// The fixture's rows as text fields (its one quoted field written without the comma).
fn fixture_rows() -> Vec<Vec<String>> {
    RECORDS
        .lines()
        .skip(1)
        .map(|l| {
            let l = l
                .replace("\"kodein, mikstur\"", "kodein; mikstur")
                .replace('"', "");
            l.split(',').map(str::to_string).collect()
        })
        .collect()
}

#[test]
fn the_top_table_as_a_chart() {
    let dir = temp("svg");
    let input = dir.join("u.csv");
    std::fs::write(&input, RECORDS).unwrap();
    let (code, out) = top(&input, &[]);
    assert_eq!(code, 0, "{out}");
    let (code, svg) = legemiddel(&[
        "stats",
        "top",
        "--input",
        input.to_str().unwrap(),
        "--year",
        "2024",
        "--format",
        "svg",
    ]);
    assert_eq!(code, 0, "{svg}");
    assert!(
        svg.starts_with("<svg") && svg.contains("N05CH01 melatonin: 3.5 pakninger"),
        "{svg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parquet_gives_the_same_table_as_csv_in_one_row_group_or_many() {
    let dir = temp("parquet");
    for per_group in [100, 3, 1] {
        let path = dir.join(format!("utleveringer-{per_group}.parquet"));
        write_parquet(&path, &fixture_rows(), per_group);
        let (code, out) = top(&path, &[]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.starts_with(&EXPECTED.replace("\"kodein, mikstur\"", "kodein; mikstur")),
            "{per_group} per row group: {out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_columnar_writers_parquet_is_summed_by_dictionary_index_to_the_same_table() {
    let dir = temp("parquet-columnar");
    for (per_group, dictionary) in [(100, true), (3, true), (4, false)] {
        let path = dir.join(format!("u-{per_group}-{dictionary}.parquet"));
        write_parquet_as(&path, &fixture_rows(), per_group, true, dictionary);
        let (code, out) = top(&path, &[]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.starts_with(&EXPECTED.replace("\"kodein, mikstur\"", "kodein; mikstur")),
            "{per_group} per row group, dictionary {dictionary}: {out}"
        );
        // The veterinary table from the same file.
        let (code, out) = top(&path, &["--table", "vet-human"]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("N05CH01,melatonin,1,7,210.0"), "{out}");
    }
    // A wrong species is named at its row, in either path.
    let mut rows = fixture_rows();
    rows[4][8] = "menneske".into();
    for dictionary in [true, false] {
        let path = dir.join(format!("feil-{dictionary}.parquet"));
        write_parquet_as(&path, &rows, 3, true, dictionary);
        let (code, out) = top(&path, &[]);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("--input, rad 5, species"), "{out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_parquet_value_is_named_by_row_and_column() {
    let dir = temp("parquet-wrong");
    let path = dir.join("feil.parquet");
    let mut rows = fixture_rows();
    rows[6][8] = "menneske".into();
    write_parquet(&path, &rows, 4);
    let (code, out) = top(&path, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--input, rad 7, species"), "{out}");
    // The varenummer is read, and checked, by the tables that use it.
    let mut rows = fixture_rows();
    rows[6][2] = "123".into();
    write_parquet(&path, &rows, 4);
    let (code, out) = legemiddel(&[
        "stats",
        "varenr",
        "--input",
        path.to_str().unwrap(),
        "--from-year",
        "2024",
        "--to-year",
        "2024",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--input, rad 7, varenr"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn distinct_varenumre_without_mt_per_year_from_csv_and_parquet() {
    let dir = temp("varenr");
    let csv = dir.join("u.csv");
    std::fs::write(&csv, RECORDS).unwrap();
    let pq = dir.join("u.parquet");
    write_parquet(&pq, &fixture_rows(), 2);
    for input in [&csv, &pq] {
        let (code, out) = legemiddel(&[
            "stats",
            "varenr",
            "--input",
            input.to_str().unwrap(),
            "--from-year",
            "2023",
            "--to-year",
            "2025",
        ]);
        assert_eq!(code, 0, "{out}");
        // 2024: 000123, 000456, 007777, 000321 for people (000999 is registered); 000123 for a dog.
        assert_eq!(
            out,
            "year,human,vet\n2023,1,0\n2024,4,1\n2025,1,0\n",
            "{}",
            input.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn patients_per_product_and_year_hide_small_counts_and_what_would_give_them_back() {
    let dir = temp("patients");
    let input = dir.join("utleveringer.csv");
    let mut text = String::from(
        "date,patient,varenr,atc,substance,packages,ddd_per_package,unregistered,species\n",
    );
    for p in ["a", "b", "c", "d", "e", "f", "a"] {
        text.push_str(&format!(
            "2023-05-01,{p},000001,N02BG10,cannabis,1,,true,human\n"
        ));
    }
    for p in ["a", "b", "c", "d", "e"] {
        text.push_str(&format!(
            "2024-05-01,{p},000001,N02BG10,cannabis,1,,true,human\n"
        ));
    }
    for p in ["x", "y"] {
        text.push_str(&format!(
            "2023-06-01,{p},000002,N02BG10,cannabis,1,,true,human\n"
        ));
    }
    std::fs::write(&input, text).unwrap();
    let products = dir.join("produkter.csv");
    std::fs::write(
        &products,
        "varenr,product\n000001,Bediol urtete\n000002,Bedrobinol urtete\n",
    )
    .unwrap();
    let (code, out) = legemiddel(&[
        "stats",
        "patients",
        "--input",
        input.to_str().unwrap(),
        "--products",
        products.to_str().unwrap(),
        "--from-year",
        "2023",
        "--to-year",
        "2024",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(
            "product,2023,2024,sum\nBediol urtete,x,5,x\nBedrobinol urtete,<5,0,<5\nsum,8,5,13\n"
        ),
        "{out}"
    );
    // Figures 1–2: only what the table shows is drawn.
    let svg_out = dir.join("figur.svg");
    let (code, out) = legemiddel(&[
        "stats",
        "patients",
        "--input",
        input.to_str().unwrap(),
        "--products",
        products.to_str().unwrap(),
        "--from-year",
        "2023",
        "--to-year",
        "2024",
        "--format",
        "svg",
        "--out",
        svg_out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let svg = std::fs::read_to_string(&svg_out).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("Bediol urtete 2024: 5 pasienter"),
        "{svg}"
    );
    assert!(
        !svg.contains("Bediol urtete 2023") && !svg.contains("Bedrobinol urtete 2023"),
        "hidden cells are not drawn: {svg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_read_in_parts_on_several_cores_gives_the_same_table() {
    let dir = temp("parts");
    let csv = dir.join("mange.csv");
    let (code, out) = legemiddel(&[
        "stats",
        "generate",
        "--out",
        csv.to_str().unwrap(),
        "--rows",
        "30000",
    ]);
    assert_eq!(code, 0, "{out}");
    let args = [
        "stats",
        "top",
        "--input",
        csv.to_str().unwrap(),
        "--year",
        "2024",
        "--format",
        "csv",
        "--limit",
        "50",
    ];
    let one = service::legemiddel().args(args).output().unwrap();
    let parts = service::legemiddel()
        .args(args)
        .env("LEGEMIDDEL_STATS_SPLIT_BYTES", "0")
        .output()
        .unwrap();
    assert!(one.status.success() && parts.status.success());
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        String::from_utf8_lossy(&parts.stdout)
    );
    assert!(String::from_utf8_lossy(&parts.stderr).contains("30000 utleveringer lest"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn table_1_from_an_empty_store_is_the_header_alone() {
    let dir = temp("exemptions");
    let (code, out) = legemiddel(&["stats", "exemptions", "--data", dir.to_str().unwrap()]);
    assert_eq!(
        (code, out.as_str()),
        (0, "year,applications,notifications,total\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
