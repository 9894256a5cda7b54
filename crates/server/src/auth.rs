//! Sign-in: bearer tokens as OpenID Connect JWTs, verified against a configured issuer,
//! audience and keys, as HelseID issues them; their claims give the caller's roles.
//!
//! For the embedded default the service is its own issuer: it creates an Ed25519 key on first
//! start (kept in the store) and `legemiddel token` signs tokens with it, so every role can be
//! tried locally. An external issuer is configured with its issuer URL, audience and JWKS file.
//!
//! Claim mapping (one table, here): `sub` → who (recorded in the audit trail); `name` → shown;
//! `roles` (array) or `role` (string) → [`Role`]s by their snake_case names;
//! `prescriber_role` → the prescriber's role in decisions (`gp`, `specialist`,
//! `hospital_doctor`, `pain_clinic`).
//!
//! What a token must be to pass ([`Verifier::verify`]), beyond its signature:
//! - issuer and audience as configured (`aud` a string or an array that contains ours);
//! - not expired, not used before `nbf`, with 30 seconds' leeway for clocks;
//! - a lifetime (`exp − iat`) no longer than the service's maximum (24 hours by default): a
//!   token that lives for a year is a password that cannot be changed;
//! - a non-empty `sub` (the audit trail must name someone);
//! - `typ`, when given, `JWT` or `at+jwt` (RFC 9068): an ID token, a DPoP proof or a logout
//!   token is not an access token;
//! - no `cnf` claim: a token bound to a key (DPoP, mTLS) is worthless without the proof of
//!   possession, so it is refused when presented as a plain Bearer token.

use std::fmt;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The issuer of locally signed tokens.
pub const LOCAL_ISSUER: &str = "urn:legemiddel:local";
/// The audience of locally signed tokens (and the default audience).
pub const LOCAL_AUDIENCE: &str = "legemiddel";

pub use domain::Role;

/// The claims the service reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: who (a user id, never a national identity number).
    pub sub: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience: one, or several (a JWT may carry either).
    pub aud: Audience,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// A confirmation key the token is bound to (RFC 7800; DPoP's `jkt`, mTLS's `x5t#S256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<serde_json::Value>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// A single role (some issuers send one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The prescriber's role in decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prescriber_role: Option<String>,
    /// The health trust the user works for (off-label approvals are per trust, O2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<String>,
    /// OAuth scopes, space-separated (HelseID grants access by scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Every other claim (HelseID's `helseid://claims/...`), for the role mapping.
    #[serde(flatten, default, skip_serializing)]
    pub other: std::collections::BTreeMap<String, serde_json::Value>,
}

/// How an external issuer's tokens give this service's roles — the operator's file
/// (`serve --role-map FILE`), because HelseID grants scopes and claims, not our role names:
///
/// ```toml
/// [[role]]
/// role = "prescriber"                    # this service's role
/// scope = "nhn:legemiddel/prescriber"    # given when the token has this scope …
/// prescriber_role = "gp"                 # … and, for a prescriber, as this kind of doctor
///
/// [[role]]
/// role = "pharmacist"
/// claim = "helseid://claims/client/claims/orgnr_parent"   # … or has this claim
/// equals = "123456789"                                    # (with this value, if given)
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMap {
    /// The rules, each giving one role.
    #[serde(default)]
    pub role: Vec<RoleRule>,
}

/// One rule of a [`RoleMap`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    /// The role given.
    pub role: String,
    /// A scope the token must have.
    #[serde(default)]
    pub scope: Option<String>,
    /// A claim the token must have …
    #[serde(default)]
    pub claim: Option<String>,
    /// … with this value (a string, or one of an array's strings), if given.
    #[serde(default)]
    pub equals: Option<String>,
    /// For a prescriber: the kind of doctor in decisions (`gp`, `specialist`, …).
    #[serde(default)]
    pub prescriber_role: Option<String>,
}

