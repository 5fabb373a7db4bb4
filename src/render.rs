//! Renderings: the CI files (JUnit XML, Markdown) made only from the CSV
//! rows a run wrote, so they cannot disagree with the CSV; colour for a
//! terminal ([`paint`]).

use crate::corpus::CorpusRow;
use crate::report::{MismatchRow, Summary};
use std::fmt::Write;

pub mod html;
pub mod paint;
pub mod predict;

/// Escapes text for XML attributes and content.
fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Escapes text for a Markdown table cell.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// JUnit for a fuzz run: one failing test case per distinct mismatch, and
/// one passing "fuzz" case that says how much ran.
pub fn junit_fuzz(rows: &[MismatchRow], summary: &Summary) -> String {
    let c = &summary.counts;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites><testsuite name=\"sockdiff fuzz {}\" tests=\"{}\" failures=\"{}\" skipped=\"0\" time=\"{}\">",
        xml(&summary.run_id),
        rows.len() + 1,
        rows.len(),
        summary.throughput.elapsed_s
    );
    let _ = writeln!(
        x,
        "<testcase classname=\"fuzz\" name=\"{} cases against {}\"><system-out>{} statements, {} flaky, {} skipped, {} repeats, rules fired {}/{}</system-out></testcase>",
        c.cases,
        xml(&summary.fingerprint.model),
        c.statements,
        c.flaky,
        c.skipped,
        c.repeats,
        summary.coverage.fired,
        summary.coverage.total
    );
    for r in rows {
        let _ = writeln!(
            x,
            "<testcase classname=\"{}\" name=\"{}: {}\"><failure message=\"model {} ({}), real {}; reproduced {}\">case {} (seed {}): {}</failure></testcase>",
            xml(&r.rule),
            xml(&r.case_id),
            xml(&r.statement),
            xml(&r.expected),
            xml(&r.rule),
            xml(&r.actual),
            xml(&r.reproduced),
            xml(&r.case_id),
            xml(&r.seed),
            xml(&r.case)
        );
    }
    x.push_str("</testsuite></testsuites>\n");
    x
}

/// Markdown for a CI job page: fingerprint, counts, and each mismatch.
pub fn markdown_fuzz(rows: &[MismatchRow], summary: &Summary) -> String {
    let c = &summary.counts;
    let f = &summary.fingerprint;
    let mut m = String::new();
    let verdict = if rows.is_empty() { "no mismatch" } else { "MISMATCHES FOUND" };
    let _ = writeln!(m, "## sockdiff fuzz {}: {verdict}\n", summary.run_id);
    if !crate::report::finished(summary) {
        let _ = writeln!(
            m,
            "**This run did not finish** (summary.json says `running`: it was killed, or is still running); the counts are those its files prove.\n"
        );
    }
    let _ = writeln!(m, "| | |\n|---|---|");
    let _ = writeln!(m, "| system | {} {} ({}), {} |", md(&f.os), md(&f.release), md(&f.build), md(&f.arch));
    let _ = writeln!(m, "| model | {} (sockdiff {}) |", md(&f.model), md(&f.tool_version));
    let _ = writeln!(m, "| seed | {} |", md(&summary.seed));
    let _ = writeln!(
        m,
        "| cases | {} ({:.0}/s over {:.0} s), {} statements |",
        c.cases, summary.throughput.cases_per_s, summary.throughput.elapsed_s, c.statements
    );
    let _ = writeln!(m, "| mismatches | {} distinct, {} repeats, {} flaky |", c.mismatches, c.repeats, c.flaky);
    let _ = writeln!(m, "| skipped | {} |", c.skipped);
    let _ = writeln!(m, "| rules fired | {}/{} |", summary.coverage.fired, summary.coverage.total);
    if !rows.is_empty() {
        let _ = writeln!(
            m,
            "\n| case | step | statement | model | real | rule | reproduced |\n|---|---|---|---|---|---|---|"
        );
        for r in rows {
            let _ = writeln!(
                m,
                "| {} | {} | `{}` | {} | {} | `{}` | {} |",
                md(&r.case_id),
                r.step,
                md(&r.statement),
                md(&r.expected),
                md(&r.actual),
                md(&r.rule),
                md(&r.reproduced)
            );
        }
    }
    if !summary.skipped_reasons.is_empty() {
        let _ = writeln!(m, "\nSkipped cases:\n");
        for (why, n) in &summary.skipped_reasons {
            let _ = writeln!(m, "- {n}: {}", md(why));
        }
    }
    m
}

