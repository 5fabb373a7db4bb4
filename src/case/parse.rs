//! Parser for `.case` files. Errors name the file, line and column and say
//! what was expected there. The safety rule (connect and probe only to
//! loopback) and the name rules are enforced here, so no parsed case can
//! send traffic off the host or use a closed socket.

use super::{Addr, Case, Expect, Kind, Name, Port, SockOpt, Step, Stmt, Trailer, compile, is_loopback_ip};
use crate::outcome::OutcomeSet;
use crate::platform::ModelSpec;
use std::fmt;
use std::path::Path;

/// A parse error, with the place it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file name as given (or a label such as `<stdin>`).
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub col: u32,
    /// What was wrong or expected.
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A position only where there is one (an unreadable file has none).
        match (self.line, self.col) {
            (0, _) => write!(f, "{}: {}", self.file, self.msg),
            (l, 0) => write!(f, "{}:{l}: {}", self.file, self.msg),
            (l, c) => write!(f, "{}:{l}:{c}: {}", self.file, self.msg),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads and parses a case file. I/O errors become a `ParseError` at line 0
/// (printed without a position).
pub fn parse_file(path: &Path) -> Result<Case, ParseError> {
    let label = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| ParseError {
        file: label.clone(),
        line: 0,
        col: 0,
        msg: format!("cannot read: {e}"),
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        ParseError { file: label.clone(), line, col: 1, msg: "the file is not UTF-8 text".into() }
    })?;
    parse(&label, &text)
}

/// A token with its column (from 1).
#[derive(Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    col: u32,
}

/// Parses the text of a case file; `file` labels errors.
pub fn parse(file: &str, text: &str) -> Result<Case, ParseError> {
    let mut case = Case::default();
    let mut pending: Vec<String> = Vec::new();
    // Line of each step, and its tokens, to place name errors.
    let mut places: Vec<(u32, Vec<(u32, String)>)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let lineno = i as u32 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let err = |col: u32, msg: String| ParseError { file: file.to_string(), line: lineno, col, msg };
        let (code, comment) = match line.find('#') {
            Some(at) => (&line[..at], Some((at, &line[at + 1..]))),
            None => (line, None),
        };
        let toks = tokenize(code);
        if toks.is_empty() {
            if let Some((_, c)) = comment {
                pending.push(c.trim_end().to_string());
            }
            continue;
        }
        let stmt = parse_stmt(&toks, &err, toks.last().map(|t| t.col + t.text.chars().count() as u32).unwrap_or(1))?;
        let trailer = match comment {
            None => None,
            Some((at, c)) => {
                let col = line[..at].chars().count() as u32 + 1;
                Some(parse_trailer(c, col, &err)?)
            }
        };
        places.push((lineno, toks.iter().map(|t| (t.col, t.text.to_string())).collect()));
        case.steps.push(Step { above: std::mem::take(&mut pending), stmt, trailer });
    }
    case.tail = pending;
    if let Err(e) = compile(&case) {
        let (line, toks) = &places[e.step];
        // The name itself, or `@name` in a port: the last place it occurs
        // for a bound name is the first token; for uses, the first use.
        let col = toks
            .iter()
            .find(|(_, t)| t == e.name.as_str() || t.ends_with(&format!("@{}", e.name)))
            .map(|(c, t)| if t == e.name.as_str() { *c } else { *c + t.find('@').unwrap_or(0) as u32 + 1 })
            .unwrap_or(1);
        return Err(ParseError { file: file.to_string(), line: *line, col, msg: e.what });
    }
    Ok(case)
}

fn tokenize(code: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut start: Option<(usize, u32)> = None;
    let mut col = 0u32;
    for (at, ch) in code.char_indices() {
        col += 1;
        if ch.is_whitespace() {
            if let Some((s, c)) = start.take() {
                toks.push(Tok { text: &code[s..at], col: c });
            }
        } else if start.is_none() {
            start = Some((at, col));
        }
    }
    if let Some((s, c)) = start {
        toks.push(Tok { text: &code[s..], col: c });
    }
    toks
}

type ErrFn<'e> = dyn Fn(u32, String) -> ParseError + 'e;

