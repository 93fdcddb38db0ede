//! `import accounts|entitlements|grants`: streamed to a file, with a progress bar, a
//! checkpoint after every page and `--resume` from it.
//!
//! The checkpoint (`<out>.checkpoint`, JSON) holds the page token of the page being
//! written, the rows written before that page and the byte length of the file at that
//! point. It is written (atomically, by rename) before the first row of each page, after
//! the rows before it are flushed. `--resume` cuts the file back to that length and asks
//! for that page again, so a run killed anywhere leaves no row lost or repeated.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use accesslink::paging::{self, Paged, PagingOptions, PagingReport};
use accesslink::{EntitlementType, PageToken};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::cli::{FileFormat, ImportArgs, ImportKind};
use crate::output::{CliError, Out};
use crate::session;

/// What `--resume` needs to continue exactly where a run stopped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Checkpoint {
    kind: String,
    instance: String,
    #[serde(rename = "type")]
    ty: Option<String>,
    format: FileFormat,
    /// The token of the page whose rows come next (`None`: the first page).
    token: Option<PageToken>,
    /// Rows in the file before that page.
    rows: u64,
    /// The file's length in bytes before that page.
    offset: u64,
    /// The CSV header, once written.
    header: Option<Vec<String>>,
}

/// A writer that counts the bytes it is given.
struct Counting<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The output file being written and its bookkeeping.
struct Sink {
    w: Counting<BufWriter<File>>,
    format: FileFormat,
    header: Option<Vec<String>>,
    rows: u64,
    cp_path: PathBuf,
    cp: Checkpoint,
}

