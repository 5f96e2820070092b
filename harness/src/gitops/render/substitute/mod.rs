//! Post-build variable substitution, as Flux's kustomize-controller runs it
//! on every object a Kustomization builds (`spec.postBuild`), after SOPS
//! decryption and before the apply:
//!
//! - the variables come from `substituteFrom` (ConfigMap and Secret data,
//!   read in list order, later ones winning) and then inline `substitute`,
//!   which wins over all; newlines are stripped from values. Reading them
//!   from the cluster is the caller's job ([`Variables`] is what it
//!   gathered); a variable name must match `^[_[:alpha:]][_[:alpha:][:digit:]]*$`;
//! - with no variable at all, nothing is substituted;
//! - each object is written as YAML, expanded ([`envsubst`]) and read
//!   back, so `replicas: ${REPLICAS}` becomes a number when the value is
//!   one, as in Flux;
//! - an object labelled or annotated
//!   `kustomize.toolkit.fluxcd.io/substitute: disabled` is left alone.

pub mod envsubst;

use std::collections::BTreeMap;

use serde_json::Value;

pub use envsubst::EnvsubstError;

/// The label or annotation that opts an object out.
pub const DISABLE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";

/// Errors of post-build substitution, worded as Flux's `BuildFailed`
/// messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A variable's name is not a shell identifier.
    #[error("'{0}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'")]
    InvalidName(String),
    /// Expanding one object failed.
    #[error("post build failed for '{id}': envsubst error: variable substitution failed: {source}")]
    Object {
        /// The object, as kustomize names it (`apps_v1_Deployment/podinfo`).
        id: String,
        /// What went wrong.
        #[source]
        source: EnvsubstError,
    },
    /// The expanded object is no longer valid YAML.
    #[error("post build failed for '{id}': YAMLToJSON: {message}")]
    Yaml {
        /// The object.
        id: String,
        /// The parser's message.
        message: String,
    },
}

/// The variables of a Kustomization, gathered in Flux's order (see the
/// module docs): later [`Variables::extend`] calls win.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    vars: BTreeMap<String, String>,
    /// Strict mode (Flux's `StrictPostBuildSubstitutions`, on by default):
    /// an unset variable used without a default fails the build.
    pub strict: bool,
}

impl Variables {
    /// No variables, strict mode on (Flux's default).
    pub fn new() -> Variables {
        Variables {
            vars: BTreeMap::new(),
            strict: true,
        }
    }

    /// Adds (or overrides) variables; newlines are stripped from values.
    pub fn extend<K: Into<String>, V: AsRef<str>>(
        &mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) {
        for (k, v) in pairs {
            self.vars.insert(k.into(), v.as_ref().replace('\n', ""));
        }
    }

