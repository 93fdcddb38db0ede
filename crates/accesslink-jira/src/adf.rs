//! Rich text: the Atlassian Document Format (ADF) of API v3 on Cloud, plain strings
//! (wiki markup) of API v2 on Data Center.
//!
//! v3 rejects a string where a rich-text field (description, comment body) is expected
//! with a 400 (fact sheet §2 "v3 rich-text fields"), so every rich-text value the
//! connector sends goes through [`RichText::body`] for the deployment's API version.

use serde_json::{Value, json};

use crate::settings::Deployment;

/// Plain text to send as a rich-text field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RichText<'a>(pub &'a str);

impl RichText<'_> {
    /// The value for `deployment`: an ADF document (one paragraph per line) on Cloud,
    /// the string itself on Data Center.
    pub fn body(&self, deployment: Deployment) -> Value {
        match deployment {
            Deployment::Cloud => to_adf(self.0),
            Deployment::DataCenter => Value::String(self.0.to_owned()),
        }
    }
}

/// An ADF document with one paragraph per line of `text` (empty lines kept as empty
/// paragraphs, which ADF allows; a text node may not be empty).
pub fn to_adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .lines()
        .map(|line| {
            if line.is_empty() {
                json!({ "type": "paragraph", "content": [] })
            } else {
                json!({ "type": "paragraph", "content": [{ "type": "text", "text": line }] })
            }
        })
        .collect();
    json!({ "type": "doc", "version": 1, "content": paragraphs })
}

/// The text of a rich-text value: a string as is, an ADF document's text nodes with a
/// line break between block nodes; `None` for null or anything else.
pub fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("doc") => {
            let mut blocks = Vec::new();
            if let Some(Value::Array(content)) = o.get("content") {
                for block in content {
                    let mut out = String::new();
                    collect(block, &mut out);
                    blocks.push(out);
                }
            }
            Some(blocks.join("\n"))
        }
        _ => None,
    }
}

fn collect(node: &Value, out: &mut String) {
    match node.get("type").and_then(Value::as_str) {
        Some("text") => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
        Some("hardBreak") => out.push('\n'),
        Some("mention") => out.push_str(
            node.pointer("/attrs/text")
                .and_then(Value::as_str)
                .unwrap_or(""),
        ),
        _ => {}
    }
    if let Some(Value::Array(children)) = node.get("content") {
        for child in children {
            collect(child, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_gets_adf_and_data_center_a_string() {
        let cloud = RichText("Access granted\nby IAM").body(Deployment::Cloud);
        assert_eq!(cloud["type"], "doc");
        assert_eq!(cloud["version"], 1);
        assert_eq!(cloud["content"][0]["content"][0]["text"], "Access granted");
        assert_eq!(cloud["content"][1]["content"][0]["text"], "by IAM");
        let dc = RichText("Access granted").body(Deployment::DataCenter);
        assert_eq!(dc, json!("Access granted"));
    }

    #[test]
    fn text_comes_back_from_either_shape() {
        assert_eq!(
            text_of(&to_adf("one\n\nthree")).as_deref(),
            Some("one\n\nthree")
        );
        assert_eq!(text_of(&json!("plain")).as_deref(), Some("plain"));
        assert_eq!(text_of(&Value::Null), None);
        assert_eq!(text_of(&json!({"type": "paragraph"})), None);
        let adf = json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[
            {"type":"text","text":"hi "},{"type":"mention","attrs":{"id":"1","text":"@Jane"}},
            {"type":"hardBreak"},{"type":"text","text":"bye"}]}]});
        assert_eq!(text_of(&adf).as_deref(), Some("hi @Jane\nbye"));
    }
}