fn parse_stmt(toks: &[Tok<'_>], err: &ErrFn<'_>, end_col: u32) -> Result<Stmt, ParseError> {
    let at = |i: usize| toks.get(i).copied();
    let expect_end = |i: usize| -> Result<(), ParseError> {
        match at(i) {
            None => Ok(()),
            Some(t) => Err(err(t.col, format!("expected the end of the statement, found '{}'", t.text))),
        }
    };
    let need = |i: usize, what: &str| -> Result<Tok<'_>, ParseError> {
        at(i).ok_or_else(|| err(end_col, format!("expected {what}, found the end of the line")))
    };
    let first = toks[0];
    if at(1).map(|t| t.text) == Some("=") {
        let name = name_tok(first, err)?;
        let verb = need(2, "'socket' or 'accept'")?;
        return match verb.text {
            "socket" => {
                let kind = kind_tok(need(3, "a socket kind (tcp4, tcp6, udp4, udp6)")?, err)?;
                let other = match at(4) {
                    None => false,
                    Some(t) if t.text == "as" => {
                        let o = need(5, "'other'")?;
                        if o.text != "other" {
                            return Err(err(o.col, format!("expected 'other', found '{}'", o.text)));
                        }
                        expect_end(6)?;
                        true
                    }
                    Some(t) => {
                        return Err(err(
                            t.col,
                            format!("expected 'as other' or the end of the statement, found '{}'", t.text),
                        ));
                    }
                };
                Ok(Stmt::Socket { name, kind, other })
            }
            "accept" => {
                let listener = name_tok(need(3, "the name of a listening socket")?, err)?;
                expect_end(4)?;
                Ok(Stmt::Accept { name, listener })
            }
            other => Err(err(verb.col, format!("expected 'socket' or 'accept', found '{other}'"))),
        };
    }
    let stmt = match first.text {
        "set" => {
            let name = name_tok(need(1, "a socket name")?, err)?;
            let o = need(2, "an option (reuseaddr, reuseport, reuseport_lb, exclusiveaddruse, v6only, linger0)")?;
            let opt = SockOpt::from_keyword(o.text).ok_or_else(|| {
                err(o.col, format!("unknown option '{}': expected reuseaddr, reuseport, reuseport_lb, exclusiveaddruse, v6only or linger0", o.text))
            })?;
            let v = need(3, "'on' or 'off'")?;
            let on = match v.text {
                "on" => true,
                "off" => false,
                other => return Err(err(v.col, format!("expected 'on' or 'off', found '{other}'"))),
            };
            expect_end(4)?;
            Stmt::Set { name, opt, on }
        }
        "bind" | "connect" => {
            let name = name_tok(need(1, "a socket name")?, err)?;
            let (addr, port) = endpoint_tok(need(2, "ADDR:PORT")?, err, first.text)?;
            expect_end(3)?;
            if first.text == "bind" { Stmt::Bind { name, addr, port } } else { Stmt::Connect { name, addr, port } }
        }
        "listen" | "close" => {
            let name = name_tok(need(1, "a socket name")?, err)?;
            expect_end(2)?;
            if first.text == "listen" { Stmt::Listen { name } } else { Stmt::Close { name } }
        }
        "probe" => {
            let kind = kind_tok(need(1, "a socket kind (tcp4, tcp6, udp4, udp6)")?, err)?;
            let (addr, port) = endpoint_tok(need(2, "ADDR:PORT")?, err, "probe")?;
            expect_end(3)?;
            Stmt::Probe { kind, addr, port }
        }
        other => {
            let hint = if Name::is_valid(other) && at(1).is_none() {
                format!("expected a statement, found '{other}' (did you mean '{other} = socket …'?)")
            } else {
                format!(
                    "expected a statement (NAME = socket, set, bind, listen, connect, NAME = accept, close, probe), found '{other}'"
                )
            };
            return Err(err(first.col, hint));
        }
    };
    Ok(stmt)
}

fn name_tok(t: Tok<'_>, err: &ErrFn<'_>) -> Result<Name, ParseError> {
    if Name::is_valid(t.text) {
        Ok(Name::new(t.text))
    } else if super::KEYWORDS.contains(&t.text) {
        Err(err(t.col, format!("expected a socket name, found the keyword '{}'", t.text)))
    } else {
        Err(err(t.col, format!("expected a socket name ([a-z][a-z0-9_]*), found '{}'", t.text)))
    }
}

fn kind_tok(t: Tok<'_>, err: &ErrFn<'_>) -> Result<Kind, ParseError> {
    Kind::from_keyword(t.text)
        .ok_or_else(|| err(t.col, format!("expected a socket kind (tcp4, tcp6, udp4, udp6), found '{}'", t.text)))
}

