//! The subset of Go templates that `--format` users rely on: `{{.A.B}}`, `{{json .A}}`,
//! `{{index .A "key"}}`, `{{upper .A}}`/`{{lower .A}}`, literal text, and `\t`/`\n` escapes.
//! Values print the way Go's text/template prints them (`[a b]`, `map[k:v]`, `<nil>`).

use serde_json::Value;

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Action { func: Option<String>, path: Vec<String>, key: Option<String> },
}

impl Template {
    pub fn parse(src: &str) -> Result<Self, String> {
        let src = src.replace("\\t", "\t").replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = src.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let end =
                rest[start..].find("}}").ok_or_else(|| format!("template: unclosed action in {src:?}"))?;
            let action =
                rest[start + 2..start + end].trim().trim_start_matches('-').trim_end_matches('-').trim();
            parts.push(parse_action(action)?);
            rest = &rest[start + end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Self { parts })
    }

    pub fn render(&self, v: &Value) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Action { func, path, key } => {
                    let mut cur = lookup(v, path)?;
                    if let Some(k) = key {
                        cur = cur.get(k).cloned().unwrap_or(Value::Null);
                    }
                    let s = match func.as_deref() {
                        Some("json") => serde_json::to_string(&cur).map_err(|e| e.to_string())?,
                        Some("upper") => go_string(&cur).to_uppercase(),
                        Some("lower") => go_string(&cur).to_lowercase(),
                        _ => go_string(&cur),
                    };
                    out.push_str(&s);
                }
            }
        }
        Ok(out)
    }
}

fn parse_action(action: &str) -> Result<Part, String> {
    let words: Vec<&str> = action.split_whitespace().collect();
    let (func, path_word, key) = match words.as_slice() {
        [p] if p.starts_with('.') => (None, *p, None),
        [f @ ("json" | "upper" | "lower"), p] => (Some(f.to_string()), *p, None),
        ["index", p, k] => (None, *p, Some(k.trim_matches('"').to_string())),
        _ => return Err(format!("template: unsupported action {{{{{action}}}}}")),
    };
    if !path_word.starts_with('.') {
        return Err(format!("template: expected a field path like .State.Pid, got {path_word:?}"));
    }
    let path = path_word.split('.').filter(|s| !s.is_empty()).map(String::from).collect();
    Ok(Part::Action { func, path, key })
}

fn lookup(v: &Value, path: &[String]) -> Result<Value, String> {
    let mut cur = v;
    for (i, field) in path.iter().enumerate() {
        match cur {
            Value::Object(m) => match m.get(field) {
                Some(next) => cur = next,
                None => {
                    return Err(format!(
                        "template: can't evaluate field {field} in .{}",
                        path[..i].join(".")
                    ));
                }
            },
            Value::Null => return Ok(Value::Null),
            _ => return Err(format!("template: can't evaluate field {field}: not an object")),
        }
    }
    Ok(cur.clone())
}

/// Prints a value the way Go's fmt prints the corresponding Go value.
fn go_string(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_string).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys.iter().map(|k| format!("{k}:{}", go_string(&m[*k]))).collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_paths_and_functions() {
        let v = json!({"State": {"Pid": 42, "Running": true}, "Config": {"Env": ["A=1", "B=2"], "Labels": {"k": "v"}}, "Parent": ""});
        let r = |t: &str| Template::parse(t).unwrap().render(&v).unwrap();
        assert_eq!(r("{{.State.Pid}}"), "42");
        assert_eq!(r("pid={{ .State.Pid }}\\t{{.State.Running}}"), "pid=42\ttrue");
        assert_eq!(r("{{.Config.Env}}"), "[A=1 B=2]");
        assert_eq!(r("{{json .Config.Labels}}"), r#"{"k":"v"}"#);
        assert_eq!(r("{{index .Config.Labels \"k\"}}"), "v");
        assert_eq!(r("{{.Config.Labels}}"), "map[k:v]");
        assert_eq!(r("[{{.Parent}}]"), "[]");
        assert!(Template::parse("{{.State.Pid").is_err());
        assert!(Template::parse("{{range .X}}").is_err());
        assert!(Template::parse("{{.Nope}}").unwrap().render(&v).is_err());
    }
}
