//! The commands that run the service or use its store: `serve`, `migrate`, `token`,
//! `audit verify`. Each starts a Tokio runtime of its own; the rest of the CLI stays synchronous.

use std::path::Path;

use anyhow::{Context, bail};
use ruleset::RuleSet;
use server::audit_head::SignedHead;
use server::{App, Config, Role};
use store::{Location, Store};

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starter Tokio")
}

/// `legemiddel serve`: runs until SIGTERM or Ctrl-C, then finishes the requests in flight.
pub fn serve(config: Config) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LEGEMIDDEL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    runtime()?.block_on(async move {
        let described = config.location.describe();
        let rules = config.rules.clone();
        let app = App::build(config).await?;
        let addr = app.local_addr();
        reload_on_hangup(app.reloader());
        tracing::info!(addr = %addr, store = %described, rule_set = %rules.version(), "legemiddel lytter");
        app.run_until(shutdown_signal()).await.context("tjenesten")?;
        tracing::info!("legemiddel stoppet");
        Ok(())
    })
}

/// SIGHUP renews the external issuer's keys (from its URL or file) instead of ending the process.
fn reload_on_hangup(reloader: server::Reloader) {
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hangup) => {
            tokio::spawn(async move {
                while hangup.recv().await.is_some() {
                    tracing::info!("SIGHUP: leser utstederens nøkler på nytt");
                    reloader.reload().await;
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "SIGHUP kan ikke fanges"),
    }
    #[cfg(not(unix))]
    let _ = reloader;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("stopper: fullfører forespørsler som er i gang");
}

/// `legemiddel migrate`.
pub fn migrate(location: Location) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        println!("databasen er oppdatert: {}", location.describe());
        Ok(())
    })
}

/// `legemiddel token`: a token signed with the store's local key (created if missing).
pub fn token(
    location: Location,
    role: Role,
    name: &str,
    prescriber_role: Option<&str>,
    trust: Option<&str>,
    hours: i64,
) -> anyhow::Result<String> {
    runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        let key = server::local_key(&store).await?;
        let subject = format!("lokal:{}", name.trim());
        let who = server::auth::Identity {
            subject,
            name: name.trim().to_string(),
            roles: vec![role],
            prescriber_role: prescriber_role.map(str::to_string),
            trust: trust.map(str::to_string),
        };
        Ok(key.sign_identity(&who, server::now_epoch(), hours))
    })
}

/// `legemiddel audit verify [--expect-head FILE]`: exit 0 when the chain is whole (and reaches
/// every head in FILE), 1 (with where it breaks) if not.
pub fn verify(location: Location, expect_head: Option<&Path>) -> Result<(), crate::Failure> {
    let result: anyhow::Result<()> = runtime()?.block_on(async {
        let expected = match expect_head {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("leser {}", path.display()))?;
                SignedHead::parse_all(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => Vec::new(),
        };
        let store = open_existing(&location).await?;
        let v = store.verify_audit().await?;
        if let Some(b) = &v.broken {
            bail!(
                "revisjonsloggen er brutt etter {} gyldige poster: {b:?}",
                v.records
            );
        }
        if !expected.is_empty() {
            let key = server::local_key(&store).await?;
            for head in &expected {
                head.check(&store, &key, v.records)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            println!(
                "alle {} hoder er nådd av kjeden (det siste: post {})",
                expected.len(),
                expected.iter().map(|h| h.seq).max().unwrap_or(0)
            );
        }
        println!(
            "revisjonsloggen er hel: {} poster, siste hash {}",
            v.records, v.head
        );
        Ok(())
    });
    result.map_err(crate::Failure::Other)
}

/// `legemiddel audit head`: the head now, signed, as one JSON object on standard output.
pub fn head(location: Location) -> Result<(), crate::Failure> {
    let result: anyhow::Result<()> = runtime()?.block_on(async {
        let store = open_existing(&location).await?;
        let key = server::local_key(&store).await?;
        let head = SignedHead::now(&store, &key).await?;
        println!("{}", serde_json::to_string(&head)?);
        Ok(())
    });
    result.map_err(crate::Failure::Other)
}

/// The store, opened for an operator's command.
async fn open_existing(location: &Location) -> anyhow::Result<Store> {
    Store::open(location)
        .await
        .with_context(|| location.describe())
}

/// `legemiddel audit replay SEQ`: decides the recorded request again with the rule data given
/// (built-in, or `--rules DIR` for the data of the day) and compares with what was answered.
/// Exit 0 when the answer is the same, byte for byte; 1 when it is not, or when the rule data
/// differs from the data the decision was made with.
pub fn replay(location: Location, seq: i64, rules: &RuleSet) -> Result<(), crate::Failure> {
    let result: anyhow::Result<()> = runtime()?.block_on(async {
        let store = Store::open(&location)
            .await
            .with_context(|| location.describe())?;
        let record = store
            .audit_after(seq - 1, 1)
            .await?
            .into_iter()
            .next()
            .filter(|r| r.seq == seq);
        let Some(record) = record else {
            bail!("ingen post nummer {seq} i revisjonsloggen")
        };
        let c = &record.content;
        println!("post {seq}: {} ({}) {} {}", c.actor, c.role, c.action, c.at);
        println!("regeldata da:  {}", c.rule_set);
        let command = match c.action.as_str() {
            "decide" => contract::Command::Decide,
            "dispense" => contract::Command::Dispense,
            other => bail!(
                "posten er «{other}»: bare enkeltbeslutninger (decide, dispense) kan spilles av"
            ),
        };
        let mut answer = Vec::new();
        if command == contract::Command::Decide
            && contract::catalogue::names_product(c.request.as_bytes())
        {
            // A decision by varenummer: replayed on the FEST snapshot it was made on.
            let recorded: serde_json::Value = serde_json::from_str(&c.response)?;
            let retrieved = recorded["catalogue"]["snapshot"]
                .as_str()
                .unwrap_or_default();
            let snapshot = store
                .snapshots()
                .await?
                .into_iter()
                .find(|s| s.retrieved == retrieved)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "FEST-øyeblikksbildet {retrieved} finnes ikke lenger i databasen"
                    )
                })?;
            println!("FEST da:       {retrieved}");
            let cat = store.catalogue(&snapshot).await?;
            let index = fest::Index::new(&cat);
            let (completed, resolution) =
                contract::catalogue::complete(c.request.as_bytes(), Some((&cat, &index)))
                    .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?
                    .ok_or_else(|| anyhow::anyhow!("forespørselen navngir ingen pakning"))?;
            let req = contract::parse_decision_request(&completed)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
            let mut decision = decide::decide(&req, rules)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field(), e.message()))?;
            let summary = contract::catalogue::annotate(&mut decision, resolution);
            contract::write_decision(&decision, &mut answer);
            answer = contract::catalogue::with_summary(answer, &summary);
        } else {
            contract::answer(command, c.request.as_bytes(), rules, &mut answer)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
        }
        let replayed: serde_json::Value = serde_json::from_slice(&answer)?;
        let now = replayed["rule_set"].as_str().unwrap_or_default();
        println!("regeldata nå:  {now}");
        if now != c.rule_set {
            bail!(
                "andre regeldata enn beslutningen ble tatt med: bruk --rules med dataene «{}»",
                c.rule_set
            );
        }
        if answer == c.response.as_bytes() {
            println!("samme svar, byte for byte");
            Ok(())
        } else {
            println!("ga:  {}", c.response);
            println!("gir: {}", String::from_utf8_lossy(&answer));
            bail!("svaret er ikke det samme")
        }
    });
    result.map_err(crate::Failure::Other)
}
