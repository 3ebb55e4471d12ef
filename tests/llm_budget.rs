//! The daily budget under concurrency: many threads and two ledgers (as two processes would)
//! on one real SQLite database never spend past the cap, the alert fires exactly once, and
//! `dayshift budget --json` reads the same spend back. The provider is a tiny in-test fake:
//! what is under test is the ledger, not HTTP.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dayshift::config::agents::{BudgetConfig, Price};
use dayshift::config::{AgentName, Config};
use dayshift::context::Clock;
use dayshift::home::Home;
use dayshift::llm::budget::Budget;
use dayshift::llm::client::LlmClient;
use dayshift::llm::{Answer, LlmError, Message, Provider, Request, Role, Usage};
use dayshift::store::Store;

const MODEL: &str = "fake-model";

/// Answers every call with the same usage after a short think; can be told to fail.
struct Fake {
    calls: AtomicUsize,
    fail: bool,
}

impl Fake {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicUsize::new(0),
            fail: false,
        })
    }
}

impl Provider for Fake {
    fn name(&self) -> &str {
        "fake"
    }

    fn complete(&self, _: &Request) -> Result<Answer, LlmError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(5));
        if self.fail {
            return Err(LlmError::Server {
                provider: "fake".into(),
                status: 503,
                retry_after: None,
            });
        }
        Ok(Answer {
            text: "ok".into(),
            // Within the worst case of `request()`: 48 prompt + 200 answer tokens.
            usage: Usage {
                input_tokens: 40,
                output_tokens: 100,
                ..Usage::default()
            },
            model: MODEL.into(),
            provider: "fake".into(),
        })
    }
}

/// 140 characters → 40 tokens, + 8 framing; at most 200 answer tokens.
/// Worst case $0.0066 at the test prices; real cost $0.0034, 140 tokens.
fn request() -> Request {
    Request {
        agent: AgentName::Planner,
        job: Some("plan".into()),
        task: None,
        system: "x".repeat(140),
        messages: vec![Message {
            role: Role::User,
            content: String::new(),
        }],
        max_tokens: 200,
        temperature: None,
    }
}

fn prices() -> BTreeMap<String, Price> {
    BTreeMap::from([(
        MODEL.to_string(),
        Price {
            input: 10.0,
            output: 30.0,
        },
    )])
}

fn usd_cap(usd: f64, alert_at: f64) -> Option<BudgetConfig> {
    Some(BudgetConfig {
        daily_usd: Some(usd),
        daily_tokens: None,
        alert_at,
    })
}

fn utc() -> Clock {
    Clock {
        tz: chrono_tz::UTC,
        day: None,
    }
}

fn budget(db: &Path, config: Option<BudgetConfig>) -> Budget {
    Budget::new(config, prices(), db, utc()).unwrap()
}

/// 8 threads per client, each calling until it has been refused 3 times (at most 12 calls).
/// Returns (answered, refused).
fn hammer(clients: &[LlmClient]) -> (usize, usize) {
    let answered = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for client in clients {
            for _ in 0..8 {
                s.spawn(|| {
                    let mut refusals = 0;
                    for _ in 0..12 {
                        match client.call(&request()) {
                            Ok(_) => answered.fetch_add(1, Ordering::SeqCst),
                            Err(LlmError::Budget(_)) => {
                                refusals += 1;
                                std::thread::sleep(Duration::from_millis(3));
                                refused.fetch_add(1, Ordering::SeqCst)
                            }
                            Err(e) => panic!("unexpected error: {e}"),
                        };
                        if refusals == 3 {
                            break;
                        }
                    }
                });
            }
        }
    });
    (answered.into_inner(), refused.into_inner())
}

