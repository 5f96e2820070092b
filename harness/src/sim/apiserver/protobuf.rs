//! Decoding of the Kubernetes protobuf envelope for request bodies.
//!
//! kubectl's typed `create` subcommands (`kubectl create namespace`,
//! `configmap`, `secret`, `serviceaccount`, `deployment`) send
//! `application/vnd.kubernetes.protobuf` bodies. The simulator stores JSON,
//! so it decodes the envelope (`k8s\0` + `runtime.Unknown`) and the object
//! with a small field table of those kinds, and the `DeleteOptions` Helm's
//! storage driver sends when it deletes a release Secret. Responses are always JSON
//! (kubectl also accepts JSON). Other kinds answer 415.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::sim::storage::status::{ApiError, ApiResult, Reason};

/// The protobuf media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Field kinds. Go's generated code writes zero values of non-pointer
/// fields (which JSON omits), so `Str`, `Int`, `Bool` and `Time` drop
/// them; `OptInt`/`OptBool` are pointer fields whose zero is meaningful.
#[derive(Clone, Copy)]
enum F {
    Str,
    Int,
    OptInt,
    Bool,
    OptBool,
    Time,
    Msg(&'static [Field]),
    RepStr,
    RepMsg(&'static [Field]),
    MapStr,
    MapBytes,
}

type Field = (u32, &'static str, F);

const OWNER_REF: &[Field] = &[
    (1, "kind", F::Str),
    (3, "name", F::Str),
    (4, "uid", F::Str),
    (5, "apiVersion", F::Str),
    (6, "controller", F::OptBool),
    (7, "blockOwnerDeletion", F::OptBool),
];
const OBJECT_META: &[Field] = &[
    (1, "name", F::Str),
    (2, "generateName", F::Str),
    (3, "namespace", F::Str),
    (5, "uid", F::Str),
    (6, "resourceVersion", F::Str),
    (7, "generation", F::Int),
    (8, "creationTimestamp", F::Time),
    (11, "labels", F::MapStr),
    (12, "annotations", F::MapStr),
    (13, "ownerReferences", F::RepMsg(OWNER_REF)),
    (14, "finalizers", F::RepStr),
];
const OBJECT_REF: &[Field] = &[
    (1, "kind", F::Str),
    (2, "namespace", F::Str),
    (3, "name", F::Str),
    (4, "uid", F::Str),
    (5, "apiVersion", F::Str),
    (6, "resourceVersion", F::Str),
    (7, "fieldPath", F::Str),
];
const LOCAL_REF: &[Field] = &[(1, "name", F::Str)];
const LABEL_REQ: &[Field] = &[
    (1, "key", F::Str),
    (2, "operator", F::Str),
    (3, "values", F::RepStr),
];
const LABEL_SELECTOR: &[Field] = &[
    (1, "matchLabels", F::MapStr),
    (2, "matchExpressions", F::RepMsg(LABEL_REQ)),
];
const CONTAINER_PORT: &[Field] = &[
    (1, "name", F::Str),
    (2, "hostPort", F::Int),
    (3, "containerPort", F::Int),
    (4, "protocol", F::Str),
    (5, "hostIP", F::Str),
];
const ENV_VAR: &[Field] = &[(1, "name", F::Str), (2, "value", F::Str)];
const CONTAINER: &[Field] = &[
    (1, "name", F::Str),
    (2, "image", F::Str),
    (3, "command", F::RepStr),
    (4, "args", F::RepStr),
    (5, "workingDir", F::Str),
    (6, "ports", F::RepMsg(CONTAINER_PORT)),
    (7, "env", F::RepMsg(ENV_VAR)),
    (14, "imagePullPolicy", F::Str),
];
const POD_SPEC: &[Field] = &[
    (2, "containers", F::RepMsg(CONTAINER)),
    (3, "restartPolicy", F::Str),
    (7, "nodeSelector", F::MapStr),
    (8, "serviceAccountName", F::Str),
    (20, "initContainers", F::RepMsg(CONTAINER)),
];
const POD_TEMPLATE: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "spec", F::Msg(POD_SPEC)),
];
const DEPLOYMENT_SPEC: &[Field] = &[
    (1, "replicas", F::OptInt),
    (2, "selector", F::Msg(LABEL_SELECTOR)),
    (3, "template", F::Msg(POD_TEMPLATE)),
    (4, "strategy", F::Msg(&[(1, "type", F::Str)])),
    (5, "minReadySeconds", F::Int),
    (6, "revisionHistoryLimit", F::OptInt),
    (7, "paused", F::Bool),
    (9, "progressDeadlineSeconds", F::OptInt),
];
const DEPLOYMENT: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "spec", F::Msg(DEPLOYMENT_SPEC)),
    (3, "status", F::Msg(&[])),
];
const NAMESPACE: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "spec", F::Msg(&[(1, "finalizers", F::RepStr)])),
    (3, "status", F::Msg(&[(1, "phase", F::Str)])),
];
const CONFIG_MAP: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "data", F::MapStr),
    (3, "binaryData", F::MapBytes),
    (4, "immutable", F::OptBool),
];
const SECRET: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "data", F::MapBytes),
    (3, "type", F::Str),
    (4, "stringData", F::MapStr),
    (5, "immutable", F::OptBool),
];
const DELETE_OPTIONS: &[Field] = &[
    (1, "gracePeriodSeconds", F::OptInt),
    (
        2,
        "preconditions",
        F::Msg(&[(1, "uid", F::Str), (2, "resourceVersion", F::Str)]),
    ),
    (3, "orphanDependents", F::OptBool),
    (4, "propagationPolicy", F::Str),
    (5, "dryRun", F::RepStr),
];
const SERVICE_ACCOUNT: &[Field] = &[
    (1, "metadata", F::Msg(OBJECT_META)),
    (2, "secrets", F::RepMsg(OBJECT_REF)),
    (3, "imagePullSecrets", F::RepMsg(LOCAL_REF)),
    (4, "automountServiceAccountToken", F::OptBool),
];

