//! Forms: a few labelled lines filled in one go — run a container from an image, create a
//! network. The answers are checked here (ports, environment, restart policy, command
//! quoting) so a mistake shows in the form, which stays open, before anything reaches the
//! engine; what only the engine can judge (a name in use, a subnet that overlaps) comes back
//! as a notice.

use crate::engine::container::CreateRequest;
use crate::engine::container::config::{HostConfig, LogConfig, RestartPolicy};
use crate::engine::network::NetworkCreate;
use crate::engine::network::ports::{PortMap, parse_publish};

/// What a form's answers are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormFor {
    /// `run -d` this image (as the user knows it: `repo:tag` or an ID).
    Run(String),
    Network,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    /// Shown greyed while the field is empty.
    pub hint: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// What was wrong with the last attempt to submit.
    pub error: Option<String>,
    /// A line under the fields (what the form cannot do).
    pub note: Option<&'static str>,
    pub purpose: FormFor,
}

fn field(label: &'static str, value: &str, hint: &'static str) -> Field {
    Field { label, value: value.to_string(), hint }
}

impl Form {
    /// `run -d IMAGE` with a name, ports, environment, network, restart policy and command.
    pub fn run(image: &str) -> Self {
        Self {
            title: format!("run {image}"),
            fields: vec![
                field("name", "", "a generated name"),
                field("ports", "", "8080:80 127.0.0.1::53/udp"),
                field("env", "", "KEY=value \"GREETING=hello world\""),
                field("network", "bridge", "bridge, host, none or a network's name"),
                field("restart", "no", "no, always, unless-stopped, on-failure[:N]"),
                field("command", "", "the image's command"),
            ],
            focus: 0,
            error: None,
            note: Some("volumes: gantry has no volumes yet (see the Volumes pane)"),
            purpose: FormFor::Run(image.to_string()),
        }
    }

    /// `network create` with a name, subnet, gateway and whether it is internal.
    pub fn network() -> Self {
        Self {
            title: "create a network".into(),
            fields: vec![
                field("name", "", "required"),
                field("subnet", "", "chosen from the free pool"),
                field("gateway", "", "the subnet's first address"),
                field("internal", "no", "yes: no route out of the network"),
            ],
            focus: 0,
            error: None,
            note: None,
            purpose: FormFor::Network,
        }
    }

    fn value(&self, label: &str) -> &str {
        self.fields.iter().find(|f| f.label == label).map(|f| f.value.trim()).unwrap_or("")
    }

    fn optional(&self, label: &str) -> Option<String> {
        Some(self.value(label).to_string()).filter(|v| !v.is_empty())
    }

    pub fn focused(&mut self) -> &mut String {
        let i = self.focus.min(self.fields.len().saturating_sub(1));
        &mut self.fields[i].value
    }

    /// Moves the focus to the next (or previous) field, wrapping around.
    pub fn step(&mut self, back: bool) {
        let n = self.fields.len().max(1);
        self.focus = if back { (self.focus + n - 1) % n } else { (self.focus + 1) % n };
    }

