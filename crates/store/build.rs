//! Rebuilds the store when a migration is added.
fn main() {
    // New migration files must rebuild the crate that embeds them (sqlx::migrate!).
    println!("cargo:rerun-if-changed=migrations");
}
