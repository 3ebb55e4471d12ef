//! What the notification tests share: a set-up home whose channels are a fake Discord
//! (a role to mention on urgent notices) and, when given, a JSON webhook; a coding tool
//! that leaves a change for a person or fails loudly; and readers of what Discord got.
#![allow(dead_code)]

use serde_json::Value;

use super::TestHome;
use super::fake_discord::FakeDiscord;

pub const CANARY_KEY: &str = "sk-canary-key-8d3b7f0a61c2";
pub const WEBHOOK_TOKEN: &str = "CANARY-webhook-token-5f1e";

/// A coding tool: "Protect" edits calc.py (a protected path: waits for a person);
/// "Crash" prints a 10,000-character reason with mentions and the key, and fails.
const TOOL: &str = r#"#!/usr/bin/env python3
import json, os, pathlib, sys
prompt = sys.stdin.read()
if "Crash" in prompt:
    print("@everyone <@123> look: " + os.environ.get("CANARY_API_KEY", "") + " " + "reason " * 1500, file=sys.stderr)
    sys.exit(3)
calc = pathlib.Path("calc.py")
calc.write_text(calc.read_text().replace("return a - b", "return a + b"))
print(json.dumps({"type": "result", "is_error": False, "result": "edited calc.py",
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;

const CALC: &str = "def add(a, b):\n    return a - b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// A set-up home whose channels are the fake Discord (with a role to mention on urgent
/// notices) and, when given, a JSON webhook.
pub fn home(discord: &FakeDiscord, webhook: Option<&str>) -> TestHome {
    let (home, _remote) = super::home_with_tool(super::ToolHome {
        files: &[("calc.py", CALC), ("test_calc.py", TESTS)],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1, env: [CANARY_API_KEY]",
        agents_tail: "",
        policy: "auto_merge: low\nprotected_paths: [\"calc.py\"]\n",
    });
    let mut notify = "discord: {webhook_env: DISCORD_WEBHOOK_URL, username: dayshift, events: [morning, nightly, needs_person, budget, stopped, daemon], mention: \"<@&42>\"}\n".to_string();
    let mut env = format!(
        "DISCORD_WEBHOOK_URL={}\nCANARY_API_KEY={CANARY_KEY}\n",
        discord.url()
    );
    if let Some(url) = webhook {
        notify.push_str("webhook: {url_env: OPS_WEBHOOK_URL, events: [needs_person]}\n");
        env.push_str(&format!("OPS_WEBHOOK_URL={url}\n"));
    }
    home.write("config/notify.yaml", &notify);
    home.write("config/.env", &env);
    home
}

/// A home made by `init` (no target) whose config/notify.yaml is `notify`, with the fake
/// Discord's URL and the canary key in config/.env.
pub fn plain_home(discord: &FakeDiscord, notify: &str) -> TestHome {
    let home = TestHome::new();
    home.write("config/notify.yaml", notify);
    home.write(
        "config/.env",
        &format!(
            "DISCORD_WEBHOOK_URL={}\nCANARY_API_KEY={CANARY_KEY}\n",
            discord.url()
        ),
    );
    home
}

/// Every text of the messages Discord accepted, joined.
pub fn texts(discord: &FakeDiscord) -> String {
    discord
        .accepted()
        .iter()
        .map(|a| a.payload.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first embed's title of each accepted message, in order.
pub fn titles(discord: &FakeDiscord) -> Vec<String> {
    discord
        .accepted()
        .iter()
        .map(|a| {
            a.payload["embeds"][0]["title"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

pub fn outbox(home: &TestHome) -> Vec<Value> {
    let out = home.ok(&["notify", "list", "--limit", "200", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The first embed's title and who each accepted message pinged, in order.
pub fn titles_and_pings(discord: &FakeDiscord) -> Vec<(String, Vec<String>)> {
    discord
        .accepted()
        .iter()
        .map(|a| {
            let title = a.payload["embeds"][0]["title"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (title, a.pings.clone())
        })
        .collect()
}