    /// The request the run form describes.
    pub fn run_request(&self) -> Result<CreateRequest, String> {
        let FormFor::Run(image) = &self.purpose else {
            return Err("not a run form".into());
        };
        let mut port_bindings = PortMap::new();
        for spec in self.value("ports").split([' ', ',']).filter(|s| !s.is_empty()) {
            for (key, binding) in parse_publish(spec).map_err(|e| format!("ports: {e}"))? {
                port_bindings.entry(key).or_default().push(binding);
            }
        }
        let env = words("env", self.value("env"))?;
        if let Some(bad) = env.iter().find(|e| !e.contains('=') || e.starts_with('=')) {
            return Err(format!("env: {bad:?} is not KEY=value"));
        }
        let restart_policy =
            RestartPolicy::parse(self.value("restart")).map_err(|e| format!("restart: {e}"))?;
        let command = words("command", self.value("command"))?;
        let network_mode = self.optional("network").unwrap_or_else(|| "bridge".into());
        Ok(CreateRequest {
            name: self.optional("name"),
            image: image.clone(),
            cmd: (!command.is_empty()).then_some(command),
            env,
            // Published ports are exposed too, as in Docker.
            expose: port_bindings.keys().cloned().collect(),
            host: HostConfig {
                restart_policy,
                port_bindings,
                network_mode,
                ipc_mode: HostConfig::DEFAULT_IPC.into(),
                log_config: LogConfig::gantry_file(Default::default()),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    /// The network the create form describes.
    pub fn network_request(&self) -> Result<NetworkCreate, String> {
        let name = self.optional("name").ok_or("name: a network needs a name")?;
        let internal = match self.value("internal") {
            "yes" | "y" | "true" => true,
            "no" | "n" | "false" | "" => false,
            other => return Err(format!("internal: {other:?} is not yes or no")),
        };
        Ok(NetworkCreate {
            name,
            subnet: self.optional("subnet"),
            gateway: self.optional("gateway"),
            internal,
            ..Default::default()
        })
    }
}

/// Splits a field the way a shell would (quotes keep spaces).
fn words(label: &str, text: &str) -> Result<Vec<String>, String> {
    shell_words::split(text).map_err(|e| format!("{label}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(form: &mut Form, label: &str, value: &str) {
        let f = form.fields.iter_mut().find(|f| f.label == label).expect("field");
        f.value = value.to_string();
    }

    #[test]
    fn run_form_becomes_a_request() {
        let mut f = Form::run("web:1");
        set(&mut f, "name", " front ");
        set(&mut f, "ports", "8080:80, 127.0.0.1::53/udp");
        set(&mut f, "env", "A=1 'GREETING=hello world'");
        set(&mut f, "restart", "on-failure:3");
        set(&mut f, "command", "sh -c 'echo hi; sleep 1'");
        let r = f.run_request().unwrap();
        assert_eq!(r.image, "web:1");
        assert_eq!(r.name.as_deref(), Some("front"));
        assert_eq!(r.env, vec!["A=1", "GREETING=hello world"]);
        assert_eq!(r.cmd, Some(vec!["sh".into(), "-c".into(), "echo hi; sleep 1".into()]));
        assert_eq!(r.host.restart_policy.name, "on-failure");
        assert_eq!(r.host.restart_policy.maximum_retry_count, 3);
        assert_eq!(r.host.network_mode, "bridge");
        assert_eq!(r.host.port_bindings.keys().collect::<Vec<_>>(), vec!["53/udp", "80/tcp"]);
        assert_eq!(r.host.port_bindings["80/tcp"][0].host_port, "8080");
        assert_eq!(r.host.port_bindings["53/udp"][0].host_ip, "127.0.0.1");
        assert_eq!(r.expose, vec!["53/udp", "80/tcp"]);

        // An empty form keeps the image's command and asks for nothing else.
        let plain = Form::run("web:1").run_request().unwrap();
        assert_eq!((plain.name, plain.cmd, plain.env.len()), (None, None, 0));
        assert_eq!(plain.host.restart_policy.name, "no");
    }

    #[test]
    fn run_form_mistakes_are_named() {
        for (label, value, says) in [
            ("ports", "80:http", "ports: "),
            ("env", "JUSTNAME", "env: \"JUSTNAME\" is not KEY=value"),
            ("env", "A='unclosed", "env: "),
            ("restart", "sometimes", "restart: "),
            ("command", "echo \"x", "command: "),
        ] {
            let mut f = Form::run("web");
            set(&mut f, label, value);
            let e = f.run_request().unwrap_err();
            assert!(e.starts_with(says), "{label}={value}: {e}");
        }
    }

    #[test]
    fn network_form_and_focus() {
        let mut f = Form::network();
        assert_eq!(f.network_request().unwrap_err(), "name: a network needs a name");
        set(&mut f, "name", "backend");
        set(&mut f, "subnet", "10.99.0.0/24");
        set(&mut f, "internal", "yes");
        let n = f.network_request().unwrap();
        assert_eq!(
            (n.name.as_str(), n.subnet.as_deref(), n.gateway, n.internal),
            ("backend", Some("10.99.0.0/24"), None, true)
        );
        set(&mut f, "internal", "perhaps");
        assert!(f.network_request().unwrap_err().starts_with("internal: "));
        f.step(true);
        assert_eq!(f.focus, 3);
        f.step(false);
        f.step(false);
        assert_eq!(f.focus, 1);
        f.focused().push('x');
        assert_eq!(f.fields[1].value, "10.99.0.0/24x");
    }
}
