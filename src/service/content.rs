//! What a database holds over time: the text users write (`sim write`, the Query editor),
//! really encrypted under the database's DEK, and the protector intervals its backups need.
//! History is kept as long as point-in-time restore (and long-term retention) needs it, and
//! no longer.

use super::key_access::unwrap_in_memory;
pub(crate) use super::lookup::require_serving;
use super::lookup::{live_database, tde_error};
use super::{ServiceError, ServiceResult, transact};
use crate::crypto::{DataEncryptionKey, PAGE_SIZE};
use crate::model::*;

/// The page number the written text is stored at (after the sample pages).
pub const TEXT_PAGE_NO: usize = 4;

/// The most text one write holds (one data page, less the row overhead).
pub const MAX_TEXT_BYTES: usize = PAGE_SIZE - 96;

/// A client connection to `db`: the server serves and the database is Online.
pub(crate) fn connectable<'a>(
    ws: &'a Workspace,
    server_name: &str,
    db: &str,
) -> ServiceResult<&'a Database> {
    let d = live_database(ws, server_name, db)?;
    require_serving(ws, server_name, db)?;
    if !d.state.is_online() {
        return Err(ServiceError::database_unavailable(server_name, &d.name));
    }
    Ok(d)
}

/// Seals `text` the way database `d` stores pages: under its DEK while TDE is on.
pub(crate) fn seal(
    d: &Database,
    dek: Option<&DataEncryptionKey>,
    text: &str,
) -> ServiceResult<SealedText> {
    match (d.tde_enabled(), dek) {
        (true, Some(dek)) => dek
            .encrypt_page(TEXT_PAGE_NO, text.as_bytes())
            .map(|page| SealedText::Encrypted {
                dek_epoch: d.dek_epoch,
                page,
            })
            .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string())),
        _ => Ok(SealedText::Plain(text.as_bytes().to_vec())),
    }
}

/// Opens a sealed text with the DEK of its epoch.
pub(crate) fn unseal(
    sealed: &SealedText,
    dek: Option<&DataEncryptionKey>,
) -> ServiceResult<String> {
    let bytes = match (sealed, dek) {
        (SealedText::Plain(b), _) => b.clone(),
        (SealedText::Encrypted { page, .. }, Some(dek)) => dek
            .decrypt_page(page)
            .map_err(|e| ServiceError::new("InternalServerError", 500, e.to_string()))?,
        (SealedText::Encrypted { .. }, None) => {
            return Err(ServiceError::new(
                "InternalServerError",
                500,
                "The database key needed to decrypt this content is not available.",
            ));
        }
    };
    String::from_utf8(bytes).map_err(|_| {
        ServiceError::new(
            "InternalServerError",
            500,
            "The stored content is not valid UTF-8.",
        )
    })
}

/// The revision visible at `t` (the newest one at or before it).
pub fn revision_at(d: &Database, t: Timestamp) -> Option<&ContentRevision> {
    let i = d.content.partition_point(|r| r.at <= t);
    i.checked_sub(1).map(|i| &d.content[i])
}

/// The DEK the server holds for an Online database (none while TDE is off).
fn dek_in_memory(
    ws: &Workspace,
    server_name: &str,
    d: &Database,
) -> ServiceResult<Option<DataEncryptionKey>> {
    if !d.tde_enabled() {
        return Ok(None);
    }
    unwrap_in_memory(ws, server_name, d)
        .map(Some)
        .map_err(|f| tde_error(ws, server_name, &f))
}

/// `sim read`: the database's current text, really decrypted with its DEK.
pub fn read_text(ws: &Workspace, server_name: &str, db: &str) -> ServiceResult<String> {
    let d = connectable(ws, server_name, db)?;
    let Some(rev) = revision_at(d, ws.now()) else {
        return Ok(String::new());
    };
    let dek = dek_in_memory(ws, server_name, d)?;
    unseal(&rev.sealed, dek.as_ref())
}

