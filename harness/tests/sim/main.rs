//! Integration tests of the embedded Kubernetes API simulator, over real
//! HTTPS, with kube-rs and the real `kubectl`.

mod bad_input;
mod common;
mod controllers;
mod faults;
mod helm;
mod kube_rs;
mod kubectl;
mod limits;
mod protocol;
mod store_props;
