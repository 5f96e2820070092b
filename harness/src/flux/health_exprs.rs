//! `spec.healthCheckExprs` of a Flux Kustomization: health of custom
//! resources decided by Common Expression Language expressions, as
//! kustomize-controller evaluates them (fluxcd/pkg `runtime/cel`):
//!
//! - each entry names an `apiVersion` (only its group counts) and a `kind`,
//!   with a required `current` expression and optional `inProgress` and
//!   `failed` ones; the first entry for a group and kind wins;
//! - an object whose integer `status.observedGeneration` differs from its
//!   `metadata.generation` is in progress; otherwise `inProgress`, `failed`
//!   and `current` are evaluated in that order and the first that is true
//!   decides; none true means in progress;
//! - the variables in scope are the object's top-level fields (`metadata`,
//!   `spec`, `status`, …);
//! - an expression that does not parse is a configuration error (Flux
//!   stalls the Kustomization with `InvalidCELExpression`); one that fails
//!   to evaluate (a missing field without `has()`) leaves the object in
//!   progress, so the health check waits, as Flux's does.
//!
//! Objects of kinds without an entry keep kstatus' rules
//! ([`crate::kstatus::health`]).
//!
//! The `cel` crate evaluates them, with its standard library, the
//! optional syntax (`status.?conditions.orValue([])`) and the strings and
//! encoders extensions; cel-go's `sets` extension, which Flux also loads,
//! has no counterpart there.

use std::sync::Arc;

use cel::{Context, Env, Program};
use serde_json::Value;

use crate::kstatus::Health;

/// One `spec.healthCheckExprs` entry, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HealthCheckExpr {
    /// `apiVersion` (`cert-manager.io/v1`); only the group is matched.
    pub api_version: String,
    /// `kind`.
    #[serde(default)]
    pub kind: String,
    /// `current`: true when the object is healthy.
    #[serde(default)]
    pub current: String,
    /// `inProgress`: true while the object converges.
    #[serde(default)]
    pub in_progress: Option<String>,
    /// `failed`: true when the object failed.
    #[serde(default)]
    pub failed: Option<String>,
}

/// An entry compiled.
struct Compiled {
    group: String,
    kind: String,
    current: Program,
    in_progress: Option<Program>,
    failed: Option<Program>,
    sources: [String; 3],
}

/// The compiled `healthCheckExprs` of a Kustomization.
#[derive(Clone, Default)]
pub struct HealthExprs {
    env: Option<Arc<Env>>,
    entries: Arc<Vec<Compiled>>,
}

impl std::fmt::Debug for HealthExprs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthExprs")
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn environment() -> Result<Env, String> {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .and_then(|()| env.add_extension(cel::extensions::encoders))
        .map_err(|e| format!("failed to create CEL environment: {e}"))?;
    Ok(env)
}

fn parse(env: &Env, which: &str, expr: &str) -> Result<Program, String> {
    env.compile(expr).map_err(|e| {
        format!("failed to parse the expression {which}: failed to parse the CEL expression '{expr}': {e}")
    })
}

impl HealthExprs {
    /// Compiles `entries`.
    ///
    /// # Errors
    /// Flux's message for the first entry that does not compile:
    /// `failed to create custom status reader for healthchecks[0]: failed
    /// to parse the expression Current: failed to parse the CEL expression
    /// '…': …`.
    pub fn compile(entries: &[HealthCheckExpr]) -> Result<HealthExprs, String> {
        if entries.is_empty() {
            return Ok(HealthExprs::default());
        }
        let env = environment()?;
        let mut compiled: Vec<Compiled> = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let wrap = |msg: String| {
                format!("failed to create custom status reader for healthchecks[{i}]: {msg}")
            };
            let group = group_of(&e.api_version).to_owned();
            if compiled
                .iter()
                .any(|c| c.group == group && c.kind == e.kind)
            {
                continue;
            }
            if e.current.is_empty() {
                return Err(wrap("expression Current not specified".into()));
            }
            let optional = |which, expr: &Option<String>| {
                expr.as_deref()
                    .filter(|s| !s.is_empty())
                    .map(|s| parse(&env, which, s))
                    .transpose()
            };
            compiled.push(Compiled {
                group,
                kind: e.kind.clone(),
                current: parse(&env, "Current", &e.current).map_err(wrap)?,
                in_progress: optional("InProgress", &e.in_progress).map_err(wrap)?,
                failed: optional("Failed", &e.failed).map_err(wrap)?,
                sources: [
                    e.in_progress.clone().unwrap_or_default(),
                    e.failed.clone().unwrap_or_default(),
                    e.current.clone(),
                ],
            });
        }
        Ok(HealthExprs {
            env: Some(Arc::new(env)),
            entries: Arc::new(compiled),
        })
    }

    /// True when no entry was given.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, group: &str, kind: &str) -> Option<&Compiled> {
        self.entries
            .iter()
            .find(|c| c.group == group && c.kind == kind)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|c| c.group == group && c.kind.is_empty())
            })
    }

    /// The health of `obj` (of `group` and `kind`) by its expressions, or
    /// None when no entry covers its kind.
    pub fn judge(&self, group: &str, kind: &str, obj: &Value) -> Option<Health> {
        let entry = self.entry(group, kind)?;
        let env = self.env.clone()?;
        Some(evaluate(env, entry, obj))
    }
}