impl RoleMap {
    /// Reads and checks the file's text: every role known, every rule with a scope or a claim.
    pub fn parse(text: &str) -> Result<RoleMap, String> {
        let map: RoleMap = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, r) in map.role.iter().enumerate() {
            if Role::from_code(&r.role).is_none() {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
                return Err(format!(
                    "role nr. {}: ukjent rolle «{}»; kjente: {}",
                    i + 1,
                    r.role,
                    known.join(", ")
                ));
            }
            if r.scope.is_none() && r.claim.is_none() {
                return Err(format!("role nr. {}: ventet scope eller claim", i + 1));
            }
        }
        Ok(map)
    }

    /// The roles (and a prescriber's kind) the claims give.
    fn apply(&self, c: &Claims) -> (Vec<Role>, Option<String>) {
        let scopes: Vec<&str> = c
            .scope
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let mut roles = Vec::new();
        let mut prescriber = None;
        for r in &self.role {
            let scope_ok = r.scope.as_deref().is_none_or(|s| scopes.contains(&s));
            let claim_ok =
                r.claim
                    .as_deref()
                    .is_none_or(|name| match (c.other.get(name), &r.equals) {
                        (None, _) => false,
                        (Some(_), None) => true,
                        (Some(serde_json::Value::String(v)), Some(want)) => v == want,
                        (Some(serde_json::Value::Array(vs)), Some(want)) => {
                            vs.iter().any(|v| v.as_str() == Some(want))
                        }
                        (Some(_), Some(_)) => false,
                    });
            if scope_ok
                && claim_ok
                && let Some(role) = Role::from_code(&r.role)
            {
                if !roles.contains(&role) {
                    roles.push(role);
                }
                if prescriber.is_none() {
                    prescriber.clone_from(&r.prescriber_role);
                }
            }
        }
        (roles, prescriber)
    }
}

/// A token's audience: `"aud": "x"` or `"aud": ["x", "y"]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `aud` is among them.
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

impl From<&str> for Audience {
    fn from(a: &str) -> Self {
        Audience::One(a.to_string())
    }
}

/// The longest a token may live (`exp − iat`) unless the operator says otherwise: 24 hours.
pub const DEFAULT_MAX_LIFETIME: i64 = 24 * 3600;

/// A verified caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Who.
    pub subject: String,
    /// Display name.
    pub name: Option<String>,
    /// Roles the token grants (unknown role names are ignored).
    pub roles: Vec<Role>,
    /// The prescriber's role, where the token says.
    pub prescriber_role: Option<String>,
    /// The health trust, where the token says.
    pub trust: Option<String>,
    /// When the token expires (epoch seconds).
    pub expires: i64,
}

impl User {
    /// The first of the user's roles that `allowed` lists.
    pub fn role_among(&self, allowed: &[Role]) -> Option<Role> {
        self.roles.iter().copied().find(|r| allowed.contains(r))
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("mangler innlogging: send «Authorization: Bearer <token>»")]
    Missing,
    /// The token does not verify (signature, expiry, issuer, audience, format).
    #[error("ugyldig token: {0}")]
    Invalid(String),
}

/// A jsonwebtoken error in words.
fn jwt_error(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "tokenet er utløpt".into(),
        K::ImmatureSignature => "tokenet gjelder ikke ennå (nbf)".into(),
        K::InvalidIssuer => "feil utsteder (iss)".into(),
        K::InvalidAudience => "feil publikum (aud)".into(),
        K::InvalidSignature => "signaturen stemmer ikke".into(),
        K::InvalidAlgorithm => "algoritmen passer ikke til nøkkelen".into(),
        K::MissingRequiredClaim(c) => format!("mangler påstanden «{c}»"),
        K::InvalidToken | K::Base64(_) | K::Json(_) | K::Utf8(_) => {
            "ikke et gyldig JWT (tre base64url-deler med JSON)".into()
        }
        _ => "tokenet kunne ikke kontrolleres".into(),
    }
}