impl Sink {
    fn row<T: Serialize>(&mut self, item: &T) -> io::Result<()> {
        match self.format {
            FileFormat::Jsonl => {
                serde_json::to_writer(&mut self.w, item)?;
                self.w.write_all(b"\n")?;
            }
            FileFormat::Json => {
                if self.rows > 0 {
                    self.w.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut self.w, item)?;
            }
            FileFormat::Csv => {
                let mut flat = Map::new();
                flatten(&serde_json::to_value(item)?, "", &mut flat);
                if self.header.is_none() {
                    // Attribute bags last, the rest in name order.
                    let mut header: Vec<String> = flat.keys().cloned().collect();
                    header.sort_by_key(|h| h.ends_with("attributes"));
                    let line: Vec<String> = header.iter().map(|h| csv_field(h)).collect();
                    writeln!(self.w, "{}", line.join(","))?;
                    self.header = Some(header);
                }
                let header = self.header.as_deref().unwrap_or_default();
                let line: Vec<String> = header
                    .iter()
                    .map(|h| match flat.get(h) {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => csv_field(s),
                        Some(other) => csv_field(&other.to_string()),
                    })
                    .collect();
                writeln!(self.w, "{}", line.join(","))?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Flushes the rows so far and records that the page fetched with `token` comes next.
    fn checkpoint(&mut self, token: Option<PageToken>) -> io::Result<()> {
        self.w.flush()?;
        self.cp.token = token;
        self.cp.rows = self.rows;
        self.cp.offset = self.w.count;
        self.cp.header = self.header.clone();
        let tmp = self.cp_path.with_extension("checkpoint.tmp");
        fs::write(&tmp, serde_json::to_vec(&self.cp)?)?;
        fs::rename(&tmp, &self.cp_path)
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.format == FileFormat::Json {
            self.w
                .write_all(if self.rows > 0 { b"\n]\n" } else { b"]\n" })?;
        }
        self.w.flush()?;
        self.w.inner.get_ref().sync_all()
    }
}

/// Nested objects become dotted columns; `attributes` and arrays stay JSON text.
fn flatten(v: &Value, prefix: &str, out: &mut Map<String, Value>) {
    match v {
        Value::Object(map) if prefix != "attributes" && !prefix.ends_with(".attributes") => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &key, out);
            }
        }
        Value::Object(_) | Value::Array(_) => {
            out.insert(prefix.to_owned(), Value::String(v.to_string()));
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn io_err(what: &Path) -> impl Fn(io::Error) -> CliError + '_ {
    move |e| CliError::failed("io", format!("{}: {e}", what.display()))
}

pub(crate) async fn run(args: ImportArgs, config: &Path, out: Out) -> Result<ExitCode, CliError> {
    let conn = session::connect(config, &args.instance)?;
    let provisioner = session::provisioner(&conn)?;
    let kind = match args.kind {
        ImportKind::Accounts => "accounts",
        ImportKind::Entitlements => "entitlements",
        ImportKind::Grants => "grants",
    };
    let ty: Option<EntitlementType> = match args.kind {
        ImportKind::Accounts => None,
        _ => Some(match &args.ty {
            Some(t) => EntitlementType::new(t.trim()),
            None => provisioner
                .entitlement_types()
                .first()
                .cloned()
                .ok_or_else(|| {
                    CliError::usage(format!("`{}` lists no entitlement types", args.instance))
                })?,
        }),
    };
    let cp_path = checkpoint_path(&args.out);
    let fresh = Checkpoint {
        kind: kind.into(),
        instance: args.instance.clone(),
        ty: ty.as_ref().map(|t| t.as_str().to_owned()),
        format: args.format,
        token: None,
        rows: 0,
        offset: 0,
        header: None,
    };

    // Resume from the checkpoint, or start a new file.
    let saved: Option<Checkpoint> = if args.resume {
        match fs::read(&cp_path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                CliError::usage(format!("{}: not a checkpoint: {e}", cp_path.display()))
            })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                eprintln!(
                    "no checkpoint at {}; starting from the first page",
                    cp_path.display()
                );
                None
            }
            Err(e) => return Err(io_err(&cp_path)(e)),
        }
    } else {
        None
    };
    if let Some(cp) = &saved {
        let same = cp.kind == fresh.kind
            && cp.instance == fresh.instance
            && cp.ty == fresh.ty
            && cp.format == fresh.format;
        if !same {
            return Err(CliError::usage(format!(
                "{} is the checkpoint of another import ({} {} {:?} {:?}); remove it or change the arguments",
                cp_path.display(),
                cp.kind,
                cp.instance,
                cp.ty,
                cp.format
            )));
        }
    }
    let (file, rows_before, offset) = match &saved {
        Some(cp) => {
            let mut f = OpenOptions::new()
                .write(true)
                .open(&args.out)
                .map_err(io_err(&args.out))?;
            let len = f.metadata().map_err(io_err(&args.out))?.len();
            if len < cp.offset {
                return Err(CliError::usage(format!(
                    "{} is shorter ({len} bytes) than its checkpoint says ({}); start again without --resume",
                    args.out.display(),
                    cp.offset
                )));
            }
            f.set_len(cp.offset).map_err(io_err(&args.out))?;
            f.seek(SeekFrom::End(0)).map_err(io_err(&args.out))?;
            (f, cp.rows, cp.offset)
        }
        None => (File::create(&args.out).map_err(io_err(&args.out))?, 0, 0),
    };
    let mut sink = Sink {
        w: Counting {
            inner: BufWriter::with_capacity(256 * 1024, file),
            count: offset,
        },
        format: args.format,
        header: saved.as_ref().and_then(|c| c.header.clone()),
        rows: rows_before,
        cp_path: cp_path.clone(),
        cp: saved.clone().unwrap_or(fresh),
    };
    if saved.is_none() {
        if args.format == FileFormat::Json {
            sink.w.write_all(b"[\n").map_err(io_err(&args.out))?;
        }
        sink.checkpoint(None).map_err(io_err(&cp_path))?;
    }

    // The completeness guard, on core's PagingOptions. A resumed run counts only its own
    // rows there, so it gets the minimum less the rows already written.
    let mut options =
        PagingOptions::new().resume_from(saved.as_ref().and_then(|c| c.token.clone()));
    if let Some(n) = args.page_size {
        options = options.page_size(n);
    }
    if saved.is_none() {
        if let Some(n) = args.min_rows {
            options = options.expect_at_least(n);
        }
        if let Some(prev) = args.previous_count {
            options = options
                .previous_count(prev)
                .max_drop_percent(args.max_drop.unwrap_or(0));
        }
    } else {
        let from_previous = args
            .previous_count
            .map(|p| p - (u128::from(p) * u128::from(args.max_drop.unwrap_or(0)) / 100) as u64);
        if let Some(min) = args.min_rows.max(from_previous) {
            options = options.expect_at_least(min.saturating_sub(rows_before));
        }
    }

    let bar = progress_bar();
    bar.set_position(rows_before);
    let started = Instant::now();
    let p = provisioner.as_ref();
    let result = match (args.kind, &ty) {
        (ImportKind::Accounts, _) => drain(paging::accounts(p, options), &mut sink, &bar).await,
        (ImportKind::Entitlements, Some(t)) => {
            drain(paging::entitlements(p, t, options), &mut sink, &bar).await
        }
        (ImportKind::Grants, Some(t)) => {
            drain(paging::grants(p, t, options), &mut sink, &bar).await
        }
        _ => unreachable!("entitlements and grants always have a type"),
    };
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    let (report, error) = result;
    if let Some(e) = error {
        let _ = sink.w.flush();
        let mut err = e;
        err.message = format!(
            "{} (after {} row(s); `--resume` continues from the last page boundary)",
            err.message, sink.rows
        );
        return Err(err);
    }
    sink.finish().map_err(io_err(&args.out))?;
    let _ = fs::remove_file(&cp_path);
    summary(&args, kind, &sink, rows_before, &report, elapsed, out);
    Ok(ExitCode::SUCCESS)
}

