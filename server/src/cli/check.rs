//! `friendgate check-config`: loads a config and sums it up in one line, or
//! says exactly what is wrong (file, key, why).

use std::path::Path;

use crate::config::settings::{OtherCommands, Settings};

/// The summary of the valid config at `config` (the error of an invalid one).
pub fn run(config: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let settings = Settings::load(config)?;
    let rules: Vec<&str> = settings.policy.rule_names().collect();
    let routes: Vec<String> = settings
        .upstreams
        .routes
        .iter()
        .map(|route| format!("{} -> {}", route.command, route.shown_url()))
        .collect();
    let others = if routes.is_empty() {
        match settings.other_commands {
            OtherCommands::AnswerOk => "answered OK".to_owned(),
            OtherCommands::Refuse => "refused".to_owned(),
        }
    } else {
        routes.join(", ")
    };
    Ok(format!(
        "{}: ok (listen {}, path {}, {} app id(s), {} token(s), rules: {}; other commands: {}; sources: {}; state: {})",
        config.display(),
        settings.server.listen,
        settings.server.path,
        settings.callback.app_ids().len(),
        settings.callback.tokens().len(),
        if rules.is_empty() {
            "none".to_owned()
        } else {
            rules.join(", ")
        },
        others,
        if settings.sources.is_on() { "allowlist" } else { "any" },
        settings.state.as_ref().map_or("in memory", |state| state.redis.as_str())
    ))
}