/// One verification key.
#[derive(Clone)]
struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Where a verifier's keys come from, and so how they are renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The service's own key, or a JWKS document given once: never renewed.
    Fixed,
    /// A JWKS file the operator keeps: read again on a reload (SIGHUP).
    File(std::path::PathBuf),
    /// The issuer's JWKS URL (from its metadata): fetched again when a token names a key the
    /// service does not know — the issuer has rotated its keys — and on a reload.
    Url(String),
}

/// The least time between two fetches triggered by unknown keys: a stream of tokens naming
/// made-up keys must not become a stream of requests to the issuer.
const REFRESH_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Verifies tokens from one issuer.
#[derive(Clone)]
pub struct Verifier {
    issuer: String,
    audience: String,
    keys: std::sync::Arc<std::sync::RwLock<Vec<Key>>>,
    source: KeySource,
    /// When the keys were last fetched because of an unknown key.
    refreshed: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// The longest lifetime (`exp − iat`, seconds) accepted.
    max_lifetime: i64,
    /// How the issuer's scopes and claims give roles, if the operator says.
    role_map: std::sync::Arc<std::sync::RwLock<Option<RoleMap>>>,
    /// The file the role map is read from (again on a reload), if one.
    role_map_file: Option<std::path::PathBuf>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Verifier({}, {}, {} keys, {:?})",
            self.issuer,
            self.audience,
            self.keys.read().map_or(0, |k| k.len()),
            self.source
        )
    }
}

impl Verifier {
    /// The local issuer's verifier, from its signing key.
    pub fn local(key: &LocalKey) -> Verifier {
        let public = key.signing.verifying_key();
        Verifier::new(
            LOCAL_ISSUER,
            LOCAL_AUDIENCE,
            vec![Key {
                kid: Some(key.kid.clone()),
                algorithm: Algorithm::EdDSA,
                key: DecodingKey::from_ed_der(public.as_bytes()),
            }],
            KeySource::Fixed,
        )
    }

    fn new(issuer: &str, audience: &str, keys: Vec<Key>, source: KeySource) -> Verifier {
        Verifier {
            issuer: issuer.into(),
            audience: audience.into(),
            keys: std::sync::Arc::new(std::sync::RwLock::new(keys)),
            source,
            refreshed: std::sync::Arc::default(),
            max_lifetime: DEFAULT_MAX_LIFETIME,
            role_map: std::sync::Arc::default(),
            role_map_file: None,
        }
    }

    /// The same verifier with another maximum token lifetime (seconds).
    pub fn with_max_lifetime(mut self, seconds: i64) -> Verifier {
        self.max_lifetime = seconds;
        self
    }

    /// The issuer whose tokens this verifier accepts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// An external issuer's verifier, from its JWKS document (e.g. HelseID's, saved to a file).
    pub fn from_jwks(issuer: &str, audience: &str, jwks_json: &str) -> Result<Verifier, String> {
        Ok(Verifier::new(
            issuer,
            audience,
            parse_keys(jwks_json)?,
            KeySource::Fixed,
        ))
    }

    /// The same verifier, giving roles by `map` besides a `roles` claim.
    pub fn with_role_map(self, map: RoleMap) -> Verifier {
        if let Ok(mut m) = self.role_map.write() {
            *m = Some(map);
        }
        self
    }

    /// The same verifier, giving roles by the map in `file` (the operator's; read again on a
    /// reload, SIGHUP).
    pub fn with_role_map_file(mut self, file: &std::path::Path) -> Result<Verifier, String> {
        let map = read_role_map(file)?;
        self.role_map_file = Some(file.to_path_buf());
        Ok(self.with_role_map(map))
    }

    /// The same verifier, its keys renewed from `source` (see [`KeySource`]).
    pub fn with_source(mut self, source: KeySource) -> Verifier {
        self.source = source;
        self
    }

