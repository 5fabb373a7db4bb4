//! Self-contained HTML pages (inline CSS and a few lines of script; no
//! network, no framework): the cross-OS grid of `predict --format html`
//! and the run page of `report render --html`.

use super::predict::{DISAGREE, Predicted};
use crate::model::rules;
use crate::report::{Counts, MismatchRow, Summary};
use std::fmt::Write;

/// Escapes text for HTML content and attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
code,.stmt{font-family:ui-monospace,monospace;font-size:13px;white-space:nowrap}
.rule{display:block;font-size:11px;color:#555;font-family:ui-monospace,monospace}
.o-ok{background:#d8f0d8}.o-err{background:#f6d5d5}.o-set{background:#fbeec2}.o-recv{background:#d5e8f6}
.o-e0{background:#f6d5d5}.o-e1{background:#f3ddc4}.o-e2{background:#e9d5f3}.o-e3{background:#f5d0e4}.o-e4{background:#e0d8cc}.o-e5{background:#d9d2f0}
tr.differ td.mark{color:#b00;font-weight:bold}
tr.differ{outline:2px solid #e8a0a0}
td.bad{background:#f6b8b8;font-weight:bold}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;border:1px solid #ccc}
.warn{background:#fff3cd;border:1px solid #e0c060;padding:.6em 1em}
.chart{font-size:12px}.chart td{border:none;padding:1px 6px}
.bar{display:inline-block;height:11px;background:#5a8fd0;vertical-align:middle}
.bar.zero{background:none;border-left:2px solid #c33}
.missing{color:#b00}
.side{display:flex;gap:2em;flex-wrap:wrap}
"#;

/// The page around a body; the script counts the rows the browser shows
/// (`data-rows` on the body), so a test can tell the page was rendered.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}\n<script>\ndocument.body.dataset.rows = document.querySelectorAll('tr.row').length;\ndocument.body.dataset.differ = document.querySelectorAll('tr.row.differ').length;\n</script>\n</body></html>\n",
        esc(title)
    )
}

/// The CSS class of an outcome's cell: `ok`, a set, a receiver, or one of
/// six error colours picked by the error's name (the same error has the
/// same colour everywhere).
pub fn outcome_class(text: &str) -> String {
    if text == "ok" {
        "o-ok".into()
    } else if text.starts_with('{') {
        "o-set".into()
    } else if text.starts_with("->") {
        "o-recv".into()
    } else {
        let h = text.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        format!("o-e{}", h % 6)
    }
}

/// `predict --format html`: one grid per case file, a column per platform,
/// cells coloured by outcome with the rule under it (its meaning as a
/// tooltip), the statements where the platforms disagree marked.
pub fn predict_grid(all: &[Predicted]) -> String {
    let mut b = String::new();
    let names: Vec<&str> = all.first().map(|p| p.columns.iter().map(|c| c.spec.as_str()).collect()).unwrap_or_default();
    let _ = writeln!(b, "<h1>sockdiff predict: {}</h1>", esc(&names.join(", ")));
    let _ = writeln!(
        b,
        "<p class=\"legend\"><span class=\"o-ok\">ok</span><span class=\"o-e0\">error</span><span class=\"o-set\">{{set}}: the OS leaves the choice open</span><span class=\"o-recv\">-&gt;receiver</span> {DISAGREE} the platforms' outcome sets differ</p>"
    );
    for p in all {
        let differ = (0..p.stmts.len()).filter(|&i| p.disagrees(i)).count();
        let _ = writeln!(
            b,
            "<h2><code>{}</code></h2>\n<p>{differ} of {} statements differ between the platforms.</p>",
            esc(&p.file),
            p.stmts.len()
        );
        let _ = write!(b, "<table class=\"grid\"><thead><tr><th>step</th><th></th><th>statement</th>");
        for c in &p.columns {
            let _ = write!(b, "<th>{}</th>", esc(&c.spec));
        }
        b.push_str("</tr></thead><tbody>\n");
        for (i, st) in p.stmts.iter().enumerate() {
            let d = p.disagrees(i);
            let _ = write!(
                b,
                "<tr class=\"row{}\"><td>{}</td><td class=\"mark\">{}</td><td class=\"stmt\">{}</td>",
                if d { " differ" } else { "" },
                i + 1,
                if d { DISAGREE } else { "" },
                esc(st)
            );
            for c in &p.columns {
                let (set, rule) = &c.steps[i];
                let text = set.to_string();
                let meaning = rules::find(rule).map(|r| r.meaning).unwrap_or("");
                let _ = write!(
                    b,
                    "<td class=\"cell {}\" title=\"{}\"><code>{}</code><span class=\"rule\">{}</span></td>",
                    outcome_class(&text),
                    esc(meaning),
                    esc(&text),
                    esc(rule)
                );
            }
            b.push_str("</tr>\n");
        }
        b.push_str("</tbody></table>\n");
    }
    page(&format!("sockdiff predict {}", names.join(", ")), &b)
}

/// One step of a finding's minimized case, model beside real.
#[derive(Clone, Debug)]
pub struct FindingStep {
    pub statement: String,
    /// The model's prediction (a set as text).
    pub model: String,
    /// What really happened, as far as the run folder says: the real
    /// outcome at the mismatch, "agreed" before it, "not compared" after.
    pub real: String,
    pub rule: String,
    pub mismatch: bool,
}

/// A finding of a run, with its minimized case step by step.
#[derive(Clone, Debug)]
pub struct Finding {
    pub row: MismatchRow,
    pub steps: Vec<FindingStep>,
}

/// `report render --html`: the fingerprint and calibration, the counts
/// (those the files prove when the run did not finish), each finding with
/// its minimized case (model beside real per step), and rule coverage as a
/// bar chart (log scale).
pub fn run_page(summary: &Summary, counts: &Counts, finished: bool, findings: &[Finding]) -> String {
    let f = &summary.fingerprint;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>sockdiff {} {}: {}</h1>",
        esc(if summary.command.contains("matrix") { "matrix" } else { "fuzz" }),
        esc(&summary.run_id),
        if findings.is_empty() { "no mismatch" } else { "mismatches found" }
    );
    if !finished {
        let _ = writeln!(
            b,
            "<p class=\"warn\" id=\"unfinished\">This run did not finish (summary.json says <code>{}</code>: it was killed, or is still running). The counts are those its files prove: {} case(s) at least, {} mismatch(es) in mismatches.csv.</p>",
            esc(&summary.status),
            counts.cases,
            counts.mismatches
        );
    }
    b.push_str("<h2>System</h2>\n<table class=\"facts\">\n");
    let facts = [
        ("system", format!("{} {} ({}), {}", f.os, f.release, f.build, f.arch)),
        ("model", format!("{} (sockdiff {})", f.model, f.tool_version)),
        ("variants", if f.variants.is_empty() { "none".into() } else { f.variants.join(", ") }),
        ("seed", summary.seed.clone()),
        ("started", format!("{} ({})", summary.started_at, summary.status)),
    ];
    for (k, v) in facts {
        let _ = writeln!(b, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    for (k, v) in &f.settings {
        let _ = writeln!(b, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    b.push_str("</table>\n");
    if !f.calibration.is_empty() {
        b.push_str("<h2>Calibration</h2>\n<table><tr><th>variant</th><th>statement</th><th>real</th><th>upstream</th><th>with variant</th><th>side</th></tr>\n");
        for p in &f.calibration {
            for (i, st) in p.statements.iter().enumerate() {
                let cell = |v: Option<&String>| {
                    let t = v.map(String::as_str).unwrap_or("");
                    format!("<td class=\"{}\"><code>{}</code></td>", outcome_class(t), esc(t))
                };
                let _ = writeln!(
                    b,
                    "<tr><td>{}</td><td class=\"stmt\">{}</td>{}{}{}<td>{}</td></tr>",
                    if i == 0 { esc(&p.variant) } else { String::new() },
                    esc(st),
                    cell(p.real.get(i)),
                    cell(p.upstream.get(i)),
                    cell(p.with_variant.get(i)),
                    if i == 0 { p.side.word() } else { "" }
                );
            }
        }
        b.push_str("</table>\n");
    }
    b.push_str("<h2>Counts</h2>\n<table class=\"counts\">\n");
    let t = &summary.throughput;
    for (k, v) in [
        ("cases", format!("{} ({:.0}/s over {:.0} s)", counts.cases, t.cases_per_s, t.elapsed_s)),
        ("statements", counts.statements.to_string()),
        ("mismatches", format!("{} distinct, {} repeats", counts.mismatches, counts.repeats)),
        ("flaky", counts.flaky.to_string()),
        ("skipped", counts.skipped.to_string()),
        ("invalid", counts.invalid.to_string()),
        ("rules fired", format!("{}/{}", summary.coverage.fired, summary.coverage.total)),
    ] {
        let _ = writeln!(b, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    b.push_str("</table>\n");
    let _ = writeln!(b, "<h2>Findings ({})</h2>", findings.len());
    for fd in findings {
        let r = &fd.row;
        let _ = writeln!(
            b,
            "<h3 id=\"{0}\"><code>{0}</code>: step {1} <code>{2}</code>, model {3}, real {4} (reproduced {5})</h3>",
            esc(&r.case_id),
            r.step,
            esc(&r.statement),
            esc(&r.expected),
            esc(&r.actual),
            esc(&r.reproduced)
        );
        b.push_str("<table class=\"finding\"><thead><tr><th>step</th><th>statement</th><th>model</th><th>real</th><th>rule</th></tr></thead><tbody>\n");
        for (i, s) in fd.steps.iter().enumerate() {
            let real_class = if s.mismatch { "bad".to_string() } else { outcome_class(&s.real) };
            let _ = writeln!(
                b,
                "<tr class=\"row{}\"><td>{}</td><td class=\"stmt\">{}</td><td class=\"{}\"><code>{}</code></td><td class=\"{real_class}\"><code>{}</code></td><td><code>{}</code></td></tr>",
                if s.mismatch { " differ" } else { "" },
                i + 1,
                esc(&s.statement),
                outcome_class(&s.model),
                esc(&s.model),
                esc(&s.real),
                esc(&s.rule)
            );
        }
        b.push_str("</tbody></table>\n");
        if let Some(rule) = rules::find(&r.rule) {
            let _ = writeln!(b, "<p><code>{}</code>: {}</p>", esc(rule.id), esc(rule.meaning));
        }
    }
    // Coverage: every rule of the run, fired or not, on a log scale.
    let mut all: Vec<(String, u64)> = summary.rules.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for m in &summary.coverage.missing {
        all.push((m.clone(), 0));
    }
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = all.iter().map(|x| x.1).max().unwrap_or(1).max(1) as f64;
    let _ = writeln!(
        b,
        "<h2>Rule coverage: {}/{} rules fired</h2>\n<table class=\"chart\">",
        summary.coverage.fired, summary.coverage.total
    );
    for (id, n) in &all {
        let w = if *n == 0 { 0.0 } else { 1.0 + 84.0 * ((*n as f64).ln_1p() / top.ln_1p()) };
        let _ = writeln!(
            b,
            "<tr class=\"rule-row\"><td class=\"{}\"><code>{}</code></td><td style=\"width:420px\"><span class=\"bar{}\" style=\"width:{w:.1}%\"></span> {n}</td></tr>",
            if *n == 0 { "missing" } else { "" },
            esc(id),
            if *n == 0 { " zero" } else { "" }
        );
    }
    b.push_str("</table>\n");
    page(&format!("sockdiff run {}", summary.run_id), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_error_same_colour_and_text_is_escaped() {
        assert_eq!(outcome_class("EADDRINUSE"), outcome_class("EADDRINUSE"));
        assert_eq!(outcome_class("ok"), "o-ok");
        assert_eq!(outcome_class("{EACCES,ok}"), "o-set");
        assert_eq!(esc("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
