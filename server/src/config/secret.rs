//! Secrets in the configuration (tokens, passwords, URLs with a password):
//! where each comes from (`{ env = ... }`, `{ file = ... }`, `{ value = ...
//! }`), read without any error ever quoting a value written where a secret
//! goes. A leaf every section may use.

use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::config::files::{resolve, SettingsError};

/// Where a secret (a token) comes from. Deserialized by hand so that no
/// error ever quotes a value written where a secret goes.
#[derive(Debug, Default)]
pub(crate) struct SecretSource {
    pub(crate) env: Option<String>,
    pub(crate) file: Option<PathBuf>,
    pub(crate) value: Option<String>,
}

/// The forms a secret takes, as said in errors.
const SECRET_FORMS: &str =
    "a table: `{ env = \"VAR\" }`, `{ file = \"path\" }` or `{ value = \"...\" }`";

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// Refuses every scalar without quoting it (the serde default would).
struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: de::Error>(what: &str) -> E {
        E::custom(format!(
            "a secret is {SECRET_FORMS}, not {what} (the value is not shown)"
        ))
    }
}

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = SecretSource;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(SECRET_FORMS)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(Self::refuse("a bare string"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(Self::refuse("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(Self::refuse("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(Self::refuse("a number"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(Self::refuse("a boolean"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut source = SecretSource::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "env" => source.env = Some(map.next_value()?),
                "file" => source.file = Some(map.next_value()?),
                "value" => source.value = Some(map.next_value::<SecretText>()?.0),
                other => return Err(de::Error::unknown_field(other, &["env", "file", "value"])),
            }
        }
        Ok(source)
    }
}

/// A list of secrets; anything else is refused without being quoted.
pub(crate) fn secret_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<SecretSource>, D::Error> {
    struct List;
    impl<'de> Visitor<'de> for List {
        type Value = Vec<SecretSource>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of secrets")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut list = Vec::new();
            while let Some(source) = seq.next_element()? {
                list.push(source);
            }
            Ok(list)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Err(SecretVisitor::refuse("a bare string; give a list of them"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Err(SecretVisitor::refuse("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Err(SecretVisitor::refuse("a number"))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Ok(vec![SecretVisitor.visit_map(map)?])
        }
    }
    deserializer.deserialize_any(List)
}

/// The `value` of a secret: a string, refused without being quoted.
struct SecretText(String);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = SecretText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<SecretText, E> {
                Ok(SecretText(value.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretText, E> {
                Err(E::custom(
                    "`value` must be a string (the value is not shown)",
                ))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretText, E> {
                Err(E::custom(
                    "`value` must be a string (the value is not shown)",
                ))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretText, E> {
                Err(E::custom(
                    "`value` must be a string (the value is not shown)",
                ))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretText, E> {
                Err(E::custom(
                    "`value` must be a string (the value is not shown)",
                ))
            }
        }
        deserializer.deserialize_any(Text)
    }
}

/// Reads the secret `source` names; `key` is its place in the file at
/// `path` (for errors), relative paths are resolved against `base`.
pub(crate) fn read_secret(
    path: &Path,
    base: &Path,
    key: &str,
    source: &SecretSource,
) -> Result<String, SettingsError> {
    match (&source.env, &source.file, &source.value) {
        (Some(var), None, None) => std::env::var(var).map_err(|_| {
            SettingsError::new(path, key, format!("environment variable {var} is not set"))
        }),
        (None, Some(file), None) => {
            let file = resolve(base, file);
            let text = std::fs::read_to_string(&file).map_err(|e| {
                SettingsError::new(path, key, format!("cannot read {}: {e}", file.display()))
            })?;
            Ok(text.trim_end_matches(['\r', '\n']).to_owned())
        }
        (None, None, Some(value)) => Ok(value.clone()),
        _ => Err(SettingsError::new(
            path,
            key,
            "give exactly one of `env = \"VAR\"`, `file = \"path\"` or `value = \"...\"`",
        )),
    }
}
