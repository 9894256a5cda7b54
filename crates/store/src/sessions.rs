//! Web sessions ended by signing out. A session is its token (in an HttpOnly cookie); signing
//! out records the token's hash here until the token would have expired anyway, and every
//! instance refuses a token found here — so signing out ends the session on the server, not
//! only in the browser that held the cookie.

use crate::{Store, StoreError};

impl Store {
    /// Ends the session whose token hashes to `token_hash` (hex SHA-256), kept until `expires`
    /// (epoch seconds). Ending it twice is no error. Expired entries are swept on the way.
    pub async fn end_session(
        &self,
        token_hash: &str,
        expires: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let (hash, now) = (token_hash.to_string(), now);
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM ended_sessions WHERE expires < $1")
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(
                    "INSERT INTO ended_sessions (token_hash, expires) VALUES ($1, $2) \
                     ON CONFLICT (token_hash) DO NOTHING",
                )
                .bind(&hash)
                .bind(expires)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Whether the session with this token hash was ended.
    pub async fn session_ended(&self, token_hash: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM ended_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}

impl Store {
    /// Records a DPoP proof's `jti` until `expires` (epoch seconds) and says whether it is new:
    /// `false` is a replay. Kept in the database, so every instance refuses a proof any instance
    /// has seen. Expired entries are swept on the way.
    pub async fn first_use_of_proof(
        &self,
        jti: &str,
        expires: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let jti = jti.to_string();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM dpop_proofs WHERE expires < $1")
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                let done = sqlx::query(
                    "INSERT INTO dpop_proofs (jti, expires) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
                )
                .bind(&jti)
                .bind(expires)
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected() == 1)
            })
        })
        .await
    }
}
