//! Audit sinks: JSON lines on disk, tracing events.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use accesslink_workflow::audit::{
    AuditAction, AuditEvent, AuditOutcome, AuditSink, ConnectorLabel, JsonLinesSink, TracingSink,
};
use accesslink_workflow::fulfil::Fulfiller;
use serde_json::Value;

use crate::double::FakeItsm;
use crate::fulfil::{fast, grant, template};

fn temp_path(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "accesslink-workflow-{}-{name}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&p);
    p
}

fn event(n: usize) -> AuditEvent {
    AuditEvent::new(
        AuditAction::GateChecked,
        AuditOutcome::Denied,
        ConnectorLabel::new("otrs", "prod"),
    )
    .detail("n", n)
    .detail("password", "hunter2")
}

fn lines(p: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

#[test]
fn json_lines_from_concurrent_writers_are_whole_and_parseable() {
    let path = temp_path("concurrent");
    let sink = Arc::new(JsonLinesSink::open(&path).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let sink = sink.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    sink.record(&event(t * 1000 + i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let got = lines(&path);
    assert_eq!(got.len(), 200);
    let mut ns: Vec<u64> = got
        .iter()
        .map(|v| v["detail"]["n"].as_u64().unwrap())
        .collect();
    ns.sort_unstable();
    let mut expected: Vec<u64> = (0..4)
        .flat_map(|t| (0..50).map(move |i| t * 1000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(ns, expected);
    let first = &got[0];
    assert_eq!(first["action"], "gate_checked");
    assert_eq!(first["outcome"], "denied");
    assert_eq!(
        first["connector"],
        serde_json::json!({ "target": "otrs", "instance": "prod" })
    );
    assert_eq!(first["detail"]["password"], "[redacted]");
    let time = first["time"].as_str().unwrap();
    assert_eq!(time.len(), "2026-01-01T00:00:00.000Z".len());
    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn json_lines_sink_appends_to_an_existing_file() {
    let path = temp_path("append");
    std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
    let sink = JsonLinesSink::open(&path).unwrap().sync_each(true);
    sink.record(&event(1)).unwrap();
    let got = lines(&path);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["earlier"], true);
    assert_eq!(got[1]["detail"]["n"], 1);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(start_paused = true)]
async fn a_fulfilment_run_writes_one_line_per_step() {
    let path = temp_path("run");
    let itsm = FakeItsm::new();
    itsm.on_poll(|_, tickets| {
        for t in tickets.iter_mut() {
            t.status =
                accesslink_core::TicketStatus::new(accesslink_core::TicketState::Closed, "closed");
        }
    });
    let f = Fulfiller::builder(itsm.clone(), template())
        .poll(fast())
        .audit(Arc::new(JsonLinesSink::open(&path).unwrap()))
        .build();
    f.fulfil(&grant("REQ-7")).await;
    let got = lines(&path);
    let actions: Vec<_> = got
        .iter()
        .map(|v| v["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["ticket_opened", "tickets_polled", "task_finished"]
    );
    assert_eq!(got[0]["request_id"], "REQ-7");
    assert_eq!(got[0]["ticket"]["number"], "2026000001");
    assert_eq!(got[2]["detail"]["status"], "completed");
    let _ = std::fs::remove_file(&path);
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[test]
fn tracing_sink_emits_a_structured_event() {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        TracingSink.record(&event(5)).unwrap();
    });
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("WARN"), "denials are warnings: {text}");
    assert!(text.contains("accesslink::audit"), "{text}");
    assert!(text.contains("action=\"gate_checked\""), "{text}");
    assert!(text.contains("outcome=\"denied\""), "{text}");
    assert!(text.contains("connector_target=otrs"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
