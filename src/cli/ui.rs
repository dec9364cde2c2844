//! Where output goes and how it looks: results to stdout, notes and errors to stderr, colour
//! decided once from `--color`, `NO_COLOR`, `CLICOLOR_FORCE` and whether the stream is a terminal.

use std::io::{IsTerminal as _, Write as _};

use verbatim::report::Styles;

use super::ColorChoice;
use super::error::CommandError;

pub struct Ui {
    stdout_color: bool,
    stderr_color: bool,
    quiet: bool,
}

impl Ui {
    pub fn new(choice: ColorChoice, quiet: bool) -> Ui {
        let decide = |is_tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                let forced =
                    std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
                !no_color && (forced || is_tty)
            }
        };
        Ui {
            stdout_color: decide(std::io::stdout().is_terminal()),
            stderr_color: decide(std::io::stderr().is_terminal()),
            quiet,
        }
    }

    /// Styles for stdout.
    pub fn styles(&self) -> Styles {
        if self.stdout_color {
            Styles::colored()
        } else {
            Styles::default()
        }
    }

    /// A locked, buffered stdout.
    pub fn stdout(&self) -> std::io::BufWriter<std::io::StdoutLock<'static>> {
        // Diffs and JSON run to megabytes; 64 KiB writes keep the syscalls few.
        std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
    }

    /// Stdout for human output: terminal controls from content are escaped (the styles kept).
    pub fn human_stdout(
        &self,
    ) -> std::io::BufWriter<
        verbatim::report::terminal::Escaping<std::io::BufWriter<std::io::StdoutLock<'static>>>,
    > {
        // Printers write a word at a time; the escaping pass runs on 64 KiB chunks instead (it
        // was a fifth of a 5 MB word diff's time when it ran on each write).
        std::io::BufWriter::with_capacity(
            64 * 1024,
            verbatim::report::terminal::Escaping::new(self.stdout()),
        )
    }

    /// Stdout for `human` output through [`Ui::human_stdout`], or exact bytes (JSON, patches).
    pub fn output(&self, human: bool) -> Box<dyn std::io::Write> {
        if human {
            Box::new(self.human_stdout())
        } else {
            Box::new(self.stdout())
        }
    }

    /// A progress bar on stderr for `len` steps; drawn only on a terminal and without `--quiet`.
    pub fn progress(&self, len: usize, what: &str) -> indicatif::ProgressBar {
        if self.quiet || len < 2 || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(len as u64);
        let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {{wide_msg}}");
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    }

    /// A [`verbatim::ops::Progress`] that draws a bar on a terminal's stderr and prints the
    /// job's notes there.
    pub fn progress_bar(&self) -> ProgressBar<'_> {
        ProgressBar {
            ui: self,
            bar: std::sync::Mutex::new(None),
        }
    }

    pub fn counter(&self, what: &str, unit: &str) -> indicatif::ProgressBar {
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::no_length();
        let template = format!("{{spinner}} {what} {{pos}} {unit} {{wide_msg}}");
        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar
    }

    /// A note on stderr, unless `--quiet`.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            let message = verbatim::report::terminal::escape(message);
            let _ = writeln!(std::io::stderr(), "{message}");
        }
    }

    /// A warning on stderr (a failed source in a batch), unless `--quiet`.
    pub fn warn(&self, error: &CommandError) {
        if !self.quiet {
            self.print("error", anstyle::AnsiColor::Red, error);
        }
    }

    /// A warning on stderr about a result that stands but may mislead, unless `--quiet`.
    pub fn caution(&self, warning: &CommandError) {
        if !self.quiet {
            self.print("warning", anstyle::AnsiColor::Yellow, warning);
        }
    }

    /// The final error on stderr; printed even with `--quiet`.
    pub fn error(&self, error: &CommandError) {
        self.print("error", anstyle::AnsiColor::Red, error);
    }

    fn print(&self, label: &str, color: anstyle::AnsiColor, error: &CommandError) {
        let style = if self.stderr_color {
            color.on_default().bold()
        } else {
            anstyle::Style::new()
        };
        // Messages quote locators, titles and paths that content chose.
        let error = error.to_string();
        let error = verbatim::report::terminal::escape(&error);
        let _ = writeln!(
            std::io::stderr(),
            "verbatim: {style}{label}{style:#}: {error}"
        );
    }
}

/// A job's progress, shown as [`Ui::progress`] shows it.
pub struct ProgressBar<'a> {
    ui: &'a Ui,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl ProgressBar<'_> {
    fn with_bar(&self, f: impl FnOnce(&indicatif::ProgressBar)) {
        if let Ok(bar) = self.bar.lock()
            && let Some(bar) = bar.as_ref()
        {
            f(bar);
        }
    }
}

impl ProgressBar<'_> {
    /// Runs `f` (which prints to stderr) with the bar out of the way.
    pub fn suspend(&self, f: impl FnOnce()) {
        let mut f = Some(f);
        self.with_bar(|bar| {
            if let Some(f) = f.take() {
                bar.suspend(f);
            }
        });
        if let Some(f) = f {
            f();
        }
    }
}

impl verbatim::ops::Progress for ProgressBar<'_> {
    fn start(&self, total: usize, what: &str) {
        if let Ok(mut bar) = self.bar.lock() {
            *bar = Some(self.ui.progress(total, what));
        }
    }

    fn advance(&self, label: &str) {
        self.with_bar(|bar| {
            bar.set_message(label.to_owned());
            bar.inc(1);
        });
    }

    fn finish(&self) {
        if let Ok(mut bar) = self.bar.lock()
            && let Some(bar) = bar.take()
        {
            bar.finish_and_clear();
        }
    }

    fn waiting_for_lock(&self, pid: Option<u32>) {
        let who = pid.map_or("another process".to_owned(), |p| format!("process {p}"));
        self.note(&format!("waiting for the store lock held by {who}…"));
    }

    fn note(&self, message: &str) {
        // Above the bar, not through it.
        let mut shown = false;
        self.with_bar(|bar| {
            bar.suspend(|| self.ui.note(message));
            shown = true;
        });
        if !shown {
            self.ui.note(message);
        }
    }
}