    /// An external issuer's verifier with its keys at a URL: the JWKS document at `jwks_url`,
    /// or, when none is given, at the `jwks_uri` of the issuer's metadata
    /// (`{issuer}/.well-known/openid-configuration`). Fetched now; fetched again when a token
    /// names an unknown key, and on [`Verifier::reload`].
    pub async fn from_issuer(
        issuer: &str,
        audience: &str,
        jwks_url: Option<&str>,
    ) -> Result<Verifier, String> {
        let url = match jwks_url {
            Some(u) => u.to_string(),
            None => {
                let metadata = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let doc: serde_json::Value = serde_json::from_str(&fetch(&metadata).await?)
                    .map_err(|e| format!("{metadata}: ikke JSON: {e}"))?;
                if doc["issuer"].as_str() != Some(issuer) {
                    return Err(format!(
                        "{metadata}: «issuer» er {} — ikke {issuer}",
                        doc["issuer"]
                    ));
                }
                doc["jwks_uri"]
                    .as_str()
                    .ok_or_else(|| format!("{metadata}: mangler «jwks_uri»"))?
                    .to_string()
            }
        };
        let keys = parse_keys(&fetch(&url).await?)?;
        tracing::info!(issuer, jwks = %url, keys = keys.len(), "utstederens nøkler hentet");
        Ok(Verifier::new(issuer, audience, keys, KeySource::Url(url)))
    }

    /// Renews the keys from their source (SIGHUP): the URL fetched, the file read again — and the
    /// role map from its file. What cannot be had keeps its old value. Returns how many keys
    /// there are now.
    pub async fn reload(&self) -> Result<usize, String> {
        if let Some(file) = &self.role_map_file {
            let map = read_role_map(file)?;
            if let Ok(mut m) = self.role_map.write() {
                *m = Some(map);
            }
            tracing::info!(file = %file.display(), "rollekartet lest på nytt");
        }
        self.reload_keys().await
    }

    async fn reload_keys(&self) -> Result<usize, String> {
        let text = match &self.source {
            KeySource::Fixed => return Ok(self.keys.read().map_or(0, |k| k.len())),
            KeySource::File(path) => {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
            }
            KeySource::Url(url) => fetch(url).await?,
        };
        let keys = parse_keys(&text)?;
        let n = keys.len();
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
        tracing::info!(issuer = %self.issuer, keys = n, source = ?self.source, "utstederens nøkler lest på nytt");
        Ok(n)
    }

    /// On a token naming an unknown key: fetch the keys again, at most every
    /// [`REFRESH_AT_MOST_EVERY`], waiting for the answer (the request needs it). Only for a URL
    /// source, and only on a runtime with threads to spare (the service's).
    fn refresh_for_unknown_key(&self) -> bool {
        let KeySource::Url(_) = &self.source else {
            return false;
        };
        {
            let Ok(mut last) = self.refreshed.lock() else {
                return false;
            };
            if last.is_some_and(|t| t.elapsed() < REFRESH_AT_MOST_EVERY) {
                return false;
            }
            *last = Some(std::time::Instant::now());
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return false;
        }
        match tokio::task::block_in_place(|| handle.block_on(self.reload_keys())) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, "utstederens nøkler kunne ikke hentes");
                false
            }
        }
    }
}

fn read_role_map(file: &std::path::Path) -> Result<RoleMap, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    RoleMap::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// GET of a document (an issuer's metadata or keys), with a time limit.
async fn fetch(url: &str) -> Result<String, String> {
    // reqwest is built without a crypto provider: ring is installed once, process-wide.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("HTTP-klient: {e}"))?;
    let response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    response.text().await.map_err(|e| format!("{url}: {e}"))
}

