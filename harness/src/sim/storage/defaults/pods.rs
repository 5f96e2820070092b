//! The API server's defaults of a pod spec (Pods, and the pod templates of
//! workloads): restart and DNS policy, scheduler, grace period, and per
//! container the termination message, image pull policy, port protocol and
//! probe timings (`periodSeconds` 10, `timeoutSeconds` 1,
//! `successThreshold` 1, `failureThreshold` 3), as `kubectl describe`
//! shows them on a real cluster.

use serde_json::{Map, Value, json};

fn set(m: &mut Map<String, Value>, key: &str, value: Value) {
    if m.get(key).is_none_or(Value::is_null) {
        m.insert(key.to_owned(), value);
    }
}

/// `Always` for `:latest` or no tag, `IfNotPresent` otherwise (digests too).
fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn probe(p: &mut Value) {
    let Some(m) = p.as_object_mut() else { return };
    set(m, "timeoutSeconds", json!(1));
    set(m, "periodSeconds", json!(10));
    set(m, "successThreshold", json!(1));
    set(m, "failureThreshold", json!(3));
    if let Some(h) = m.get_mut("httpGet").and_then(Value::as_object_mut) {
        set(h, "path", json!("/"));
        set(h, "scheme", json!("HTTP"));
    }
}

fn container(c: &mut Value) {
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(m) = c.as_object_mut() else { return };
    set(m, "terminationMessagePath", json!("/dev/termination-log"));
    set(m, "terminationMessagePolicy", json!("File"));
    if !image.is_empty() {
        set(m, "imagePullPolicy", json!(pull_policy(&image)));
    }
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set(p, "protocol", json!("TCP"));
        }
    }
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(key) {
            probe(p);
        }
    }
}

/// Defaults a pod spec in place.
pub fn spec(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    set(m, "restartPolicy", json!("Always"));
    set(m, "terminationGracePeriodSeconds", json!(30));
    set(m, "dnsPolicy", json!("ClusterFirst"));
    set(m, "schedulerName", json!("default-scheduler"));
    set(m, "securityContext", json!({}));
    for key in ["containers", "initContainers"] {
        if let Some(cs) = m.get_mut(key).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(container);
        }
    }
}

/// Defaults the pod template at `/spec/template/spec` of a workload.
pub fn template(obj: &mut Value) {
    if let Some(s) = obj.pointer_mut("/spec/template/spec") {
        spec(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_and_containers_get_the_api_server_defaults() {
        let mut s = json!({"containers": [{"name": "a", "image": "nginx",
            "ports": [{"containerPort": 80}],
            "readinessProbe": {"httpGet": {"port": 80}, "periodSeconds": 5}}]});
        spec(&mut s);
        let c = &s["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        let p = &c["readinessProbe"];
        assert_eq!(
            (
                &p["periodSeconds"],
                &p["timeoutSeconds"],
                &p["successThreshold"],
                &p["failureThreshold"]
            ),
            (&json!(5), &json!(1), &json!(1), &json!(3))
        );
        assert_eq!(p["httpGet"]["scheme"], "HTTP");
        assert_eq!(s["restartPolicy"], "Always");
        assert_eq!(pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(pull_policy("localhost:5000/app"), "Always");
    }
}
