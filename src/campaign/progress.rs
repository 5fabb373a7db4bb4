//! Progress of a campaign on stderr: a bar on a terminal (over cases when
//! their number is known, else over the duration), a quiet line every 10 s
//! otherwise; nothing with `-q`.

use crate::report::Counts;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress on stderr: a bar on a terminal, a quiet line every 10 s otherwise.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    last_line: Mutex<Instant>,
    label: &'static str,
    /// The bar measures time (a run bounded by duration only), not cases.
    by_time: bool,
}

impl Progress {
    /// A bar over cases when their number is known, else over the duration.
    pub(super) fn new(cases: Option<u64>, duration: Option<Duration>, label: &'static str) -> Progress {
        let by_time = cases.is_none() && duration.is_some();
        let bar = (std::io::stderr().is_terminal() && !crate::say::quiet()).then(|| {
            let (bar, template) = match (cases, duration) {
                (Some(n), _) => (
                    indicatif::ProgressBar::new(n),
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} cases  {msg}",
                ),
                (None, Some(d)) => {
                    (indicatif::ProgressBar::new(d.as_secs().max(1)), "{spinner} [{elapsed_precise}] {wide_bar} {msg}")
                }
                (None, None) => (indicatif::ProgressBar::new_spinner(), "{spinner} [{elapsed_precise}] {msg}"),
            };
            let style = indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
            bar
        });
        Progress { bar, last_line: Mutex::new(Instant::now()), label, by_time }
    }

    pub(super) fn update(&self, c: &Counts, elapsed: Duration) {
        let rate = c.cases as f64 / elapsed.as_secs_f64().max(1e-9);
        let msg = format!("{rate:.0}/s  {} mismatch(es)  {} flaky  {} skipped", c.mismatches, c.flaky, c.skipped);
        match &self.bar {
            Some(bar) => {
                if self.by_time {
                    bar.set_position(elapsed.as_secs());
                    bar.set_message(format!("{} cases  {msg}", c.cases));
                } else {
                    bar.set_position(c.cases);
                    bar.set_message(msg);
                }
                bar.tick();
            }
            None => {
                let mut last = self.last_line.lock().expect("progress lock");
                if last.elapsed() >= Duration::from_secs(10) && !crate::say::quiet() {
                    eprintln!("{}: {:.0}s  {} cases  {msg}", self.label, elapsed.as_secs_f64(), c.cases);
                    *last = Instant::now();
                }
            }
        }
    }

    pub(super) fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
