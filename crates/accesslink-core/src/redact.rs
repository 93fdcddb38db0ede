//! Removing secrets from text that ends up in errors and logs.
//!
//! Two passes: values under secret-looking keys (in JSON, in `key=value` pairs and in
//! `"key":"value"` fragments of bodies that do not parse), and the exact values of the
//! credentials the client currently holds.

use serde_json::Value;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

const SENSITIVE: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "userpw",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "authorization",
    "sessionid",
    "session_id",
    "cookie",
    "credential",
    "private_key",
    "genie",
];

/// Whether a field or parameter name looks like it holds a secret.
pub fn is_sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SENSITIVE.iter().any(|s| k.contains(s))
}

/// Redacts values under secret-looking keys in a JSON value, in place.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_sensitive_key(k) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        // Text inside a value can hold pairs too: a server that echoes the request's
        // headers as one string (`"authorization: user_token …\r\n…"`).
        Value::String(text) => {
            let redacted = redact_pairs(text);
            if redacted != *text {
                *text = redacted;
            }
        }
        _ => {}
    }
}

/// Redacts a body or message: JSON is parsed and walked; other text has its
/// `key=value` and `"key": "value"` pairs under secret-looking keys blanked.
pub fn redact_text(text: &str) -> String {
    if let Ok(mut v) = serde_json::from_str::<Value>(text) {
        if v.is_object() || v.is_array() {
            redact_json(&mut v);
            return v.to_string();
        }
    }
    redact_pairs(text)
}

