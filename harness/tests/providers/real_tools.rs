//! The same checks against the real kind and Docker (`make test-kind`).
//! Ignored by default: these machines have no container engine.

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs kind and a container engine: make test-kind"]
async fn placeholder() {}