fn bad(msg: &str) -> ApiError {
    ApiError::bad_request(format!("failed to decode protobuf body: {msg}"))
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> ApiResult<u64> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.i).ok_or_else(|| bad("truncated varint"))?;
            self.i += 1;
            out |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(bad("varint too long"))
    }

    fn bytes(&mut self) -> ApiResult<&'a [u8]> {
        let len = usize::try_from(self.varint()?).map_err(|_| bad("length"))?;
        let end = self
            .i
            .checked_add(len)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| bad("truncated field"))?;
        let out = &self.b[self.i..end];
        self.i = end;
        Ok(out)
    }

    fn skip(&mut self, wire: u64) -> ApiResult<()> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.advance(8),
            2 => self.bytes().map(|_| ()),
            5 => self.advance(4),
            _ => Err(bad("unsupported wire type")),
        }
    }

    fn advance(&mut self, n: usize) -> ApiResult<()> {
        if self.i + n > self.b.len() {
            return Err(bad("truncated fixed field"));
        }
        self.i += n;
        Ok(())
    }

    /// Every (field number, wire type) with its raw value handled by `f`.
    fn fields(
        mut self,
        mut f: impl FnMut(u32, u64, &mut Reader<'a>) -> ApiResult<bool>,
    ) -> ApiResult<()> {
        while self.i < self.b.len() {
            let key = self.varint()?;
            let (num, wire) = (
                u32::try_from(key >> 3).map_err(|_| bad("field number"))?,
                key & 7,
            );
            if !f(num, wire, &mut self)? {
                self.skip(wire)?;
            }
        }
        Ok(())
    }
}

fn utf8(b: &[u8]) -> ApiResult<String> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("invalid UTF-8"))
}

