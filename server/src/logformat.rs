//! The JSON log line: one object per event, written with serde_json straight
//! into one buffer (tracing-subscriber's JSON formatter validates every
//! fragment as UTF-8 and escapes the callback's `items` as a string). The
//! keys are the same (`timestamp`, `level`, the event's fields, `message`,
//! `target`); `items` is a JSON array rather than a string holding one.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use serde::ser::{SerializeMap, Serializer as _};
use serde_json::value::RawValue;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The field written as raw JSON when it holds valid JSON.
const RAW_JSON_FIELD: &str = "items";

/// Formats events as JSON lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLines;

thread_local! {
    /// The line and a scratch string, reused by every event of a thread.
    static BUFFERS: RefCell<(Vec<u8>, String)> = const { RefCell::new((Vec::new(), String::new())) };
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        BUFFERS.with(|buffers| {
            let Ok(mut buffers) = buffers.try_borrow_mut() else {
                // An event logged while formatting one (not done here).
                return Err(fmt::Error);
            };
            let (line, scratch) = &mut *buffers;
            line.clear();
            write_event(line, scratch, event).map_err(|_| fmt::Error)?;
            line.push(b'\n');
            // serde_json writes valid UTF-8; checking once is cheap.
            writer.write_str(std::str::from_utf8(line).map_err(|_| fmt::Error)?)
        })
    }
}

fn write_event(
    line: &mut Vec<u8>,
    scratch: &mut String,
    event: &Event<'_>,
) -> Result<(), serde_json::Error> {
    let metadata = event.metadata();
    let mut serializer = serde_json::Serializer::new(line);
    let mut map = serializer.serialize_map(None)?;
    scratch.clear();
    if SystemTime.format_time(&mut Writer::new(scratch)).is_ok() {
        map.serialize_entry("timestamp", scratch.as_str())?;
    }
    map.serialize_entry("level", metadata.level().as_str())?;
    let mut visitor = Fields {
        map: &mut map,
        scratch,
        error: None,
    };
    event.record(&mut visitor);
    if let Some(error) = visitor.error {
        return Err(error);
    }
    map.serialize_entry("target", metadata.target())?;
    map.end()
}

/// Writes each field of an event into the map.
struct Fields<'a, M> {
    map: &'a mut M,
    scratch: &'a mut String,
    error: Option<serde_json::Error>,
}

impl<M: SerializeMap<Error = serde_json::Error>> Fields<'_, M> {
    fn entry<V: serde::Serialize + ?Sized>(&mut self, field: &Field, value: &V) {
        if self.error.is_none() {
            if let Err(error) = self.map.serialize_entry(field.name(), value) {
                self.error = Some(error);
            }
        }
    }
}

impl<M: SerializeMap<Error = serde_json::Error>> Visit for Fields<'_, M> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = std::mem::take(self.scratch);
        text.clear();
        let _ = write!(text, "{value:?}");
        let raw = (field.name() == RAW_JSON_FIELD)
            .then(|| serde_json::from_str::<&RawValue>(&text).ok())
            .flatten();
        match raw {
            Some(raw) => self.entry(field, raw),
            None => self.entry(field, text.as_str()),
        }
        *self.scratch = text;
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, &value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, &value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, &value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, &value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let text = value.to_string();
        self.entry(field, text.as_str());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

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
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_writer(sink.clone())
            .finish();
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
    fn items_that_are_not_json_stay_a_string() {
        let logged = lines(|| tracing::info!(items = %"not [json", "x"));
        assert_eq!(logged[0]["items"], "not [json");
    }
}
