//! Strict, single-pass parsing of a friend callback's body: friend responses
//! into [`CallbackBody`] (`response.rs`), friend requests into [`AddBody`]
//! (`add.rs`), on one machinery.
//!
//! serde_json drives hand-written visitors so that, in one pass and without a
//! `Value` tree: strings borrow from the input unless they hold escapes; every
//! field's JSON type, every duplicate key (known or not, at any depth) and
//! every limit is checked where it occurs; unknown fields are skipped under the
//! depth limit; and the item count stops the parse as soon as it is exceeded.
//! Errors carry a JSON path such as `$.ResponseFriendItem[1].Remark`.

mod add;
mod response;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::command::{FRIEND_ADD, FRIEND_RESPONSE};
use crate::error::{quote, CallbackError};
use crate::friend_add::AddBody;
use crate::limits::Limits;
use crate::request::CallbackBody;

/// Parses and validates a friend response's body against `limits`.
///
/// Checks, in order: size, UTF-8, JSON syntax and shape (types, duplicate
/// keys, depth, item count, field lengths, required fields), then that
/// `CallbackCommand` is this callback's.
pub fn parse_body<'a>(body: &'a [u8], limits: &Limits) -> Result<CallbackBody<'a>, CallbackError> {
    let body = parse_with(body, limits, response::BodyShape)?;
    same_command(&body.callback_command, FRIEND_RESPONSE)?;
    Ok(body)
}

/// [`parse_body`] for a friend request (`Sns.CallbackPrevFriendAdd`). Its
/// texts (`Remark`, `GroupName`, `AddSource`, `AddWording`) have no length
/// limit but the body's: an over-long one is still decided.
pub fn parse_add_body<'a>(body: &'a [u8], limits: &Limits) -> Result<AddBody<'a>, CallbackError> {
    let body = parse_with(body, limits, add::AddBodyShape)?;
    same_command(&body.callback_command, FRIEND_ADD)?;
    Ok(body)
}

fn same_command(got: &str, expected: &'static str) -> Result<(), CallbackError> {
    if got != expected {
        return Err(CallbackError::CommandMismatch {
            expected,
            got: quote(got),
        });
    }
    Ok(())
}

/// Size, UTF-8, then one pass of `shape` over the text.
fn parse_with<'a, S: Shape<'a>>(
    body: &'a [u8],
    limits: &Limits,
    shape: S,
) -> Result<S::Value, CallbackError> {
    if body.len() > limits.max_body_bytes {
        return Err(CallbackError::BodyTooLarge {
            size: body.len(),
            limit: limits.max_body_bytes,
        });
    }
    let text = std::str::from_utf8(body).map_err(|error| CallbackError::InvalidUtf8 {
        offset: error.valid_up_to(),
    })?;
    let ctx = Ctx {
        limits,
        error: Cell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Typed { ctx: &ctx, shape }
        .deserialize(&mut de)
        .and_then(|body| de.end().map(|()| body));
    parsed.map_err(|error| ctx.error.take().unwrap_or_else(|| malformed(&error)))
}

/// Turns a syntax error of serde_json into `malformed_json`.
fn malformed(error: &serde_json::Error) -> CallbackError {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    let suffix = format!(" at line {line} column {column}");
    let detail = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    CallbackError::MalformedJson {
        detail,
        line,
        column,
    }
}

/// Shared state of one parse: the limits, and the first validation error
/// (serde's own error type can only carry a string).
struct Ctx<'l> {
    limits: &'l Limits,
    error: Cell<Option<CallbackError>>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&self, error: CallbackError) -> E {
        let first = self.error.take().unwrap_or(error);
        self.error.set(Some(first));
        E::custom("invalid callback body")
    }
}

