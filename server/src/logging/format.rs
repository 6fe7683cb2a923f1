//! The JSON log line: a tracing layer that writes one object per event with
//! serde_json straight into one reused buffer, then hands the line to the
//! writer (tracing-subscriber's JSON formatter validates every fragment as
//! UTF-8, escapes the callback's `items` as a string, and copies each line
//! twice more on its way out). The keys are the same (`timestamp`, `level`,
//! the event's fields, `message`, `target`); `items` is a JSON array rather
//! than a string holding one.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};

/// The field written as raw JSON on [`RAW_JSON_TARGET`].
const RAW_JSON_FIELD: &str = "items";

/// A layer writing each event as a JSON line to `W`'s writer.
#[derive(Debug, Clone)]
pub struct JsonLines<W> {
    make_writer: W,
}

impl<W> JsonLines<W> {
    /// JSON lines written to the writers `make_writer` gives, a line a write.
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

thread_local! {
    /// The line and a scratch string, reused by every event of a thread.
    static BUFFERS: RefCell<(Vec<u8>, String)> = const { RefCell::new((Vec::new(), String::new())) };
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        BUFFERS.with(|buffers| {
            // Busy only for an event logged while formatting one (never
            // done here); that event is left out rather than garbled.
            let Ok(mut buffers) = buffers.try_borrow_mut() else {
                return;
            };
            let (line, scratch) = &mut *buffers;
            line.clear();
            if write_event(line, scratch, event).is_ok() {
                line.push(b'\n');
                // Nowhere to report a failed log write to.
                let _ = self
                    .make_writer
                    .make_writer_for(event.metadata())
                    .write_all(line);
            }
        });
    }
}

/// The target whose `items` field is JSON text written by the gateway
/// ([`crate::gateway`] serializes it with serde_json), copied into the line
/// as it is. The same field on any other target stays a string.
const RAW_JSON_TARGET: &str = "friendgate::callback";

/// Writes `text` as a JSON string, byte for byte as serde_json would: as it
/// is between quotes when nothing in it needs escaping (ids, rule names,
/// field names: nearly every string of a log line), else through serde_json.
/// The check reads the whole string without branching, so it vectorizes.
pub fn write_json_str(out: &mut Vec<u8>, text: &str) {
    let plain = text.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// Writes an unsigned integer as JSON.
pub fn write_json_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Writes one event as a JSON object: `timestamp`, `level`, the fields in
/// order, `target`.
fn write_event(line: &mut Vec<u8>, scratch: &mut String, event: &Event<'_>) -> io::Result<()> {
    let metadata = event.metadata();
    line.push(b'{');
    // A clock set before 1970 gets no timestamp rather than a panic.
    let now = SystemTime::now();
    if now >= UNIX_EPOCH {
        write!(
            line,
            r#""timestamp":"{}","#,
            humantime::format_rfc3339_micros(now)
        )?;
    }
    line.extend_from_slice(br#""level":"#);
    write_json_str(line, metadata.level().as_str());
    let mut fields = Fields {
        line: &mut *line,
        scratch,
        raw_items: metadata.target() == RAW_JSON_TARGET,
        result: Ok(()),
    };
    event.record(&mut fields);
    fields.result?;
    line.extend_from_slice(br#","target":"#);
    write_json_str(line, metadata.target());
    line.push(b'}');
    Ok(())
}

/// Writes each field of an event as `,"name":value`.
struct Fields<'a> {
    line: &'a mut Vec<u8>,
    scratch: &'a mut String,
    /// Whether `items` is trusted JSON text (see [`RAW_JSON_TARGET`]).
    raw_items: bool,
    /// The first failure to format a value (a `Debug` or `Display` error).
    result: io::Result<()>,
}

impl Fields<'_> {
    /// Writes `,"name":` for the field.
    fn key(&mut self, field: &Field) -> &mut Vec<u8> {
        self.line.push(b',');
        write_json_str(self.line, field.name());
        self.line.push(b':');
        self.line
    }
}

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        if self.raw_items && field.name() == RAW_JSON_FIELD {
            self.result = write!(self.key(field), "{value:?}");
            return;
        }
        let mut text = std::mem::take(self.scratch);
        text.clear();
        match write!(text, "{value:?}") {
            Ok(()) => write_json_str(self.key(field), &text),
            Err(_) => self.result = Err(io::Error::other("a value failed to format")),
        }
        *self.scratch = text;
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        write_json_str(self.key(field), value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        write_json_u64(self.key(field), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field)
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // serde_json writes NaN and infinities as null.
        let _ = serde_json::to_writer(self.key(field), &value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(field).extend_from_slice(text);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = value.to_string();
        write_json_str(self.key(field), &text);
    }
}

/// The text format's field formatter: `name=value` separated by spaces, as
/// tracing-subscriber writes them, with control characters in every value
/// escaped (`\n`, `\u{1b}`), so that no field can forge a line or drive a
/// terminal.
pub fn escaped_fields(
) -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let mut out = Escaping(writer);
        if field.name() == "message" {
            write!(out, "{value:?}")
        } else {
            write!(out, "{field}={value:?}")
        }
    })
    .delimited(" ")
}