const ADDR_LIST: &str =
    "0.0.0.0, 127.0.0.1, 127.0.0.2, 192.0.2.1, [::], [::1], [::ffff:127.0.0.1], [::ffff:127.0.0.2], [::ffff:0.0.0.0]";

fn endpoint_tok(t: Tok<'_>, err: &ErrFn<'_>, verb: &str) -> Result<(Addr, Port), ParseError> {
    let split = if t.text.starts_with('[') { t.text.find("]:").map(|i| i + 1) } else { t.text.rfind(':') };
    let Some(colon) = split else {
        return Err(err(
            t.col,
            format!("expected ADDR:PORT (for example 127.0.0.1:P1 or [::1]:P2), found '{}'", t.text),
        ));
    };
    let (a, p) = (&t.text[..colon], &t.text[colon + 1..]);
    let pcol = t.col + a.chars().count() as u32 + 1;
    let addr = match Addr::from_text(a) {
        Some(addr) => addr,
        None => {
            let parsed: Option<std::net::IpAddr> = a.trim_start_matches('[').trim_end_matches(']').parse().ok();
            let msg = match parsed {
                Some(ip) if verb != "bind" && !is_loopback_ip(ip) => format!(
                    "{verb} may only target loopback addresses (127.0.0.0/8, [::1], [::ffff:127.x.y.z]); '{a}' is not loopback"
                ),
                _ => format!("expected an address ({ADDR_LIST}), found '{a}'"),
            };
            return Err(err(t.col, msg));
        }
    };
    if verb != "bind" && !addr.is_loopback() {
        return Err(err(
            t.col,
            format!(
                "{verb} may only target loopback addresses (127.0.0.0/8, [::1], [::ffff:127.x.y.z]); '{a}' is not loopback"
            ),
        ));
    }
    let port = if p == "0" {
        Port::Zero
    } else if let Some(n) = p.strip_prefix('@') {
        if !Name::is_valid(n) {
            return Err(err(pcol + 1, format!("expected a socket name after '@', found '{n}'")));
        }
        Port::Of(Name::new(n))
    } else if let Some(d) = p.strip_prefix('P').filter(|d| d.len() == 1) {
        match d.parse::<u8>() {
            Ok(n @ 1..=9) => Port::Sym(n),
            _ => return Err(err(pcol, format!("expected a port P1..P9, 0 or @NAME, found '{p}'"))),
        }
    } else if p.parse::<u32>().is_ok() {
        return Err(err(pcol, format!("literal port '{p}' is not part of the language: use P1..P9, 0 or @NAME")));
    } else {
        return Err(err(pcol, format!("expected a port P1..P9, 0 or @NAME, found '{p}'")));
    };
    Ok((addr, port))
}