/// Where a value sits, rendered as a JSON path only when an error needs it.
#[derive(Clone, Copy)]
enum Loc<'p> {
    Root,
    Field(&'static str),
    /// An element of the items array named first.
    Item(&'static str, usize),
    ItemField(&'static str, usize, &'static str),
    Key(&'p Loc<'p>, &'p str),
    Index(&'p Loc<'p>, usize),
}

impl fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("$"),
            Self::Field(name) => write!(f, "$.{name}"),
            Self::Item(list, index) => write!(f, "$.{list}[{index}]"),
            Self::ItemField(list, index, name) => write!(f, "$.{list}[{index}].{name}"),
            Self::Key(parent, key) => write!(f, "{parent}.{}", quote(key)),
            Self::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// What a value must be. Every JSON type not overridden is a `wrong_type`
/// error naming the type found.
trait Shape<'de>: Sized {
    type Value;
    /// Expected type, as said in errors.
    const EXPECTED: &'static str;

    fn loc(&self) -> Loc<'_>;

    fn wrong(&self, found: &'static str) -> CallbackError {
        CallbackError::WrongType {
            path: self.loc().to_string(),
            expected: Self::EXPECTED,
            found,
        }
    }
    fn string(self, _: &Ctx<'_>, _: Cow<'de, str>) -> Result<Self::Value, CallbackError> {
        Err(self.wrong("string"))
    }
    fn unsigned(self, _: u64) -> Result<Self::Value, CallbackError> {
        Err(self.wrong("number"))
    }
    fn negative(self, _: i64) -> Result<Self::Value, CallbackError> {
        Err(self.wrong("number"))
    }
    fn float(self, _: f64) -> Result<Self::Value, CallbackError> {
        Err(self.wrong("number"))
    }
    fn boolean(self, _: bool) -> Result<Self::Value, CallbackError> {
        Err(self.wrong("boolean"))
    }
    fn null(self) -> Result<Self::Value, CallbackError> {
        Err(self.wrong("null"))
    }
    fn array<A: SeqAccess<'de>>(self, ctx: &Ctx<'_>, _: A) -> Result<Self::Value, A::Error> {
        Err(ctx.fail(self.wrong("array")))
    }
    fn object<A: MapAccess<'de>>(self, ctx: &Ctx<'_>, _: A) -> Result<Self::Value, A::Error> {
        Err(ctx.fail(self.wrong("object")))
    }
}

/// Drives a [`Shape`] from serde_json's `deserialize_any`.
struct Typed<'c, 'l, S> {
    ctx: &'c Ctx<'l>,
    shape: S,
}

impl<'de, S: Shape<'de>> DeserializeSeed<'de> for Typed<'_, '_, S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: Shape<'de>> Visitor<'de> for Typed<'_, '_, S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(S::EXPECTED)
    }
    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape
            .string(ctx, Cow::Borrowed(v))
            .map_err(|e| ctx.fail(e))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape
            .string(ctx, Cow::Owned(v.to_owned()))
            .map_err(|e| ctx.fail(e))
    }
    #[inline]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape.unsigned(v).map_err(|e| ctx.fail(e))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape.negative(v).map_err(|e| ctx.fail(e))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape.float(v).map_err(|e| ctx.fail(e))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape.boolean(v).map_err(|e| ctx.fail(e))
    }
    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        let ctx = self.ctx;
        self.shape.null().map_err(|e| ctx.fail(e))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<S::Value, A::Error> {
        self.shape.array(self.ctx, seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Value, A::Error> {
        self.shape.object(self.ctx, map)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Keys of one object that friendgate does not read, to refuse duplicates.
/// The set exists only once an unknown key is seen; a hash set keeps a body
/// of many distinct keys linear.
#[derive(Default)]
struct UnknownKeys<'de>(Option<HashSet<Cow<'de, str>>>);

impl<'de> UnknownKeys<'de> {
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        self.0.get_or_insert_with(HashSet::new).insert(key)
    }
}

/// Refuses a known key seen twice in the object at `loc`.
fn first_time<T>(slot: &Option<T>, loc: Loc<'_>, key: &str) -> Result<(), CallbackError> {
    match slot {
        Some(_) => Err(duplicate(loc, key)),
        None => Ok(()),
    }
}

fn duplicate(loc: Loc<'_>, key: &str) -> CallbackError {
    CallbackError::DuplicateKey {
        path: loc.to_string(),
        key: quote(key),
    }
}

/// Unwraps a required field or names its path.
fn required<T>(slot: Option<T>, loc: Loc<'_>) -> Result<T, CallbackError> {
    slot.ok_or_else(|| CallbackError::MissingField {
        path: loc.to_string(),
    })
}

/// Skips the value of an unknown key at `loc` (`depth` being its nesting level).
fn skip_unknown<'de, A: MapAccess<'de>>(
    ctx: &Ctx<'_>,
    map: &mut A,
    unknown: &mut UnknownKeys<'de>,
    parent: Loc<'_>,
    key: Cow<'de, str>,
    depth: usize,
) -> Result<(), A::Error> {
    if !unknown.insert(key.clone()) {
        return Err(ctx.fail(duplicate(parent, &key)));
    }
    map.next_value_seed(Typed {
        ctx,
        shape: Skip {
            loc: Loc::Key(&parent, &key),
            depth,
        },
    })
}

/// An item shape of an items array: built for the item at `index`.
trait ItemShape<'de>: Shape<'de> {
    /// The array's field name (`ResponseFriendItem`, `FriendItem`).
    const LIST: &'static str;
    fn at(index: usize) -> Self;
}

/// An items array of at most `max_items` items of shape `I`.
struct Items<I>(std::marker::PhantomData<I>);

impl<I> Items<I> {
    fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<'de, I: ItemShape<'de>> Shape<'de> for Items<I> {
    type Value = Vec<I::Value>;
    const EXPECTED: &'static str = "an array";

    fn loc(&self) -> Loc<'_> {
        Loc::Field(I::LIST)
    }

    fn array<A: SeqAccess<'de>>(self, ctx: &Ctx<'_>, mut seq: A) -> Result<Self::Value, A::Error> {
        let limit = ctx.limits.max_items;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(limit));
        loop {
            let index = items.len();
            let item = Typed {
                ctx,
                shape: I::at(index),
            };
            match seq.next_element_seed(item)? {
                Some(_) if index == limit => {
                    return Err(ctx.fail(CallbackError::TooManyItems {
                        list: I::LIST,
                        limit,
                    }))
                }
                Some(item) => items.push(item),
                None => return Ok(items),
            }
        }
    }
}

