//! Slack and Discord incoming-webhook bodies, built from the Standard
//! Webhooks envelope a delivery stores (`{"type", "timestamp", "data"}`).
//!
//! Slack: `text` (the notification line) plus `blocks`: a section with the
//! title in bold and the message, an actions block with an "Open" button when
//! the activity has an http(s) `link`, and a context line with the event type
//! and time. Discord: `content` (the title) plus one embed with title,
//! description (the message), `url` (the link), `timestamp` and the event
//! type as footer. Texts are cut to each service's documented limits, and
//! Slack's control characters (`&`, `<`, `>`) are escaped.

use serde_json::{json, Value};

/// What both formats show of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub event_type: String,
    pub timestamp: String,
    pub title: String,
    pub message: Option<String>,
    pub link: Option<String>,
}

impl Message {
    /// Reads an envelope; fields it lacks fall back to plain words.
    pub fn of(envelope: &str) -> Self {
        let value: Value = serde_json::from_str(envelope).unwrap_or(Value::Null);
        let text = |v: &Value| {
            v.as_str()
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty())
        };
        let data = &value["data"];
        let event_type = text(&value["type"]).unwrap_or_else(|| "event".into());
        let title = text(&data["title"]).unwrap_or_else(|| match event_type.as_str() {
            crate::webhook::TEST_EVENT => "Test delivery from AI Clone Hub".into(),
            "presence.online" | "presence.offline" => format!(
                "User {} is {}",
                text(&data["user_id"]).unwrap_or_else(|| "?".into()),
                if event_type == "presence.online" {
                    "online"
                } else {
                    "offline"
                }
            ),
            other => other.replace('_', " "),
        });
        Message {
            timestamp: text(&value["timestamp"]).unwrap_or_default(),
            title,
            message: text(&data["message"]),
            link: text(&data["link"])
                .filter(|l| l.starts_with("https://") || l.starts_with("http://")),
            event_type,
        }
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Slack's three characters with a meaning in `mrkdwn` and `text`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack's limits: a section's text 3,000 characters, a button's text 75 and
/// its URL 3,000, a context element's text 3,000; the top-level `text` is
/// kept to the same 3,000 (Slack truncates past 40,000).
pub fn slack(m: &Message) -> String {
    let title = slack_escape(&m.title);
    let mut section = format!("*{title}*");
    if let Some(message) = &m.message {
        section.push('\n');
        section.push_str(&slack_escape(message));
    }
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": cut(&section, 3000)},
    })];
    if let Some(link) = m.link.as_deref().filter(|l| l.chars().count() <= 3000) {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Open", "emoji": false},
                "url": link,
            }],
        }));
    }
    let context = format!("{} · {}", slack_escape(&m.event_type), m.timestamp);
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cut(&context, 3000)}],
    }));
    json!({"text": cut(&title, 3000), "blocks": blocks}).to_string()
}

/// Discord's limits: `content` 2,000 characters; an embed's title 256,
/// description 4,096, footer text 2,048, 6,000 in all (these stay far below).
pub fn discord(m: &Message) -> String {
    let mut embed = json!({
        "title": cut(&m.title, 256),
        "footer": {"text": cut(&m.event_type, 2048)},
        "color": 0x4F46E5,
    });
    if let Some(message) = &m.message {
        embed["description"] = Value::from(cut(message, 1500));
    }
    if let Some(link) = &m.link {
        embed["url"] = Value::from(link.as_str());
    }
    if !m.timestamp.is_empty() {
        embed["timestamp"] = Value::from(m.timestamp.as_str());
    }
    json!({"content": cut(&m.title, 2000), "embeds": [embed]}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#"{"type":"meeting_booked","timestamp":"2026-12-02T06:00:00.000Z","data":{"id":"1","title":"Call with <Acme> & co","message":"Tuesday 10:00","link":"https://crm.example.com/m/1"}}"#;

    #[test]
    fn slack_has_text_blocks_a_button_and_context() {
        let body: Value = serde_json::from_str(&slack(&Message::of(ENVELOPE))).unwrap();
        assert_eq!(body["text"], "Call with &lt;Acme&gt; &amp; co");
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 3);
        assert_eq!(
            blocks[0]["text"]["text"],
            "*Call with &lt;Acme&gt; &amp; co*\nTuesday 10:00"
        );
        assert_eq!(
            blocks[1]["elements"][0]["url"],
            "https://crm.example.com/m/1"
        );
        assert_eq!(
            blocks[2]["elements"][0]["text"],
            "meeting_booked · 2026-12-02T06:00:00.000Z"
        );
    }

    #[test]
    fn presence_reads_as_a_sentence() {
        let envelope = r#"{"type":"presence.offline","timestamp":"2026-12-02T06:00:30.000Z","data":{"user_id":"usr_7","status":"offline","at":"2026-12-02T06:00:00.000Z"}}"#;
        let m = Message::of(envelope);
        assert_eq!(m.title, "User usr_7 is offline");
        assert_eq!(m.event_type, "presence.offline");
        assert!(m.link.is_none());
    }

    #[test]
    fn discord_has_content_and_one_embed() {
        let body: Value = serde_json::from_str(&discord(&Message::of(ENVELOPE))).unwrap();
        assert_eq!(body["content"], "Call with <Acme> & co");
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "Call with <Acme> & co");
        assert_eq!(embed["description"], "Tuesday 10:00");
        assert_eq!(embed["url"], "https://crm.example.com/m/1");
        assert_eq!(embed["timestamp"], "2026-12-02T06:00:00.000Z");
        assert_eq!(embed["footer"]["text"], "meeting_booked");
    }

    #[test]
    fn no_link_no_button_and_long_texts_are_cut() {
        let long = "x".repeat(5000);
        let envelope = format!(
            r#"{{"type":"notification","timestamp":"t","data":{{"title":"{long}","link":"/relative"}}}}"#
        );
        let m = Message::of(&envelope);
        assert_eq!(m.link, None);
        let s: Value = serde_json::from_str(&slack(&m)).unwrap();
        assert_eq!(s["blocks"].as_array().unwrap().len(), 2);
        assert_eq!(s["text"].as_str().unwrap().chars().count(), 3000);
        let d: Value = serde_json::from_str(&discord(&m)).unwrap();
        assert_eq!(d["content"].as_str().unwrap().chars().count(), 2000);
        assert_eq!(
            d["embeds"][0]["title"].as_str().unwrap().chars().count(),
            256
        );
        assert!(d["embeds"][0].get("url").is_none());
    }

    #[test]
    fn the_test_event_has_words_of_its_own() {
        let envelope = r#"{"type":"webhook.test","timestamp":"t","data":{"webhook_id":"wh_1","message":"This is a test delivery from AI Clone Hub."}}"#;
        let m = Message::of(envelope);
        assert_eq!(m.title, "Test delivery from AI Clone Hub");
        assert_eq!(
            m.message.as_deref(),
            Some("This is a test delivery from AI Clone Hub.")
        );
    }
}