/// Writes every item of the stream, checkpointing at each page boundary.
async fn drain<T: Serialize>(
    mut stream: Paged<'_, T>,
    sink: &mut Sink,
    bar: &ProgressBar,
) -> (PagingReport, Option<CliError>) {
    let handle = stream.report_handle();
    let mut pages = 0;
    let mut length_set = false;
    loop {
        let item = match stream.try_next().await {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => return (handle.get(), Some(CliError::lib(&e))),
        };
        let report = handle.get();
        if report.pages != pages {
            // The first row of a new page: what came before is complete.
            pages = report.pages;
            if let Err(e) = sink.checkpoint(report.checkpoint.clone()) {
                return (
                    report,
                    Some(CliError::failed("io", format!("checkpoint: {e}"))),
                );
            }
            bar.set_message(format!("{pages} page(s)"));
            if !length_set {
                if let Some(total) = report.expected_total {
                    bar.set_length(total);
                    bar.set_style(bar_style(true));
                    length_set = true;
                }
            }
        }
        if let Err(e) = sink.row(&item) {
            return (report, Some(CliError::failed("io", format!("write: {e}"))));
        }
        bar.inc(1);
    }
    (handle.get(), None)
}

fn checkpoint_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

fn bar_style(with_total: bool) -> ProgressStyle {
    let template = if with_total {
        "{spinner} {pos}/{len} rows {wide_bar} {msg} {per_sec} {elapsed}"
    } else {
        "{spinner} {pos} rows, {msg}, {per_sec}, {elapsed}"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// A progress bar on stderr, hidden when stderr is not a terminal.
fn progress_bar() -> ProgressBar {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(bar_style(false));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn summary(
    args: &ImportArgs,
    kind: &str,
    sink: &Sink,
    rows_before: u64,
    report: &PagingReport,
    elapsed: Duration,
    out: Out,
) {
    let this_run = sink.rows - rows_before;
    let secs = elapsed.as_secs_f64().max(1e-6);
    let rate = this_run as f64 / secs;
    let stopped = report
        .stopped
        .map(|s| format!("{s:?}").to_ascii_lowercase());
    let mut text = format!(
        "imported {} {kind} from `{}` to {} ({} page(s), {:.1}s, {:.0} rows/s)",
        sink.rows,
        args.instance,
        args.out.display(),
        report.pages,
        secs,
        rate
    );
    if rows_before > 0 {
        text.push_str(&format!("\n  resumed after {rows_before} row(s)"));
    }
    if report.duplicates > 0 {
        text.push_str(&format!(
            "\n  {} duplicate(s) reported by the target and skipped (first: {})",
            report.duplicates,
            report.duplicate_keys.first().map_or("", String::as_str)
        ));
    }
    if let Some(short) = report.shortfall() {
        text.push_str(&format!(
            "\n  warning: the target reported {} item(s), {short} fewer arrived",
            report.expected_total.unwrap_or_default()
        ));
    }
    text.push_str(&format!(
        "\n  stopped: {}",
        stopped.as_deref().unwrap_or("unknown")
    ));
    out.emit(
        text,
        &json!({
            "ok": true,
            "kind": kind,
            "instance": args.instance,
            "out": args.out.display().to_string(),
            "format": args.format,
            "rows": sink.rows,
            "rows_this_run": this_run,
            "resumed_after": rows_before,
            "pages": report.pages,
            "duplicates": report.duplicates,
            "duplicate_keys": report.duplicate_keys,
            "reported_total": report.reported_total,
            "stopped": stopped,
            "elapsed_ms": elapsed.as_millis() as u64,
            "rows_per_sec": rate.round(),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("alice"), "alice");
        assert_eq!(csv_field("Doe, Jane"), "\"Doe, Jane\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn nested_values_flatten_to_dotted_columns_and_attributes_stay_json() {
        let v = json!({
            "account": "a1",
            "entitlement": { "ty": "role", "id": "admin" },
            "attributes": { "x": { "y": 1 } },
            "tags": ["a", "b"],
        });
        let mut flat = Map::new();
        flatten(&v, "", &mut flat);
        assert_eq!(flat["account"], "a1");
        assert_eq!(flat["entitlement.ty"], "role");
        assert_eq!(flat["entitlement.id"], "admin");
        assert_eq!(flat["attributes"], r#"{"x":{"y":1}}"#);
        assert_eq!(flat["tags"], r#"["a","b"]"#);
        assert_eq!(flat.len(), 5);
    }

    #[test]
    fn the_checkpoint_sits_beside_the_output() {
        assert_eq!(
            checkpoint_path(Path::new("/data/users.jsonl")),
            PathBuf::from("/data/users.jsonl.checkpoint")
        );
    }
}
