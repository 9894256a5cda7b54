//! DPoP (RFC 9449), as NHN's APIs take HelseID's tokens: `Authorization: DPoP <access token>`
//! with a `DPoP` header holding a proof — a JWT the client signs with its own key for this one
//! request. The proof must be of type `dpop+jwt`, signed by the public key in its header, for
//! this method (`htm`) and URL (`htu`, without query or fragment), made now (`iat`, within a
//! minute), for this access token (`ath`: its SHA-256), and never seen before (`jti`, kept in
//! the store so that two instances refuse the same replay). The access token's `cnf.jkt` must
//! then be the thumbprint (RFC 7638) of the proof's key: [`crate::auth::Verifier::verify`]
//! checks that against what [`check`] found.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};

/// How far a proof's `iat` may be from now, in seconds.
pub const IAT_WINDOW: i64 = 60;

/// What a valid proof says.
#[derive(Debug, PartialEq, Eq)]
pub struct Proof {
    /// The thumbprint of the proof's key (to match the token's `cnf.jkt`).
    pub jkt: String,
    /// The proof's id (to refuse a replay).
    pub jti: String,
}

#[derive(serde::Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
}

/// The RFC 7638 thumbprint of a public key: SHA-256 over its required members in order.
pub fn thumbprint(jwk: &Jwk) -> Result<String, String> {
    let canonical = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) => {
            let crv = serde_json::to_value(&ec.curve).map_err(|e| e.to_string())?;
            format!(
                r#"{{"crv":{crv},"kty":"EC","x":"{}","y":"{}"}}"#,
                ec.x, ec.y
            )
        }
        AlgorithmParameters::RSA(rsa) => {
            format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, rsa.e, rsa.n)
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            let crv = serde_json::to_value(&okp.curve).map_err(|e| e.to_string())?;
            format!(r#"{{"crv":{crv},"kty":"OKP","x":"{}"}}"#, okp.x)
        }
        _ => return Err("nøkkeltypen kan ikke bevise noe (ventet EC, RSA eller OKP)".into()),
    };
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The URL as `htu` compares it: scheme and host in lower case, no query or fragment.
fn normal(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or("");
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            format!(
                "{}://{}{}",
                scheme.to_ascii_lowercase(),
                authority.to_ascii_lowercase(),
                if path.is_empty() { "/" } else { path }
            )
        }
        None => url.to_string(),
    }
}

/// Checks a proof for a request of `method` to `url` carrying `access_token`, at `now`
/// (seconds since the epoch). The `jti` is returned for the caller to refuse a replay.
pub fn check(
    proof: &str,
    method: &str,
    url: &str,
    access_token: &str,
    now: i64,
) -> Result<Proof, String> {
    let header = jsonwebtoken::decode_header(proof).map_err(|e| format!("ikke et JWT: {e}"))?;
    if !header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"))
    {
        return Err("typ må være dpop+jwt".into());
    }
    if matches!(
        header.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err("algoritmen må være asymmetrisk".into());
    }
    let jwk = header
        .jwk
        .ok_or("mangler jwk (beviset må bære sin offentlige nøkkel)")?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("jwk: {e}"))?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|e| format!("signaturen eller påstandene stemmer ikke: {e}"))?
        .claims;
    if !claims.htm.eq_ignore_ascii_case(method) {
        return Err(format!("htm er {}, forespørselen er {method}", claims.htm));
    }
    if normal(&claims.htu) != normal(url) {
        return Err(format!(
            "htu er {}, forespørselen gikk til {}",
            claims.htu,
            normal(url)
        ));
    }
    if (claims.iat - now).abs() > IAT_WINDOW {
        return Err(format!("iat er ikke innenfor {IAT_WINDOW} sekunder av nå"));
    }
    let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()));
    if claims.ath.as_deref() != Some(ath.as_str()) {
        return Err("ath er ikke hashen av tilgangstokenet".into());
    }
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err("jti mangler eller er for lang".into());
    }
    Ok(Proof {
        jkt: thumbprint(&jwk)?,
        jti: claims.jti,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7638_example_thumbprint() {
        // RFC 7638 § 3.1.
        let jwk: Jwk = serde_json::from_str(r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#).unwrap();
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn urls_compare_without_query_and_with_host_case_folded() {
        assert_eq!(
            normal("HTTPS://Legemiddel.Example/api/v1/decide?x=1#y"),
            "https://legemiddel.example/api/v1/decide"
        );
        assert_eq!(normal("http://h:8080"), "http://h:8080/");
    }

    #[test]
    fn a_proof_that_is_not_a_dpop_jwt_is_refused_with_why() {
        assert!(check("not.a.jwt", "GET", "http://h/", "t", 0).is_err());
    }
}