/// The signing keys of a JWKS document. Keys for encryption (`"use": "enc"`) and keys of kinds
/// this service cannot verify with are skipped with a log line, not fatal: issuers publish them
/// beside their signing keys.
fn parse_keys(jwks_json: &str) -> Result<Vec<Key>, String> {
    {
        let raw: serde_json::Value =
            serde_json::from_str(jwks_json).map_err(|e| format!("JWKS: {e}"))?;
        let Some(entries) = raw["keys"].as_array() else {
            return Err("JWKS: ventet et objekt med «keys» (en liste)".into());
        };
        let mut set = JwkSet { keys: Vec::new() };
        for (i, entry) in entries.iter().enumerate() {
            if entry["use"].as_str() == Some("enc") {
                tracing::info!(index = i, kid = ?entry["kid"], "JWKS: krypteringsnøkkel (use=enc) hoppet over");
                continue;
            }
            match serde_json::from_value(entry.clone()) {
                Ok(jwk) => set.keys.push(jwk),
                Err(e) => {
                    tracing::warn!(index = i, kid = ?entry["kid"], error = %e, "JWKS: ukjent nøkkeltype hoppet over");
                }
            }
        }
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = match jwk.common.key_algorithm {
                Some(a) => match Algorithm::from_str_lenient(&format!("{a:?}")) {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(kid = ?jwk.common.key_id, error = %e, "JWKS: nøkkel hoppet over");
                        continue;
                    }
                },
                None => match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
                    _ => continue,
                },
            };
            let key = match DecodingKey::from_jwk(jwk) {
                Ok(k) => k,
                Err(e) => {
                    tracing::warn!(kid = ?jwk.common.key_id, error = %e, "JWKS: nøkkel hoppet over");
                    continue;
                }
            };
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key,
            });
        }
        if keys.is_empty() {
            return Err("JWKS: ingen brukbare nøkler".into());
        }
        Ok(keys)
    }
}

impl Verifier {
    /// Verifies a bearer token and returns the caller (the rules are in the module's doc).
    pub fn verify(&self, token: &str) -> Result<User, AuthError> {
        self.verify_bound(token, None)
    }

    /// Verifies an access token presented with the DPoP scheme, whose proof (checked already,
    /// [`crate::dpop::check`]) was signed by the key with thumbprint `proof_jkt`: the token must
    /// be bound to that key (`cnf.jkt`). Without a proof (`None`), a bound token is refused.
    pub fn verify_bound(&self, token: &str, proof_jkt: Option<&str>) -> Result<User, AuthError> {
        let invalid = |m: &str| AuthError::Invalid(m.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&jwt_error(&e)))?;
        if let Some(typ) = header.typ.as_deref() {
            let t = typ.to_ascii_lowercase();
            let t = t.strip_prefix("application/").unwrap_or(&t);
            if t != "jwt" && t != "at+jwt" {
                return Err(AuthError::Invalid(format!(
                    "typ «{typ}» er ikke et tilgangstoken (ventet JWT eller at+jwt)"
                )));
            }
        }
        let find = |keys: &[Key]| {
            keys.iter()
                .find(|k| {
                    k.algorithm == header.alg && (header.kid.is_none() || k.kid == header.kid)
                })
                .map(|k| (k.algorithm, k.key.clone()))
        };
        let mut found = self.keys.read().ok().and_then(|k| find(&k));
        // A key the service has not seen: the issuer may have rotated its keys.
        if found.is_none() && self.refresh_for_unknown_key() {
            found = self.keys.read().ok().and_then(|k| find(&k));
        }
        let (algorithm, decoding) =
            found.ok_or_else(|| invalid("ukjent nøkkel eller algoritme"))?;
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Claims>(token, &decoding, &validation)
            .map_err(|e| invalid(&jwt_error(&e)))?;
        let c = data.claims;
        if c.sub.trim().is_empty() {
            return Err(invalid("tom «sub»: tokenet må si hvem det gjelder"));
        }
        if !c.aud.contains(&self.audience) {
            return Err(invalid("feil publikum (aud)"));
        }
        if c.exp - c.iat > self.max_lifetime {
            return Err(AuthError::Invalid(format!(
                "tokenet lever for lenge ({} timer; høyst {} timer er tillatt)",
                (c.exp - c.iat) / 3600,
                self.max_lifetime / 3600
            )));
        }
        let bound = c.cnf.as_ref().map(|cnf| cnf["jkt"].as_str());
        match (bound, proof_jkt) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(invalid(
                    "tokenet er bundet til en nøkkel (cnf, f.eks. DPoP) og kan ikke brukes som Bearer-token",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "tokenet er ikke bundet til en nøkkel (cnf.jkt): send det som Bearer-token",
                ));
            }
            (Some(Some(jkt)), Some(proof)) if jkt == proof => {}
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "DPoP-beviset er signert med en annen nøkkel enn tokenet er bundet til (cnf.jkt)",
                ));
            }
        }
        let mut roles: Vec<Role> = c
            .roles
            .iter()
            .map(String::as_str)
            .chain(c.role.as_deref())
            .filter_map(Role::from_code)
            .collect();
        let mut prescriber_role = c.prescriber_role.clone();
        if let Some(map) = self
            .role_map
            .read()
            .ok()
            .as_deref()
            .and_then(Option::as_ref)
        {
            let (mapped, kind) = map.apply(&c);
            for r in mapped {
                if !roles.contains(&r) {
                    roles.push(r);
                }
            }
            if prescriber_role.is_none() {
                prescriber_role = kind;
            }
        }
        Ok(User {
            subject: c.sub,
            name: c.name,
            roles,
            prescriber_role,
            trust: c.trust,
            expires: c.exp,
        })
    }
}

