//! `optimist data mnist`: downloads the four MNIST files into a cache folder (or
//! `--dir DIR`), each verified against its published size and MD5 before it appears,
//! and prints the `optimist train` command that uses them.

use crate::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use optimist_lab::data::download::{
    self, DownloadError, Event, FailureKind, MNIST_FILES, MNIST_MIRROR,
};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Options of `optimist data`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    set: Set,
}

#[derive(Debug, clap::Subcommand)]
enum Set {
    /// Download MNIST (four files, 11.6 MB) from a public mirror into a cache folder,
    /// checking each file's size and MD5; files already there and verified are kept.
    Mnist(MnistArgs),
}

/// Options of `optimist data mnist`.
#[derive(Debug, clap::Args)]
struct MnistArgs {
    /// Folder to download into, created if missing [default: $XDG_CACHE_HOME/optimist/mnist,
    /// else the per-user cache folder: ~/.cache/optimist/mnist on Linux,
    /// ~/Library/Caches/optimist/mnist on macOS, %LOCALAPPDATA%\optimist\mnist on Windows]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// Address of a folder holding the four files (e.g. your own mirror).
    #[arg(long, value_name = "URL", default_value = MNIST_MIRROR)]
    mirror: String,

    /// The longest one file may take to arrive, in seconds (1 to 86400), however slowly
    /// its bytes come.
    #[arg(long, value_name = "SECONDS", default_value_t = download::DEADLINE.as_secs(), value_parser = parse_timeout)]
    timeout: u64,

    /// Follow redirects to other hosts or schemes than the mirror's (refused by default).
    #[arg(long)]
    allow_redirects: bool,
}

fn parse_timeout(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (1..=86_400).contains(&n) => Ok(n),
        _ => Err(format!(
            "{} is not a whole number of seconds from 1 to 86400",
            optimist_lab::text::quoted(text)
        )),
    }
}

/// Runs `optimist data SET`.
pub fn run(args: Args) -> Result<(), Failure> {
    match args.set {
        Set::Mnist(args) => mnist(args),
    }
}

fn mnist(args: MnistArgs) -> Result<(), Failure> {
    let dir = match args.dir {
        Some(dir) => dir,
        None => download::default_dir().ok_or_else(|| {
            Failure::usage(
                "cannot tell where your cache folder is (neither XDG_CACHE_HOME nor the home folder is set); choose a folder with --dir DIR",
            )
        })?,
    };
    crate::on_interrupt(format!(
        ": nothing half-written is left in {}; run `optimist data mnist` again to finish (files already verified are kept)",
        dir.display()
    ));
    let settings = download::Settings {
        deadline: std::time::Duration::from_secs(args.timeout),
        other_hosts: args.allow_redirects,
    };

    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<ProgressBar> = None;
    let result =
        download::download_with(&MNIST_FILES, &args.mirror, &dir, &settings, &mut |event| {
            match event {
                Event::Present { name } => say!("{name}: already there, checksum verified"),
                Event::Damaged { name, problem } => {
                    say!("{name}: already there but damaged ({problem}); downloading it again")
                }
                Event::Started { name, url, size } => {
                    if terminal {
                        let b = ProgressBar::new(size).with_message(name.to_string());
                        b.set_style(
                    ProgressStyle::with_template(
                        "{msg} {wide_bar} {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                );
                        bar = Some(b);
                    } else {
                        say!("downloading {url} ({size} bytes)");
                    }
                }
                Event::Progress { done, .. } => {
                    if let Some(b) = &bar {
                        b.set_position(done);
                    }
                }
                Event::Saved { name } => {
                    if let Some(b) = bar.take() {
                        b.finish_and_clear();
                    }
                    say!("{name}: downloaded, checksum verified");
                }
            }
        });
    if let Some(b) = bar.take() {
        b.finish_and_clear();
    }
    match result {
        Ok(_) => crate::stdio::print(&success(&dir)),
        Err(e) => Err(failure(e, &dir)),
    }
}

/// What to say once every file is there: where, and the command that trains on it.
fn success(dir: &Path) -> String {
    let mut text = format!(
        "MNIST is in {} (all four files verified). Train on it with:\n  optimist train --data {}\n",
        dir.display(),
        shell_quoted(dir)
    );
    if download::default_dir().as_deref() == Some(dir) {
        text.push_str(
            "(or just `optimist train`: it looks there when ./data/mnist does not exist)\n",
        );
    }
    text
}

/// The error with what to do about it; bad input exits 2, anything else 1.
fn failure(e: DownloadError, dir: &Path) -> Failure {
    let again = "run `optimist data mnist` again (files already verified are kept)";
    let by_hand = format!(
        "or download the four files yourself (from {MNIST_MIRROR}) into {}",
        dir.display()
    );
    let advice = match e.kind {
        FailureKind::Input => {
            return Failure::usage(format!(
                "{e}\n(--mirror takes the address of a folder holding the four files, e.g. {MNIST_MIRROR})"
            ))
            .because(e)
        }
        FailureKind::Folder => {
            return Failure::runtime(format!("{e}\n(choose another folder with --dir DIR)"))
                .because(e)
        }
        FailureKind::Network => format!(
            "Nothing of it was kept. Check your connection and {again}, use another mirror with --mirror URL, {by_hand}"
        ),
        FailureKind::Status(_) => format!(
            "Nothing was kept. The mirror may have moved or lack the file: use another with --mirror URL, {by_hand}"
        ),
        FailureKind::Redirect => format!(
            "Nothing was kept. Use a mirror that serves the files itself with --mirror URL, {by_hand}"
        ),
        FailureKind::Size | FailureKind::Checksum => format!(
            "Nothing of it was kept. To retry, {again}; else use another mirror with --mirror URL, {by_hand}"
        ),
        FailureKind::Disk => format!(
            "Nothing of it was kept. Free some space or choose another folder with --dir DIR, then {again}"
        ),
    };
    let mut message = format!("{e}\n{advice}.");
    let source = e.clone();
    // The test files come first: when only the training files failed, the test set is
    // there, verified, and enough for `optimist train` on its own.
    let test_files_done = MNIST_FILES[..2]
        .iter()
        .all(|f| e.file.as_deref() != Some(f.name) && dir.join(f.name).is_file());
    if test_files_done {
        message.push_str(&format!(
            "\nThe test set is complete meanwhile: `optimist train --data {}` trains on part of it.",
            shell_quoted(dir)
        ));
    }
    Failure::runtime(message).because(source)
}

/// `path` as one word for a POSIX shell: as it is when plain, else in single quotes.
fn shell_quoted(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:=@%~".contains(c))
        && !text.starts_with('~');
    if plain {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(
            shell_quoted(Path::new("/home/a/.cache/optimist/mnist")),
            "/home/a/.cache/optimist/mnist"
        );
        assert_eq!(shell_quoted(Path::new("my data/mnist")), "'my data/mnist'");
        assert_eq!(shell_quoted(Path::new("it's")), r"'it'\''s'");
        assert_eq!(shell_quoted(Path::new("~x")), "'~x'");
    }

    #[test]
    fn success_names_the_folder_and_the_train_command() {
        let text = success(Path::new("/tmp/my mnist"));
        assert!(
            text.starts_with("MNIST is in /tmp/my mnist (all four files verified)"),
            "{text}"
        );
        assert!(
            text.contains("\n  optimist train --data '/tmp/my mnist'\n"),
            "{text}"
        );
    }
}