/// Blanks `key=value`, `key: value` and `"key":"value"` pairs whose key looks secret,
/// for text that is not valid JSON (truncated bodies, form bodies, HTML).
fn redact_pairs(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'=' || c == b':' {
            // The key is the run of name characters (and an optional closing quote) before.
            let mut k_end = i;
            while k_end > 0 && bytes[k_end - 1] == b' ' {
                k_end -= 1;
            }
            if k_end > 0 && bytes[k_end - 1] == b'"' {
                k_end -= 1;
            }
            let mut k_start = k_end;
            while k_start > 0 && is_name_byte(bytes[k_start - 1]) {
                k_start -= 1;
            }
            if k_start < k_end && is_sensitive_key(&text[k_start..k_end]) {
                let mut v_start = i + 1;
                while v_start < bytes.len() && bytes[v_start] == b' ' {
                    v_start += 1;
                }
                let quoted = v_start < bytes.len() && bytes[v_start] == b'"';
                if quoted {
                    v_start += 1;
                }
                let mut v_end = value_end(bytes, v_start, quoted);
                // `Authorization: Basic <credential>`, `authorization: user_token <…>`:
                // the credential follows a scheme word, so the whole value goes, up to
                // the end of the line (or of the field).
                if !quoted
                    && v_end > v_start
                    && (is_authorization_key(&text[k_start..k_end])
                        || is_scheme_word(&text[v_start..v_end]))
                {
                    loop {
                        let mut next = v_end;
                        while next < bytes.len() && bytes[next] == b' ' {
                            next += 1;
                        }
                        if next == v_end || next >= bytes.len() || is_value_stop(bytes[next]) {
                            break;
                        }
                        v_end = value_end(bytes, next, false);
                    }
                }
                if v_end > v_start {
                    out.push_str(&text[copied..v_start]);
                    out.push_str(REDACTED);
                    copied = v_end;
                    i = v_end;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Where a value starting at `start` ends: at the closing quote of a quoted value, at
/// a separator otherwise.
fn value_end(bytes: &[u8], start: usize, quoted: bool) -> usize {
    let mut end = start;
    while end < bytes.len() {
        let b = bytes[end];
        let stop = if quoted {
            b == b'"' && bytes[end - 1] != b'\\'
        } else {
            b == b' ' || is_value_stop(b)
        };
        if stop {
            break;
        }
        end += 1;
    }
    end
}

/// What ends an unquoted value (besides a space).
fn is_value_stop(b: u8) -> bool {
    matches!(b, b'&' | b',' | b';' | b'\n' | b'\r' | b'<' | b'}' | b'"')
}

/// Header-like keys whose whole value is a credential, scheme word included
/// (`Authorization`, `Proxy-Authorization`).
fn is_authorization_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("authorization")
}

/// Words that introduce a credential in an `Authorization`-like value.
fn is_scheme_word(word: &str) -> bool {
    const SCHEMES: &[&str] = &[
        "basic",
        "bearer",
        "digest",
        "negotiate",
        "ntlm",
        "token",
        "user_token",
        "session_token",
        "geniekey",
        "ssws",
        "oauth",
        "apikey",
        "api-key",
    ];
    SCHEMES.iter().any(|s| word.eq_ignore_ascii_case(s))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

/// Replaces every occurrence of each secret value in `text`.
pub fn redact_values<'a>(text: &mut String, secrets: impl IntoIterator<Item = &'a str>) {
    for s in secrets {
        // Short values would blank ordinary words; credentials are longer than this.
        if s.len() >= 6 && text.contains(s) {
            *text = text.replace(s, REDACTED);
        }
    }
}

/// A URL as `Debug` output shows it: without credentials, query or fragment, any of which
/// may carry a secret (settings refuse a query, but a value not yet validated may hold
/// one). Says so when something was left out.
pub fn url_shown(url: &url::Url) -> String {
    let mut shown = url.clone();
    let hidden = shown.query().is_some()
        || shown.fragment().is_some()
        || !shown.username().is_empty()
        || shown.password().is_some();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if hidden {
        format!("{shown} [query, fragment or credentials redacted]")
    } else {
        shown.into()
    }
}

/// The first `max` characters of `text`, cut on a character boundary, with an
/// ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_secrets() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            url_shown(&u("https://itsm.example/api/")),
            "https://itsm.example/api/"
        );
        for secret in [
            "https://itsm.example/api/?token=CANARY",
            "https://itsm.example/api/#CANARY",
            "https://svc:CANARY@itsm.example/api/",
        ] {
            let shown = url_shown(&u(secret));
            assert!(!shown.contains("CANARY"), "{shown}");
            assert!(
                shown.starts_with(
                    "https://itsm.example/api/ [query, fragment or credentials redacted]"
                ),
                "{shown}"
            );
        }
    }

    #[test]
    fn json_values_under_secret_keys_are_redacted() {
        let out = redact_text(
            r#"{"user":"bob","password":"hunter22","nested":{"access_token":"abc123xyz"},"list":[{"SessionID":"s3ss10n"}]}"#,
        );
        assert!(
            !out.contains("hunter22") && !out.contains("abc123xyz") && !out.contains("s3ss10n"),
            "{out}"
        );
        assert!(out.contains("bob"), "{out}");
    }

    #[test]
    fn pairs_in_non_json_text_are_redacted() {
        let out = redact_text(
            "grant_type=password&username=bob&password=hunter22&client_secret=xyz987&scope=a",
        );
        assert_eq!(
            out,
            "grant_type=password&username=bob&password=[redacted]&client_secret=[redacted]&scope=a"
        );
        let truncated = r#"{"ok":true,"token": "abcdef123456", "more": "#;
        let out = redact_text(truncated);
        assert!(!out.contains("abcdef123456"), "{out}");
        let html = "<p>session_token: zzz999zzz</p>";
        assert!(!redact_text(html).contains("zzz999zzz"));
    }

    /// Issue 15 item 13: only the scheme word was blanked, the credential after it
    /// stayed.
    #[test]
    fn authorization_like_values_are_blanked_whole() {
        let echoed = "GET /apirest.php/initSession\r\nauthorization: user_token CANARY-ut-1\r\n\
                      Authorization: Basic Q0FOQVJZOnB3\r\napp-token: CANARY-app-2\r\n\
                      Session-Token: CANARY-sess-3\r\nproxy-authorization: Bearer CANARY-b-4\r\n\
                      x-api-key: GenieKey CANARY-gk-5\r\nhost: glpi";
        for text in [
            echoed.to_owned(),
            // As one JSON string, and as an object of headers.
            serde_json::json!({ "echo": echoed }).to_string(),
            serde_json::json!({ "headers": {
                "authorization": "user_token CANARY-ut-1",
                "app-token": "CANARY-app-2",
                "host": "glpi",
            }})
            .to_string(),
            // Truncated JSON does not parse: the pair pass must still blank it.
            format!("{{\"echo\": \"{}", echoed.replace("\r\n", "\\r\\n")),
        ] {
            let out = redact_text(&text);
            for canary in [
                "CANARY-ut-1",
                "Q0FOQVJZOnB3",
                "CANARY-app-2",
                "CANARY-sess-3",
                "CANARY-b-4",
                "CANARY-gk-5",
            ] {
                assert!(!out.contains(canary), "{canary} in {out}");
            }
            // (In truncated JSON, `\r\n` is escaped: the value runs on, over-blanked.)
            assert!(out.contains("glpi") || !text.contains('\r'), "{out}");
        }
        // Other pairs keep their neighbours.
        assert_eq!(
            redact_text("token=abc123 user=bob"),
            "token=[redacted] user=bob"
        );
    }

    #[test]
    fn exact_values_and_truncation() {
        let mut s = "Bearer CANARY-12345 failed".to_owned();
        redact_values(&mut s, ["CANARY-12345"]);
        assert_eq!(s, "Bearer [redacted] failed");
        assert_eq!(truncate("héllo wörld", 5), "héllo…");
        assert_eq!(truncate("short", 10), "short");
    }
}
