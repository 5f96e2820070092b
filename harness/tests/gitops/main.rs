//! Integration tests of the GitOps layer against the simulator, over HTTPS.

mod apply;
mod testbed;
