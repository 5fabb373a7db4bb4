//! The command line (docs/interface.md#the-command-line): argument definitions (their doc comments are
//! the help) and the commands. Errors are returned with context for `main`
//! to print as one line; exit codes are 0, 1 and 2 as docs/interface.md#the-command-line says.

use crate::case::{self, Case, Program};
use crate::exec;
use crate::model::{self, HostSettings, Model};
use crate::platform::{ModelSpec, Platform};
use crate::render::paint::{Paint, Tone};
use crate::render::predict::{Column, JsonDoc, JsonRow, Predicted, members};
use crate::run::{self, Verdict};
pub use crate::session::host_spec;
use crate::session::{ModelChoice, Session};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

mod corpus;
mod fuzz;
mod generate;
mod matrix;
mod report;
mod rules;
mod selftest;
mod vm;

/// Finds out what operating systems really do when sockets share local
/// addresses: a formal model per OS predicts every socket call, random cases
/// run for real, and every step is diffed against the model.
#[derive(Parser, Debug)]
#[command(name = "sockdiff", version, propagate_version = true, arg_required_else_help = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Say less on stderr: only errors, warnings and findings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more on stderr: the meaning of the rule beside each mismatch.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is
    /// set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn on(self, terminal: bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                terminal
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

static PAINT: std::sync::OnceLock<Paint> = std::sync::OnceLock::new();

/// Colour for standard output, as `--color` and the terminal decide.
pub fn paint() -> Paint {
    PAINT.get().copied().unwrap_or_default()
}