fn message(b: &[u8], schema: &'static [Field]) -> ApiResult<Value> {
    let mut out = Map::new();
    Reader { b, i: 0 }.fields(|num, wire, r| {
        let Some(&(_, name, kind)) = schema.iter().find(|(n, _, _)| *n == num) else {
            return Ok(false);
        };
        let v = match (kind, wire) {
            (F::Str, 2) => json!(utf8(r.bytes()?)?),
            (F::Int | F::OptInt, 0) => json!(r.varint()? as i64),
            (F::Bool | F::OptBool, 0) => json!(r.varint()? != 0),
            (F::Time, 2) => time(r.bytes()?)?,
            (F::Msg(s), 2) => message(r.bytes()?, s)?,
            (F::RepStr, 2) => {
                let s = json!(utf8(r.bytes()?)?);
                push(&mut out, name, s);
                return Ok(true);
            }
            (F::RepMsg(s), 2) => {
                let m = message(r.bytes()?, s)?;
                push(&mut out, name, m);
                return Ok(true);
            }
            (F::MapStr | F::MapBytes, 2) => {
                let entry = r.bytes()?;
                let (mut k, mut v) = (String::new(), Value::String(String::new()));
                Reader { b: entry, i: 0 }.fields(|n, w, er| {
                    match (n, w) {
                        (1, 2) => k = utf8(er.bytes()?)?,
                        (2, 2) if matches!(kind, F::MapStr) => v = json!(utf8(er.bytes()?)?),
                        (2, 2) => {
                            v = json!(base64::engine::general_purpose::STANDARD.encode(er.bytes()?))
                        }
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                let map = out.entry(name).or_insert_with(|| json!({}));
                map[k.as_str()] = v;
                return Ok(true);
            }
            _ => return Err(bad(&format!("unexpected wire type for {name}"))),
        };
        let zero = match kind {
            F::Str => v == json!(""),
            F::Int => v == json!(0),
            F::Bool => v == json!(false),
            F::Time => v.is_null(),
            _ => false,
        };
        if !zero {
            out.insert(name.to_owned(), v);
        }
        Ok(true)
    })?;
    Ok(Value::Object(out))
}

fn push(out: &mut Map<String, Value>, name: &str, v: Value) {
    if let Some(a) = out.entry(name).or_insert_with(|| json!([])).as_array_mut() {
        a.push(v);
    }
}

fn time(b: &[u8]) -> ApiResult<Value> {
    let mut secs = 0i64;
    Reader { b, i: 0 }.fields(|n, w, r| {
        if (n, w) == (1, 0) {
            secs = r.varint()? as i64;
            return Ok(true);
        }
        Ok(false)
    })?;
    if secs == 0 {
        return Ok(Value::Null);
    }
    let ts = jiff::Timestamp::from_second(secs).map_err(|_| bad("time out of range"))?;
    Ok(json!(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

/// Decodes a protobuf request body into the JSON object.
///
/// # Errors
/// 400 for a malformed envelope; 415 for kinds this decoder does not know.
pub fn decode(body: &[u8]) -> ApiResult<Value> {
    let rest = body
        .strip_prefix(b"k8s\0")
        .ok_or_else(|| bad("missing the k8s protobuf envelope"))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    Reader { b: rest, i: 0 }.fields(|n, w, r| {
        match (n, w) {
            (1, 2) => {
                let tm = r.bytes()?;
                Reader { b: tm, i: 0 }.fields(|n, w, tr| {
                    match (n, w) {
                        (1, 2) => api_version = utf8(tr.bytes()?)?,
                        (2, 2) => kind = utf8(tr.bytes()?)?,
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
            }
            (2, 2) => raw = r.bytes()?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let schema = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ConfigMap") => CONFIG_MAP,
        ("v1", "Secret") => SECRET,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("apps/v1", "Deployment") => DEPLOYMENT,
        // Every group version registers it (Helm's Secret deletes send it).
        (_, "DeleteOptions") => DELETE_OPTIONS,
        _ => {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                format!(
                    "the simulator decodes protobuf bodies only for Namespace, ConfigMap, Secret, ServiceAccount, Deployment and DeleteOptions (got {api_version} {kind}); send application/json"
                ),
            ));
        }
    };
    let mut obj = message(raw, schema)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(field: u32, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![
            u8::try_from((field << 3) | 2).unwrap(),
            u8::try_from(bytes.len()).unwrap(),
        ];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn decodes_a_namespace_as_kubectl_sends_it() {
        let meta = [ld(1, b"t"), ld(11, &[ld(1, b"a"), ld(2, b"b")].concat())].concat();
        let ns = [ld(1, &meta), ld(2, &[]), ld(3, &[])].concat();
        let type_meta = [ld(1, b"v1"), ld(2, b"Namespace")].concat();
        let body = [b"k8s\0".to_vec(), ld(1, &type_meta), ld(2, &ns)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"name": "t", "labels": {"a": "b"}}, "spec": {}, "status": {}, "apiVersion": "v1", "kind": "Namespace"})
        );
        assert_eq!(decode(b"nope").unwrap_err().code, 400);
    }

    #[test]
    fn decodes_delete_options_as_helm_sends_them() {
        let opts = [ld(2, &ld(1, b"u-1")), ld(4, b"Background")].concat();
        let type_meta = [ld(1, b"v1"), ld(2, b"DeleteOptions")].concat();
        let body = [b"k8s\0".to_vec(), ld(1, &type_meta), ld(2, &opts)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(v["propagationPolicy"], "Background");
        assert_eq!(v["preconditions"], json!({"uid": "u-1"}));
    }
}
