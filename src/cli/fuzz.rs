//! `sockdiff fuzz`: the command line of a fuzz campaign ([`crate::fuzz`]).

use super::{LiveArgs, check_outputs, open_session, platforms};
use crate::campaign::{Campaign, Generated, Shard, run_campaign};
use crate::generate::GenConfig;
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// Stop after this long: 90s, 5m, 2h or plain seconds (default 60s
    /// when --cases is not given).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many cases.
    #[arg(long)]
    pub cases: Option<u64>,
    /// Seed of the run (random if not given). The same seed and model
    /// version generate the same cases.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per CPU).
    #[arg(short, long, value_parser = super::jobs)]
    pub jobs: Option<usize>,
    /// Folder in which the run folder is made.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Re-runs of each new mismatch, to check that it reproduces.
    #[arg(long, default_value_t = 3)]
    pub reruns: u32,
    /// Also write JUnit XML (one test case per distinct mismatch), made from
    /// the run's mismatches.csv at the end.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown summary for a CI job page, made from the run's
    /// files at the end.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Add each minimized finding to the corpus, with its real outcomes
    /// recorded (default folder: corpus/<platform>/found).
    #[arg(long, num_args = 0..=1, default_missing_value = "")]
    pub save_corpus: Option<PathBuf>,
    /// Model to diff against (default: this host's; an older version of
    /// the host's model checks what changed since).
    #[arg(long, default_value = "host")]
    pub platform: String,
    /// Run shard I of N (1 <= I <= N) of the seed's case sequence: the N
    /// shards of one seed run exactly the cases of the unsharded run
    /// (--cases counts them all), none twice; `report merge` folds their
    /// run folders into one.
    #[arg(long, value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Most statements in a generated case.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(2..=200))]
    pub max_len: u16,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Parses `90s`, `5m`, `2h` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("'{s}' is not a duration (write 90s, 5m, 2h or plain seconds)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use s, m or h)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("'{s}' is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs `sockdiff fuzz`.
pub fn run(a: FuzzArgs) -> Result<u8> {
    if a.shard.is_some() && a.seed.is_none() {
        anyhow::bail!("--shard needs --seed: the shards of a run split one seed's case sequence");
    }
    let platform = match a.platform.as_str() {
        "host" => super::host_spec().platform,
        p => platforms(p)?.first().map(|s| s.platform).unwrap_or(crate::platform::Platform::Linux),
    };
    // --save-corpus without a folder: corpus/<platform>/found.
    let save_corpus = a.save_corpus.as_ref().map(|d| {
        if d.as_os_str().is_empty() {
            crate::corpus::platform_dir(Path::new("corpus"), platform).join("found")
        } else {
            d.clone()
        }
    });
    check_outputs(
        &[("--out", Some(&a.out)), ("--save-corpus", save_corpus.as_deref())],
        &[("--junit", a.junit.as_deref()), ("--markdown", a.markdown.as_deref())],
    )?;
    let session = open_session(&a.live, &a.platform, "fuzz")?;
    let source = Generated {
        seed: a.seed.unwrap_or_else(rand::random),
        cfg: GenConfig { max_len: a.max_len as usize, other: true, probe: true },
    };
    let c = Campaign {
        label: "fuzz",
        source: &source,
        seed: source.seed,
        duration: match (a.duration, a.cases) {
            (None, None) => Some(Duration::from_secs(60)),
            (d, _) => d,
        },
        cases: a.cases,
        out: a.out,
        jobs: a.jobs,
        reruns: a.reruns,
        junit: a.junit,
        markdown: a.markdown,
        save_corpus,
        shard: a.shard.unwrap_or(Shard::WHOLE),
        session: &session,
    };
    let done = run_campaign(&c)?;
    // The run folder on stdout, for scripts (everything else went to stderr).
    super::print_run_dir(&done.dir)?;
    Ok(done.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_spec_4_says() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("m").is_err());
    }
}
