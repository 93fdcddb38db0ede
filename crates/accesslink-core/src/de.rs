//! Tolerant deserializers for what real APIs send: ids as numbers or strings,
//! one item or a list, empty strings for "unset".
//!
//! Use them with `#[serde(deserialize_with = "accesslink_core::de::…")]`.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

struct Lenient;

impl<'de> Visitor<'de> for Lenient {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number, a boolean or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Lenient)
    }
}

/// A string that may arrive as a string, number or boolean; null becomes `""`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(d.deserialize_any(Lenient)?.unwrap_or_default())
}

/// Like [`string`], but null and `""` become `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(d.deserialize_any(Lenient)?.filter(|s| !s.is_empty()))
}

/// An unsigned integer that may arrive as a number or a numeric string.
pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s = d
        .deserialize_any(Lenient)?
        .ok_or_else(|| de::Error::custom("expected an integer, found null"))?;
    s.trim()
        .parse()
        .map_err(|_| de::Error::custom(format!("expected an integer, found {s:?}")))
}

/// Like [`u64`](fn@u64), but null, `""` and a missing field become `None`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match d.deserialize_any(Lenient)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, found {s:?}"))),
    }
}

/// A list of ids (numbers or strings), which may also arrive as a single value.
pub fn u64_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "u64")] u64);

    struct ListVisitor;
    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Vec<u64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id or a list of ids")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(Id(v)) = seq.next_element()? {
                out.push(v);
            }
            Ok(out)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(vec![v])
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse()
                .map(|n| vec![n])
                .map_err(|_| E::custom(format!("expected an integer, found {v:?}")))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(ListVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct T {
        #[serde(deserialize_with = "u64")]
        id: u64,
        #[serde(default, deserialize_with = "opt_u64")]
        other: Option<u64>,
        #[serde(default, deserialize_with = "string")]
        name: String,
        #[serde(default, deserialize_with = "opt_string")]
        sla: Option<String>,
        #[serde(default, deserialize_with = "u64_list")]
        ids: Vec<u64>,
    }

    #[test]
    fn numbers_and_strings_both_accepted() {
        let a: T = serde_json::from_str(
            r#"{"id":"2","other":3,"name":2026112310000011,"sla":"","ids":["4","3"]}"#,
        )
        .unwrap();
        assert_eq!(
            a,
            T {
                id: 2,
                other: Some(3),
                name: "2026112310000011".into(),
                sla: None,
                ids: vec![4, 3]
            }
        );
        let b: T = serde_json::from_str(r#"{"id":2,"other":"","name":null,"ids":7}"#).unwrap();
        assert_eq!(
            (b.id, b.other, b.name.as_str(), b.ids),
            (2, None, "", vec![7])
        );
        let c: T = serde_json::from_str(r#"{"id":2}"#).unwrap();
        assert_eq!(c.ids, Vec::<u64>::new());
        let e = serde_json::from_str::<T>(r#"{"id":"abc"}"#).unwrap_err();
        assert!(e.to_string().contains("expected an integer"), "{e}");
    }
}
