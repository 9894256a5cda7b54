//! `legemiddel`: who pays for a medicine in Norway, and why.
//!
//! The binary is a thin shell: it reads arguments and standard input, calls the pure core
//! (`contract` → `decide` / `dispense`, over a `ruleset`), writes standard output, and chooses
//! the exit status here and nowhere else: 0 done, 1 rule data or I/O failure, 2 bad request or
//! bad arguments.

mod batch;
mod bench;
mod fest_cli;
mod h_list_import;
mod load;
mod parquet_rows;
mod render;
mod service;
mod settle;
mod simulate;
mod stats_cli;
mod stock_cli;

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use contract::{Command, ContractError};
use domain::Date;
use ruleset::RuleSet;

/// Hvem betaler for legemidlet? Finansieringsreglene for legemidler i Norge: blå resept
/// (§§ 2, 3, 4), H-resept (§ 1b-listen), helseforetakenes off-label-bruk og godkjenningsfritak.
#[derive(Parser)]
#[command(name = "legemiddel", version, propagate_version = true)]
struct Cli {
    /// Mappe med regeldata som brukes i stedet for de innebygde (samme oppbygning som rules/).
    #[arg(long, global = true, value_name = "MAPPE", env = "LEGEMIDDEL_RULES")]
    rules: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Avgjør hvem som betaler: én JSON-forespørsel på standard inn, én beslutning ut.
    Decide {
        /// Les JSON Lines (én forespørsel per linje) og skriv én beslutning per linje.
        #[arg(long)]
        batch: bool,
        /// Utdataformat (for én forespørsel).
        #[arg(long, value_enum, default_value_t = Format::Json, conflicts_with = "batch")]
        format: Format,
    },
    /// Apotekets mottak av en resept: godtas den, og hva registreres den som (F6).
    Dispense {
        /// Les JSON Lines (én forespørsel per linje) og skriv ett svar per linje.
        #[arg(long)]
        batch: bool,
    },
    /// Vis regeldataene som gjelder på en dato, med kilder.
    #[command(args_conflicts_with_subcommands = true)]
    Rules {
        #[command(subcommand)]
        action: Option<RulesCmd>,
        /// Datoen (ÅÅÅÅ-MM-DD); standard er i dag.
        #[arg(long)]
        date: Option<String>,
        /// Skriv JSON i stedet for tekst.
        #[arg(long)]
        json: bool,
    },
    /// Mål hastigheten.
    Bench {
        #[command(subcommand)]
        what: BenchCmd,
    },
    /// Start tjenesten (HTTP-API med innlogging og revisjonslogg).
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Adressen tjenesten lytter på.
        #[arg(long, default_value = "127.0.0.1:8080", env = "LEGEMIDDEL_LISTEN")]
        listen: std::net::SocketAddr,
        /// Utsteder (iss) for eksterne tokens, f.eks. HelseID. Nøklene hentes fra utstederens
        /// metadata (jwks_uri) når verken --oidc-jwks eller --oidc-jwks-url er gitt.
        #[arg(long, env = "LEGEMIDDEL_OIDC_ISSUER")]
        oidc_issuer: Option<String>,
        /// Publikum (aud) tjenesten krever i eksterne tokens.
        #[arg(long, env = "LEGEMIDDEL_OIDC_AUDIENCE", default_value = "legemiddel")]
        oidc_audience: String,
        /// Fil med utstederens nøkler (JWKS).
        #[arg(
            long,
            env = "LEGEMIDDEL_OIDC_JWKS",
            value_name = "FIL",
            requires = "oidc_issuer",
            conflicts_with = "oidc_jwks_url"
        )]
        oidc_jwks: Option<PathBuf>,
        /// Adressen til utstederens nøkler (JWKS); hentes på nytt ved ukjent nøkkel og ved SIGHUP.
        #[arg(
            long,
            env = "LEGEMIDDEL_OIDC_JWKS_URL",
            value_name = "URL",
            requires = "oidc_issuer"
        )]
        oidc_jwks_url: Option<String>,
        /// Fil (TOML) som sier hvilke roller utstederens scope og påstander gir (se README).
        #[arg(
            long,
            env = "LEGEMIDDEL_ROLE_MAP",
            value_name = "FIL",
            requires = "oidc_issuer"
        )]
        role_map: Option<PathBuf>,
        /// Slå av den lokale innloggingen på nettsidene (brukerne i local-users.toml).
        #[arg(
            long,
            env = "LEGEMIDDEL_NO_LOCAL_SIGN_IN",
            conflicts_with = "local_sign_in"
        )]
        no_local_sign_in: bool,
        /// Tilby den lokale innloggingen uten passord også når tjenesten lytter på en adresse
        /// andre kan nå (ellers bare på loopback). Bare for prøving; gir en advarsel i loggen.
        #[arg(long, env = "LEGEMIDDEL_LOCAL_SIGN_IN")]
        local_sign_in: bool,
        /// Godta tokens laget med `legemiddel token` også når en ekstern utsteder er satt opp.
        #[arg(long, env = "LEGEMIDDEL_LOCAL_TOKENS")]
        local_tokens: bool,
        /// Adressen brukerne når tjenesten på, f.eks. https://legemiddel.example.no (bak TLS):
        /// gir Secure-informasjonskapsler og godtar skjemaer bare fra denne opprinnelsen.
        #[arg(long, env = "LEGEMIDDEL_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        /// Lengste levetid for et token (exp − iat), i timer.
        #[arg(long, env = "LEGEMIDDEL_MAX_TOKEN_HOURS", default_value_t = 24, value_parser = clap::value_parser!(i64).range(1..=720))]
        max_token_hours: i64,
        /// Flest åpne forbindelser samtidig; flere venter i køen.
        #[arg(long, env = "LEGEMIDDEL_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        max_connections: u32,
        /// Sekunder en klient har på å sende forespørselens hoder.
        #[arg(long, env = "LEGEMIDDEL_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        header_timeout: u64,
        /// Skriv signerte revisjonshoder hit (en fil, eller - for standard ut), utenfor databasen.
        #[arg(long, env = "LEGEMIDDEL_AUDIT_CHECKPOINTS", value_name = "FIL")]
        audit_checkpoints: Option<PathBuf>,
        /// Et nytt revisjonshode etter så mange nye poster …
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..))]
        checkpoint_records: i64,
        /// … eller etter så mange minutter (hvis noe er lagt til).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        checkpoint_minutes: u64,
        /// Advar i loggen når FEST-katalogen i kraft er eldre enn så mange dager.
        #[arg(long, env = "LEGEMIDDEL_FEST_MAX_AGE_DAYS", default_value_t = fest::DEFAULT_MAX_AGE_DAYS)]
        fest_max_age_days: i64,
        /// Mappe med utleveringsfiler (CSV eller .parquet) som analytikerens side lager tabellene fra.
        #[arg(long, env = "LEGEMIDDEL_STATS_DIR", value_name = "MAPPE")]
        stats_dir: Option<PathBuf>,
    },
    /// Opprett eller oppgrader databasen (gjøres også ved oppstart).
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lag et token for lokal bruk, signert med tjenestens egen nøkkel.
    Token {
        #[command(flatten)]
        store: StoreArgs,
        /// Rollen: prescriber, clinic_head, medical_director, pharmacist, helfo_caseworker,
        /// analyst, stockpile_manager eller administrator.
        #[arg(long)]
        role: String,
        /// Navnet (og brukerens id i revisjonsloggen).
        #[arg(long)]
        name: String,
        /// For forskrivere: gp, specialist, hospital_doctor eller pain_clinic.
        #[arg(long)]
        prescriber_role: Option<String>,
        /// Helseforetaket brukeren arbeider i (off-label-saker er per helseforetak).
        #[arg(long)]
        trust: Option<String>,
        /// Gyldighet i timer.
        #[arg(long, default_value_t = 12)]
        hours: i64,
    },
    /// Hva ville endret seg med andre regeldata? Spiller av beslutningene i revisjonsloggen for
    /// perioden med regeldataene i --rules og teller endringene (betaler, ordning, resept,
    /// hindringer) per overgang og per legemiddel.
    Simulate {
        #[command(flatten)]
        store: StoreArgs,
        /// Første dag (ÅÅÅÅ-MM-DD); standard: loggens første.
        #[arg(long, value_name = "DATO")]
        from: Option<String>,
        /// Siste dag (ÅÅÅÅ-MM-DD); standard: loggens siste.
        #[arg(long, value_name = "DATO")]
        to: Option<String>,
        /// table (for mennesker), csv eller svg (stolpediagram over overgangene).
        #[arg(long, default_value = "table", value_name = "FORMAT")]
        format: String,
        /// Tabellen i CSV: transitions (overganger) eller medicines (per legemiddel).
        #[arg(long, default_value = "transitions", value_name = "TABELL")]
        table: String,
        /// Eksempler (poster i revisjonsloggen) per overgang.
        #[arg(long, default_value_t = 3, value_name = "ANTALL")]
        examples: usize,
        /// Skriv til denne filen i stedet for standard ut.
        #[arg(long, value_name = "FIL")]
        out: Option<PathBuf>,
    },
    /// Revisjonsloggen.
    Audit {
        #[command(subcommand)]
        what: AuditCmd,
    },
    /// Legemiddelkatalogen FEST (M30) fra DMP: import, oppslag, testfiler.
    Fest {
        #[command(subcommand)]
        what: FestCmd,
    },
    /// Oppgjør med betalerne: apotekenes krav til Helfo (M18) og helseforetakene (CSV, XLSX).
    Settle {
        #[command(subcommand)]
        what: SettleCmd,
    },
    /// Statistikk over uregistrerte legemidler (DMPs årlige tabeller) fra en fil med utleveringer.
    Stats {
        #[command(subcommand)]
        what: StatsCmd,
    },
    /// Beredskapslagrene (E1–E4): lagerregnskap per grossist og parti, dekning, FEFO, stans.
    Stock {
        #[command(subcommand)]
        what: StockCmd,
    },
}