/// A `fmt::Write` that escapes control characters on the way through.
struct Escaping<'a, W: std::fmt::Write>(&'a mut W);

impl<W: std::fmt::Write> std::fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        for c in text.chars() {
            if c.is_control() {
                for escaped in c.escape_default() {
                    self.0.write_char(escaped)?;
                }
            } else {
                self.0.write_char(c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn lines(log: impl FnOnce()) -> Vec<serde_json::Value> {
        let sink = Sink::default();
        let subscriber = tracing_subscriber::registry().with(JsonLines::new(sink.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn events_are_one_json_object_a_line() {
        let items = r#"[{"to":"id1","result":0}]"#;
        let logged = lines(|| {
            tracing::info!(target: "friendgate::callback", status = 200_u64, code = -1_i64, ok = true, ratio = 0.5, from = "a\"b", items = %items, "callback answered");
            tracing::warn!(target: "friendgate::reload", error = %"bad \n file", "reload refused");
        });
        assert_eq!(logged.len(), 2);
        let first = &logged[0];
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["target"], "friendgate::callback");
        assert_eq!(first["message"], "callback answered");
        assert_eq!(first["status"], 200);
        assert_eq!(first["code"], -1);
        assert_eq!(first["ok"], true);
        assert_eq!(first["ratio"], 0.5);
        assert_eq!(first["from"], "a\"b");
        assert_eq!(
            first["items"],
            serde_json::json!([{"to": "id1", "result": 0}])
        );
        assert!(first["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(logged[1]["error"], "bad \n file");
        assert_eq!(logged[1]["level"], "WARN");
    }

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "id1",
            "a\"b",
            "back\\slash",
            "tab\t",
            "\u{0}\u{1f}\u{7f}",
            "é 请 😀",
            "</script>",
        ] {
            let mut ours = Vec::new();
            write_json_str(&mut ours, text);
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(text in "\\PC*|[\\x00-\\x7f]*") {
            let mut ours = Vec::new();
            write_json_str(&mut ours, &text);
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&text).unwrap());
        }

        #[test]
        fn any_number_is_written_as_serde_json_writes_it(value: u64) {
            let mut ours = Vec::new();
            write_json_u64(&mut ours, value);
            proptest::prop_assert_eq!(ours, serde_json::to_vec(&value).unwrap());
        }
    }

    #[test]
    fn items_stay_a_string_on_other_targets() {
        let logged = lines(|| {
            tracing::info!(items = %"not [json", "x");
            tracing::info!(target: "friendgate::reload", items = %"[1]", "x");
        });
        assert_eq!(logged[0]["items"], "not [json");
        assert_eq!(logged[1]["items"], "[1]");
    }

    #[test]
    fn strings_are_escaped_and_odd_values_stay_valid_json() {
        let logged = lines(|| {
            let error = std::io::Error::other("disk \"full\"\n");
            tracing::error!(
                target: "friendgate::callback",
                text = "tab\t, quote \", control \u{1}, emoji \u{1F600}",
                nan = f64::NAN,
                big = u64::MAX,
                error = &error as &(dyn std::error::Error + 'static),
                debug = ?("a", 1),
                "{} and {}",
                "formatted",
                "message"
            );
        });
        let line = &logged[0];
        assert_eq!(
            line["text"],
            "tab\t, quote \", control \u{1}, emoji \u{1F600}"
        );
        assert_eq!(line["nan"], serde_json::Value::Null);
        assert_eq!(line["big"], u64::MAX);
        assert_eq!(line["error"], "disk \"full\"\n");
        assert_eq!(line["debug"], "(\"a\", 1)");
        assert_eq!(line["message"], "formatted and message");
        assert_eq!(line["level"], "ERROR");
    }
}