fn parse_trailer(c: &str, col: u32, err: &ErrFn<'_>) -> Result<Trailer, ParseError> {
    let Some(rest) = c.strip_prefix('=') else {
        return Ok(Trailer::Note(c.trim_end().to_string()));
    };
    let mut entries = Vec::new();
    for t in tokenize(rest) {
        let tcol = col + 1 + t.col;
        let Some((spec, outcome)) = t.text.split_once(':') else {
            return Err(err(
                tcol,
                format!(
                    "expected PLATFORM[@VERSION][+VARIANT…]:OUTCOME in the expectation comment, found '{}'",
                    t.text
                ),
            ));
        };
        let model = ModelSpec::parse(spec).ok_or_else(|| {
            err(tcol, format!("expected a platform (linux, freebsd, macos, windows, wine) with an optional @VERSION and +VARIANTs, found '{spec}'"))
        })?;
        let set = OutcomeSet::parse(outcome).ok_or_else(|| {
            err(
                tcol + spec.chars().count() as u32 + 1,
                format!("expected an outcome (ok, an error name such as EADDRINUSE, OS<n>, ->NAME, ->none, or a set like {{EACCES,ok}}), found '{outcome}'"),
            )
        })?;
        entries.push(Expect { model, outcomes: set.members().to_vec() });
    }
    if entries.is_empty() {
        return Err(err(col, "expected at least one PLATFORM:OUTCOME after '#='".into()));
    }
    Ok(Trailer::Expect(entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Errno, Outcome};

    fn err_of(text: &str) -> ParseError {
        parse("f.case", text).unwrap_err()
    }

    #[test]
    fn parses_the_spec_example() {
        let text = "# Windows: an exclusive socket blocks a later SO_REUSEADDR bind\n\
                    a = socket tcp4\nb = socket tcp4\nset a exclusiveaddruse on\nbind a 0.0.0.0:P1\n\
                    set b reuseaddr on\nbind b 0.0.0.0:P1        # Windows: EACCES\nclose a\n";
        let c = parse("x", text).unwrap();
        assert_eq!(c.len(), 7);
        assert_eq!(c.steps[0].above, vec![" Windows: an exclusive socket blocks a later SO_REUSEADDR bind"]);
        assert_eq!(c.steps[5].trailer, Some(Trailer::Note(" Windows: EACCES".into())));
    }

    #[test]
    fn parses_expectations() {
        let c = parse("x", "a = socket tcp4\nbind a 0.0.0.0:P1   #= linux:EADDRINUSE windows@10.0.19045:{EACCES,ok}\n")
            .unwrap();
        let e = c.steps[1].expects();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].outcomes, vec![Outcome::Err(Errno::EADDRINUSE)]);
        assert_eq!(e[1].model.to_string(), "windows@10.0.19045");
        assert_eq!(e[1].outcomes.len(), 2);
    }

    #[test]
    fn errors_name_line_column_and_what_was_expected() {
        let e = err_of("a = socket tcp4\nbind a 10.0.0.1:P1\n");
        assert_eq!((e.line, e.col), (2, 8));
        assert!(e.msg.contains("expected an address"), "{}", e.msg);
        assert_eq!(e.to_string().split(':').take(3).collect::<Vec<_>>(), ["f.case", "2", "8"]);

        let e = err_of("a = socket tcp4\nset a nodelay on\n");
        assert_eq!((e.line, e.col), (2, 7));
        assert!(e.msg.contains("unknown option 'nodelay'"), "{}", e.msg);

        let e = err_of("a = socket tcp5\n");
        assert_eq!((e.line, e.col), (1, 12));

        let e = err_of("a = socket tcp4\nbind a 0.0.0.0:8080\n");
        assert!(e.msg.contains("literal port"), "{}", e.msg);
        assert_eq!(e.col, 16);

        let e = err_of("a = socket tcp4\nbind a\n");
        assert_eq!((e.line, e.col), (2, 7));
        assert!(e.msg.contains("found the end of the line"), "{}", e.msg);
    }

    #[test]
    fn closed_and_unknown_names_are_errors_at_the_name() {
        let e = err_of("a = socket tcp4\nclose a\nlisten a\n");
        assert_eq!((e.line, e.col), (3, 8));
        assert!(e.msg.contains("'a' is closed"), "{}", e.msg);
        let e = err_of("a = socket tcp4\nbind a 0.0.0.0:@b\n");
        assert_eq!((e.line, e.col), (2, 17));
        assert!(e.msg.contains("never created"), "{}", e.msg);
        let e = err_of("a = socket tcp4\na = socket tcp4\n");
        assert_eq!((e.line, e.col), (2, 1));
        assert!(e.msg.contains("still open"), "{}", e.msg);
    }

    #[test]
    fn connect_and_probe_only_reach_loopback() {
        for bad in [
            "connect a 0.0.0.0:P1",
            "connect a 8.8.8.8:P1",
            "connect a 192.0.2.1:P1",
            "connect a [::]:P1",
            "connect a [2001:db8::1]:P1",
            "probe tcp4 [::ffff:0.0.0.0]:P1",
            "connect a [::ffff:192.0.2.1]:P1",
        ] {
            let e = err_of(&format!("a = socket tcp4\n{bad}\n"));
            assert!(e.msg.contains("only target loopback"), "{bad}: {}", e.msg);
        }
        parse("x", "a = socket tcp6\nconnect a [::ffff:127.0.0.2]:P1\nprobe udp6 [::1]:P2\n").unwrap();
    }

    #[test]
    fn bad_expectations_are_errors() {
        let e = err_of("a = socket tcp4 #= linux:EFOO\n");
        assert!(e.msg.contains("expected an outcome"), "{}", e.msg);
        let e = err_of("a = socket tcp4 #= solaris:ok\n");
        assert!(e.msg.contains("expected a platform"), "{}", e.msg);
        assert_eq!(e.col, 20);
    }

    #[test]
    fn crlf_and_blank_lines_are_fine() {
        let c = parse("x", "\r\n  a = socket udp6 as other\r\n\r\nclose a\r\n# end\r\n").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.tail, vec![" end"]);
    }
}
