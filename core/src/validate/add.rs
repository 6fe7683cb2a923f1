//! The body of `Sns.CallbackPrevFriendAdd`: like a friend response's, with
//! `FriendItem`, `AddType` and `ForceAddFlags`. The texts a client writes
//! have no length limit but the body's (see [`crate::friend_add`]).

use serde::de::MapAccess;

use super::{
    first_time, required, skip_unknown, Ctx, ItemShape, Items, Key, Loc, Millis, Shape, Text,
    Typed, UnknownKeys,
};
use crate::error::CallbackError;
use crate::friend_add::{AddBody, AddItem, AddType};

const LIST: &str = "FriendItem";

/// The top-level object.
pub(super) struct AddBodyShape;

impl<'de> Shape<'de> for AddBodyShape {
    type Value = AddBody<'de>;
    const EXPECTED: &'static str = "an object";

    fn loc(&self) -> Loc<'_> {
        Loc::Root
    }

    fn object<A: MapAccess<'de>>(self, ctx: &Ctx<'_>, mut map: A) -> Result<Self::Value, A::Error> {
        let user_id = Some(ctx.limits.max_user_id_bytes);
        let (mut command, mut requester, mut from, mut add_type) = (None, None, None, None);
        let (mut items, mut force, mut event_time) = (None, None, None);
        let mut unknown = UnknownKeys::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let (name, text, max) = match &*key {
                "CallbackCommand" => ("CallbackCommand", Some(&mut command), None),
                "Requester_Account" => ("Requester_Account", Some(&mut requester), user_id),
                "From_Account" => ("From_Account", Some(&mut from), user_id),
                "AddType" => ("AddType", Some(&mut add_type), None),
                LIST => (LIST, None, None),
                "ForceAddFlags" => ("ForceAddFlags", None, None),
                "EventTime" => ("EventTime", None, None),
                _ => {
                    skip_unknown(ctx, &mut map, &mut unknown, Loc::Root, key, 2)?;
                    continue;
                }
            };
            let loc = Loc::Field(name);
            if let Some(slot) = text {
                first_time(slot, Loc::Root, name).map_err(|e| ctx.fail(e))?;
                *slot = Some(map.next_value_seed(Typed {
                    ctx,
                    shape: Text { loc, max },
                })?);
                continue;
            }
            let fresh = match name {
                LIST => first_time(&items, Loc::Root, name),
                "ForceAddFlags" => first_time(&force, Loc::Root, name),
                _ => first_time(&event_time, Loc::Root, name),
            };
            fresh.map_err(|e| ctx.fail(e))?;
            let number = Typed {
                ctx,
                shape: Millis { loc },
            };
            match name {
                LIST => {
                    items = Some(map.next_value_seed(Typed {
                        ctx,
                        shape: Items::<Item>::new(),
                    })?)
                }
                "ForceAddFlags" => force = Some(map.next_value_seed(number)?),
                _ => event_time = Some(map.next_value_seed(number)?),
            }
        }
        let body = (|| {
            Ok(AddBody {
                callback_command: required(command, Loc::Field("CallbackCommand"))?,
                // None of these decides an answer: refusing a callback
                // without them would only let it through.
                requester_account: requester.unwrap_or_default(),
                from_account: required(from, Loc::Field("From_Account"))?,
                items: required(items, Loc::Field(LIST))?,
                add_type: add_type.map(AddType::from_wire).unwrap_or_default(),
                force_add_flags: force.unwrap_or(0),
                event_time_ms: event_time.unwrap_or(0),
            })
        })();
        body.map_err(|e: CallbackError| ctx.fail(e))
    }
}

/// One `FriendItem` object.
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
    type Value = AddItem<'de>;
    const EXPECTED: &'static str = "an object";

    fn loc(&self) -> Loc<'_> {
        Loc::Item(LIST, self.index)
    }

    fn object<A: MapAccess<'de>>(self, ctx: &Ctx<'_>, mut map: A) -> Result<Self::Value, A::Error> {
        let here = Loc::Item(LIST, self.index);
        let user_id = Some(ctx.limits.max_user_id_bytes);
        let (mut to, mut remark, mut group, mut source, mut wording) =
            (None, None, None, None, None);
        let mut unknown = UnknownKeys::default();
        while let Some(key) = map.next_key_seed(Key)? {
            let (name, slot, max) = match &*key {
                "To_Account" => ("To_Account", &mut to, user_id),
                "Remark" => ("Remark", &mut remark, None),
                "GroupName" => ("GroupName", &mut group, None),
                "AddSource" => ("AddSource", &mut source, None),
                "AddWording" => ("AddWording", &mut wording, None),
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
        let to_account = required(to, Loc::ItemField(LIST, self.index, "To_Account"))
            .map_err(|e| ctx.fail(e))?;
        Ok(AddItem {
            to_account,
            remark: remark.unwrap_or_default(),
            group_name: group.unwrap_or_default(),
            add_source: source.unwrap_or_default(),
            add_wording: wording.unwrap_or_default(),
        })
    }
}
