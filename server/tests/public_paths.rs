//! The public paths of earlier releases still name their items, after the
//! gateway's folders were rebuilt (docs/architecture.md): this file fails to
//! compile when one is lost.
#![allow(unused_imports)]

use friendgate_server::command::{init_logging, serve};
use friendgate_server::gateway::{Gateway, SharedDecider, EMBEDDED_RULE};
use friendgate_server::listener::{raise_descriptor_limit, ServeError, Server};
use friendgate_server::lists::{apply, ListEdit};
use friendgate_server::logwriter::BatchGuard;
use friendgate_server::metrics::{EventMetrics, Metrics, RedisMetrics, Slot, DECIDER_ERROR_RULE};
use friendgate_server::policy::{
    parse_list, ListStore, Policy, RateLimiter, RuleInfo, RuleSpec, Verdict, DEFAULT_RULE,
};
use friendgate_server::settings::{
    AdminSettings, LogFormat, LogSettings, OtherCommands, ServerSettings, Settings,
    SettingsBuilder, SettingsError,
};
use friendgate_server::sources::Sources;
use friendgate_server::state::{edit_set, OnRedisError, SetEdit, StateSettings, Store, StoreError};
use friendgate_server::{LogGuard, Server as RootServer, Settings as RootSettings};

#[test]
fn the_paths_of_earlier_releases_name_the_same_items() {
    // The root and the old module paths are one type each.
    fn same<T>(_: Option<T>, _: Option<T>) {}
    same::<Settings>(None, None::<RootSettings>);
    same::<Server>(None, None::<RootServer>);
    same::<BatchGuard>(None, None::<LogGuard>);
    assert_eq!(DEFAULT_RULE, "default");
    assert_eq!(EMBEDDED_RULE, "decider");
    assert_eq!(DECIDER_ERROR_RULE, "decider_error");
}
