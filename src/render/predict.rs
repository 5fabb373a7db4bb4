//! What `predict` prints, from the predictions of one or more models for
//! one or more case files: the text table (one model: the classic columns;
//! several: the cross-OS table with one outcome column per platform and a
//! mark where their sets differ), CSV (docs/interface.md#the-command-line, unchanged) and JSON rows.
//! The HTML grid is in [`super::html`].

use super::paint::{Paint, Tone};
use crate::model::rules;
use crate::outcome::OutcomeSet;
use serde::Serialize;
use std::fmt::Write;

/// One case file predicted by every model asked for.
#[derive(Clone, Debug)]
pub struct Predicted {
    /// The file as given.
    pub file: String,
    /// Each statement, as printed.
    pub stmts: Vec<String>,
    /// One column per model, in the order asked.
    pub columns: Vec<Column>,
}

/// One model's predictions for a case.
#[derive(Clone, Debug)]
pub struct Column {
    /// The model spec (`linux`, `windows@5.1`).
    pub spec: String,
    /// Per statement: the set of outcomes and the rule that decided it.
    pub steps: Vec<(OutcomeSet, &'static str)>,
}

impl Predicted {
    /// Whether the platforms' outcome sets differ at statement `i`.
    pub fn disagrees(&self, i: usize) -> bool {
        let first = &self.columns[0].steps[i].0;
        self.columns.iter().any(|c| c.steps[i].0 != *first)
    }

    /// The rule ids of statement `i`, each once, in column order.
    pub fn rules_at(&self, i: usize) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for c in &self.columns {
            if !out.contains(&c.steps[i].1) {
                out.push(c.steps[i].1);
            }
        }
        out
    }
}

/// The mark on a statement where the platforms disagree.
pub const DISAGREE: &str = "≠";

/// Wraps `text` to lines of at most `width` characters (words kept whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The meaning of rule `id`, for `--explain`.
fn meaning(id: &str) -> &'static str {
    rules::find(id).map(|r| r.meaning).unwrap_or("(no such rule in the tables)")
}

/// The text table. One model: step, statement, outcome, rule (as always);
/// several: a header row, one outcome column per platform, the rules
/// below each row and a mark where the platforms disagree. `explain` adds
/// each rule's meaning.
pub fn text(p: &Predicted, explain: bool, paint: Paint) -> String {
    if p.columns.len() == 1 { text_one(p, explain, paint) } else { text_cross(p, explain, paint) }
}

fn text_one(p: &Predicted, explain: bool, paint: Paint) -> String {
    let mut o = String::new();
    let col = &p.columns[0];
    let _ = writeln!(o, "{}  ({})", p.file, col.spec);
    let width = p.stmts.iter().map(|s| s.len()).max().unwrap_or(0).max(9);
    for (i, st) in p.stmts.iter().enumerate() {
        let (set, rule) = &col.steps[i];
        let line = format!(
            "{:>4}  {:<width$}  {} {}",
            i + 1,
            st,
            paint.outcome(&set.to_string(), 14),
            paint.pad(rule, 34, Tone::Dim)
        );
        let _ = writeln!(o, "{}", line.trim_end());
        if explain {
            for l in wrap(meaning(rule), 96) {
                let _ = writeln!(o, "{:>8}{}", "", paint.tone(&l, Tone::Dim));
            }
        }
    }
    let _ = writeln!(o);
    o
}

fn text_cross(p: &Predicted, explain: bool, paint: Paint) -> String {
    let mut o = String::new();
    let names: Vec<&str> = p.columns.iter().map(|c| c.spec.as_str()).collect();
    let _ = writeln!(o, "{}  ({})", p.file, names.join(", "));
    let width = p.stmts.iter().map(|s| s.len()).max().unwrap_or(0).max(9);
    // Each column as wide as its widest set or its name.
    let widths: Vec<usize> = p
        .columns
        .iter()
        .map(|c| c.steps.iter().map(|(s, _)| s.to_string().len()).chain([c.spec.len()]).max().unwrap_or(0))
        .collect();
    let mut head = format!("{:>4}    {:<width$}", "step", "statement");
    for (c, w) in p.columns.iter().zip(&widths) {
        head.push_str("  ");
        head.push_str(&paint.pad(&c.spec, *w, Tone::Bold));
    }
    let _ = writeln!(o, "{}", head.trim_end());
    let mut differ = 0;
    for (i, st) in p.stmts.iter().enumerate() {
        let mark = if p.disagrees(i) {
            differ += 1;
            paint.tone(DISAGREE, Tone::Alert)
        } else {
            " ".to_string()
        };
        let mut line = format!("{:>4}  {mark} {:<width$}", i + 1, st);
        for (c, w) in p.columns.iter().zip(&widths) {
            line.push_str("  ");
            line.push_str(&paint.outcome(&c.steps[i].0.to_string(), *w));
        }
        let _ = writeln!(o, "{}", line.trim_end());
        let ids = p.rules_at(i);
        if explain {
            for id in ids {
                let text = format!("{id}: {}", meaning(id));
                for l in wrap(&text, 96) {
                    let _ = writeln!(o, "{:>8}{}", "", paint.tone(&l, Tone::Dim));
                }
            }
        } else {
            let _ = writeln!(o, "{:>8}{}", "", paint.tone(&ids.join("  "), Tone::Dim));
        }
    }
    let _ = writeln!(
        o,
        "      {} {differ} of {} statements where the platforms' outcome sets differ",
        paint.tone(DISAGREE, Tone::Alert),
        p.stmts.len()
    );
    let _ = writeln!(o);
    o
}