#[derive(Subcommand)]
enum StatsCmd {
    /// De mest brukte uregistrerte legemidlene til mennesker: utleveringer, pakninger og DDD per ATC-kode og virkestoff.
    Top {
        /// Filen med utleveringer (CSV: date,patient,varenr,atc,substance,packages,ddd_per_package,unregistered,species; eller .parquet).
        #[arg(long, value_name = "FIL")]
        input: PathBuf,
        /// Året.
        #[arg(long, value_name = "ÅR")]
        year: i32,
        /// Antall linjer.
        #[arg(long, default_value_t = 20, value_name = "ANTALL")]
        limit: usize,
        /// csv, xlsx, table eller svg (stolpediagram over pakningene; xlsx krever --out).
        #[arg(long, default_value = "table")]
        format: String,
        /// Mangel- og avregistreringsliste (CSV: atc,mark med * eller **): gir kolonnen mark.
        #[arg(long, value_name = "FIL")]
        marks: Option<PathBuf>,
        /// human (tabell 2, etter pakninger), atcvet (tabell 6: ATCvet-koder) eller vet-human
        /// (tabell 7: humane koder utlevert til dyr), de to siste etter utleveringer.
        #[arg(long, default_value = "human", value_name = "TABELL")]
        table: String,
        /// Skriv til denne filen i stedet for standard ut.
        #[arg(long, value_name = "FIL")]
        out: Option<PathBuf>,
    },
    /// Skriv en generert fil med utleveringer (testdata med kjent form, ikke virkelige tall).
    Generate {
        /// Filen som skrives.
        #[arg(long, value_name = "FIL")]
        out: PathBuf,
        /// Antall utleveringer.
        #[arg(long, default_value_t = 1_000_000, value_name = "ANTALL")]
        rows: u64,
    },
    /// Antall pasienter per produkt per år (tabell 3), med <5 og sekundær skjuling (CSV, eller
    /// figur 1–2 som SVG).
    Patients {
        /// Filen med utleveringer (CSV eller .parquet).
        #[arg(long, value_name = "FIL")]
        input: PathBuf,
        /// Produktlisten (CSV: varenr,product).
        #[arg(long, value_name = "FIL")]
        products: PathBuf,
        /// Første år.
        #[arg(long, value_name = "ÅR")]
        from_year: i32,
        /// Siste år.
        #[arg(long, value_name = "ÅR")]
        to_year: i32,
        /// csv eller svg (pasienter per produkt per år, skjulte tall utelatt).
        #[arg(long, default_value = "csv", value_name = "FORMAT")]
        format: String,
        /// Skriv til denne filen i stedet for standard ut.
        #[arg(long, value_name = "FIL")]
        out: Option<PathBuf>,
    },
    /// Antall ulike varenumre uten MT utlevert per år, for mennesker og dyr (CSV: year,human,vet).
    Varenr {
        /// Filen med utleveringer (CSV eller .parquet).
        #[arg(long, value_name = "FIL")]
        input: PathBuf,
        /// Første år.
        #[arg(long, value_name = "ÅR")]
        from_year: i32,
        /// Siste år.
        #[arg(long, value_name = "ÅR")]
        to_year: i32,
    },
    /// Søknader DMP har behandlet og meldinger fra apotek per år (tabell 1), fra sakene som er lagret.
    Exemptions {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum StockCmd {
    /// Les en fil med lagerhendelser (CSV) inn; hver hendelse kontrolleres mot partiets historikk.
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// Filen: wholesaler,varenr,lot,atc,expiry,date,kind,quantity,reverses,note,key
        #[arg(value_name = "FIL")]
        file: PathBuf,
        /// Hendelser per transaksjon.
        #[arg(long, default_value_t = 5000, value_name = "ANTALL")]
        batch: usize,
    },
    /// Regn om hvert partis beholdning fra hendelsene og sammenlign (avslutter med 1 ved avvik).
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Dekning per virkestoff og grossist og nasjonalt mot kravet (E1–E2), og partier som snart går ut.
    Coverage {
        #[command(flatten)]
        store: StoreArgs,
        /// Datoen (ÅÅÅÅ-MM-DD); standard er i dag.
        #[arg(long)]
        date: Option<String>,
        /// table, csv eller xlsx (xlsx krever --out).
        #[arg(long, default_value = "table")]
        format: String,
        /// Skriv til denne filen i stedet for standard ut.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Bare linjene under kravet.
        #[arg(long)]
        alerts: bool,
        /// Apotekenes salg (CSV: date,atc,packages eller date,wholesaler,atc,packages) i stedet for
        /// grossistenes utleveringer i lagerregnskapet.
        #[arg(long, value_name = "FIL", conflicts_with = "from_dispensings")]
        sales: Option<PathBuf>,
        /// Apotekenes salg fra apotekdelens egne utleveringer i databasen.
        #[arg(long)]
        from_dispensings: bool,
    },
    /// Plukk en levering etter korteste utløp først (E3) og registrer plukkene som utleveringer.
    Allocate {
        #[command(flatten)]
        store: StoreArgs,
        /// Grossisten (AHN, NMD, APOTEK1).
        #[arg(long)]
        wholesaler: String,
        /// Varenummeret (seks sifre).
        #[arg(long)]
        varenr: String,
        /// Antall pakninger.
        #[arg(long, value_name = "ANTALL")]
        quantity: i64,
        /// Leveringsdatoen (ÅÅÅÅ-MM-DD); standard er i dag.
        #[arg(long)]
        date: Option<String>,
        /// Vis plukkene uten å registrere dem.
        #[arg(long)]
        dry_run: bool,
    },
    /// Simuler en leveringsstans: dekning per grossist, og når rasjonering (E4) bør starte.
    Simulate {
        #[command(flatten)]
        store: StoreArgs,
        /// ATC-kode eller -gruppe.
        #[arg(long)]
        atc: String,
        /// Stansens lengde i dager.
        #[arg(long, value_name = "DAGER")]
        days: u32,
        /// Første dag (ÅÅÅÅ-MM-DD); standard er i dag.
        #[arg(long)]
        date: Option<String>,
    },
    /// Skriv en generert lagerfil i nasjonal skala (testdata, ikke virkelige tall).
    Generate {
        /// Filen som skrives.
        #[arg(long, value_name = "FIL")]
        out: PathBuf,
        /// Antall legemidler (varenumre).
        #[arg(long, default_value_t = 500, value_name = "ANTALL")]
        medicines: usize,
        /// Antall år med daglige hendelser.
        #[arg(long, default_value_t = 3, value_name = "ÅR")]
        years: u32,
        /// Første dag (ÅÅÅÅ-MM-DD); standard er så mange år før i dag at filen slutter i dag.
        #[arg(long)]
        from: Option<String>,
    },
}

#[derive(Subcommand)]
enum SettleCmd {
    /// Gjør opp en betalers åpne krav for en måned og skriv filen (hvert krav gjøres opp én gang).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Betaleren: helfo (M18 Oppgjørskrav), rhf eller hf (faktura som CSV og XLSX).
        #[arg(long)]
        payer: String,
        /// Måneden: ÅÅÅÅ-MM.
        #[arg(long)]
        period: String,
        /// Filen som skrives (for rhf og hf også en .xlsx ved siden av).
        #[arg(long)]
        out: PathBuf,
    },
    /// Krediter en utleverings krav (en rettelse etter oppgjør): nye krav med motsatt beløp.
    Credit {
        #[command(flatten)]
        store: StoreArgs,
        /// Utleveringens id (dispensing_id).
        #[arg(long)]
        dispensing: String,
        /// Måneden kreditten gjøres opp i (ÅÅÅÅ-MM; standard: denne måneden).
        #[arg(long)]
        period: Option<String>,
    },
}