    /// Whether there is no variable (then nothing is substituted).
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Checks every name (Flux checks them before expanding).
    ///
    /// # Errors
    /// [`Error::InvalidName`].
    pub fn check_names(&self) -> Result<(), Error> {
        match self.vars.keys().find(|k| !valid_name(k)) {
            Some(k) => Err(Error::InvalidName(k.clone())),
            None => Ok(()),
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Whether `obj` opted out of substitution.
pub fn disabled(obj: &Value) -> bool {
    ["labels", "annotations"].iter().any(|m| {
        obj.pointer(&format!("/metadata/{m}"))
            .and_then(|v| v.get(DISABLE_KEY))
            .and_then(Value::as_str)
            == Some("disabled")
    })
}

/// kustomize's id of an object in Flux's messages:
/// `<group|~G>_<version>_<kind>/<name>`.
pub fn flux_id(obj: &Value) -> String {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (group, version) = match s("/apiVersion").rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", s("/apiVersion")),
    };
    let group = if group.is_empty() { "~G" } else { group };
    format!("{group}_{version}_{}/{}", s("/kind"), s("/metadata/name"))
}

/// Substitutes `vars` in every object of `objects` (see the module docs).
///
/// # Errors
/// [`Error::InvalidName`], or the first object that fails
/// ([`Error::Object`], [`Error::Yaml`]).
pub fn substitute_all(objects: &mut [Value], vars: &Variables) -> Result<(), Error> {
    if vars.is_empty() {
        return Ok(());
    }
    vars.check_names()?;
    for obj in objects.iter_mut().filter(|o| !disabled(o)) {
        substitute(obj, vars)?;
    }
    Ok(())
}

/// Substitutes `vars` in one object (the opt-out annotation is the
/// caller's: see [`substitute_all`]).
///
/// # Errors
/// [`Error::Object`], [`Error::Yaml`].
pub fn substitute(obj: &mut Value, vars: &Variables) -> Result<(), Error> {
    let yaml: serde_yaml::Value = match serde_yaml::to_value(&*obj) {
        Ok(v) => v,
        Err(e) => {
            return Err(Error::Yaml {
                id: flux_id(obj),
                message: e.to_string(),
            });
        }
    };
    let text = crate::gitops::yaml::emit::to_string(&yaml);
    if !text.contains("${") && !text.contains("$$") {
        return Ok(());
    }
    let out = envsubst::eval(&text, &vars.vars, vars.strict).map_err(|source| Error::Object {
        id: flux_id(obj),
        source,
    })?;
    let normalised = crate::gitops::yaml::compat::octal_ints(&out);
    *obj = serde_yaml::from_str(&normalised).map_err(|e| Error::Yaml {
        id: flux_id(obj),
        message: e.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        let mut v = Variables::new();
        v.extend(pairs.iter().copied());
        v
    }

    #[test]
    fn values_keep_their_yaml_types() {
        let mut objs = vec![json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "app-${ENV}", "namespace": "apps"},
            "spec": {"replicas": "${REPLICAS:=1}", "paused": "${PAUSED}",
                "template": {"metadata": {"labels": {"note": "${NOTE}"}}}}})];
        substitute_all(
            &mut objs,
            &vars(&[
                ("ENV", "prod"),
                ("REPLICAS", "3"),
                ("PAUSED", "false"),
                ("NOTE", "a\nb"),
            ]),
        )
        .unwrap();
        assert_eq!(objs[0]["metadata"]["name"], "app-prod");
        assert_eq!(objs[0]["spec"]["replicas"], 3);
        assert_eq!(objs[0]["spec"]["paused"], false);
        assert_eq!(
            objs[0]["spec"]["template"]["metadata"]["labels"]["note"],
            "ab"
        );
    }

    #[test]
    fn disabled_objects_and_no_variables_are_left_alone() {
        let cm = |meta: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "${X} $${Y}"}});
        let mut objs = vec![
            cm(json!({"name": "a", "annotations": {DISABLE_KEY: "disabled"}})),
            cm(json!({"name": "b", "labels": {DISABLE_KEY: "disabled"}})),
            cm(json!({"name": "c"})),
        ];
        let before = objs.clone();
        substitute_all(&mut objs, &Variables::new()).unwrap();
        assert_eq!(objs, before, "no variables: nothing substituted");
        substitute_all(&mut objs, &vars(&[("X", "x")])).unwrap();
        assert_eq!(objs[..2], before[..2]);
        assert_eq!(objs[2]["data"]["k"], "x ${Y}");
    }

    #[test]
    fn errors_name_the_object_as_flux_does() {
        let mut objs = vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "data": {"k": "${UNSET}"}})];
        let err = substitute_all(&mut objs, &vars(&[("X", "1")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "post build failed for '~G_v1_ConfigMap/cfg': envsubst error: variable substitution failed: variable not set (strict mode): \"UNSET\""
        );
        let mut lax = vars(&[("X", "1")]);
        lax.strict = false;
        substitute_all(&mut objs, &lax).unwrap();
        // `k: ${UNSET}` reads back as `k:` (null), as in Flux.
        assert_eq!(objs[0]["data"]["k"], Value::Null);
        let err = substitute_all(&mut objs, &vars(&[("1X", "1")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'1X' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
        );
        assert!(valid_name("_a1") && valid_name("Z") && !valid_name("a-b") && !valid_name(""));
    }
}