#[test]
fn concurrent_calls_never_cross_a_money_cap_and_the_binary_agrees() {
    let home = common::TestHome::new();
    home.write(
        "config/agents.yaml",
        "providers:\n  fake: {kind: openai, base_url: \"http://127.0.0.1:9/v1\", model: fake-model}\nbudget: {daily_usd: 0.05, alert_at: 0.5}\nprices:\n  fake-model: {input: 10.0, output: 30.0}\n",
    );
    let opened = Home::open(&home.root).unwrap();
    let config = Config::load(&opened).unwrap();
    let clock = Clock {
        tz: config.schedules.timezone,
        day: None,
    };
    let ledger = |config: &Config| {
        Budget::new(
            config.agents.budget.as_ref().map(|b| b.value.clone()),
            config.agents.prices.clone(),
            &opened.db_path(),
            clock,
        )
        .unwrap()
        .with_audit_log(opened.audit_log())
    };
    let alerts = Arc::new(AtomicUsize::new(0));
    let client = |budget: Budget| {
        let alerts = alerts.clone();
        LlmClient::new(Fake::new(), budget)
            .with_model(MODEL)
            .on_alert(move |_| {
                alerts.fetch_add(1, Ordering::SeqCst);
            })
    };
    // Two ledgers with their own connections: what a second process would have.
    let clients = [client(ledger(&config)), client(ledger(&config))];

    let (answered, refused) = hammer(&clients);

    let today = clock.today();
    let store = Store::open(&opened.db_path()).unwrap();
    let spent = store.usage_total(today).unwrap();
    assert!(
        answered > 0 && refused > 0,
        "{answered} answered, {refused} refused"
    );
    assert!(
        spent.cost_usd <= 0.05 + 1e-9,
        "spent {} past the $0.05 cap",
        spent.cost_usd
    );
    assert!((spent.cost_usd - answered as f64 * 0.0034).abs() < 1e-9);
    // Nearly all of it was used: the last refusals came when no worst case fit any more.
    assert!(
        spent.cost_usd > 0.05 - 0.0066,
        "only {} spent",
        spent.cost_usd
    );
    assert_eq!(alerts.load(Ordering::SeqCst), 1, "the alert fires once");
    let events = store.events_on(today).unwrap();
    assert_eq!(
        events.iter().filter(|e| e.action == "budget.alert").count(),
        1
    );
    let audit = home.read("logs/audit.jsonl");
    assert_eq!(audit.matches("\"budget.alert\"").count(), 1, "{audit}");
    let left = clients[0].budget().remaining().unwrap();
    assert_eq!(left.reserved_usd, 0.0, "every reservation was settled");
    assert!((left.left_usd.unwrap() - (0.05 - spent.cost_usd)).abs() < 1e-9);

    let out = home.ok(&["budget", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let today_rows = rows.iter().filter(|r| r["day"] == today.to_string());
    let (cost, calls) = today_rows.fold((0.0, 0), |(c, n), r| {
        (
            c + r["cost_usd"].as_f64().unwrap(),
            n + r["calls"].as_u64().unwrap(),
        )
    });
    assert!(
        (cost - spent.cost_usd).abs() < 1e-9,
        "binary {cost} vs store {}",
        spent.cost_usd
    );
    assert_eq!(calls, answered as u64);
    assert_eq!(json["cap_usd"], 0.05);
}

#[test]
fn concurrent_calls_never_cross_a_token_cap() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let config = Some(BudgetConfig {
        daily_usd: None,
        daily_tokens: Some(3000),
        alert_at: 0.8,
    });
    let alerts = Arc::new(AtomicUsize::new(0));
    let client = |budget: Budget| {
        let alerts = alerts.clone();
        // No model: a token cap needs no price.
        LlmClient::new(Fake::new(), budget).on_alert(move |alert| {
            assert!(alert.spent_tokens >= 2400, "{alert}");
            alerts.fetch_add(1, Ordering::SeqCst);
        })
    };
    let clients = [
        client(budget(&db, config.clone())),
        client(budget(&db, config)),
    ];
    let (answered, refused) = hammer(&clients);
    let spent = Store::open(&db)
        .unwrap()
        .usage_total(utc().today())
        .unwrap();
    assert!(
        answered > 0 && refused > 0,
        "{answered} answered, {refused} refused"
    );
    assert!(
        spent.tokens <= 3000,
        "{} tokens past the cap of 3000",
        spent.tokens
    );
    assert_eq!(spent.tokens, answered as u64 * 140);
    assert_eq!(alerts.load(Ordering::SeqCst), 1);
}

#[test]
fn a_model_without_a_price_is_refused_under_a_money_cap() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let fake = Fake::new();
    let client =
        LlmClient::new(fake.clone(), budget(&db, usd_cap(5.0, 0.8))).with_model("mystery-7b");
    let err = client.call(&request()).unwrap_err();
    let LlmError::Budget(message) = &err else {
        panic!("expected a budget refusal, got {err:?}");
    };
    assert!(
        message.contains("`mystery-7b`") && message.contains("prices:"),
        "{err}"
    );
    let unnamed = LlmClient::new(fake.clone(), budget(&db, usd_cap(5.0, 0.8)));
    let err = unnamed.call(&request()).unwrap_err().to_string();
    assert!(err.contains("`model:`") && err.contains("prices:"), "{err}");
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        0,
        "the provider was never asked"
    );
}

