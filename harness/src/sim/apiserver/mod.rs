//! The API server: everything that speaks HTTP to kube-rs and `kubectl`.
//!
//! - the connection: [`listener`] (TLS or plain, one port for the cluster's
//!   life, stopped and restarted by the outage fault), [`tls`] (the
//!   per-cluster CA, certificate and bearer token), [`server`] (request
//!   dispatch, authentication, [`inject`]ed errors) and [`route`] (paths
//!   to resources and verbs);
//! - request and response plumbing: [`negotiate`] (content types),
//!   [`body`] (JSON, YAML, and [`protobuf`] request bodies), [`query`]
//!   (list options), [`response`], [`strict`] (`fieldValidation`: unknown
//!   and duplicate fields);
//! - the verbs: [`handlers`] (get, create, update, patch, delete, status),
//!   [`debug`] (`kubectl auth can-i`, `logs`; exec and port-forward refused),
//!   [`list`] (pages and snapshots), [`watch`] (streams, bookmarks, 410
//!   Gone), [`scale`];
//! - what clients read about the server: [`discovery`], [`openapi`], and
//!   [`table`] (`kubectl get` columns, with [`table::jsonpath`]);
//! - around it: [`kubeconfig`] (writing one, mode 0600), [`serve`]
//!   (`gameday sim serve`) and [`control`] (its fault-command socket).

pub mod body;
pub mod control;
pub mod debug;
pub mod discovery;
pub mod handlers;
pub mod inject;
pub mod kubeconfig;
pub mod limits;
pub mod list;
pub mod listener;
pub mod negotiate;
pub mod openapi;
pub mod protobuf;
pub mod query;
pub mod response;
pub mod route;
pub mod scale;
pub mod serve;
pub mod server;
pub mod strict;
pub mod table;
pub mod tls;
pub mod watch;