/// Applies the options every command takes (how much to say, colour).
pub fn init(g: &GlobalArgs) {
    use std::io::IsTerminal;
    crate::say::set(if g.quiet {
        crate::say::Level::Quiet
    } else if g.verbose {
        crate::say::Level::Verbose
    } else {
        crate::say::Level::Normal
    });
    let _ = PAINT.set(Paint::new(g.color.on(std::io::stdout().is_terminal())));
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Model only: print each statement's predicted outcome and the rule
    /// that decided it.
    Predict(PredictArgs),
    /// Run each case for real on this host and show model and real outcome
    /// side by side; exit 1 on any mismatch.
    Replay(ReplayArgs),
    /// Generate random cases, run them for real, diff every step against
    /// the host's model, and write a report folder.
    Fuzz(fuzz::FuzzArgs),
    /// Shrink a failing case to a smallest one that still fails for real,
    /// checking that the result reproduces.
    Minimize(MinimizeArgs),
    /// Replay the corpus and report changed outcomes (check), or write the
    /// real outcomes into it (record).
    #[command(subcommand, arg_required_else_help = true)]
    Corpus(corpus::CorpusCmd),
    /// Compare two run folders (diff), or render one for CI (render).
    #[command(subcommand, arg_required_else_help = true)]
    Report(report::ReportCmd),
    /// Print or write the cases a fuzz run with this seed generates,
    /// without running them.
    Generate(generate::GenerateArgs),
    /// Run the exhaustive small-scope matrix (every pair of sockets over
    /// every option, address, state and owner, and chosen triples) for real
    /// and diff it against the host's model.
    Matrix(matrix::MatrixArgs),
    /// Measure throughput: the same generated cases through the thinnest
    /// loop (the floor) and through the full fuzz pipeline; prints one JSON
    /// object.
    Bench(BenchArgs),
    /// Run a sockdiff command inside another Linux kernel under qemu
    /// (fetched from Debian's archive, or a vmlinuz given) and bring back
    /// its output, its exit status and the files it wrote.
    Vm(vm::VmArgs),
    /// List every rule id with its meaning in one line, version range and
    /// variant (all models, or one with --platform).
    Rules(rules::RulesArgs),
    /// Explain one rule: meaning, sources, confidence, versions, the
    /// corpus cases that show it and what the other platforms answer there.
    Explain(rules::ExplainArgs),
    /// Check the checker: `selftest mutants` runs mutants of the model's
    /// rules against the real OS and prints which the matrix and fuzz kill.
    #[command(subcommand, arg_required_else_help = true)]
    Selftest(selftest::SelftestCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff), of sockdiff or of one command.
    Man(ManArgs),
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// A command (`predict`, `corpus`, ...): its own page instead of sockdiff's.
    pub command: Option<String>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// How long each loop runs, in each of the two passes (one worker, then
    /// --jobs workers): 90s, 5m or plain seconds.
    #[arg(long, default_value = "10s", value_parser = fuzz::parse_duration)]
    pub duration: std::time::Duration,
    /// Worker threads of the second pass (default: one per CPU); the first
    /// pass has one.
    #[arg(short, long, value_parser = jobs)]
    pub jobs: Option<usize>,
    /// Seed of the generated cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Args, Debug)]
pub struct MinimizeArgs {
    /// The failing case file.
    pub file: PathBuf,
    /// Write the minimized case here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Model to diff against (default: this host's).
    #[arg(long, default_value = "host")]
    pub platform: String,
    /// Re-runs of the minimized case, to check that it reproduces.
    #[arg(long, default_value_t = 5)]
    pub reruns: u32,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// Output format of `predict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// step,statement,outcome,rule (docs/interface.md#the-command-line).
    Csv,
    /// One JSON document (fields: file, platform, step, statement, outcome, rule).
    Json,
    /// One self-contained HTML page: the grid, cells coloured by outcome.
    Html,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Models to ask, comma-separated: linux, freebsd, macos, windows, wine
    /// (each optionally @VERSION and +VARIANT), all (the four OSes), or
    /// host; several give one column each (`all,wine`, `host,windows`).
    #[arg(long, default_value = "host")]
    pub platform: String,
    /// text (a table), csv (step,statement,outcome,rule), json or html.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print each rule's meaning under its statement (text).
    #[arg(long)]
    pub explain: bool,
    /// Case files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Options shared by the commands that run cases for real.
#[derive(Args, Debug, Clone)]
pub struct LiveArgs {
    /// Run in the host's own network namespace instead of a private one
    /// (other processes and leftover TIME_WAIT can then cause false
    /// mismatches).
    #[arg(long)]
    pub no_netns: bool,
}

/// Output format of `replay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    /// Model and real side by side, a verdict per case.
    Text,
    /// One JSON document, a row per statement (the totals go to stderr).
    Json,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Model to diff against (default: this host's).
    #[arg(long, default_value = "host")]
    pub platform: String,
    /// text, or json (file, platform, step, statement, outcome, rule, real, agrees).
    #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
    pub format: ReplayFormat,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Case files, or folders of .case files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.cmd {
        Cmd::Predict(a) => predict(a),
        Cmd::Replay(a) => replay(a),
        Cmd::Fuzz(a) => fuzz::run(a),
        Cmd::Minimize(a) => minimize(a),
        Cmd::Corpus(c) => corpus::run(c),
        Cmd::Report(c) => report::run(c),
        Cmd::Generate(a) => generate::run(a),
        Cmd::Matrix(a) => matrix::run(a),
        Cmd::Bench(a) => bench(a),
        Cmd::Vm(a) => vm::run(a),
        Cmd::Rules(a) => rules::rules(a),
        Cmd::Explain(a) => rules::explain(a),
        Cmd::Selftest(c) => selftest::run(c),
        Cmd::Completions(a) => completions(a),
        Cmd::Man(a) => man(a),
    }
}

/// Prints a campaign's run folder on stdout, one line.
pub fn print_run_dir(dir: &Path) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", dir.display())?;
    out.flush()?;
    Ok(())
}

/// Parses `--jobs`: a number of worker threads, at least 1.
pub fn jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 workers cannot run anything: give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number of workers")),
    }
}

fn completions(a: CompletionsArgs) -> Result<u8> {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    clap_complete::generate(a.shell, &mut Cli::command(), "sockdiff", &mut out);
    out.flush()?;
    Ok(0)
}