/// JUnit for a corpus check: one test case per corpus case.
pub fn junit_corpus(rows: &[CorpusRow]) -> String {
    let mut cases: Vec<&str> = rows.iter().map(|r| r.case.as_str()).collect();
    cases.dedup();
    let failures = cases.iter().filter(|c| rows.iter().any(|r| r.case == **c && r.is_change())).count();
    let skipped = cases.iter().filter(|c| rows.iter().any(|r| r.case == **c && r.status == "skipped")).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites><testsuite name=\"sockdiff corpus check\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        cases.len()
    );
    for c in cases {
        let mine: Vec<&CorpusRow> = rows.iter().filter(|r| r.case == c).collect();
        let _ = write!(x, "<testcase classname=\"corpus\" name=\"{}\">", xml(c));
        for r in &mine {
            match r.status.as_str() {
                "skipped" => {
                    let _ = write!(x, "<skipped message=\"{}\"/>", xml(&r.detail));
                }
                _ if r.is_change() => {
                    let _ = write!(
                        x,
                        "<failure message=\"{} at line {}: {}\">{}</failure>",
                        xml(&r.status),
                        r.line,
                        xml(&r.detail),
                        xml(&r.statement)
                    );
                }
                _ => {}
            }
        }
        x.push_str("</testcase>\n");
    }
    x.push_str("</testsuite></testsuites>\n");
    x
}

/// Markdown for a corpus check.
pub fn markdown_corpus(rows: &[CorpusRow], platform: &str) -> String {
    let mut cases: Vec<&str> = rows.iter().map(|r| r.case.as_str()).collect();
    cases.dedup();
    let changes: Vec<&CorpusRow> = rows.iter().filter(|r| r.is_change()).collect();
    let skipped: Vec<&CorpusRow> = rows.iter().filter(|r| r.status == "skipped").collect();
    let mut m = String::new();
    let verdict = if changes.is_empty() { "no change" } else { "CHANGES" };
    let _ = writeln!(
        m,
        "## sockdiff corpus check on {}: {verdict}\n\n{} cases, {} changed statements, {} skipped cases\n",
        md(platform),
        cases.len(),
        changes.len(),
        skipped.len()
    );
    if !changes.is_empty() {
        let _ = writeln!(
            m,
            "| case | line | statement | recorded | real | model | change |\n|---|---|---|---|---|---|---|"
        );
        for r in changes {
            let _ = writeln!(
                m,
                "| {} | {} | `{}` | {} | {} | {} | {} |",
                md(&r.case),
                r.line,
                md(&r.statement),
                md(&r.recorded),
                md(&r.real),
                md(&r.predicted),
                md(&r.status)
            );
        }
    }
    for r in skipped {
        let _ = writeln!(m, "- skipped {}: {}", md(&r.case), md(&r.detail));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped() {
        assert_eq!(xml("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn corpus_junit_has_one_test_case_per_case() {
        let rows = vec![
            CorpusRow { case: "a.case".into(), status: "ok".into(), ..CorpusRow::default() },
            CorpusRow { case: "b.case".into(), status: "real-changed".into(), line: 3, ..CorpusRow::default() },
            CorpusRow { case: "b.case".into(), status: "consequence".into(), line: 4, ..CorpusRow::default() },
            CorpusRow { case: "b.case".into(), status: "unrecorded".into(), line: 5, ..CorpusRow::default() },
            CorpusRow { case: "d.case".into(), status: "mismatch".into(), line: 2, ..CorpusRow::default() },
            CorpusRow {
                case: "c.case".into(),
                status: "skipped".into(),
                detail: "needs root".into(),
                ..CorpusRow::default()
            },
        ];
        let x = junit_corpus(&rows);
        // A consequence and an unrecorded statement are listed, not failed.
        assert!(x.contains("tests=\"4\" failures=\"2\" skipped=\"1\""), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 4);
        assert_eq!(x.matches("<failure ").count(), 2);
    }
}
