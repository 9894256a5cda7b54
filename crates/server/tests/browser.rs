//! The web pages as people use them, in a real headless Chromium (Debian's `chromium` and
//! `chromedriver`, installed by `.ci/run`), against the real service on loopback, on SQLite and
//! PostgreSQL:
//!
//! - the off-label chain: a doctor files (and first gets messages next to the fields), a clinic
//!   head recommends, the medical director approves, the patient's trust approves; a stale form
//!   is refused with an explanation;
//! - three § 3 applications: granted at once, refused at once, sent to a caseworker who grants;
//! - "who pays?", the overviews, and what each role may not see or do.
//!
//! Screenshots of the main pages are written to `target/screenshots/`, never over the committed
//! ones in `docs/screenshots/` (copy them there by hand when a page changes on purpose).
//! Without Chromium the test says so and passes, unless `LEGEMIDDEL_REQUIRE_CHROMIUM=1` (as in
//! CI), where a missing browser is a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use server::Role;
use support::{TestApp, TestDb, http, token};

struct Driver {
    child: Child,
    port: u16,
    _profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Starts chromedriver on a free loopback port, or explains why not.
async fn driver() -> Option<(Driver, PathBuf)> {
    let required = std::env::var("LEGEMIDDEL_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
    let chromedriver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let (Some(chromedriver), Some(chromium)) = (chromedriver, chromium) else {
        assert!(
            !required,
            "LEGEMIDDEL_REQUIRE_CHROMIUM=1 but chromium/chromedriver are not installed"
        );
        eprintln!(
            "browser tests SKIPPED: install Debian's chromium and chromium-driver (or run .ci/run)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile =
        std::env::temp_dir().join(format!("legemiddel-chromium-{}-{port}", std::process::id()));
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some((
        Driver {
            child,
            port,
            _profile: profile,
        },
        chromium,
    ))
}

async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1400", "--lang=nb",
                format!("--user-data-dir={}", driver._profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// Drives one browser against one service.
struct Person<'a> {
    c: &'a Client,
    base: String,
    shots: Option<PathBuf>,
}

impl Person<'_> {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn sign_in(&self, subject: &str) {
        self.go("/logg-inn").await;
        // Signing out first, if someone is signed in, is what a shared workstation would do.
        if let Ok(out) = self
            .c
            .find(Locator::Css("form[action='/logg-ut'] button"))
            .await
        {
            out.click().await.unwrap();
            self.wait_for("h1", "Logg inn").await;
        }
        self.c
            .find(Locator::Css(&format!("input[value='{subject}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.c
            .find(Locator::Css("form[action='/logg-inn'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.wait_for("h1", "Velkommen").await;
    }

    /// Waits until the element's text contains `text`.
    async fn wait_for(&self, css: &str, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(e) = self.c.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
                && t.contains(text)
            {
                return t;
            }
            if Instant::now() > deadline {
                let page = self.c.source().await.unwrap_or_default();
                panic!(
                    "«{text}» did not appear in {css}; page:\n{}",
                    &page[..page.len().min(4000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn exists(&self, css: &str) -> bool {
        self.c.find(Locator::Css(css)).await.is_ok()
    }

    /// Fills fields by name: text is typed, selects chosen by value, "ja" ticks a box.
    async fn fill(&self, values: &[(&str, &str)]) {
        for (name, value) in values {
            let id = format!("f-{}", name.replace('.', "-"));
            let e = self
                .c
                .find(Locator::Id(&id))
                .await
                .unwrap_or_else(|_| panic!("no field {id}"));
            match e.tag_name().await.unwrap().as_str() {
                "select" => e.select_by_value(value).await.unwrap(),
                _ if e.attr("type").await.unwrap().as_deref() == Some("checkbox") => {
                    if e.is_selected().await.unwrap() != (*value == "ja") {
                        e.click().await.unwrap();
                    }
                }
                _ => {
                    e.clear().await.unwrap();
                    e.send_keys(value).await.unwrap();
                }
            }
        }
    }

    async fn click(&self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("no {css}"))
            .click()
            .await
            .unwrap();
    }

    /// The page's basic accessibility: Norwegian language, one h1, every form control with a
    /// label, every control that points to a description pointing to something that exists,
    /// and an id used once. (A screen reader and the keyboard depend on exactly these.)
    async fn accessible(&self, page: &str) {
        let problems = self
            .c
            .execute(
                r#"
                const p = [];
                if (document.documentElement.lang !== "nb") p.push("lang is not nb");
                if (document.querySelectorAll("h1").length !== 1) p.push("not exactly one h1");
                document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(el => {
                  const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label") || el.getAttribute("aria-label");
                  if (!labelled) p.push("no label: " + (el.name || el.id));
                  (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean).forEach(id => {
                    if (!document.getElementById(id)) p.push("describedby missing: " + id);
                  });
                });
                const seen = {};
                document.querySelectorAll("[id]").forEach(el => { if (seen[el.id]) p.push("duplicate id " + el.id); seen[el.id] = 1; });
                return p;
                "#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(problems, json!([]), "accessibility problems on {page}");
    }

    async fn shot(&self, name: &str) {
        self.accessible(name).await;
        if let Some(dir) = &self.shots {
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    async fn move_case(&self, button: &str, reason: &str) {
        self.fill(&[("reason", reason)]).await;
        self.click(&format!("button[name='move'][value='{button}']"))
            .await;
    }
}

fn shots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const KARI: &str = "lokal:kari.lege";
const KJELL: &str = "lokal:kjell.klinikkleder";
const FRIDA: &str = "lokal:frida.fagdirektor";
const BJORN: &str = "lokal:bjorn.fagdirektor";
const PER: &str = "lokal:per.fastlege";
const HANNE: &str = "lokal:hanne.helfo";
const ANNA: &str = "lokal:anna.analytiker";
const PAL: &str = "lokal:pal.farmasoyt";
const STINE: &str = "lokal:stine.beredskap";
const DAG: &str = "lokal:dag.dmp";

/// The analyst's folder: a records file with known answers and a product list for table 3.
fn stats_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("legemiddel-browser-stats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from(
        "date,patient,varenr,atc,substance,packages,ddd_per_package,unregistered,species\n",
    );
    // Cannabis product A: 7 patients in 2024, 2 in 2023 (shown as <5); melatonin on top.
    for i in 0..7 {
        csv.push_str(&format!(
            "2024-03-0{},p{i},000111,N02BG10,cannabis,1,,true,human\n",
            1 + i % 7
        ));
    }
    csv.push_str("2023-05-05,p1,000111,N02BG10,cannabis,1,,true,human\n2023-05-06,p2,000111,N02BG10,cannabis,1,,true,human\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "2024-06-{:02},q{i},000123,N05CH01,melatonin,1.5,30,true,human\n",
            1 + i % 28
        ));
    }
    std::fs::write(dir.join("utleveringer-2024.csv"), csv).unwrap();
    std::fs::write(
        dir.join("produkter.csv"),
        "varenr,product\n000111,Cannabisprodukt A\n",
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_carry_applications_through_to_their_decisions_in_the_browser() {
    let Some((driver, chromium)) = driver().await else {
        return;
    };
    for (n, db) in TestDb::all().await.into_iter().enumerate() {
        let place = format!("{:?}", db.location);
        let stats = stats_dir();
        let app = support::spawn_with(db, |c| c.stats_dir = Some(stats)).await;
        let c = browser(&driver, &chromium).await;
        let p = Person {
            c: &c,
            base: format!("http://{}", app.addr),
            // Screenshots from the first database only: the pages are the same.
            shots: (n == 0).then(shots_dir),
        };
        eprintln!("browser: {place}");
        off_label_chain(&p, &app).await;
        helfo_applications(&p).await;
        who_pays_and_overviews(&p).await;
        catalogue(&p, &app).await;
        stockpiles(&p, &app).await;
        exemptions_and_statistics(&p).await;
        what_roles_may_not(&p, &app).await;
        c.close().await.unwrap();
    }
}

async fn off_label_chain(p: &Person<'_>, app: &TestApp) {
    p.go("/").await;
    assert!(
        p.text("h1").await.contains("Logg inn"),
        "not signed in: the sign-in page"
    );
    p.shot("00-logg-inn").await;
    p.sign_in(KARI).await;
    p.go("/off-label/ny").await;

    // Validation as you type: a wrong ATC code gets its message next to the field on leaving it.
    p.fill(&[("atc", "123")]).await;
    p.click("#f-substance").await;
    p.wait_for("#f-atc-feil", "ATC-kode").await;

    // Sent without consent and stop rules: the server names each field, next to it.
    p.fill(&[
        ("clinic", "Kreftklinikken"),
        ("patient_ref", "J-104233"),
        ("atc", "L01FF02"),
        ("substance", "pembrolizumab"),
        ("indication", "Sjelden sarkomtype med PD-L1-uttrykk"),
        ("documentation", "phase_ii"),
        ("references", "Smith et al., Lancet Oncol 2024;25:100-110"),
        ("ecog", "1"),
        ("safety", "Kjent bivirkningsprofil"),
        ("uncertainty", "Moderat"),
        ("consequences", "Rask progresjon uten behandling"),
        ("cost_estimate", "850 000"),
        ("plan_purpose", "Livsforlengelse; CT hver 12. uke"),
        ("plan_dosing", "200 mg iv hver 3. uke"),
        ("evaluation_dates", "01.03.2099\n2099-06-01"),
        ("home_trust", "Helse Bergen HF"),
    ])
    .await;
    p.click("button[value='submit']").await;
    p.wait_for("#feiloppsummering", "Rett opp").await;
    assert!(
        p.text("#f-consent_recorded-feil")
            .await
            .contains("samtykke")
    );
    assert!(
        p.text("#f-stop_rules-feil")
            .await
            .contains("stoppkriterium")
    );
    p.shot("01-off-label-feil-ved-feltene").await;

    p.fill(&[
        ("consent_recorded", "ja"),
        (
            "stop_rules",
            "Progresjon etter RECIST\nBivirkning grad 3 eller mer",
        ),
    ])
    .await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "sendt til klinikkleder").await;
    assert!(
        p.text("main").await.contains("helseforetaket (HF)"),
        "the engine filled in the payer"
    );
    assert!(
        !p.exists("button[value='recommend']").await,
        "the doctor cannot recommend"
    );
    p.shot("02-off-label-sendt").await;

    p.sign_in(KJELL).await;
    p.go("/off-label").await;
    p.wait_for("table", "pembrolizumab").await;
    p.shot("03-innboks-klinikkleder").await;
    p.click("table a").await;
    p.wait_for("#status", "sendt til klinikkleder").await;
    assert!(
        !p.exists("button[value='approve']").await,
        "a clinic head cannot approve"
    );
    p.move_case("recommend", "Faglig godt begrunnet").await;
    p.wait_for("#status", "anbefalt").await;

    p.sign_in(FRIDA).await;
    p.go("/off-label").await;
    p.click("table a").await;
    p.wait_for("#status", "anbefalt").await;
    p.shot("04-fagdirektor-godkjenner").await;
    p.move_case("approve", "Godkjent etter lokal prosedyre")
        .await;
    p.wait_for("#status", "venter på pasientens helseforetak")
        .await;

    p.sign_in(BJORN).await;
    p.go("/off-label").await;
    p.click("table a").await;
    p.move_case("approve", "Helse Bergen finansierer videre behandling")
        .await;
    p.wait_for("#status", "behandlingen kan starte").await;
    let history = p.text(".historikk").await;
    assert!(
        history.contains("Godkjent av Bjørn Fagdirektør (fagdirektør, Helse Bergen HF)"),
        "{history}"
    );
    p.shot("05-godkjent-av-begge-helseforetak").await;

    // A stale form: Kari opens the case, someone else evaluates it meanwhile, Kari's click is
    // refused with an explanation and nothing is overwritten.
    p.sign_in(KARI).await;
    p.go("/off-label").await;
    p.click("table a").await;
    p.wait_for("#status", "behandlingen kan starte").await;
    let id =
        p.c.current_url()
            .await
            .unwrap()
            .path()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
    let version =
        p.c.find(Locator::Css("input[name='version']"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .unwrap();
    let (status, body) = http(
        app.addr,
        "POST",
        &format!("/api/v1/off-label/{id}/moves"),
        Some(&token(app, "kari-i-et-annet-vindu", Role::Prescriber, Some("Oslo universitetssykehus HF"), Some("hospital_doctor"))),
        &json!({"version": version.parse::<i64>().unwrap(), "move": "evaluate_continue", "reason": "Stabil sykdom"}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    p.click("#stopp-0").await;
    p.move_case("evaluate_stop", "Progresjon på CT").await;
    p.wait_for("#feiloppsummering", "endret av noen andre")
        .await;
    assert!(
        p.text("#status").await.contains("behandlingen kan starte"),
        "nothing overwritten"
    );
    p.shot("06-utdatert-skjema-avvist").await;
}

async fn helfo_applications(p: &Person<'_>) {
    p.sign_in(PER).await;
    let apply = |fnr: &'static str, extra: &'static [(&'static str, &'static str)]| async move {
        p.go("/helfo/ny").await;
        p.fill(&[
            ("patient_id", fnr),
            ("atc", "R03DC03"),
            ("substance", "montelukast"),
        ])
        .await;
        p.click("button[value='lookup']").await;
        p.wait_for(".ingress", "Fyll ut søknaden").await;
        // The form is tailored to the case: no opioid questions for montelukast (B5), no paper
        // fields for a patient with a fødselsnummer.
        assert!(!p.exists("#f-omeq").await && !p.exists("#f-patient_name").await);
        p.fill(&[
            ("prescription_group", "C"),
            ("diagnosis", "Astma, vedvarende"),
            ("severity", "serious"),
            ("months_per_year", "12"),
            ("previous_treatment", "tried_failed"),
            (
                "previous_treatment_details",
                "Inhalasjonssteroider uten tilstrekkelig effekt",
            ),
        ])
        .await;
        p.fill(extra).await;
    };

    apply("01010012356", &[]).await;
    p.shot("07-helfo-soknad").await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "innvilget").await;
    assert!(p.text("#status").await.contains("automatisk"));
    p.shot("08-helfo-innvilget").await;

    apply("15058012359", &[("severity", "not_serious")]).await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "avslått").await;
    assert!(
        p.text("#utfall").await.contains("§§ 1a og 3"),
        "the paragraph is given"
    );
    p.shot("09-helfo-avslatt").await;

    apply("12037812380", &[("severity", "risk_factors")]).await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "til manuell behandling").await;
    assert!(
        p.text("#utfall").await.contains("risikofaktorer"),
        "why it went to a person"
    );

    // The look-up stops a second application for the same patient and substance.
    p.go("/helfo/ny").await;
    p.fill(&[
        ("patient_id", "010100 12356"),
        ("atc", "R03DC03"),
        ("substance", "montelukast"),
    ])
    .await;
    p.click("button[value='lookup']").await;
    p.wait_for("h1", "allerede en sak").await;

    // A patient without an identity number: the paper application, printed without
    // JavaScript with the prescriber, the HPR number, a signature line and Helfo's address.
    p.go("/helfo/ny").await;
    p.fill(&[
        ("patient_id_kind", "none"),
        ("atc", "R03DC03"),
        ("substance", "montelukast"),
    ])
    .await;
    p.click("button[value='lookup']").await;
    p.wait_for(".ingress", "Fyll ut søknaden").await;
    p.fill(&[
        ("patient_name", "Ana Testesen"),
        ("birth_date", "15.05.1980"),
        ("prescriber_hpr", "9144889"),
        ("prescription_group", "C"),
        ("diagnosis", "Astma, vedvarende"),
        ("severity", "serious"),
        ("months_per_year", "12"),
        ("previous_treatment", "tried_failed"),
        (
            "previous_treatment_details",
            "Inhalasjonssteroider uten effekt",
        ),
    ])
    .await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "papirsøknad").await;
    p.click("a[href$='/papirsoknad']").await;
    p.wait_for("h1", "Søknad om individuell stønad").await;
    let paper = p.text("main").await;
    for needed in [
        "Per Fastlege",
        "9144889",
        "Forskriverens underskrift",
        "Postboks 2415",
        "Ana Testesen",
        "15.05.1980",
    ] {
        assert!(
            paper.contains(needed),
            "the paper lacks «{needed}»: {paper}"
        );
    }
    p.shot("10b-papirsoknad").await;

    p.sign_in(HANNE).await;
    p.go("/helfo/ko").await;
    p.wait_for("table", "montelukast").await;
    assert!(
        p.text("table").await.contains("risikofaktorer"),
        "why it is manual"
    );
    p.shot("10-saksbehandlingsko").await;
    // The list is searched and filtered by its query string, without JavaScript.
    p.fill(&[("q", "120378")]).await;
    p.click("form[role='search'] button").await;
    p.wait_for("#antall", "1 av 2 saker").await;
    p.click("table a").await;
    p.wait_for("#status", "til manuell behandling").await;
    // First a question to the applicant, with a deadline.
    p.click("#r-more").await;
    p.fill(&[
        ("deadline", "31.12.2099"),
        ("reason", "Hvilke risikofaktorer er målt, og når?"),
    ])
    .await;
    p.click("form[action$='/vedtak'] button").await;
    p.wait_for("#status", "venter på opplysninger").await;
    p.wait_for("#forespørsel", "31.12.2099").await;

    // The doctor finds it waiting on the start page, and answers.
    p.sign_in(PER).await;
    p.go("/").await;
    p.wait_for("#oppgaver", "Helfo venter på opplysninger fra deg")
        .await;
    p.shot("10c-start-venter-pa-deg").await;
    p.click("#oppgaver a[href*='more_information']").await;
    p.wait_for("#antall", "1 av").await;
    p.click("table a").await;
    p.wait_for("#forespørsel", "Hvilke risikofaktorer").await;
    p.fill(&[("answer", "LDL 6,1 målt 03.11.2026; BT 165/100.")])
        .await;
    p.click("form[action$='/svar'] button").await;
    p.wait_for("#status", "til manuell behandling").await;

    p.sign_in(HANNE).await;
    p.go("/").await;
    p.wait_for("#oppgaver", "med svar fra søker").await;
    p.go("/helfo/ko?q=120378").await;
    p.click("table a").await;
    p.wait_for("#status", "til manuell behandling").await;
    assert!(p.text(".historikk").await.contains("LDL 6,1"));
    p.click("#r-grant").await;
    p.fill(&[("reason", "Risikofaktorene er godt dokumentert")])
        .await;
    p.click("form[action$='/vedtak'] button").await;
    p.wait_for("#status", "innvilget").await;
    assert!(
        p.text(".historikk")
            .await
            .contains("Innvilget av Hanne Saksbehandler")
    );
}

async fn who_pays_and_overviews(p: &Person<'_>) {
    p.sign_in(KARI).await;
    p.go("/hvem-betaler").await;
    p.fill(&[("drug.atc", "H02AB13"), ("drug.substance", "deflazacort")])
        .await;
    p.click("button[value='decide']").await;
    p.wait_for("#svar-tittel", "regionalt helseforetak").await;
    assert!(
        p.exists(".forklaring a[href='/regler#F3']").await,
        "the explanation links to the rule text"
    );
    p.shot("11-hvem-betaler").await;
    p.click(".forklaring a[href='/regler#F3']").await;
    p.wait_for("h1", "Regler i kraft").await;
    p.shot("13-regler").await;

    p.sign_in(ANNA).await;
    p.go("/oversikter").await;
    p.wait_for("main", "Godkjent off-label-behandling").await;
    let costs = p
        .text("#t-kostnader + p + table, section:first-of-type table")
        .await;
    assert!(
        p.text("main").await.contains("850000.00"),
        "the approved cost is in the overview: {costs}"
    );
    assert!(p.exists("a[href^='/oversikter/kostnader.xlsx']").await);
    p.shot("12-oversikter").await;
}

async fn catalogue(p: &Person<'_>, app: &TestApp) {
    let mut bytes = Vec::new();
    fest::generate::write(
        &mut bytes,
        &fest::generate::Options {
            packages: 300,
            ..Default::default()
        },
    )
    .unwrap();
    let cat = fest::parse(&bytes[..], |_| {}).unwrap();
    app.store
        .import_catalogue(&cat, "sha", "test.xml", "2026-11-24T10:00:00Z")
        .await
        .unwrap();
    p.sign_in(PAL).await;
    p.go("/katalog").await;
    // Past the hundred shown, the page says how many there are in all.
    p.fill(&[("q", "1")]).await;
    p.click("form[role='search'] button").await;
    p.wait_for("#treff", "viser de første 100").await;
    p.fill(&[("q", "amlodipin 10")]).await;
    p.click("form[role='search'] button").await;
    p.wait_for("#treff", "treff").await;
    p.shot("14-katalog-sok").await;
    p.click("table a").await;
    p.wait_for("main", "Kalsiumantagonister").await;
    assert!(
        p.text("main").await.contains("Blåreseptforskriften § 2"),
        "the refund group is shown"
    );
    p.shot("15-katalog-pakning").await;
    p.click("ol.atc a[href='/katalog/atc?code=C08']").await;
    p.wait_for("h1", "ATC-treet: C08").await;
    assert!(
        p.text("table")
            .await
            .contains("Selektive kalsiumantagonister")
    );

    // "Who pays?" by varenummer and diagnosis: FEST fills in the rest (B1 from its refund group).
    let varenr = cat
        .packages
        .iter()
        .find(|pk| {
            pk.medicine
                .atc
                .as_ref()
                .is_some_and(|a| a.code == "C08CA01")
        })
        .unwrap()
        .varenr
        .clone();
    p.go("/hvem-betaler").await;
    p.fill(&[("drug.varenr", &varenr), ("use.refund_code", "K86")])
        .await;
    p.click("button[value='decide']").await;
    p.wait_for("#svar-tittel", "folketrygden").await;
    assert!(p.text(".forklaring").await.contains("refusjonskode K86"));
    // The answer comes first, in words: no internal codes.
    let answer = p.text("#svar .fakta").await;
    assert!(answer.contains("forhåndsgodkjent refusjon"), "{answer}");
    for code in ["s2", "h_list", "any_doctor", "hf_off_label"] {
        assert!(
            !answer.split_whitespace().any(|w| w == code),
            "«{code}» shown: {answer}"
        );
    }
    let first: bool = p
        .c
        .execute(
            "return !!document.querySelector('#svar') && !!document.querySelector('main form') && \
             (document.querySelector('#svar').compareDocumentPosition(document.querySelector('main form')) & 4) !== 0;",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false);
    assert!(first, "the answer comes before the form");
    p.shot("16-hvem-betaler-varenummer").await;
    dispensing(p, &varenr).await;
}

/// The pharmacist registers a dispensing on the page: the answer shows who pays what; a bad
/// varenummer is named next to its field with every value kept; a white prescription with a
/// note takes its trust from the register.
async fn dispensing(p: &Person<'_>, varenr: &str) {
    p.sign_in(PAL).await;
    p.click("nav a[href='/apotek/utlevering']").await;
    p.wait_for("h1", "Utlevering på apoteket").await;
    let id =
        p.c.find(Locator::Id("f-dispensing_id"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
    assert!(id.starts_with("web-"), "a fresh id: {id}");
    p.fill(&[
        ("pharmacy.id", "A1-0042"),
        ("pharmacy.name", "Apotek 1 Storgata"),
        ("patient.id", "130972 48022"),
        ("patient.birth_date", "1972-09-13"),
        ("prescription.id", "resept-web-1"),
        ("prescription.valid_until", "2027-11-01"),
        ("prescription.prescriber.hpr", "9144889"),
        ("prescription.prescriber.name", "Per Fastlege"),
        ("prescription.refund_code", "K86"),
        ("drug.varenr", "999999"),
        ("supply_days", "90"),
    ])
    .await;
    p.click("button[value='dispense']").await;
    p.wait_for("#f-drug-varenr-feil", "finnes ikke i FEST")
        .await;
    assert!(p.text("#feiloppsummering").await.contains("Varenummer"));
    let kept =
        p.c.find(Locator::Id("f-prescription-prescriber-name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
    assert_eq!(kept.as_deref(), Some("Per Fastlege"), "values are kept");
    p.fill(&[("drug.varenr", varenr)]).await;
    p.click("button[value='dispense']").await;
    p.wait_for("#svar-tittel", "Registrert").await;
    let answer = p.text("#svar").await;
    assert!(answer.contains("Folketrygden (Helfo)"), "{answer}");
    assert!(answer.contains("egenandel"), "{answer}");
    assert!(answer.contains("av egenandelstaket"), "{answer}");
    p.shot("17-apotek-utlevering").await;

    // A white prescription with the trust's note: the trust is chosen from the register.
    p.fill(&[
        ("prescription.form", "white_note"),
        ("prescription.refund_code", ""),
        ("prescription.paying_trust", "helse-bergen"),
        ("prescription.id", "resept-web-2"),
    ])
    .await;
    p.click("button[value='dispense']").await;
    p.wait_for("#svar-tittel", "Registrert").await;
    let answer = p.text("#svar").await;
    assert!(answer.contains("Helse Bergen HF"), "{answer}");
    assert!(answer.contains("ingen egenandel"), "{answer}");
}

/// The stockpile manager's page: coverage and expiry drawn as SVG on the server, the lines under
/// the requirement, a supply stop simulated — without a line of script.
async fn stockpiles(p: &Person<'_>, app: &TestApp) {
    use store::stock_ledger::{LotKey, StockEventIn};
    let event =
        |wholesaler: &str, lot: &str, expiry: &str, date: &str, kind, quantity| StockEventIn {
            lot: LotKey {
                wholesaler: wholesaler.into(),
                varenr: "012345".into(),
                lot: lot.into(),
            },
            atc: "J01CA04".into(),
            expiry: domain::Date::parse(expiry).unwrap(),
            event: stock::NewEvent {
                date: domain::Date::parse(date).unwrap(),
                kind,
                quantity,
                reverses: None,
            },
            note: String::new(),
            key: None,
        };
    let today = chrono::Utc::now().date_naive();
    let ago = |days: i64| {
        (today - chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let soon = (today + chrono::Duration::days(40))
        .format("%Y-%m-%d")
        .to_string();
    let later = (today + chrono::Duration::days(500))
        .format("%Y-%m-%d")
        .to_string();
    let mut batch = vec![
        event(
            "AHN",
            "A1",
            &soon,
            &ago(300),
            stock::EventKind::Received,
            3000,
        ),
        event(
            "NMD",
            "N1",
            &later,
            &ago(300),
            stock::EventKind::Received,
            900,
        ),
    ];
    for m in 0..9 {
        batch.push(event(
            "AHN",
            "A1",
            &soon,
            &ago(280 - m * 30),
            stock::EventKind::Issued,
            300,
        ));
        batch.push(event(
            "NMD",
            "N1",
            &later,
            &ago(280 - m * 30),
            stock::EventKind::Issued,
            50,
        ));
    }
    app.store
        .append_stock_events(batch, "2026-12-01T00:00:00Z".into(), None)
        .await
        .unwrap();

    p.sign_in(STINE).await;
    p.go("/").await;
    p.wait_for("#oppgaver", "Lagre under kravet").await;
    p.go("/beredskap").await;
    p.wait_for("h1", "Beredskapslager").await;
    assert!(
        p.exists("svg.diagram rect.stolpe.under").await,
        "a bar under its requirement is marked"
    );
    p.wait_for("#under", "J01CA04").await;
    p.fill(&[("atc", "J01CA"), ("dager", "120")]).await;
    p.click("form button.knapp:not(.sekundær)").await;
    p.wait_for("#simulering", "Nasjonalt").await;
    assert!(p.text("#rasjonering").await.contains("Rasjonering (E4)"));
    p.shot("18-beredskapslager").await;
}

/// G1–G4 and seed 003's tables: a GP applies for an exemption DMP must approve (a vaccine, on
/// the negative list); the pharmacy notifies an ordinary one and is stopped on the vaccine; DMP
/// finds the application on the start page and approves it; the analyst sees table 1 and the
/// year's tables from the records file.
async fn exemptions_and_statistics(p: &Person<'_>) {
    let exemption = |extra: &'static [(&'static str, &'static str)]| async move {
        p.go("/fritak/ny").await;
        p.fill(&[
            ("patient_id", "01010012356"),
            ("product", "Melatonin 1 mg/ml mikstur"),
            ("atc", "N05CH01"),
            ("substance", "melatonin"),
            ("authorised_abroad", "ja"),
            ("quantity", "12"),
            (
                "justification",
                "Søvnvansker ved autismespekterforstyrrelse",
            ),
            ("why_not_marketed", "Kan ikke svelge tabletter"),
            ("prescriber_name", "Per Fastlege"),
        ])
        .await;
        p.fill(extra).await;
    };
    p.sign_in(PER).await;
    exemption(&[
        ("atc", "J07BB02"),
        ("substance", "influensavaksine"),
        ("product", "Influensavaksine"),
    ])
    .await;
    p.shot("19-fritak-soknad").await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "søknad sendt DMP").await;
    assert!(p.text("#dmp-grunner").await.contains("vaksiner"));
    assert!(p.text("#vurdering").await.contains("G1"));

    p.sign_in(PAL).await;
    exemption(&[]).await;
    p.click("button[value='submit']").await;
    p.wait_for("#status", "meldt av apoteket").await;
    // The vaccine may not be notified: said on the form, nothing typed lost.
    exemption(&[("atc", "J07BB02"), ("substance", "influensavaksine")]).await;
    p.click("button[value='submit']").await;
    p.wait_for(".feiloppsummering", "negativlisten").await;
    assert!(p.exists("#f-justification").await);

    p.sign_in(DAG).await;
    p.go("/").await;
    p.wait_for("#oppgaver", "godkjenningsfritak").await;
    p.go("/fritak?status=submitted").await;
    p.wait_for("#antall", "1").await;
    p.click("table tbody th a").await;
    p.wait_for("#status", "søknad sendt DMP").await;
    p.click("#r-approve").await;
    p.fill(&[("reason", "Ingen markedsført vaksine passer")])
        .await;
    p.click("form[action$='/vedtak'] button").await;
    p.wait_for("#status", "innvilget av DMP").await;
    p.shot("20-fritak-vedtak").await;

    p.sign_in(ANNA).await;
    p.go("/statistikk").await;
    p.wait_for("h1", "Statistikk").await;
    let year = chrono::Local::now().format("%Y").to_string();
    let t1 = p.text("#tabell1").await;
    assert!(t1.contains(&format!("{year} 1 1 2")), "table 1: {t1}");
    p.fill(&[("ar", "2024")]).await;
    p.click("form[action='/statistikk'] button").await;
    p.wait_for("#topp", "N05CH01").await;
    let top = p.text("#topp").await;
    assert!(top.contains("N05CH01 melatonin 20 30 900.0"), "{top}");
    let patients = p.text("#pasienter").await;
    assert!(patients.contains("Cannabisprodukt A"), "{patients}");
    assert!(
        patients.contains("<5"),
        "2 patients in 2023 are hidden: {patients}"
    );
    assert!(p.text("#lest").await.contains("2 til mennesker"));
    p.shot("21-statistikk").await;
}

async fn what_roles_may_not(p: &Person<'_>, app: &TestApp) {
    // A pharmacist has no off-label pages; a GP of no trust does not see the trust's case.
    p.sign_in(PAL).await;
    p.go("/off-label").await;
    p.wait_for("h1", "Ikke tilgang").await;
    p.sign_in(PER).await;
    p.go("/off-label/1").await;
    p.wait_for("h1", "Finnes ikke").await;
    p.go("/helfo/ko").await;
    p.wait_for("h1", "Ikke tilgang").await;
    // And the same through the API, with the same user's token.
    let gp = token(app, "per", Role::Prescriber, None, Some("gp"));
    assert_eq!(
        http(app.addr, "GET", "/api/v1/helfo/queue", Some(&gp), "")
            .await
            .0,
        403
    );
    assert_eq!(
        http(app.addr, "GET", "/api/v1/off-label/1", Some(&gp), "")
            .await
            .0,
        404
    );
}