fn man(a: ManArgs) -> Result<u8> {
    use clap::CommandFactory;
    let top = Cli::command();
    let cmd = match &a.command {
        None => top,
        Some(name) => {
            let Some(sub) = top.find_subcommand(name).cloned() else {
                let names: Vec<String> = top.get_subcommands().map(|c| c.get_name().to_string()).collect();
                bail!("no command '{name}' (commands: {})", names.join(", "))
            };
            // clap wants a static name; the process ends soon after.
            let full = format!("sockdiff-{name}");
            sub.name(&*full.leak()).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut bytes = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut bytes)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(0)
}

/// Parses `--platform`: a comma-separated list of `host`, `all` (the four
/// OSes) and model specs, each spec checked (variants, version range);
/// a platform named twice counts once.
pub fn platforms(arg: &str) -> Result<Vec<ModelSpec>> {
    let mut out: Vec<ModelSpec> = Vec::new();
    for part in arg.split(',').map(str::trim) {
        let specs = match part {
            "host" => vec![host_spec()],
            "all" => Platform::ALL_REAL.iter().map(|p| ModelSpec::new(*p)).collect(),
            "" => bail!("--platform {arg}: an empty name in the list"),
            s => {
                let spec = ModelSpec::parse(s).ok_or_else(|| {
                    anyhow!("unknown platform '{s}': expected linux, freebsd, macos, windows, wine (optionally @VERSION and +VARIANT), all or host, comma-separated")
                })?;
                model::check_spec(&spec).map_err(|e| anyhow!("--platform {s}: {e}"))?;
                vec![spec]
            }
        };
        for s in specs {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// Checks every output path of a command before any work, so a refused
/// one stops it before anything is written (nothing is made here):
/// folders (`--out`, `--save-corpus`) and files (`--junit`, …), each
/// named by its option in the error.
pub fn check_outputs(dirs: &[(&str, Option<&Path>)], files: &[(&str, Option<&Path>)]) -> Result<()> {
    for (flag, d) in dirs {
        if let Some(d) = d {
            crate::report::check_out_dir(d).with_context(|| format!("{flag} {}", d.display()))?;
        }
    }
    for (flag, f) in files {
        if let Some(f) = f {
            crate::report::check_out_file(f).with_context(|| format!("{flag} {}", f.display()))?;
        }
    }
    Ok(())
}

/// Opens a live session for `--platform` (one model; `host` is
/// calibrated), printing isolation warnings and what calibration found.
pub fn open_session(live: &LiveArgs, platform: &str, what: &str) -> Result<Session> {
    let choice = match platform {
        "host" => ModelChoice::Host,
        p => {
            let specs = platforms(p)?;
            let [spec] = specs.as_slice() else {
                bail!("{what} diffs against one model: give --platform host or one platform")
            };
            ModelChoice::Spec(spec.clone())
        }
    };
    let session = Session::open(live.no_netns, &choice)?;
    for w in &session.prep.warnings {
        eprintln!("warning: {w}");
    }
    for n in &session.notes {
        eprintln!("note: {n}");
    }
    if let Some(c) = &session.calibration {
        for p in &c.probes {
            crate::info!("calibration: {}", p.describe());
        }
        if !c.probes.is_empty() {
            crate::info!("calibration: host model {}", c.spec);
        }
    }
    Ok(session)
}

/// The model for a spec.
pub fn model_for(spec: &ModelSpec, host: &HostSettings) -> Result<Box<dyn Model>> {
    model::check_spec(spec).map_err(|e| anyhow!("{e}"))?;
    Ok(model::for_spec(spec, host))
}

/// Whether calibration met a behaviour no model knows (said on stderr,
/// and a reason for exit 1).
pub fn unknown_behaviour(session: &Session) -> bool {
    let mut any = false;
    for p in session.calibration.iter().flat_map(|c| c.unknown()) {
        eprintln!("finding: calibration probe of {} matches neither model: {}", p.rule, p.describe());
        any = true;
    }
    any
}

/// Expands folders to the `.case` files in them (sorted), keeps files.
pub fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).with_context(|| format!("cannot read folder {}", p.display()))?;
            found.sort();
            if found.is_empty() {
                bail!("{}: no .case files in this folder", p.display());
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads, parses and compiles a case file.
pub fn load(path: &Path) -> Result<(Case, Program)> {
    let case = case::parse_file(path)?;
    let prog = case::compile(&case).map_err(|e| anyhow!("{}: {}", path.display(), e.what))?;
    Ok((case, prog))
}

/// `FILE:LINE` of statement `index` in a case file, for messages; `FILE`
/// alone where the line cannot be found.
pub fn place(path: &Path, index: usize) -> String {
    match line_of(path, index) {
        0 => path.display().to_string(),
        n => format!("{}:{n}", path.display()),
    }
}

/// The line of statement `index` in a case file, for error messages (0:
/// not found).
pub fn line_of(path: &Path, index: usize) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("").trim();
        if !code.is_empty() {
            if n == index {
                return i + 1;
            }
            n += 1;
        }
    }
    0
}

fn predict(a: PredictArgs) -> Result<u8> {
    let specs = platforms(&a.platform)?;
    for s in &specs {
        if let Some(n) = model::versions::rules_note(s) {
            crate::info!("note: {n}");
        }
    }
    let host = HostSettings::default();
    let models: Vec<Box<dyn Model>> = specs.iter().map(|s| model_for(s, &host)).collect::<Result<_>>()?;
    let files = case_files(&a.files)?;
    let mut all: Vec<Predicted> = Vec::new();
    for path in &files {
        let (case, prog) = load(path)?;
        let mut columns = Vec::new();
        for m in &models {
            let steps = run::predict_case(m.as_ref(), &prog).map_err(|(i, why)| {
                anyhow!("{}: {} (the case is invalid for the {} model)", place(path, i), why, m.spec())
            })?;
            columns.push(Column { spec: m.spec().to_string(), steps });
        }
        let stmts: Vec<String> = case.stmts().map(|s| s.to_string()).collect();
        all.push(Predicted { file: path.display().to_string(), stmts, columns });
    }
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Csv => out.write_all(&crate::render::predict::csv(&all)?)?,
        Format::Json => {
            let doc = JsonDoc::new("predict", crate::render::predict::json_rows(&all));
            out.write_all(doc.to_text().as_bytes())?;
        }
        Format::Html => out.write_all(crate::render::html::predict_grid(&all).as_bytes())?,
        Format::Text => {
            for p in &all {
                out.write_all(crate::render::predict::text(p, a.explain, paint()).as_bytes())?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

fn replay(a: ReplayArgs) -> Result<u8> {
    if a.platform != "host" {
        platforms(&a.platform)?;
    }
    let files = case_files(&a.files)?;
    let loaded: Vec<(PathBuf, Case, Program)> =
        files.iter().map(|p| load(p).map(|(c, pr)| (p.clone(), c, pr))).collect::<Result<_>>()?;
    let session = open_session(&a.live, &a.platform, "replay")?;
    let model = &session.model;
    let runs = std::thread::scope(|s| {
        s.spawn(|| -> Result<Vec<run::CaseRun>> {
            let mut ex = exec::new_executor(&session.prep, 0, 1)?;
            let can = session.abilities(ex.as_ref());
            loaded.iter().map(|(_, _, prog)| Ok(run::run_case(model.as_ref(), ex.as_mut(), prog, &can)?)).collect()
        })
        .join()
        .map_err(|_| anyhow!("the worker thread panicked"))?
    })?;
    let paint = paint();
    let mut text = String::new();
    let mut rows: Vec<JsonRow> = Vec::new();
    let (mut agree, mut mismatch, mut skipped) = (0, 0, 0);
    for ((path, case, _), r) in loaded.iter().zip(&runs) {
        use std::fmt::Write as _;
        let _ = writeln!(text, "{}  (model {}, real: this host)", path.display(), model.spec());
        let stmts: Vec<String> = case.stmts().map(|s| s.to_string()).collect();
        let width = stmts.iter().map(|s| s.len()).max().unwrap_or(0).max(9);
        let _ = writeln!(text, "{:>4}  {:<width$}  {:<14} {:<14}    rule", "step", "statement", "model", "real");
        for rec in &r.steps {
            let mark = if rec.agrees() { "  ".to_string() } else { paint.tone("✗ ", Tone::Alert) };
            let _ = writeln!(
                text,
                "{:>4}  {:<width$}  {} {}  {mark}{}",
                rec.index + 1,
                stmts[rec.index],
                paint.outcome(&rec.expected.to_string(), 14),
                paint.outcome(&rec.actual.to_string(), 14),
                rec.rule
            );
            if crate::say::verbose() && !rec.agrees() {
                let m = crate::model::rules::find(rec.rule).map(|x| x.meaning).unwrap_or("");
                for l in crate::render::predict::wrap(m, 96) {
                    let _ = writeln!(text, "{:>8}{}", "", paint.tone(&l, Tone::Dim));
                }
            }
            rows.push(JsonRow {
                file: path.display().to_string(),
                platform: model.spec().to_string(),
                step: rec.index + 1,
                statement: stmts[rec.index].clone(),
                outcome: members(&rec.expected),
                rule: rec.rule.to_string(),
                real: Some(members(&rec.actual)),
                agrees: Some(rec.agrees()),
                ..JsonRow::default()
            });
        }
        match &r.verdict {
            Verdict::Agree => {
                agree += 1;
                let _ = writeln!(
                    text,
                    "      {}\n",
                    paint.tone(&format!("agrees on all {} statements", r.steps.len()), Tone::Good)
                );
            }
            Verdict::Mismatch { index } => {
                mismatch += 1;
                let m = format!("MISMATCH at statement {} (line {})", index + 1, line_of(path, *index));
                let _ = writeln!(text, "      {}\n", paint.tone(&m, Tone::Alert));
            }
            Verdict::Skipped(why) => {
                skipped += 1;
                let _ = writeln!(text, "      skipped: {why}\n");
            }
            Verdict::Invalid { index, why } => {
                bail!("{}: {why} (invalid case)", place(path, *index));
            }
            Verdict::Unknown { index, why } => {
                skipped += 1;
                let _ = writeln!(text, "      unknown after statement {}: {why}\n", index + 1);
            }
        }
    }
    let total = format!("{} cases: {agree} agree, {mismatch} mismatch, {skipped} skipped", loaded.len());
    let mut out = std::io::stdout().lock();
    match a.format {
        ReplayFormat::Text => writeln!(out, "{text}{total}")?,
        ReplayFormat::Json => {
            out.write_all(JsonDoc::new("replay", rows).to_text().as_bytes())?;
            crate::info!("{total}");
        }
    }
    out.flush()?;
    let unknown = unknown_behaviour(&session);
    Ok(if mismatch > 0 || unknown { 1 } else { 0 })
}

/// A minimized case, its signature, candidates tried, reproductions, and
/// its mismatching step.
type Minimized = (Case, String, usize, u32, run::StepRecord);

fn minimize(a: MinimizeArgs) -> Result<u8> {
    if a.platform != "host" {
        platforms(&a.platform)?;
    }
    let (case, prog) = load(&a.file)?;
    // Fail before the work if the result cannot be written.
    check_outputs(&[], &[("--out", a.out.as_deref())])?;
    let session = open_session(&a.live, &a.platform, "minimize")?;
    let model = &session.model;
    let t0 = std::time::Instant::now();
    let found = std::thread::scope(|s| {
        s.spawn(|| -> Result<Option<Minimized>> {
            let mut ex = exec::new_executor(&session.prep, 0, 1)?;
            let can = session.abilities(ex.as_ref());
            let r = run::run_case(model.as_ref(), ex.as_mut(), &prog, &can)?;
            if let Verdict::Skipped(why) = &r.verdict {
                bail!("{}: cannot run here: {why}", a.file.display());
            }
            let Some(sig) = run::run_signature(&prog, &r) else { return Ok(None) };
            let (small, tries) = run::minimize_live(model.as_ref(), ex.as_mut(), &case, &can, &sig)?;
            let small_prog = case::compile(&small).map_err(|e| anyhow!("{}", e.what))?;
            let (k, small_rec) = run::reproduce(model.as_ref(), ex.as_mut(), &small_prog, &can, &sig, a.reruns)?;
            // Without a re-run that failed, say so about the original case.
            let (small, rec) = match small_rec {
                Some(rec) => (small, rec),
                None => (case.clone(), r.mismatch().cloned().expect("a mismatch")),
            };
            Ok(Some((small, sig, tries, k, rec)))
        })
        .join()
        .map_err(|_| anyhow!("the worker thread panicked"))?
    })?;
    let Some((small, _sig, tries, k, rec)) = found else {
        bail!("{} does not fail here: every statement agrees with the {} model", a.file.display(), model.spec());
    };
    let stmt = small.steps.get(rec.index).map(|s| s.stmt.to_string()).unwrap_or_default();
    let mut text = format!(
        "# minimized from {} ({} -> {} statements, {} runs, {:.2}s)\n# step {} `{stmt}`: model {} expected {} (rule {}), real {}; reproduced {k}/{}\n",
        a.file.display(),
        case.len(),
        small.len(),
        tries,
        t0.elapsed().as_secs_f64(),
        rec.index + 1,
        model.spec(),
        rec.expected,
        rec.rule,
        rec.actual,
        a.reruns
    );
    text.push_str(&case::print(&small));
    match &a.out {
        Some(out) => std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?,
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes())?;
            o.flush()?;
        }
    }
    if k == 0 {
        eprintln!("warning: the minimized case did not fail again in {} re-runs: flaky", a.reruns);
        return Ok(0);
    }
    Ok(1)
}

fn bench(a: BenchArgs) -> Result<u8> {
    let session = open_session(&a.live, "host", "bench")?;
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let r = crate::campaign::bench::bench(session.model.as_ref(), &session.prep, jobs, a.duration, a.seed)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&r)?)?;
    out.flush()?;
    Ok(0)
}