/// The CSV of docs/interface.md#the-command-line: `step,statement,outcome,rule`, a `file` column
/// first with several files, a `platform` column before `step` with
/// several platforms; one block per platform and file.
pub fn csv(all: &[Predicted]) -> Result<Vec<u8>, csv::Error> {
    let many_files = all.len() > 1;
    let many_models = all.first().is_some_and(|p| p.columns.len() > 1);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = Vec::new();
    if many_files {
        header.push("file");
    }
    if many_models {
        header.push("platform");
    }
    header.extend(["step", "statement", "outcome", "rule"]);
    w.write_record(&header)?;
    for p in all {
        for c in &p.columns {
            for (i, st) in p.stmts.iter().enumerate() {
                let mut rec: Vec<String> = Vec::new();
                if many_files {
                    rec.push(p.file.clone());
                }
                if many_models {
                    rec.push(c.spec.clone());
                }
                let (set, rule) = &c.steps[i];
                rec.extend([(i + 1).to_string(), st.clone(), set.to_string(), rule.to_string()]);
                w.write_record(&rec)?;
            }
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// One row of the JSON documents of `predict`, `replay` and `corpus
/// check`: the same fields whatever the number of files and platforms.
/// `replay` and `corpus check` add what really happened.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct JsonRow {
    pub file: String,
    pub platform: String,
    /// The statement's number in its case, from 1.
    pub step: usize,
    pub statement: String,
    /// The members of the model's set (one for a single outcome).
    pub outcome: Vec<String>,
    pub rule: String,
    /// `replay`, `corpus check`: the real outcome's members.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub real: Option<Vec<String>>,
    /// `replay`: whether the real outcome is one the model allows.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub agrees: Option<bool>,
    /// `corpus check`: the line in the file, the recorded outcome's members
    /// and the row's status (`ok`, `unrecorded`, `real-changed`, …).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recorded: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    /// `corpus check`: what a change or a skip is about.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
}

/// The JSON document: `{"sockdiff": VERSION, "command": …, "rows": […]}`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct JsonDoc {
    pub sockdiff: String,
    pub command: String,
    pub rows: Vec<JsonRow>,
}

impl JsonDoc {
    /// A document for `command` with these rows.
    pub fn new(command: &str, rows: Vec<JsonRow>) -> JsonDoc {
        JsonDoc { sockdiff: env!("CARGO_PKG_VERSION").to_string(), command: command.to_string(), rows }
    }

    /// Pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        format!("{}\n", serde_json::to_string_pretty(self).unwrap_or_default())
    }
}

/// Members of a set as strings.
pub fn members(set: &OutcomeSet) -> Vec<String> {
    set.members().iter().map(|o| o.to_string()).collect()
}

/// `predict`'s JSON rows: one per file, platform and statement.
pub fn json_rows(all: &[Predicted]) -> Vec<JsonRow> {
    let mut rows = Vec::new();
    for p in all {
        for c in &p.columns {
            for (i, st) in p.stmts.iter().enumerate() {
                let (set, rule) = &c.steps[i];
                rows.push(JsonRow {
                    file: p.file.clone(),
                    platform: c.spec.clone(),
                    step: i + 1,
                    statement: st.clone(),
                    outcome: members(set),
                    rule: rule.to_string(),
                    ..JsonRow::default()
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Errno, Outcome};

    fn sample() -> Predicted {
        let ok = OutcomeSet::one(Outcome::Ok);
        let inuse = OutcomeSet::one(Outcome::Err(Errno::EADDRINUSE));
        let both = OutcomeSet::new([Outcome::Ok, Outcome::Err(Errno::EACCES)]);
        Predicted {
            file: "x.case".into(),
            stmts: vec!["a = socket tcp4".into(), "bind a 0.0.0.0:P1".into()],
            columns: vec![
                Column {
                    spec: "linux".into(),
                    steps: vec![(ok.clone(), "linux.any.socket"), (inuse, "linux.tcp.bind-conflict")],
                },
                Column {
                    spec: "windows".into(),
                    steps: vec![(ok, "windows.any.socket"), (both, "windows.tcp.e-wild")],
                },
            ],
        }
    }

    #[test]
    fn the_cross_table_has_a_header_fitted_columns_and_marks() {
        let t = text(&sample(), false, Paint::default());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "step    statement          linux       windows");
        assert_eq!(lines[2], "   1    a = socket tcp4    ok          ok");
        assert_eq!(lines[3], "        linux.any.socket  windows.any.socket");
        assert_eq!(lines[4], "   2  ≠ bind a 0.0.0.0:P1  EADDRINUSE  {EACCES,ok}");
        assert!(lines[6].contains("1 of 2 statements"), "{t}");
        let e = text(&sample(), true, Paint::default());
        assert!(e.contains("linux.tcp.bind-conflict: A bind to a non-zero TCP port"), "{e}");
    }

    #[test]
    fn json_rows_have_the_same_fields_for_any_input() {
        let rows = json_rows(&[sample()]);
        assert_eq!(rows.len(), 4);
        let v = serde_json::to_value(&rows[3]).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort();
        assert_eq!(keys, ["file", "outcome", "platform", "rule", "statement", "step"]);
        assert_eq!(v["outcome"], serde_json::json!(["EACCES", "ok"]));
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
    }
}
