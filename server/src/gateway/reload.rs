//! Reload: the config file read again, checked against the running one
//! (a list that shrinks too far is refused), and swapped in whole.

use std::sync::Arc;

use super::{Gateway, Loaded};
use crate::config::settings::{Settings, SettingsError};

impl Gateway {
    /// Re-reads the config file. A file that does not validate leaves the
    /// running configuration in place and says why. Listener settings
    /// (address, TLS) need a restart and are reported when they changed.
    pub fn reload(&self) -> Result<(), SettingsError> {
        let old = self.settings();
        let loaded = Settings::load(&self.config_path).and_then(|mut new| {
            new.policy.check_shrink(&old.policy, &self.config_path)?;
            new.policy.keep_state(&old.policy);
            Ok(new)
        });
        match loaded {
            Ok(new) => {
                if new.server.listen != old.server.listen
                    || new.server.tls != old.server.tls
                    || new.admin != old.admin
                    || new.upstreams.extra_roots != old.upstreams.extra_roots
                    || new.state != old.state
                    || new.events != old.events
                {
                    tracing::warn!(
                        target: "friendgate::reload",
                        "listen address, TLS, admin listener, upstream.ca_file, [state] or [events] changed; restart to apply them"
                    );
                }
                let rules: Vec<&str> = new.policy.rule_names().collect();
                tracing::info!(target: "friendgate::reload", file = %self.config_path.display(), rules = ?rules, "configuration reloaded");
                self.current.store(Arc::new(Loaded::new(
                    new,
                    &self.metrics,
                    self.store.as_deref(),
                )));
                self.metrics.reload(true);
                Ok(())
            }
            Err(error) => {
                tracing::error!(target: "friendgate::reload", %error, "reload refused; the previous configuration stays");
                self.metrics.reload(false);
                Err(error)
            }
        }
    }
}
