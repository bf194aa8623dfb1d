//! The Slurm scripts of a bench: a job array whose tasks each run one shard (the
//! command reads `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`), and a report job
//! that runs once the whole array has succeeded.
//!
//! Every value the scripts hold is shell-quoted, and the `#SBATCH` lines (which Slurm
//! reads with its own rules, not the shell's) hold no path: the logs are named relative
//! to the folder `submit.sh` submits from, `DIR/slurm`.

use std::path::Path;

/// How to submit a bench to Slurm.
#[derive(Debug, Clone, PartialEq)]
pub struct Slurm {
    /// Tasks of the job array (shards).
    pub tasks: usize,
    /// CPUs per task (the task's threads).
    pub cpus: usize,
    /// The `optimist` binary, by absolute path (the nodes must see it).
    pub exe: String,
    /// The bench folder, by absolute path, on a filesystem every node shares.
    pub dir: String,
    /// The arguments of `optimist bench` that define the suite (without `--out`).
    pub args: Vec<String>,
}

/// The file the array script is written to, in `DIR/slurm/`.
pub const ARRAY_SCRIPT: &str = "bench-array.sbatch";
/// The file the report script is written to, in `DIR/slurm/`.
pub const REPORT_SCRIPT: &str = "bench-report.sbatch";
/// The script that submits both, in `DIR/slurm/`.
pub const SUBMIT_SCRIPT: &str = "submit.sh";

/// `text` quoted for a POSIX shell: as it is when every character is plain, else in
/// single quotes (a quote inside written `'\''`), in which nothing is expanded.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Why `text` cannot go into a Slurm script, if it cannot: a control character (a
/// newline would end a line of the script; Slurm's `#SBATCH` lines and job names
/// cannot hold one either).
pub fn unfit(text: &str) -> Option<String> {
    let c = text.chars().find(|c| c.is_control())?;
    Some(format!(
        "{} holds a control character ({}), which a Slurm script cannot take",
        crate::text::quoted(text),
        c.escape_debug()
    ))
}

impl Slurm {
    /// Why these settings cannot be written as scripts, if they cannot: a value with
    /// a control character ([`unfit`]).
    pub fn check(&self) -> Result<(), String> {
        for text in [&self.exe, &self.dir].into_iter().chain(&self.args) {
            if let Some(why) = unfit(text) {
                return Err(why);
            }
        }
        Ok(())
    }

    /// The scripts: (file name in `DIR/slurm/`, text).
    pub fn scripts(&self) -> Vec<(&'static str, String)> {
        let exe = shell_quote(&self.exe);
        let dir = shell_quote(&self.dir);
        let logs = Path::new(&self.dir).join("slurm");
        let logs = shell_quote(&logs.to_string_lossy());
        let args: Vec<String> = self.args.iter().map(|a| shell_quote(a)).collect();
        // The logs are named relative to the folder sbatch runs in: submit.sh cds into
        // DIR/slurm first.
        let array = format!(
            "#!/bin/sh\n\
             # optimist bench: one shard of the suite per array task; the command reads\n\
             # SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT. Finished jobs are never rerun,\n\
             # so a task that is requeued resumes where it stopped. Logs go to the folder\n\
             # sbatch runs in: submit with submit.sh, which runs it in this folder.\n\
             #SBATCH --job-name=optimist-bench\n\
             #SBATCH --array=0-{last}\n\
             #SBATCH --cpus-per-task={cpus}\n\
             #SBATCH --output=shard-%a.out\n\
             export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n\
             exec {exe} bench {args} --out {dir}\n",
            last = self.tasks - 1,
            cpus = self.cpus,
            args = args.join(" "),
        );
        let report = format!(
            "#!/bin/sh\n\
             # optimist bench: the report, once every shard has finished. Its log goes to\n\
             # the folder sbatch runs in: submit with submit.sh, which runs it in this folder.\n\
             #SBATCH --job-name=optimist-bench-report\n\
             #SBATCH --cpus-per-task=1\n\
             #SBATCH --output=report.out\n\
             exec {exe} bench report {dir}\n"
        );
        let submit = format!(
            "#!/bin/sh\n\
             # Submits the job array, then the report job that waits for it to succeed.\n\
             set -eu\n\
             cd {logs}\n\
             array=$(sbatch --parsable {ARRAY_SCRIPT})\n\
             array=${{array%%;*}}\n\
             report=$(sbatch --parsable --dependency=afterok:\"$array\" {REPORT_SCRIPT})\n\
             report=${{report%%;*}}\n\
             echo \"submitted job array $array ({tasks} tasks) and report job $report\"\n",
            tasks = self.tasks
        );
        vec![
            (ARRAY_SCRIPT, array),
            (REPORT_SCRIPT, report),
            (SUBMIT_SCRIPT, submit),
        ]
    }
}

/// The shard (I, N) a Slurm array task runs, from `SLURM_ARRAY_TASK_ID`,
/// `SLURM_ARRAY_TASK_COUNT` and `SLURM_ARRAY_TASK_MIN` (given as `get`), or `None`
/// outside a job array.
pub fn array_shard(get: impl Fn(&str) -> Option<String>) -> Result<Option<(usize, usize)>, String> {
    let Some(id) = get("SLURM_ARRAY_TASK_ID") else {
        return Ok(None);
    };
    let num = |name: &str, text: &str| {
        text.trim()
            .parse::<usize>()
            .map_err(|_| format!("{name}={} is not a whole number", crate::text::quoted(text)))
    };
    let id = num("SLURM_ARRAY_TASK_ID", &id)?;
    let count = get("SLURM_ARRAY_TASK_COUNT")
        .ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")?;
    let count = num("SLURM_ARRAY_TASK_COUNT", &count)?;
    let min = match get("SLURM_ARRAY_TASK_MIN") {
        Some(m) => num("SLURM_ARRAY_TASK_MIN", &m)?,
        None => 0,
    };
    let index = id.checked_sub(min).filter(|&i| i < count).ok_or_else(|| {
        format!("SLURM_ARRAY_TASK_ID={id} is not one of the {count} tasks from {min}; submit the array as --array=0-{}", count.saturating_sub(1))
    })?;
    Ok(Some((index, count)))
}