#[derive(Subcommand)]
enum FestCmd {
    /// Les en FEST-fil (.xml eller .zip) inn som et nytt øyeblikksbilde (etter HentetDato).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// FEST-filen (M30): XML, eller komprimert som .zip eller .gz.
        file: PathBuf,
        /// Advar når katalogen i kraft er eldre enn så mange dager.
        #[arg(long, env = "LEGEMIDDEL_FEST_MAX_AGE_DAYS", default_value_t = fest::DEFAULT_MAX_AGE_DAYS)]
        max_age_days: i64,
    },
    /// Søk i katalogen i kraft: navn, virkestoff, ATC-prefiks eller varenummer (ett treff per linje).
    Search {
        #[command(flatten)]
        store: StoreArgs,
        /// Søketekst; alle ordene må finnes.
        text: Vec<String>,
        /// Høyst så mange treff.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Som `decide`, men en forespørsel kan navngi pakningen med varenummer (drug.varenr) og
    /// diagnosen med refusjonskode: katalogen i kraft fyller inn resten.
    Decide {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Mål lesing og oppslag på en generert fil (se BENCHMARKS.md).
    Bench {
        /// Antall pakninger.
        #[arg(long, default_value_t = 11_000)]
        packages: usize,
    },
    /// Vis de importerte øyeblikksbildene.
    Snapshots {
        #[command(flatten)]
        store: StoreArgs,
        /// Advar når katalogen i kraft er eldre enn så mange dager.
        #[arg(long, env = "LEGEMIDDEL_FEST_MAX_AGE_DAYS", default_value_t = fest::DEFAULT_MAX_AGE_DAYS)]
        max_age_days: i64,
    },
    /// Skriv en skjemagyldig FEST-testfil (ikke DMPs data: se README).
    Generate {
        /// Antall pakninger (en ekte fil har om lag 11 000).
        #[arg(long, default_value_t = 200)]
        packages: usize,
        /// HentetDato i filen (standard: nå, så testfilen ikke er utdatert).
        #[arg(long)]
        retrieved: Option<String>,
        /// Filen som skrives.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum RulesCmd {
    /// Les § 1b-listen slik Helsedirektoratet publiserer den (Excel) og skriv en datert regelfil
    /// (h-list/DATO.toml) med legemidlene som ikke allerede står på listen den dagen.
    ImportHList {
        /// Regnearket (.xlsx eller .xls); første ark, kolonnene finnes etter overskriftene.
        file: PathBuf,
        /// Datoen listen gjelder fra (ÅÅÅÅ-MM-DD).
        #[arg(long)]
        from: String,
        /// Mappen filen skrives til (standard: h-list i --rules-mappen, ellers rules/h-list).
        #[arg(long, value_name = "MAPPE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Kontroller hele hash-kjeden: er noe endret, fjernet eller satt inn?
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// En fil med signerte hoder (fra `audit head` eller `serve --audit-checkpoints`):
        /// feiler hvis kjeden ikke lenger når hvert av dem (slettet hale, omhashet kjede).
        #[arg(long, value_name = "FIL")]
        expect_head: Option<PathBuf>,
    },
    /// Skriv revisjonsloggens hode nå (nummer, hash, tid), signert med tjenestens nøkkel, for
    /// å oppbevares utenfor databasen.
    Head {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Spill av en beslutning fra loggen med regeldataene (--rules) og sammenlign med svaret som ble gitt.
    Replay {
        #[command(flatten)]
        store: StoreArgs,
        /// Postens nummer i loggen (X-Audit-Seq).
        seq: i64,
    },
}

/// Where the service keeps its data: the same options for every command that uses it.
#[derive(clap::Args)]
struct StoreArgs {
    /// Datamappe for den innebygde SQLite-databasen (standard: brukerens datamappe).
    #[arg(
        long,
        value_name = "MAPPE",
        env = "LEGEMIDDEL_DATA",
        conflicts_with = "database"
    )]
    data: Option<PathBuf>,
    /// Database-URL, f.eks. postgres://bruker@vert/db, i stedet for SQLite.
    #[arg(
        long,
        value_name = "URL",
        env = "LEGEMIDDEL_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
}

impl StoreArgs {
    fn location(&self) -> store::Location {
        match (&self.database, &self.data) {
            (Some(url), _) => store::Location::Url(url.clone()),
            (None, Some(dir)) => store::Location::DataDir(dir.clone()),
            (None, None) => store::Location::DataDir(store::Location::default_data_dir()),
        }
    }
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Mål kjernen i prosessen på én tråd (beslutninger per sekund, med forklaring).
    Decide {
        /// Antall genererte forespørsler per runde.
        #[arg(long, default_value_t = 200_000)]
        count: usize,
        /// Antall runder; den raskeste rapporteres.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Frø for generatoren.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Last en kjørende tjeneste med jevnt fordelte forespørsler og mål svartidene (p50–p99,9),
    /// målt fra når hver forespørsel skulle gå. Flere --target deler lasten (flere instanser).
    Http {
        /// Tjenestens adresse (vert:port); gjenta for flere instanser.
        #[arg(long = "target", required = true, value_name = "VERT:PORT")]
        targets: Vec<std::net::SocketAddr>,
        /// Stien det sendes til.
        #[arg(long, default_value = "/api/v1/decide")]
        path: String,
        /// Token (Bearer). Verdien vises aldri i hjelpen.
        #[arg(long, env = "TOKEN", hide_env_values = true)]
        token: String,
        /// Fil med JSON-kroppen som sendes; plassholderen n i krøllparenteser byttes med
        /// forespørselens nummer.
        #[arg(long, value_name = "FIL")]
        body: PathBuf,
        /// Forespørsler per sekund.
        #[arg(long, default_value_t = 2000.0)]
        rate: f64,
        /// Sekunder.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Samtidige forbindelser (keep-alive).
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// Skriv genererte forespørsler som JSON Lines (til `decide --batch`).
    Requests {
        /// Antall forespørsler.
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Frø for generatoren.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Kontraktens JSON-objekt.
    Json,
    /// Kontraktens JSON-objekt, med innrykk.
    Pretty,
    /// En lesbar rapport på norsk.
    Text,
}

/// How a run failed, and so which exit status it gets.
pub(crate) enum Failure {
    /// Bad request: exit 2, nothing on stdout.
    BadInput(ContractError),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

/// clap's help in Norwegian: the headings, the help and version flags, every subcommand.
/// The Norwegian name of an option's value, by the option's field name.
fn value_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "period" => "ÅÅÅÅ-MM",
        "out" | "input" | "file" | "marks" => "FIL",
        "payer" => "BETALER",
        "date" | "from" | "to" => "DATO",
        "role" => "ROLLE",
        "name" => "NAVN",
        "trust" => "HELSEFORETAK",
        "prescriber_role" => "FORSKRIVERROLLE",
        "oidc_issuer" | "url" => "URL",
        "oidc_audience" => "MOTTAKER",
        "max_token_hours" | "hours" => "TIMER",
        "max_connections" => "ANTALL",
        "listen" => "ADRESSE:PORT",
        "header_timeout" => "SEKUNDER",
        "format" => "FORMAT",
        "fest_max_age_days" => "DAGER",
        "checkpoint_records" => "ANTALL",
        "checkpoint_minutes" => "MINUTTER",
        "limit" => "ANTALL",
        "year" => "ÅR",
        "database" => "DATABASE",
        _ => return None,
    })
}

/// clap's own messages (a wrong option, a missing value) in bokmål, with its usage line: a
/// person at the terminal should not meet English in a Norwegian tool. Help and version are
/// printed as clap renders them, with its few fixed English words replaced.
fn clap_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ErrorKind};
    let get = |k: ContextKind| e.get(k).map(|v| v.to_string()).unwrap_or_default();
    let arg = get(ContextKind::InvalidArg);
    let value = get(ContextKind::InvalidValue);
    let mut text = match e.kind() {
        ErrorKind::InvalidValue => {
            let valid = get(ContextKind::ValidValue);
            if valid.is_empty() {
                format!("«{value}» er ikke en gyldig verdi for {arg}")
            } else {
                format!("«{value}» er ikke en gyldig verdi for {arg}; gyldige verdier: {valid}")
            }
        }
        ErrorKind::ValueValidation => {
            let why = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!("«{value}» er ikke en gyldig verdi for {arg}{why}")
        }
        ErrorKind::UnknownArgument => format!("ukjent valg eller argument «{arg}»"),
        ErrorKind::InvalidSubcommand => {
            format!("ukjent kommando «{}»", get(ContextKind::InvalidSubcommand))
        }
        ErrorKind::MissingRequiredArgument => format!("mangler {arg}"),
        ErrorKind::MissingSubcommand => "velg en kommando".to_string(),
        ErrorKind::ArgumentConflict => format!(
            "{arg} kan ikke brukes sammen med {}",
            get(ContextKind::PriorArg)
        ),
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("feil antall verdier for {arg}")
        }
        ErrorKind::NoEquals => format!("{arg} krever en verdi med «=»"),
        _ => "kommandolinjen kan ikke leses".to_string(),
    };
    for k in [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ] {
        let suggestion = get(k);
        if !suggestion.is_empty() {
            text.push_str(&format!(" (mente du «{suggestion}»?)"));
        }
    }
    let usage = get(ContextKind::Usage);
    let usage = norwegian_words(usage.trim());
    format!("feil: {text}\n\n{usage}\n\nSe «--help» for mer.\n")
}

