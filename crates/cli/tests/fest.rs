//! `legemiddel fest …` as a user runs it: generate a file, import it as a zip (as DMP ships it),
//! import it again (a no-op), try a truncated file (refused with its position; the snapshot in
//! force stays), search, and decide by varenummer and refund code.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn legemiddel(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_legemiddel"))
        .args(args)
        .env_remove("LEGEMIDDEL_DATABASE_URL")
        .env_remove("LEGEMIDDEL_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // The command may exit before reading everything; that is its answer, not ours.
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn generate_import_search_and_decide() {
    let dir = std::env::temp_dir().join(format!("legemiddel-fest-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let (xml, zip_path, cut) = (
        dir.join("fest.xml"),
        dir.join("fest.zip"),
        dir.join("avkortet.xml"),
    );
    let d = data.to_str().unwrap();

    let out = legemiddel(
        &[
            "fest",
            "generate",
            "--packages",
            "800",
            "--retrieved",
            "2026-11-15T02:00:00",
            "--out",
            xml.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));

    // DMP distributes a zip with the XML inside.
    let bytes = std::fs::read(&xml).unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file("FEST/fest251.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&bytes).unwrap();
    zip.finish().unwrap();

    let out = legemiddel(
        &["fest", "import", "--data", d, zip_path.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("importert FEST 2026-11-15T02:00:00 (800 pakninger"),
        "{}",
        text(&out)
    );
    let again = legemiddel(
        &["fest", "import", "--data", d, xml.to_str().unwrap()],
        None,
    );
    assert!(
        again.status.success() && text(&again).contains("allerede importert"),
        "{}",
        text(&again)
    );

    // A truncated newer file: refused with where, and nothing changes.
    let newer = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("2026-11-15T02:00:00", "2026-12-01T02:00:00");
    std::fs::write(&cut, &newer.as_bytes()[..newer.len() / 3]).unwrap();
    let out = legemiddel(
        &["fest", "import", "--data", d, cut.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("byte "), "{}", text(&out));
    let list = legemiddel(&["fest", "snapshots", "--data", d], None);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).lines().count(),
        1,
        "{}",
        text(&list)
    );

    let out = legemiddel(
        &[
            "fest",
            "search",
            "--data",
            d,
            "amlodipin",
            "10",
            "--limit",
            "5",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(stdout.lines().count(), 5, "{}", text(&out));
    assert!(
        stdout
            .lines()
            .all(|l| l.contains("C08CA01") && l.contains(" 10 mg")),
        "{stdout}"
    );
    let varenr = stdout
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();

    let request = format!(
        r#"{{"date":"2026-11-24","drug":{{"varenr":"{varenr}"}},"use":{{"refund_code":"K86"}},"prescriber":{{"role":"gp"}}}}"#
    );
    let out = legemiddel(&["fest", "decide", "--data", d], Some(&request));
    assert!(out.status.success(), "{}", text(&out));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["scheme"], "s2", "{decision}");
    assert_eq!(decision["catalogue"]["varenr"], varenr.as_str());

    // Served, recorded, and replayed on the snapshot it was made on.
    let seq = serve_one(d, &request);
    let out = legemiddel(&["audit", "replay", "--data", d, &seq.to_string()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("FEST da:       2026-11-15T02:00:00")
            && text(&out).contains("samme svar"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts the service on `data`, asks it one decision, stops it; the record's sequence number.
fn serve_one(data: &str, request: &str) -> i64 {
    use std::io::Read;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let token = String::from_utf8(
        legemiddel(
            &[
                "token",
                "--data",
                data,
                "--role",
                "prescriber",
                "--name",
                "fest",
                "--prescriber-role",
                "gp",
            ],
            None,
        )
        .stdout,
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_legemiddel"))
        .args(["serve", "--data", data, "--listen", &addr])
        .env_remove("LEGEMIDDEL_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut raw = String::new();
    while std::time::Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            let _ = write!(
                s,
                "POST /api/v1/decide HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{request}",
                token.trim(),
                request.len()
            );
            let _ = s.read_to_string(&mut raw);
            if !raw.is_empty() {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    raw.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-audit-seq: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no X-Audit-Seq in: {raw}"))
}

#[test]
fn a_gzipped_file_imports_and_the_summary_warns_about_what_it_should() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    let dir = std::env::temp_dir().join(format!("legemiddel-fest-gz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let write = |name: &str, packages: &str, retrieved: &str| {
        let xml = dir.join(format!("{name}.xml"));
        let out = legemiddel(
            &[
                "fest",
                "generate",
                "--packages",
                packages,
                "--retrieved",
                retrieved,
                "--out",
                xml.to_str().unwrap(),
            ],
            None,
        );
        assert!(out.status.success(), "{}", text(&out));
        let gz = dir.join(format!("{name}.xml.gz"));
        let mut enc = GzEncoder::new(std::fs::File::create(&gz).unwrap(), Compression::fast());
        enc.write_all(&std::fs::read(&xml).unwrap()).unwrap();
        enc.finish().unwrap();
        gz
    };
    // An old file: imported, with the catalogues it does not read named and a warning that
    // the catalogue in force is old.
    let old = write("gammel", "200", "2025-01-06T02:00:00");
    let out = legemiddel(
        &["fest", "import", "--data", d, old.to_str().unwrap()],
        None,
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("importert FEST 2025-01-06T02:00:00 (200 pakninger"),
        "{said}"
    );
    assert!(
        said.contains("ikke lest (brukes ikke her): KatInteraksjon"),
        "{said}"
    );
    assert!(said.contains("dager gammel"), "{said}");
    let listed = legemiddel(
        &["fest", "snapshots", "--data", d, "--max-age-days", "100000"],
        None,
    );
    assert!(!text(&listed).contains("ADVARSEL"), "{}", text(&listed));

    // Another file with the same HentetDato but other bytes is refused with a warning.
    let other = write("annen", "150", "2025-01-06T02:00:00");
    let out = legemiddel(
        &["fest", "import", "--data", d, other.to_str().unwrap()],
        None,
    );
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("andre bytes"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
