//! `sockdiff generate`: the cases a fuzz run with a seed would generate,
//! without running them (the same seed and model version give the same
//! cases), or one case from the seed a CSV row names.

use super::{model_for, platforms};
use crate::case::print;
use crate::generate::{self, GenConfig};
use crate::model::HostSettings;
use crate::report::write_atomic;
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Seed of a fuzz run: generate its first --cases cases.
    #[arg(long, conflicts_with = "case_seed")]
    pub seed: Option<u64>,
    /// How many cases of the run to generate.
    #[arg(long, default_value_t = 1)]
    pub cases: u64,
    /// The seed of one case (the `seed` column of mismatches.csv,
    /// `VERSION:SEED`; a seed of another generator version is refused).
    #[arg(long)]
    pub case_seed: Option<String>,
    /// Write each case to DIR/case-<index>.case instead of printing them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Most statements in a generated case (as fuzz --max-len).
    #[arg(long, default_value_t = 30)]
    pub max_len: u16,
    /// The model the fuzz run used (it steers generation), as fuzz --platform.
    #[arg(long, default_value = "host")]
    pub platform: String,
}

pub fn run(a: GenerateArgs) -> Result<u8> {
    let specs = platforms(&a.platform)?;
    let [spec] = specs.as_slice() else { bail!("give --platform host or one platform") };
    let model = model_for(spec, &HostSettings::default())?;
    let cfg = GenConfig { max_len: a.max_len as usize, other: true, probe: true };
    let seeds: Vec<(u64, u64)> = match (a.seed, &a.case_seed) {
        (Some(s), None) => (0..a.cases).map(|i| (i, generate::case_seed(s, i))).collect(),
        (None, Some(s)) => vec![(0, generate::parse_seed(s).map_err(|e| anyhow!("--case-seed: {e}"))?)],
        _ => bail!("give --seed (a run's seed) or --case-seed (one case's seed)"),
    };
    super::check_outputs(&[("--out", a.out.as_deref())], &[])?;
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).with_context(|| format!("--out {}", dir.display()))?;
    }
    let mut out = std::io::stdout().lock();
    for (index, seed) in seeds {
        let case = generate::case_from_seed(seed, cfg, model.as_ref());
        let text = format!("# case {index}, case seed {}\n{}", generate::seed_text(seed), print(&case));
        match &a.out {
            Some(dir) => write_atomic(&dir.join(format!("case-{index:06}.case")), text.as_bytes())?,
            None => {
                out.write_all(text.as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}
