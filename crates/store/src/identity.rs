//! Which database this is, and whether the file under a running service is still it.
//!
//! An SQLite store lives in a data folder: `legemiddel.db` and, beside it, `legemiddel.db.id`
//! with the random identity the database was created with (table `store_identity`). So:
//! - a database file deleted while the folder remains is refused at the next start, instead of
//!   being re-created empty — with a new signing key (every token void) and a new audit trail
//!   that no longer reaches the heads operators have kept;
//! - a database file replaced by another (an old backup, another site's file) is refused;
//! - while the service runs, the file's device and inode are compared before every commit:
//!   writes into a deleted or swapped file would be acknowledged and then lost.
//!
//! The folder is `0700` and the files `0600`: the database holds the signing key.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Store, StoreError};

/// The file beside the database that keeps its identity.
pub fn id_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".id");
    PathBuf::from(name)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::DataDir {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the data folder (`0700`) and, on first use, an empty database file (`0600`); refuses
/// a folder whose database has gone missing.
pub(crate) fn prepare_data_dir(dir: &Path, db: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir))?;
    tighten(dir, 0o700)?;
    let id = id_file(db);
    match fs::metadata(db) {
        Ok(_) => tighten(db, 0o600),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Ok(known) = fs::read_to_string(&id) {
                return Err(StoreError::Identity(format!(
                    "databasefilen {} mangler, men datamappen har hatt en database (identitet {} i {}). \
                     Den er slettet eller flyttet mens mappen ble stående: legg den tilbake fra \
                     sikkerhetskopi. Skal du virkelig begynne på nytt med en tom database (ny \
                     signeringsnøkkel, ny revisjonslogg), flytt først {} bort.",
                    db.display(),
                    known.trim(),
                    id.display(),
                    id.display()
                )));
            }
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(db)
                .map(drop)
                .map_err(io(db))
        }
        Err(e) => Err(io(db)(e)),
    }
}

/// Narrows a path's permissions to `mode` when they are wider (a folder made by hand, say).
fn tighten(path: &Path, mode: u32) -> Result<(), StoreError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    let current = meta.permissions().mode() & 0o777;
    if current & !mode != 0 {
        tracing::warn!(
            path = %path.display(),
            from = format!("{current:o}"),
            to = format!("{mode:o}"),
            "strammer inn tilgangen: bare tjenestens bruker skal kunne lese databasen og nøkkelen"
        );
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))?;
    }
    Ok(())
}

/// After migrating: the database's identity matches the folder's record of it (written on
/// first open); returns the file's identity on disk for the checks while running.
pub(crate) async fn settle(store: &Store, db: &Path) -> Result<FileIdentity, StoreError> {
    let uuid = store.identity_or_insert().await?;
    let id = id_file(db);
    match fs::read_to_string(&id) {
        Ok(known) if known.trim() == uuid => {}
        Ok(known) => {
            return Err(StoreError::Identity(format!(
                "databasefilen {} er ikke den denne datamappen ble laget med (den har identitet {uuid}, \
                 mappen venter {}): filen er byttet ut. Legg tilbake riktig fil, eller flytt {} bort \
                 hvis byttet er med vilje.",
                db.display(),
                known.trim(),
                id.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&id)
                .map_err(io(&id))?;
            f.write_all(format!("{uuid}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io(&id))?;
        }
        Err(e) => return Err(io(&id)(e)),
    }
    FileIdentity::of(db)
}

/// A file as the kernel knows it: device and inode.
#[derive(Clone, Debug)]
pub(crate) struct FileIdentity {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl FileIdentity {
    fn of(path: &Path) -> Result<FileIdentity, StoreError> {
        let m = fs::metadata(path).map_err(io(path))?;
        Ok(FileIdentity {
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    /// The path still names the file that was opened.
    pub(crate) fn check(&self) -> Result<(), StoreError> {
        match fs::metadata(&self.path) {
            Ok(m) if m.dev() == self.dev && m.ino() == self.ino => Ok(()),
            Ok(_) => Err(StoreError::Identity(format!(
                "databasefilen {} er byttet ut mens tjenesten kjører: ingenting lagres før tjenesten \
                 er startet på nytt på riktig fil",
                self.path.display()
            ))),
            Err(_) => Err(StoreError::Identity(format!(
                "databasefilen {} er slettet mens tjenesten kjører: ingenting lagres før den er lagt \
                 tilbake og tjenesten startet på nytt",
                self.path.display()
            ))),
        }
    }
}

/// Now, for the identity row (the store reads no other clock).
pub(crate) fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("{secs}")
}