/// A string of at most `max` UTF-8 bytes.
struct Text<'p> {
    loc: Loc<'p>,
    max: Option<usize>,
}

impl<'de> Shape<'de> for Text<'_> {
    type Value = Cow<'de, str>;
    const EXPECTED: &'static str = "a string";

    fn loc(&self) -> Loc<'_> {
        self.loc
    }

    #[inline]
    fn string(self, _: &Ctx<'_>, value: Cow<'de, str>) -> Result<Self::Value, CallbackError> {
        match self.max {
            Some(limit) if value.len() > limit => Err(CallbackError::FieldTooLong {
                path: self.loc.to_string(),
                len: value.len(),
                limit,
            }),
            _ => Ok(value),
        }
    }
}

/// `EventTime` (milliseconds) or `ForceAddFlags`: a non-negative integer.
struct Millis<'p> {
    loc: Loc<'p>,
}

impl<'de> Shape<'de> for Millis<'_> {
    type Value = u64;
    const EXPECTED: &'static str = "a non-negative integer";

    fn loc(&self) -> Loc<'_> {
        self.loc
    }
    #[inline]
    fn unsigned(self, value: u64) -> Result<u64, CallbackError> {
        Ok(value)
    }
    fn negative(self, _: i64) -> Result<u64, CallbackError> {
        Err(self.wrong("a negative number"))
    }
    fn float(self, _: f64) -> Result<u64, CallbackError> {
        Err(self.wrong("a non-integer number"))
    }
}

/// Any value of an unknown field: accepted and dropped, with containers held
/// to the depth limit and objects to unique keys.
struct Skip<'p> {
    loc: Loc<'p>,
    depth: usize,
}

impl Skip<'_> {
    fn enter(&self, ctx: &Ctx<'_>) -> Result<(), CallbackError> {
        if self.depth > ctx.limits.max_depth {
            return Err(CallbackError::TooDeep {
                path: self.loc.to_string(),
                limit: ctx.limits.max_depth,
            });
        }
        Ok(())
    }
}

