//! The outputs of a module, as `terraform output -json` prints them:
//! `{"name": {"sensitive": false, "type": "string", "value": "…"}}`.

use std::collections::BTreeMap;

use serde_json::Value;

/// One output.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputValue {
    /// Marked `sensitive = true` in the module.
    pub sensitive: bool,
    /// Its type, as Terraform's JSON type expression (`"string"`, `["list","string"]`).
    pub type_: Value,
    /// Its value.
    pub value: Value,
}

impl OutputValue {
    /// The value as a Kubernetes Secret holds it, as the Flux Terraform
    /// controller writes outputs: strings as they are, numbers and booleans
    /// as their JSON text, anything else as JSON.
    pub fn secret_text(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// Every output of a module, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs(pub BTreeMap<String, OutputValue>);

impl Outputs {
    /// Parses `terraform output -json`.
    ///
    /// # Errors
    /// A message when the text is not that JSON.
    pub fn parse(text: &str) -> Result<Outputs, String> {
        let v: Value = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
        let map = v
            .as_object()
            .ok_or_else(|| "expected a JSON object of outputs".to_owned())?;
        let mut out = BTreeMap::new();
        for (name, o) in map {
            out.insert(
                name.clone(),
                OutputValue {
                    sensitive: o.get("sensitive").and_then(Value::as_bool).unwrap_or(false),
                    type_: o.get("type").cloned().unwrap_or(Value::Null),
                    value: o.get("value").cloned().unwrap_or(Value::Null),
                },
            );
        }
        Ok(Outputs(out))
    }

    /// One output.
    pub fn get(&self, name: &str) -> Option<&OutputValue> {
        self.0.get(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terraform_output_json() {
        let o = Outputs::parse(
            r#"{"cidr":{"sensitive":false,"type":"string","value":"10.0.0.0/16"},"n":{"sensitive":true,"type":"number","value":3},"l":{"sensitive":false,"type":["list","string"],"value":["a"]}}"#,
        )
        .unwrap();
        assert_eq!(o.names(), ["cidr", "l", "n"]);
        assert_eq!(o.get("cidr").unwrap().secret_text(), "10.0.0.0/16");
        assert_eq!(o.get("n").unwrap().secret_text(), "3");
        assert!(o.get("n").unwrap().sensitive);
        assert_eq!(o.get("l").unwrap().secret_text(), r#"["a"]"#);
        assert!(Outputs::parse("{}").unwrap().is_empty());
        assert!(Outputs::parse("not json").is_err());
    }
}