trait Lenient: Sized {
    fn from_str_lenient(s: &str) -> Result<Self, String>;
}

impl Lenient for Algorithm {
    fn from_str_lenient(s: &str) -> Result<Algorithm, String> {
        s.parse::<Algorithm>()
            .map_err(|_| format!("JWKS: ukjent algoritme {s}"))
    }
}

/// The service's own signing key (Ed25519), kept in the store.
#[derive(Clone)]
pub struct LocalKey {
    /// Key id, in the token header.
    pub kid: String,
    signing: SigningKey,
}

impl LocalKey {
    /// A new random key.
    pub fn generate() -> LocalKey {
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let kid = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &signing.verifying_key().as_bytes()[..12],
        );
        LocalKey { kid, signing }
    }

    /// Signs bytes (Ed25519); used for the audit trail's signed heads.
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.signing.sign(message).to_bytes()
    }

    /// Whether `signature` is this key's over `message`.
    pub fn verify_bytes(&self, message: &[u8], signature: &[u8]) -> bool {
        use ed25519_dalek::Verifier as _;
        let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.signing.verifying_key().verify(message, &sig).is_ok()
    }

    /// The key as PKCS#8 DER, for storing.
    pub fn to_pkcs8(&self) -> Vec<u8> {
        self.signing
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    }

    /// A stored key.
    pub fn from_pkcs8(kid: &str, der: &[u8]) -> Result<LocalKey, String> {
        let signing = SigningKey::from_pkcs8_der(der).map_err(|e| format!("lagret nøkkel: {e}"))?;
        Ok(LocalKey {
            kid: kid.into(),
            signing,
        })
    }

    /// Signs any claims (tests use it for wrong issuers and expired tokens).
    pub fn sign_claims(&self, claims: &Claims) -> String {
        self.sign_claims_typed(claims, Some("JWT"))
    }

    /// Signs claims with a chosen `typ` header (`None`: no `typ`).
    pub fn sign_claims_typed(&self, claims: &Claims, typ: Option<&str>) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = typ.map(str::to_string);
        let key = EncodingKey::from_ed_der(&self.to_pkcs8());
        jsonwebtoken::encode(&header, claims, &key).unwrap_or_default()
    }

    /// The public key as a JWKS document (`{"keys": [OKP Ed25519]}`), as an issuer publishes it.
    pub fn jwks(&self) -> String {
        let x = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            self.signing.verifying_key().as_bytes(),
        );
        serde_json::json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "use": "sig", "alg": "EdDSA"
        }] })
        .to_string()
    }

    /// Signs a token for `subject` with `roles`, valid for `hours` from `now` (epoch seconds).
    pub fn sign(
        &self,
        subject: &str,
        name: Option<&str>,
        roles: &[Role],
        prescriber_role: Option<&str>,
        now: i64,
        hours: i64,
    ) -> String {
        let claims = Claims {
            sub: subject.into(),
            name: name.map(str::to_string),
            iss: LOCAL_ISSUER.into(),
            aud: LOCAL_AUDIENCE.into(),
            exp: now + hours * 3600,
            iat: now,
            nbf: None,
            cnf: None,
            roles: roles.iter().map(|r| r.code().to_string()).collect(),
            role: None,
            prescriber_role: prescriber_role.map(str::to_string),
            trust: None,
            scope: None,
            other: Default::default(),
        };
        self.sign_claims(&claims)
    }

    /// Signs a token for `who`, valid for `hours` from `now` (epoch seconds).
    pub fn sign_identity(&self, who: &Identity, now: i64, hours: i64) -> String {
        self.sign_claims(&Claims {
            sub: who.subject.clone(),
            name: Some(who.name.clone()),
            iss: LOCAL_ISSUER.into(),
            aud: LOCAL_AUDIENCE.into(),
            exp: now + hours * 3600,
            iat: now,
            nbf: None,
            cnf: None,
            roles: who.roles.iter().map(|r| r.code().to_string()).collect(),
            role: None,
            prescriber_role: who.prescriber_role.clone(),
            trust: who.trust.clone(),
            scope: None,
            other: Default::default(),
        })
    }
}

