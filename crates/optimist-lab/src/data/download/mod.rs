//! Downloading MNIST: the four files from a mirror into a cache folder, each checked
//! against its published size and MD5 before it appears under its own name.
//!
//! A file is streamed into a temporary file in the same folder
//! ([`temporary_file`], `.NAME.PID.RANDOM.part`) and hashed as it arrives; it is renamed into
//! place only once its size and checksum are right. On any failure the temporary file
//! is removed, so the folder holds whole, verified files and nothing else. Files
//! already present with the right checksum are not downloaded again; a present file
//! with the wrong size or checksum is replaced (only once its replacement is verified).
//!
//! The checksums are the MD5s torchvision publishes: they catch damage in transit and
//! a mirror serving other files, not deliberate tampering.
//!
//! - [`files`]: what is fetched (the MNIST listing), the settings, events and errors;
//! - [`folder`]: the cache folder and its temporary files;
//! - [`address`]: mirror addresses checked, redirects resolved, passwords kept out of
//!   messages;
//! - [`fetch`]: one file fetched, streamed, hashed and verified.

pub mod address;
pub mod fetch;
pub mod files;
pub mod folder;

pub use self::address::redact;
pub use self::files::{
    DownloadError, Event, FailureKind, Fetched, RemoteFile, Settings, DEADLINE, MNIST_FILES,
    MNIST_MIRROR,
};
pub use self::folder::{default_dir, remove_stale_parts, temporary_file};

use self::address::mirror_base;
use self::fetch::{agent, check_listing, fetch, verify_existing, Existing};
use std::path::Path;

/// Downloads each of `files` from `mirror` (an `http://` or `https://` address of the
/// folder holding them) into `dir`, created if missing, skipping those already there
/// with the right checksum; reports progress to `on_event`.
///
/// Stops at the first failure; files completed before it stay (each is whole and
/// verified), the failed one leaves nothing behind.
pub fn download(
    files: &[RemoteFile<'_>],
    mirror: &str,
    dir: &Path,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Fetched>, DownloadError> {
    download_with(files, mirror, dir, &Settings::default(), on_event)
}

/// [`download`] with its deadline and redirect policy given.
pub fn download_with(
    files: &[RemoteFile<'_>],
    mirror: &str,
    dir: &Path,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Fetched>, DownloadError> {
    let base = mirror_base(mirror)?;
    for file in files {
        check_listing(file)?;
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        DownloadError::new(
            FailureKind::Folder,
            format!("cannot create the folder {}: {e}", dir.display()),
        )
    })?;
    let agent = agent(&base, settings.deadline);
    let mut fetched = Vec::with_capacity(files.len());
    for file in files {
        let path = dir.join(file.name);
        match verify_existing(&path, file)? {
            Existing::Good => {
                on_event(Event::Present { name: file.name });
                fetched.push(Fetched {
                    path,
                    downloaded: false,
                });
                continue;
            }
            Existing::Damaged(problem) => on_event(Event::Damaged {
                name: file.name,
                problem: &problem,
            }),
            Existing::Missing => {}
        }
        remove_stale_parts(dir, file.name);
        let url = format!("{base}{}", file.name);
        fetch(&agent, &url, file, dir, &path, settings, on_event).map_err(|mut e| {
            e.file = Some(file.name.to_string());
            e.url.get_or_insert_with(|| redact(&url));
            e
        })?;
        on_event(Event::Saved { name: file.name });
        fetched.push(Fetched {
            path,
            downloaded: true,
        });
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::address::host;
    use super::*;

    #[test]
    fn mirror_addresses_are_checked_and_end_in_a_slash() {
        assert_eq!(
            mirror_base("http://127.0.0.1:8080/mnist").unwrap(),
            "http://127.0.0.1:8080/mnist/"
        );
        assert_eq!(mirror_base(MNIST_MIRROR).unwrap(), MNIST_MIRROR);
        for bad in [
            "ftp://x/",
            "example.com/mnist",
            "http:///mnist",
            "https://h/?a=1",
        ] {
            let e = mirror_base(bad).unwrap_err();
            assert_eq!(e.kind, FailureKind::Input, "{bad}");
            assert!(e.to_string().contains(bad.trim()), "{e}");
        }
    }

    #[test]
    fn hosts_are_found_in_addresses() {
        assert_eq!(host("http://127.0.0.1:80/a"), "127.0.0.1");
        assert_eq!(host("https://user@Example.com/a"), "Example.com");
        assert_eq!(host("http://[::1]:8/"), "::1");
        assert_eq!(host("http://"), "");
    }

    #[test]
    fn file_names_must_be_plain_and_checksums_md5() {
        let good = MNIST_FILES[0];
        assert!(check_listing(&good).is_ok());
        for name in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            let e = check_listing(&RemoteFile { name, ..good }).unwrap_err();
            assert_eq!(e.kind, FailureKind::Input, "{name:?}");
        }
        let e = check_listing(&RemoteFile { md5: "abc", ..good }).unwrap_err();
        assert!(e.to_string().contains("not an MD5"), "{e}");
    }

    #[test]
    fn the_file_list_names_what_the_reader_looks_for() {
        let names: Vec<String> = [
            crate::data::mnist::TEST_IMAGES,
            crate::data::mnist::TEST_LABELS,
            crate::data::mnist::TRAIN_IMAGES,
            crate::data::mnist::TRAIN_LABELS,
        ]
        .iter()
        .map(|n| format!("{n}.gz"))
        .collect();
        assert_eq!(MNIST_FILES.map(|f| f.name.to_string()).to_vec(), names);
        for f in MNIST_FILES {
            assert!(check_listing(&f).is_ok());
        }
    }
}