/// `sim write`: replaces the database's text, encrypting the page under its DEK. Geo-
/// secondaries receive the write after the replication lag.
pub fn write_text(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    text: &str,
) -> ServiceResult<()> {
    transact(ws, |ws| {
        if text.len() > MAX_TEXT_BYTES {
            return Err(ServiceError::bad_request(
                "InvalidArgument",
                format!(
                    "The text is {} bytes; one write holds at most {MAX_TEXT_BYTES} bytes (one 8 KiB page).",
                    text.len()
                ),
            ));
        }
        let d = connectable(ws, server_name, db)?;
        if ws.continuity.primary_of(server_name, db).is_some() {
            return Err(ServiceError::bad_request(
                "3906",
                format!(
                    "Failed to update database \"{}\" because the database is read-only (it is a geo-secondary).",
                    d.name
                ),
            ));
        }
        let dek = dek_in_memory(ws, server_name, d)?;
        let sealed = seal(d, dek.as_ref(), text)?;
        let now = ws.now();
        push_revision(ws, server_name, db, now, sealed.clone());
        replicate(ws, server_name, db, now, &sealed, 0);
        Ok(())
    })
}

/// Sends a write to every geo-secondary of `server`/`db` (and theirs), arriving after the lag.
fn replicate(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    at: Timestamp,
    sealed: &SealedText,
    depth: usize,
) {
    if depth > 4 {
        return;
    }
    let targets: Vec<(String, String)> = ws
        .continuity
        .secondaries_of(server_name, db)
        .map(|l| (l.secondary_server.clone(), l.secondary_database.clone()))
        .collect();
    let arrives = at + REPLICATION_LAG;
    for (s, d) in targets {
        push_revision(ws, &s, &d, arrives, sealed.clone());
        replicate(ws, &s, &d, arrives, sealed, depth + 1);
    }
}

/// Appends a revision (kept in time order) and drops what no restore can need any more.
pub(crate) fn push_revision(
    ws: &mut Workspace,
    server_name: &str,
    db: &str,
    at: Timestamp,
    sealed: SealedText,
) {
    let now = ws.now();
    if let Some(d) = ws.server_mut(server_name).and_then(|s| s.database_mut(db)) {
        let i = d.content.partition_point(|r| r.at <= at);
        d.content.insert(i, ContentRevision { at, sealed });
        d.prune_history(now);
    }
}

/// Number of sample pages a new database holds (files from before 2026-11 hold four).
pub const SAMPLE_PAGES: usize = 1;

/// Bytes of sample rows in each sample page: the used part of an 8 KiB data page (a page
/// nobody has written to holds little). Kept small so an estate of 50,000 databases stays a
/// file of tens of megabytes; what users write is stored in pages of its own size.
pub const SAMPLE_PAGE_BYTES: usize = 512;

/// Deterministic sample rows for a database, [`SAMPLE_PAGE_BYTES`] per page.
pub fn sample_pages(db: &str) -> Vec<Vec<u8>> {
    (0..SAMPLE_PAGES)
        .map(|page| {
            let mut text = String::with_capacity(SAMPLE_PAGE_BYTES);
            let mut row = page * 100;
            while text.len() < SAMPLE_PAGE_BYTES {
                row += 1;
                text.push_str(&format!(
                    "{db}|{row:06}|Customer {row:06}|{}|{}.{:02}\n",
                    [
                        "Contoso Ltd",
                        "Fabrikam Inc",
                        "Northwind Traders",
                        "Adventure Works"
                    ][row % 4],
                    (row * 37) % 10_000,
                    row % 100
                ));
            }
            let mut bytes = text.into_bytes();
            bytes.truncate(SAMPLE_PAGE_BYTES);
            bytes
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_round_trips_and_needs_its_dek() {
        let dek = DataEncryptionKey::generate();
        let page = dek.encrypt_page(TEXT_PAGE_NO, b"version one").unwrap();
        let sealed = SealedText::Encrypted { dek_epoch: 0, page };
        assert_eq!(unseal(&sealed, Some(&dek)).unwrap(), "version one");
        let other = DataEncryptionKey::generate();
        assert!(unseal(&sealed, Some(&other)).is_err());
        assert!(unseal(&sealed, None).is_err());
    }
}
