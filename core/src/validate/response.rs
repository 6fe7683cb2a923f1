//! The body of `Sns.CallbackPrevFriendResponse`.

use std::borrow::Cow;

use serde::de::MapAccess;

use super::{
    first_time, required, skip_unknown, Ctx, ItemShape, Items, Key, Loc, Millis, Shape, Text,
    Typed, UnknownKeys,
};
use crate::error::CallbackError;
use crate::request::{CallbackBody, ResponseAction, ResponseItem};

const LIST: &str = "ResponseFriendItem";

/// The top-level object.
pub(super) struct BodyShape;

impl<'de> Shape<'de> for BodyShape {
    type Value = CallbackBody<'de>;
    const EXPECTED: &'static str = "an object";

    fn loc(&self) -> Loc<'_> {
        Loc::Root
    }

    fn object<A: MapAccess<'de>>(self, ctx: &Ctx<'_>, mut map: A) -> Result<Self::Value, A::Error> {
        let limits = ctx.limits;
        let (mut command, mut requester, mut from, mut items, mut event_time) =
            (None, None, None, None, None);
        let mut unknown = UnknownKeys::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let name = match &*key {
                "CallbackCommand" => "CallbackCommand",
                "Requester_Account" => "Requester_Account",
                "From_Account" => "From_Account",
                LIST => LIST,
                "EventTime" => "EventTime",
                _ => {
                    skip_unknown(ctx, &mut map, &mut unknown, Loc::Root, key, 2)?;
                    continue;
                }
            };
            let loc = Loc::Field(name);
            let string = |max| Typed {
                ctx,
                shape: Text { loc, max },
            };
            let fresh = match name {
                "CallbackCommand" => first_time(&command, Loc::Root, name),
                "Requester_Account" => first_time(&requester, Loc::Root, name),
                "From_Account" => first_time(&from, Loc::Root, name),
                LIST => first_time(&items, Loc::Root, name),
                _ => first_time(&event_time, Loc::Root, name),
            };
            fresh.map_err(|e| ctx.fail(e))?;
            match name {
                "CallbackCommand" => command = Some(map.next_value_seed(string(None))?),
                "Requester_Account" => {
                    requester = Some(map.next_value_seed(string(Some(limits.max_user_id_bytes)))?)
                }
                "From_Account" => {
                    from = Some(map.next_value_seed(string(Some(limits.max_user_id_bytes)))?)
                }
                LIST => {
                    items = Some(map.next_value_seed(Typed {
                        ctx,
                        shape: Items::<Item>::new(),
                    })?)
                }
                _ => {
                    event_time = Some(map.next_value_seed(Typed {
                        ctx,
                        shape: Millis { loc },
                    })?)
                }
            }
        }
        let body = (|| {
            Ok(CallbackBody {
                callback_command: required(command, Loc::Field("CallbackCommand"))?,
                // Neither decides an answer: refusing a callback without
                // them would only let it through (docs/protocol.md).
                requester_account: requester.unwrap_or_default(),
                from_account: required(from, Loc::Field("From_Account"))?,
                items: required(items, Loc::Field(LIST))?,
                event_time_ms: event_time.unwrap_or(0),
            })
        })();
        body.map_err(|e| ctx.fail(e))
    }
}

/// One `ResponseFriendItem` object.
struct Item {
    index: usize,
}

impl ItemShape<'_> for Item {
    const LIST: &'static str = LIST;
    fn at(index: usize) -> Self {
        Self { index }
    }
}

impl<'de> Shape<'de> for Item {
    type Value = ResponseItem<'de>;
    const EXPECTED: &'static str = "an object";

    fn loc(&self) -> Loc<'_> {
        Loc::Item(LIST, self.index)
    }

    fn object<A: MapAccess<'de>>(self, ctx: &Ctx<'_>, mut map: A) -> Result<Self::Value, A::Error> {
        let limits = ctx.limits;
        let here = Loc::Item(LIST, self.index);
        let (mut to, mut remark, mut tag, mut action) = (None, None, None, None);
        let mut unknown = UnknownKeys::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let (name, slot, max) = match &*key {
                "To_Account" => ("To_Account", &mut to, Some(limits.max_user_id_bytes)),
                "Remark" => ("Remark", &mut remark, Some(limits.max_remark_bytes)),
                "TagName" => ("TagName", &mut tag, Some(limits.max_tag_name_bytes)),
                "ResponseAction" => ("ResponseAction", &mut action, None),
                _ => {
                    skip_unknown(ctx, &mut map, &mut unknown, here, key, 4)?;
                    continue;
                }
            };
            first_time(slot, here, name).map_err(|e| ctx.fail(e))?;
            let loc = Loc::ItemField(LIST, self.index, name);
            *slot = Some(map.next_value_seed(Typed {
                ctx,
                shape: Text { loc, max },
            })?);
        }
        let index = self.index;
        let item = (|| {
            Ok(ResponseItem {
                to_account: required(to, Loc::ItemField(LIST, index, "To_Account"))?,
                remark: remark.unwrap_or_default(),
                tag_name: tag.unwrap_or_default(),
                action: ResponseAction::from_wire(required::<Cow<'de, str>>(
                    action,
                    Loc::ItemField(LIST, index, "ResponseAction"),
                )?),
            })
        })();
        item.map_err(|e: CallbackError| ctx.fail(e))
    }
}
