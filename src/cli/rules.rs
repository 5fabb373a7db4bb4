//! `sockdiff rules` and `sockdiff explain`: the rule tables for people.

use super::paint;
use crate::explain::{self, RuleInfo};
use crate::render::paint::Tone;
use crate::render::predict::wrap;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Only the rules of this model (linux, freebsd, macos, windows, wine,
    /// optionally @VERSION: only the rules that hold for that version).
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A rule id (`windows.tcp.same-excl-old`), as predict and replay print them.
    pub rule: String,
    /// How many corpus cases to show (0: all).
    #[arg(long, default_value_t = 5)]
    pub cases: usize,
}

/// The tags beside a rule in lists: version range, variant.
fn tags(i: &RuleInfo) -> String {
    let mut t = Vec::new();
    if let Some(r) = &i.range {
        t.push(r.clone());
    }
    if let Some(v) = i.variant {
        t.push(format!("variant +{v}"));
    }
    if t.is_empty() { String::new() } else { format!("[{}] ", t.join("; ")) }
}

pub fn rules(a: RulesArgs) -> Result<u8> {
    let spec = match &a.platform {
        None => None,
        Some(p) => {
            let specs = super::platforms(p)?;
            let [s] = specs.as_slice() else { bail!("rules lists one model's rules: give one platform") };
            Some(s.clone())
        }
    };
    let list = explain::list(spec.as_ref());
    let p = paint();
    let width = list.iter().map(|i| i.rule.id.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let mut family = "";
    for i in &list {
        let f = i.rule.id.split('.').next().unwrap_or("");
        if f != family {
            family = f;
            let n = list.iter().filter(|x| x.rule.id.starts_with(&format!("{f}."))).count();
            let on: Vec<&str> = i.platforms.iter().map(|p| p.name()).collect();
            writeln!(out, "{}", p.tone(&format!("{f} ({n} rules; models: {})", on.join(", ")), Tone::Bold))?;
        }
        writeln!(
            out,
            "  {}  {}{}",
            p.pad(i.rule.id, width, Tone::Receiver),
            tags(i),
            explain::first_sentence(i.rule.meaning)
        )?;
    }
    writeln!(out, "{} rules; `sockdiff explain RULE` tells more about one", list.len())?;
    out.flush()?;
    Ok(0)
}

pub fn explain(a: ExplainArgs) -> Result<u8> {
    let info = explain::info(&a.rule).ok_or_else(|| {
        let near: Vec<&str> = crate::model::rules::RULES
            .iter()
            .map(|r| r.id)
            .filter(|id| id.contains(a.rule.rsplit('.').next().unwrap_or(&a.rule)))
            .take(5)
            .collect();
        let hint = if near.is_empty() {
            "`sockdiff rules` lists them".to_string()
        } else {
            format!("did you mean {}?", near.join(", "))
        };
        anyhow!("no rule '{}' ({hint})", a.rule)
    })?;
    let p = paint();
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(o, "{}", p.tone(info.rule.id, Tone::Bold));
    let field = |o: &mut String, name: &str, text: &str| {
        let mut lines = wrap(text, 90).into_iter();
        let _ = writeln!(o, "  {:<11} {}", p.tone(name, Tone::Dim), lines.next().unwrap_or_default());
        for l in lines {
            let _ = writeln!(o, "  {:<11} {l}", "");
        }
    };
    field(&mut o, "meaning", info.rule.meaning);
    field(&mut o, "sources", info.rule.source);
    field(&mut o, "confidence", &info.confidence);
    let models: Vec<&str> = info.platforms.iter().map(|p| p.name()).collect();
    field(&mut o, "models", &models.join(", "));
    field(&mut o, "versions", info.range.as_deref().unwrap_or("every version the models know"));
    if let Some(v) = info.variant {
        field(&mut o, "variant", &format!("+{v}: only builds that show it (calibration finds them)"));
    }
    field(&mut o, "docs", info.doc.as_deref().unwrap_or("-"));
    let (origin, sources) = crate::corpus::all_sources();
    let examples = explain::examples(info.rule.id, &sources);
    let from = match origin {
        crate::corpus::Origin::Folder(d) => format!("{}/", d.display()),
        crate::corpus::Origin::BuiltIn => "the corpus built into this binary".to_string(),
    };
    let shown = if a.cases == 0 { examples.len() } else { a.cases.min(examples.len()) };
    let _ = writeln!(o, "\n  corpus cases that show it ({} in {from}; {shown} shown):", examples.len());
    for e in examples.iter().take(shown) {
        match e.step {
            Some(step) => {
                let _ = writeln!(o, "    {} step {step}: {}", e.file, p.tone(&e.statement, Tone::Bold));
                let w = e.answers.iter().map(|(s, _, _)| s.len()).max().unwrap_or(0);
                let ow = e.answers.iter().map(|(_, x, _)| x.to_string().len()).max().unwrap_or(0);
                for (i, (spec, set, rule)) in e.answers.iter().enumerate() {
                    let line = format!(
                        "      {:<w$}  {}  {}{}",
                        spec,
                        p.outcome(&set.to_string(), ow),
                        p.tone(rule, Tone::Dim),
                        if i == 0 { "  (this rule)" } else { "" }
                    );
                    let _ = writeln!(o, "{}", line.trim_end());
                }
            }
            None => {
                let _ = writeln!(o, "    {} (names it in a comment; no model decides with it there)", e.file);
            }
        }
    }
    if examples.is_empty() {
        let _ = writeln!(o, "    none: no corpus case reaches this rule");
    }
    let mut out = std::io::stdout().lock();
    out.write_all(o.as_bytes())?;
    out.flush()?;
    Ok(0)
}