#[test]
fn a_released_reservation_frees_its_room() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    // Room for exactly one worst case ($0.0066) at a time.
    let budget = budget(&db, usd_cap(0.01, 0.8));
    let first = budget.reserve(&request(), Some(MODEL)).unwrap();
    let err = budget.reserve(&request(), Some(MODEL)).unwrap_err();
    assert!(
        err.to_string().contains("daily cap of $0.0100 reached")
            && err.to_string().contains("the rest waits for tomorrow"),
        "{err}"
    );
    budget.release(first).unwrap();
    let again = budget.reserve(&request(), Some(MODEL)).unwrap();
    budget.release(again).unwrap();

    // A failed call releases its reservation, so the next call still fits.
    let failing = Arc::new(Fake {
        calls: AtomicUsize::new(0),
        fail: true,
    });
    let client = LlmClient::new(failing, budget.clone()).with_model(MODEL);
    assert!(matches!(
        client.call(&request()),
        Err(LlmError::Server { .. })
    ));
    let client = LlmClient::new(Fake::new(), budget.clone()).with_model(MODEL);
    client.call(&request()).unwrap();
    let left = budget.remaining().unwrap();
    assert_eq!((left.reserved_usd, left.spent_tokens), (0.0, 140));
}

#[test]
fn a_call_whose_worst_case_alone_exceeds_the_cap_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let budget = budget(&dir.path().join("state.db"), usd_cap(0.005, 0.8));
    let err = budget
        .reserve(&request(), Some(MODEL))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("this call alone") && err.contains("max_tokens"),
        "{err}"
    );
}

#[test]
fn reservations_of_a_dead_process_hold_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let budget = budget(&db, usd_cap(0.01, 0.8));
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let hold = |pid: u32| {
        conn.execute(
            "INSERT INTO budget_reservations (day, pid, agent, tokens, cost_usd, created) VALUES (?1, ?2, 'coder', 1000, 1.0, ?3)",
            rusqlite::params![utc().today().to_string(), pid, chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()],
        )
        .unwrap()
    };
    hold(dead);
    let r = budget.reserve(&request(), Some(MODEL)).unwrap();
    budget.release(r).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM budget_reservations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "the dead process's reservation was cleaned");
    // A live process's reservation does hold its room.
    hold(std::process::id());
    assert!(matches!(
        budget.reserve(&request(), Some(MODEL)),
        Err(LlmError::Budget(_))
    ));
}

#[test]
fn without_a_budget_every_call_is_allowed_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let client = LlmClient::new(Fake::new(), budget(&db, None)).with_model("unpriced");
    for _ in 0..3 {
        client.call(&request()).unwrap();
    }
    let spent = Store::open(&db)
        .unwrap()
        .usage_total(utc().today())
        .unwrap();
    // The answer names fake-model, which has a price: the cost is still recorded.
    assert_eq!(spent.tokens, 3 * 140);
    assert!((spent.cost_usd - 3.0 * 0.0034).abs() < 1e-9);
    let left = client.budget().remaining().unwrap();
    assert_eq!(
        (left.cap, left.left_usd, left.exhausted()),
        (None, None, false)
    );
}

#[test]
fn a_panicking_provider_releases_its_reservation() {
    struct Panics;
    impl Provider for Panics {
        fn name(&self) -> &str {
            "panics"
        }
        fn complete(&self, _: &Request) -> Result<Answer, LlmError> {
            panic!("provider bug")
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let budget = budget(&dir.path().join("state.db"), usd_cap(1.0, 0.8));
    let client = LlmClient::new(Arc::new(Panics), budget.clone()).with_model(MODEL);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| client.call(&request())));
    assert!(caught.is_err());
    assert_eq!(budget.remaining().unwrap().reserved_usd, 0.0);
}
