//! Printer for cases: the inverse of the parser (`parse(print(c)) == c`).

use super::{Case, Expect, Trailer};
use std::fmt::Write;

/// Prints a case as a `.case` file, one statement a line.
pub fn print(case: &Case) -> String {
    let mut out = String::new();
    for step in &case.steps {
        for c in &step.above {
            let _ = writeln!(out, "#{c}");
        }
        let stmt = step.stmt.to_string();
        match &step.trailer {
            None => {
                let _ = writeln!(out, "{stmt}");
            }
            Some(t) => {
                let _ = writeln!(out, "{stmt:<28} {}", trailer(t));
            }
        }
    }
    for c in &case.tail {
        let _ = writeln!(out, "#{c}");
    }
    out
}

fn trailer(t: &Trailer) -> String {
    match t {
        Trailer::Note(n) => format!("#{n}"),
        Trailer::Expect(entries) => {
            let mut s = String::from("#=");
            for e in entries {
                s.push(' ');
                s.push_str(&expect(e));
            }
            s
        }
    }
}

/// One expectation entry, `PLATFORM[@VERSION]:OUTCOME`.
pub fn expect(e: &Expect) -> String {
    let set = crate::outcome::OutcomeSet::new(e.outcomes.iter().cloned());
    format!("{}:{}", e.model, set)
}

/// The statements on one line joined by ` ; `, for CSV and people.
pub fn one_line(case: &Case) -> String {
    let mut s = String::new();
    for (i, st) in case.stmts().enumerate() {
        if i > 0 {
            s.push_str(" ; ");
        }
        let _ = write!(s, "{st}");
    }
    s
}