fn evaluate(env: Arc<Env>, entry: &Compiled, obj: &Value) -> Health {
    let observed = obj
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64);
    let generation = obj.pointer("/metadata/generation").and_then(Value::as_i64);
    if let (Some(o), Some(g)) = (observed, generation)
        && o != g
    {
        return Health::InProgress(format!("observedGeneration {o} is not generation {g}"));
    }
    let mut ctx = Context::with_env(env);
    if let Some(fields) = obj.as_object() {
        for (name, value) in fields {
            if let Err(e) = ctx.add_variable(name.clone(), value) {
                return Health::InProgress(format!("field `{name}` is not usable in CEL: {e}"));
            }
        }
    }
    let steps = [
        (entry.in_progress.as_ref(), &entry.sources[0], "inProgress"),
        (entry.failed.as_ref(), &entry.sources[1], "failed"),
        (Some(&entry.current), &entry.sources[2], "current"),
    ];
    for (program, source, which) in steps {
        let Some(program) = program else { continue };
        match program.execute(&ctx) {
            Ok(cel::Value::Bool(true)) => {
                return match which {
                    "inProgress" => Health::InProgress(format!("inProgress: {source}")),
                    "failed" => Health::Failed(format!("failed: {source}")),
                    _ => Health::Ready,
                };
            }
            Ok(cel::Value::Bool(false)) => {}
            Ok(_) => {
                return Health::InProgress(format!(
                    "failed to evaluate CEL expression as boolean: '{source}'"
                ));
            }
            Err(e) => {
                return Health::InProgress(format!(
                    "failed to evaluate the CEL expression '{source}': {e}"
                ));
            }
        }
    }
    Health::InProgress(format!("current is false: {}", entry.sources[2]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exprs(current: &str, in_progress: Option<&str>, failed: Option<&str>) -> HealthExprs {
        HealthExprs::compile(&[HealthCheckExpr {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            current: current.into(),
            in_progress: in_progress.map(str::to_owned),
            failed: failed.map(str::to_owned),
        }])
        .unwrap()
    }

    fn widget(phase: &str, generation: i64, observed: i64) -> Value {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "generation": generation},
            "status": {"phase": phase, "observedGeneration": observed,
                "conditions": [{"type": "Ready", "status": if phase == "Ready" {"True"} else {"False"}}]}})
    }

    #[test]
    fn expressions_decide_in_flux_order() {
        let e = exprs(
            "status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'True')",
            Some("status.phase == 'Pending'"),
            Some("status.phase == 'Broken'"),
        );
        let judge = |o: &Value| e.judge("example.com", "Widget", o).unwrap();
        assert_eq!(judge(&widget("Ready", 2, 2)), Health::Ready);
        assert!(judge(&widget("Broken", 2, 2)).is_failed());
        assert!(matches!(
            judge(&widget("Pending", 2, 2)),
            Health::InProgress(_)
        ));
        // Not observed yet: in progress whatever the expressions say.
        assert!(matches!(
            judge(&widget("Ready", 3, 2)),
            Health::InProgress(w) if w.contains("observedGeneration")
        ));
        // Nothing true: in progress.
        assert!(matches!(
            judge(&widget("Starting", 1, 1)),
            Health::InProgress(_)
        ));
        assert!(
            e.judge("example.com", "Gadget", &widget("Ready", 1, 1))
                .is_none()
        );
        assert!(
            e.judge("other.io", "Widget", &widget("Ready", 1, 1))
                .is_none()
        );
    }

    #[test]
    fn evaluation_errors_wait_and_has_guards() {
        let e = exprs("status.phase == 'Ready'", None, None);
        let bare =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        match e.judge("example.com", "Widget", &bare).unwrap() {
            Health::InProgress(why) => assert!(why.contains("failed to evaluate"), "{why}"),
            other => panic!("{other:?}"),
        }
        let guarded = exprs("has(status.phase) && status.phase == 'Ready'", None, None);
        let with_status = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "status": {}});
        assert!(matches!(
            guarded.judge("example.com", "Widget", &with_status),
            Some(Health::InProgress(_))
        ));
        let optional = exprs(
            "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')",
            None,
            None,
        );
        assert_eq!(
            optional.judge("example.com", "Widget", &widget("Ready", 1, 1)),
            Some(Health::Ready)
        );
    }

    #[test]
    fn invalid_expressions_are_named_like_flux() {
        let err = HealthExprs::compile(&[HealthCheckExpr {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            current: "true".into(),
            in_progress: Some("foo.".into()),
            failed: None,
        }])
        .unwrap_err();
        assert!(
            err.starts_with("failed to create custom status reader for healthchecks[0]: failed to parse the expression InProgress: failed to parse the CEL expression 'foo.': "),
            "{err}"
        );
        let err = HealthExprs::compile(&[HealthCheckExpr {
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            ..HealthCheckExpr::default()
        }])
        .unwrap_err();
        assert!(err.ends_with("expression Current not specified"), "{err}");
    }
}