/// clap's fixed English words in its usage lines.
fn norwegian_words(text: &str) -> String {
    text.replace("Usage:", "Bruk:")
        .replace("[OPTIONS]", "[VALG]")
        .replace("[COMMAND]", "[KOMMANDO]")
        .replace("[default: ", "[standard: ")
        .replace("[possible values: ", "[mulige verdier: ")
}

fn norwegian(cmd: clap::Command, root: bool) -> clap::Command {
    use clap::{Arg, ArgAction};
    let mut cmd = cmd
        .help_template("{about-with-newline}\nBruk: {usage}\n\n{all-args}{after-help}")
        .subcommand_help_heading("Kommandoer")
        .subcommand_value_name("KOMMANDO")
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .mut_args(|a| {
            let heading = if a.is_positional() {
                "Argumenter"
            } else {
                "Valg"
            };
            let a = a.help_heading(heading);
            // clap names a value by its field (`<PERIOD>`); people here read `<PERIODE>`.
            let id = a.get_id().as_str();
            let by_field = match a.get_value_names() {
                None => true,
                Some([name]) => name.as_str() == id.to_uppercase(),
                Some(_) => false,
            };
            let norwegian = by_field.then(|| value_name(id)).flatten();
            match norwegian {
                Some(name) => a.value_name(name),
                None => a,
            }
        })
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Vis denne hjelpen")
                .help_heading("Valg"),
        );
    if root {
        cmd = cmd.arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Vis versjonen")
                .help_heading("Valg"),
        );
    }
    cmd.mut_subcommands(|sub| norwegian(sub, false))
}

fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = match norwegian(Cli::command(), true).try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let mut text = norwegian_words(&e.render().to_string());
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        eprint!("{text}");
                        ExitCode::from(2)
                    } else {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                }
                _ => {
                    eprint!("{}", clap_message(&e));
                    ExitCode::from(2)
                }
            };
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            eprint!("{}", clap_message(&e));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(e)) => {
            eprintln!("feil: {}: {}", e.field, e.message);
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            // A closed pipe (`legemiddel … | head`) is not an error.
            if e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("feil: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let rules = load_rules(cli.rules.as_deref())?;
    let rules = std::sync::Arc::new(rules);
    match cli.command {
        Cmd::Decide { batch: true, .. } => run_batch(Command::Decide, &rules),
        Cmd::Dispense { batch: true } => run_batch(Command::Dispense, &rules),
        Cmd::Decide {
            batch: false,
            format,
        } => answer_one(Command::Decide, &rules, format),
        Cmd::Dispense { batch: false } => answer_one(Command::Dispense, &rules, Format::Json),
        Cmd::Rules {
            action: Some(RulesCmd::ImportHList { file, from, out }),
            ..
        } => h_list_import::run(&rules, cli.rules.as_deref(), &file, &from, out.as_deref()),
        Cmd::Rules { date, json, .. } => {
            let date = match date {
                Some(text) => Date::parse(&text)
                    .map_err(|e| Failure::BadInput(ContractError::new("--date", e.to_string())))?,
                None => today(),
            };
            let text = if json {
                serde_json::to_string_pretty(&contract::rules_json(&rules, date)).context("JSON")?
                    + "\n"
            } else {
                render::rules(&rules, date)
            };
            io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("skriver til standard ut")?;
            Ok(())
        }
        Cmd::Bench {
            what:
                BenchCmd::Decide {
                    count,
                    rounds,
                    seed,
                },
        } => {
            bench::run(&rules, count, rounds, seed, io::stdout().lock())?;
            Ok(())
        }
        Cmd::Serve {
            store,
            listen,
            oidc_issuer,
            oidc_audience,
            oidc_jwks,
            oidc_jwks_url,
            role_map,
            no_local_sign_in,
            local_sign_in,
            local_tokens,
            public_url,
            max_token_hours,
            max_connections,
            header_timeout,
            audit_checkpoints,
            checkpoint_records,
            checkpoint_minutes,
            fest_max_age_days,
            stats_dir,
        } => {
            let oidc = oidc_issuer.map(|issuer| server::Oidc {
                issuer,
                audience: oidc_audience,
                keys: match oidc_jwks {
                    Some(file) => server::OidcKeys::File(file),
                    None => server::OidcKeys::Url(oidc_jwks_url),
                },
                role_map,
            });
            let mut config = server::Config::new(listen, store.location(), rules);
            config.oidc = oidc;
            config.local_sign_in = if no_local_sign_in {
                server::LocalSignIn::Off
            } else if local_sign_in {
                server::LocalSignIn::Always
            } else {
                server::LocalSignIn::LoopbackOnly
            };
            config.local_tokens = local_tokens;
            config.fest_max_age_days = fest_max_age_days;
            config.stats_dir = stats_dir;
            config.public_url = public_url;
            config.max_token_lifetime = max_token_hours * 3600;
            config.limits.max_connections = max_connections as usize;
            config.limits.header_read_timeout = std::time::Duration::from_secs(header_timeout);
            config.checkpoints = audit_checkpoints.map(|path| server::audit_head::Checkpoints {
                target: if path.as_os_str() == "-" {
                    server::audit_head::CheckpointTarget::Stdout
                } else {
                    server::audit_head::CheckpointTarget::File(path)
                },
                every_records: checkpoint_records,
                every: std::time::Duration::from_secs(checkpoint_minutes * 60),
            });
            service::serve(config)?;
            Ok(())
        }
        Cmd::Migrate { store } => {
            service::migrate(store.location())?;
            Ok(())
        }
        Cmd::Token {
            store,
            role,
            name,
            prescriber_role,
            trust,
            hours,
        } => {
            let role = server::Role::from_code(&role).ok_or_else(|| {
                let names: Vec<&str> = server::Role::ALL.iter().map(|r| r.code()).collect();
                Failure::BadInput(ContractError::new(
                    "--role",
                    format!("ukjent rolle «{role}»; ventet en av: {}", names.join(", ")),
                ))
            })?;
            if let Some(p) = prescriber_role
                .as_deref()
                .filter(|p| domain::PrescriberRole::from_code(p).is_none())
            {
                return Err(Failure::BadInput(ContractError::new(
                    "--prescriber-role",
                    format!(
                        "ukjent verdi «{p}»; ventet gp, specialist, hospital_doctor eller pain_clinic"
                    ),
                )));
            }
            if !(1..=24 * 365).contains(&hours) {
                return Err(Failure::BadInput(ContractError::new(
                    "--hours",
                    "ventet 1 til 8760 timer",
                )));
            }
            let token = service::token(
                store.location(),
                role,
                &name,
                prescriber_role.as_deref(),
                trust.as_deref().map(str::trim).filter(|t| !t.is_empty()),
                hours,
            )?;
            println!("{token}");
            Ok(())
        }
        Cmd::Audit {
            what: AuditCmd::Verify { store, expect_head },
        } => service::verify(store.location(), expect_head.as_deref()),
        Cmd::Audit {
            what: AuditCmd::Head { store },
        } => service::head(store.location()),
        Cmd::Audit {
            what: AuditCmd::Replay { store, seq },
        } => service::replay(store.location(), seq, &rules),
        Cmd::Settle {
            what:
                SettleCmd::Export {
                    store,
                    payer,
                    period,
                    out,
                },
        } => settle::export(store.location(), &payer, &period, &out),
        Cmd::Settle {
            what:
                SettleCmd::Credit {
                    store,
                    dispensing,
                    period,
                },
        } => {
            let period = period.unwrap_or_else(|| today().to_string()[..7].to_string());
            settle::credit(store.location(), &dispensing, &period)
        }
        Cmd::Stats {
            what:
                StatsCmd::Top {
                    input,
                    year,
                    limit,
                    format,
                    marks,
                    table,
                    out,
                },
        } => stats_cli::top(
            &input,
            year,
            limit,
            &format,
            marks.as_deref(),
            out.as_deref(),
            &table,
        ),
        Cmd::Stats {
            what: StatsCmd::Generate { out, rows },
        } => Ok(stats_cli::generate(&out, rows)?),
        Cmd::Stats {
            what:
                StatsCmd::Patients {
                    input,
                    products,
                    from_year,
                    to_year,
                    format,
                    out,
                },
        } => stats_cli::patients(
            &input,
            &products,
            from_year,
            to_year,
            &format,
            out.as_deref(),
        ),
        Cmd::Simulate {
            store,
            from,
            to,
            format,
            table,
            examples,
            out,
        } => {
            let date = |d: Option<String>, field: &str| -> Result<Option<Date>, Failure> {
                d.map(|d| {
                    Date::parse(&d)
                        .map_err(|e| Failure::BadInput(ContractError::new(field, e.to_string())))
                })
                .transpose()
            };
            simulate::run(
                &store.location(),
                &rules,
                cli.rules.is_some(),
                date(from, "--from")?,
                date(to, "--to")?,
                &format,
                &table,
                examples,
                out.as_deref(),
            )
        }
        Cmd::Stats {
            what:
                StatsCmd::Varenr {
                    input,
                    from_year,
                    to_year,
                },
        } => stats_cli::varenr(&input, from_year, to_year),
        Cmd::Stats {
            what: StatsCmd::Exemptions { store },
        } => stats_cli::exemptions(&store.location()),
        Cmd::Stock { what } => {
            let date = |d: Option<String>, field: &str| -> Result<Date, Failure> {
                match d {
                    None => Ok(today()),
                    Some(d) => Date::parse(&d)
                        .map_err(|e| Failure::BadInput(ContractError::new(field, e.to_string()))),
                }
            };
            match what {
                StockCmd::Import { store, file, batch } => {
                    stock_cli::import(&store.location(), &rules, &file, batch.max(1))
                }
                StockCmd::Verify { store } => stock_cli::verify(&store.location()),
                StockCmd::Coverage {
                    store,
                    date: d,
                    format,
                    out,
                    alerts,
                    sales,
                    from_dispensings,
                } => stock_cli::coverage(
                    &store.location(),
                    &rules,
                    date(d, "--date")?,
                    &format,
                    out.as_deref(),
                    alerts,
                    match (sales, from_dispensings) {
                        (Some(f), _) => stock_cli::SalesSource::File(f),
                        (None, true) => stock_cli::SalesSource::Dispensings,
                        (None, false) => stock_cli::SalesSource::Ledger,
                    },
                ),
                StockCmd::Allocate {
                    store,
                    wholesaler,
                    varenr,
                    quantity,
                    date: d,
                    dry_run,
                } => stock_cli::allocate(
                    &store.location(),
                    &rules,
                    &server::stockpiles::Delivery {
                        wholesaler,
                        varenr,
                        quantity,
                        date: date(d, "--date")?,
                        dry_run,
                    },
                ),
                StockCmd::Simulate {
                    store,
                    atc,
                    days,
                    date: d,
                } => stock_cli::simulate(&store.location(), &rules, &atc, days, date(d, "--date")?),
                StockCmd::Generate {
                    out,
                    medicines,
                    years,
                    from,
                } => {
                    let from = match from {
                        Some(f) => date(Some(f), "--from")?,
                        None => today()
                            .minus_days((f64::from(years) * 365.25) as u32)
                            .unwrap_or_else(today),
                    };
                    Ok(stock_cli::generate(&rules, &out, medicines, years, from)?)
                }
            }
        }
        Cmd::Fest { what } => match what {
            FestCmd::Import {
                store,
                file,
                max_age_days,
            } => fest_cli::import(store.location(), &file, max_age_days),
            FestCmd::Search { store, text, limit } => {
                fest_cli::search(store.location(), &text.join(" "), limit)
            }
            FestCmd::Snapshots {
                store,
                max_age_days,
            } => fest_cli::snapshots(store.location(), max_age_days),
            FestCmd::Decide { store } => fest_cli::decide(store.location(), &rules),
            FestCmd::Bench { packages } => fest_cli::bench(packages),
            FestCmd::Generate {
                packages,
                retrieved,
                out,
            } => {
                let retrieved = retrieved.unwrap_or_else(|| {
                    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string()
                });
                fest_cli::generate(packages, &retrieved, &out)
            }
        },
        Cmd::Bench {
            what:
                BenchCmd::Http {
                    targets,
                    path,
                    token,
                    body,
                    rate,
                    seconds,
                    connections,
                },
        } => {
            let body = std::fs::read_to_string(&body)
                .with_context(|| format!("leser {}", body.display()))?;
            let load = load::Load {
                targets,
                path,
                token,
                body,
                rate,
                duration: std::time::Duration::from_secs(seconds),
                connections,
            };
            let report = service::runtime()?.block_on(load::run(load))?;
            let secs = report.elapsed.as_secs_f64();
            println!(
                "sendt {} på {secs:.1} s: {} svar 2xx ({:.0}/s), {} feil",
                report.sent,
                report.ok,
                report.ok as f64 / secs,
                report.errors
            );
            for (kind, n) in &report.error_kinds {
                println!("  {n} × {kind}");
            }
            println!(
                "svartid fra planlagt sending: p50 {:.2} ms · p90 {:.2} ms · p99 {:.2} ms · p99,9 {:.2} ms · maks {:.2} ms",
                report.quantile_ms(0.5),
                report.quantile_ms(0.9),
                report.quantile_ms(0.99),
                report.quantile_ms(0.999),
                report.quantile_ms(1.0)
            );
            Ok(())
        }
        Cmd::Bench {
            what: BenchCmd::Requests { count, seed },
        } => {
            let out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
            bench::write_requests(count, seed, out).context("skriver til standard ut")?;
            Ok(())
        }
    }
}

fn answer_one(command: Command, rules: &RuleSet, format: Format) -> Result<(), Failure> {
    let mut input = Vec::new();
    io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("leser standard inn")?;
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(Failure::BadInput(ContractError::new(
            "$",
            "ingen forespørsel på standard inn: ventet ett JSON-objekt",
        )));
    }
    let mut out = Vec::with_capacity(4096);
    match (command, format) {
        (Command::Decide, Format::Text) => {
            let req = contract::parse_decision_request(&input).map_err(Failure::BadInput)?;
            let decision = decide::decide(&req, rules).map_err(|e| Failure::BadInput(e.into()))?;
            out.extend_from_slice(render::decision(&decision).as_bytes());
        }
        (_, Format::Pretty) => {
            contract::answer(command, &input, rules, &mut out).map_err(Failure::BadInput)?;
            let value: serde_json::Value = serde_json::from_slice(&out).context("JSON")?;
            out = serde_json::to_vec_pretty(&value).context("JSON")?;
            out.push(b'\n');
        }
        _ => {
            contract::answer(command, &input, rules, &mut out).map_err(Failure::BadInput)?;
            out.push(b'\n');
        }
    }
    io::stdout()
        .lock()
        .write_all(&out)
        .context("skriver til standard ut")?;
    Ok(())
}