/// Who a locally signed token is for.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Subject (user id in the audit trail).
    pub subject: String,
    /// Display name.
    pub name: String,
    /// Roles.
    #[serde(deserialize_with = "roles")]
    pub roles: Vec<Role>,
    /// The prescriber's role in decisions.
    #[serde(default)]
    pub prescriber_role: Option<String>,
    /// The health trust.
    #[serde(default)]
    pub trust: Option<String>,
}

fn roles<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Role>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| {
            Role::from_code(n)
                .ok_or_else(|| serde::de::Error::custom(format!("ukjent rolle «{n}»")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_keys_and_unknown_key_types_in_a_jwks_are_skipped_not_fatal() {
        let key = LocalKey::generate();
        let mut doc: serde_json::Value = serde_json::from_str(&key.jwks()).unwrap();
        let keys = doc["keys"].as_array_mut().unwrap();
        keys.insert(
            0,
            serde_json::json!({ "kty": "RSA", "use": "enc", "kid": "enc-1", "alg": "RSA-OAEP",
                                "n": "not-even-a-key", "e": "AQAB" }),
        );
        keys.push(serde_json::json!({ "kty": "weird", "kid": "w" }));
        let verifier =
            Verifier::from_jwks("https://helseid.example", "legemiddel", &doc.to_string())
                .expect("the signing key is enough");
        let now = chrono::Utc::now().timestamp();
        let token = key.sign_claims(&Claims {
            sub: "hpr:123".into(),
            name: None,
            iss: "https://helseid.example".into(),
            aud: Audience::Many(vec!["nhn".into(), "legemiddel".into()]),
            exp: now + 600,
            iat: now,
            nbf: None,
            cnf: None,
            roles: vec!["prescriber".into()],
            role: None,
            prescriber_role: None,
            trust: None,
            scope: None,
            other: Default::default(),
        });
        let user = verifier
            .verify(&token)
            .expect("signed by the key kept, aud as an array");
        assert_eq!(user.subject, "hpr:123");
        let only_enc =
            serde_json::json!({ "keys": [{ "kty": "RSA", "use": "enc", "n": "x", "e": "AQAB" }] });
        assert!(Verifier::from_jwks("i", "a", &only_enc.to_string()).is_err());
    }
}