impl<'de> Shape<'de> for Skip<'_> {
    type Value = ();
    const EXPECTED: &'static str = "any value";

    fn loc(&self) -> Loc<'_> {
        self.loc
    }
    fn string(self, _: &Ctx<'_>, _: Cow<'de, str>) -> Result<(), CallbackError> {
        Ok(())
    }
    fn unsigned(self, _: u64) -> Result<(), CallbackError> {
        Ok(())
    }
    fn negative(self, _: i64) -> Result<(), CallbackError> {
        Ok(())
    }
    fn float(self, _: f64) -> Result<(), CallbackError> {
        Ok(())
    }
    fn boolean(self, _: bool) -> Result<(), CallbackError> {
        Ok(())
    }
    fn null(self) -> Result<(), CallbackError> {
        Ok(())
    }
    fn array<A: SeqAccess<'de>>(self, ctx: &Ctx<'_>, mut seq: A) -> Result<(), A::Error> {
        self.enter(ctx).map_err(|e| ctx.fail(e))?;
        let mut index = 0;
        loop {
            let element = Skip {
                loc: Loc::Index(&self.loc, index),
                depth: self.depth + 1,
            };
            if seq
                .next_element_seed(Typed {
                    ctx,
                    shape: element,
                })?
                .is_none()
            {
                return Ok(());
            }
            index += 1;
        }
    }
    fn object<A: MapAccess<'de>>(self, ctx: &Ctx<'_>, mut map: A) -> Result<(), A::Error> {
        self.enter(ctx).map_err(|e| ctx.fail(e))?;
        let mut keys = UnknownKeys::default();
        while let Some(key) = map.next_key_seed(Key)? {
            skip_unknown(ctx, &mut map, &mut keys, self.loc, key, self.depth + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ResponseAction;

    fn parse(body: &str) -> Result<CallbackBody<'_>, CallbackError> {
        parse_body(body.as_bytes(), &Limits::default())
    }

    const SAMPLE: &str = r#"{"CallbackCommand":"Sns.CallbackPrevFriendResponse","Requester_Account":"id","From_Account":"id","ResponseFriendItem":[{"To_Account":"id1","Remark":"remark1","TagName":"group1","ResponseAction":"Response_Action_AgreeAndAdd"},{"To_Account":"id2","Remark":"remark2","TagName":"group2","ResponseAction":"Response_Action_Reject"}],"EventTime":1631777645424}"#;

    #[test]
    fn parses_the_sample_borrowing() {
        let body = parse(SAMPLE).unwrap();
        assert_eq!(body.items.len(), 2);
        assert_eq!(body.event_time_ms, 1_631_777_645_424);
        assert_eq!(body.items[1].action, ResponseAction::Reject);
        assert!(matches!(body.items[0].to_account, Cow::Borrowed("id1")));
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let raw = SAMPLE.replace("remark1", r"re\u006dark\n");
        let body = parse(&raw).unwrap();
        assert_eq!(body.items[0].remark, "remark\n");
    }

    #[test]
    fn wrong_types_name_the_path() {
        let err = parse(&SAMPLE.replace(r#""Remark":"remark2""#, r#""Remark":7"#)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "$.ResponseFriendItem[1].Remark must be a string, found number"
        );
        let err = parse(&SAMPLE.replace("1631777645424", "-1")).unwrap_err();
        assert_eq!(err.code(), "wrong_type");
        assert_eq!(parse("[]").unwrap_err().code(), "wrong_type");
    }

    #[test]
    fn duplicates_are_refused_at_every_level() {
        let dup_known = SAMPLE.replace(
            r#""From_Account":"id","#,
            r#""From_Account":"id","From_Account":"x","#,
        );
        assert_eq!(parse(&dup_known).unwrap_err().code(), "duplicate_key");
        let dup_nested = SAMPLE.replace(
            "{\"CallbackCommand",
            "{\"X\":{\"a\":1,\"a\":2},\"CallbackCommand",
        );
        assert_eq!(
            parse(&dup_nested).unwrap_err().to_string(),
            "duplicate key `a` in $.X"
        );
    }

    #[test]
    fn depth_is_limited_in_unknown_fields() {
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let body = SAMPLE.replace(
            "{\"CallbackCommand",
            &format!("{{\"X\":{deep},\"CallbackCommand"),
        );
        assert_eq!(parse(&body).unwrap_err().code(), "too_deep");
        let ok = format!("{}1{}", "[".repeat(31), "]".repeat(31));
        let body = SAMPLE.replace(
            "{\"CallbackCommand",
            &format!("{{\"X\":{ok},\"CallbackCommand"),
        );
        assert!(parse(&body).is_ok());
    }

    #[test]
    fn item_count_is_limited() {
        let limits = Limits {
            max_items: 1,
            ..Limits::default()
        };
        let err = parse_body(SAMPLE.as_bytes(), &limits).unwrap_err();
        assert_eq!(
            err,
            CallbackError::TooManyItems {
                list: "ResponseFriendItem",
                limit: 1
            }
        );
    }

    #[test]
    fn utf8_and_syntax() {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        bytes[100] = 0xff;
        assert_eq!(
            parse_body(&bytes, &Limits::default()).unwrap_err(),
            CallbackError::InvalidUtf8 { offset: 100 }
        );
        let err = parse(&SAMPLE[..50]).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        assert_eq!(
            parse(&format!("{SAMPLE} x")).unwrap_err().code(),
            "malformed_json"
        );
    }
}