fn run_batch(command: Command, rules: &RuleSet) -> Result<(), Failure> {
    let stdin = io::stdin();
    let stdout = io::stdout();
    batch::run(command, rules, stdin, stdout).context("decide --batch")?;
    Ok(())
}

/// The built-in rule data, or the folder given with `--rules`.
fn load_rules(dir: Option<&Path>) -> anyhow::Result<RuleSet> {
    let Some(dir) = dir else {
        return RuleSet::embedded().context("de innebygde regeldataene er ugyldige");
    };
    let mut files = Vec::new();
    read_toml_files(dir, dir, &mut files)
        .with_context(|| format!("leser regeldata fra {}", dir.display()))?;
    files.sort();
    RuleSet::load(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
        .with_context(|| format!("ugyldige regeldata i {}", dir.display()))
}

pub(crate) fn read_toml_files(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(String, String)>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_toml_files(root, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            files.push((relative, text));
        }
    }
    Ok(())
}

/// Today's date, in Norway's calendar (Europe/Oslo is UTC+1 or +2; the date differs from UTC
/// only around midnight, and the local clock of the machine is what an operator expects).
pub(crate) fn today() -> Date {
    use chrono::Datelike;
    let now = chrono::Local::now().date_naive();
    Date::from_ymd(now.year(), now.month(), now.day())
        .unwrap_or_else(|| unreachable!("chrono gives real dates"))
}
