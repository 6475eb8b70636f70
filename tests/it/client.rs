//! The API client against the in-process simulator: every outcome, both auth modes, paging,
//! listings that change, every fault kind, unreadable and oversized bodies.

use crate::harness::*;
use poolform::api::connection::{Credentials, Secret};
use poolform::api::{Absence, ApiError, ClientOptions, Deleter, ListFilter, TransportKind};
use poolform::core::model::PoolId;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use workspace_sim::{Faults, MissingPool, SimAuth};

fn id(s: &str) -> PoolId {
    PoolId::parse(s).unwrap()
}

fn three_pools() -> serde_json::Value {
    json!([
        {"id": "p-empty", "name": "ci-empty", "type": "DYNAMIC"},
        {"id": "p-busy", "name": "ci-busy", "type": "STATIC", "desktop_count": 3, "desktop_used": 2},
        {"id": "p-other", "name": "other pool+x/y", "enterprise_project_id": "ep-1", "in_maintenance_mode": true}
    ])
}

fn http_failure(err: &ApiError) -> (u16, Option<String>, Option<String>, Option<String>) {
    let f = err
        .http_failure()
        .unwrap_or_else(|| panic!("not an HTTP failure: {err}"));
    (
        f.status,
        f.body.error_code.clone(),
        f.body.error_msg.clone(),
        f.request_id.clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_lists_shows_and_deletes() {
    let sim = start(config(fixture(three_pools()))).await;
    let c = client(&sim);
    let live = c.list_pools(&ListFilter::default()).await.unwrap();
    let ids: Vec<_> = live.pools().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p-busy", "p-empty", "p-other"]);
    let busy = c.show_pool(&id("p-busy")).await.unwrap().pool.unwrap();
    assert_eq!(
        (busy.desktop_count, busy.pool_type.as_deref()),
        (3, Some("STATIC"))
    );
    let (total, desktops) = c.list_pool_desktops(&id("p-busy"), 5).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(desktops.len(), 3);
    assert_eq!(desktops[0].user_name, "user000");
    assert_eq!(desktops[2].user_name, "");
    assert!(Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .unwrap()
        .request_id
        .is_some());
    let gone = c.show_pool(&id("p-empty")).await.unwrap();
    assert!(gone.pool.is_none() && gone.request_id.is_some());
    assert_eq!(sim.pool_ids(), ["p-busy", "p-other"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_reach_the_api() {
    let sim = start(config(fixture(three_pools()))).await;
    let c = client(&sim);
    let cases = [
        (
            ListFilter {
                name: Some("CI-".into()),
                ..Default::default()
            },
            vec!["p-busy", "p-empty"],
        ),
        (
            ListFilter {
                name: Some("pool+x/y".into()),
                ..Default::default()
            },
            vec!["p-other"],
        ),
        (
            ListFilter {
                pool_type: Some("STATIC".into()),
                ..Default::default()
            },
            vec!["p-busy"],
        ),
        (
            ListFilter {
                enterprise_project_id: Some("ep-1".into()),
                ..Default::default()
            },
            vec!["p-other"],
        ),
        (
            ListFilter {
                in_maintenance_mode: Some(true),
                ..Default::default()
            },
            vec!["p-other"],
        ),
        (
            ListFilter {
                name: Some("桌面 100%".into()),
                ..Default::default()
            },
            vec![],
        ),
    ];
    for (filter, want) in cases {
        let live = c.list_pools(&filter).await.unwrap();
        let ids: Vec<_> = live.pools().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, want, "{filter:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_401_with_code_message_and_request_id() {
    let sim = start(config(fixture(three_pools()))).await;
    let c = token_client(&sim, "wrong", ClientOptions::default());
    let err = c.list_pools(&ListFilter::default()).await.unwrap_err();
    let (status, code, msg, rid) = http_failure(&err);
    assert_eq!((status, code.as_deref()), (401, Some("APIGW.0301")));
    assert!(msg.unwrap().contains("verify token fail"));
    let text = err.to_string();
    assert!(
        text.contains("HTTP 401 APIGW.0301") && text.contains(&rid.unwrap()),
        "{text}"
    );
    assert!(!text.contains("wrong"), "the token leaked: {text}");
    // After a 401, no further call of any kind is made.
    let err = Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Stopped { .. })
            && err.to_string().contains("not sent: authentication failed"),
        "{err}"
    );
    assert_eq!(sim.delete_requests(), 0);
    assert_eq!(
        sim.pool_ids().len(),
        3,
        "nothing deleted with a wrong token"
    );
}

fn aksk_config() -> workspace_sim::SimConfig {
    let mut c = config(fixture(three_pools()));
    c.auth = SimAuth::AkSk {
        access_key: AK.into(),
        secret_key: SK.into(),
    };
    c
}

fn aksk(ak: &str, sk: &str, security_token: Option<&str>) -> Credentials {
    Credentials::AkSk {
        access_key: ak.into(),
        secret_key: Secret::new(sk),
        security_token: security_token.map(Secret::new),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aksk_signing_is_accepted_with_filters_and_a_security_token() {
    let sim = start(aksk_config()).await;
    for token in [None, Some("temporary-token")] {
        let c = client_with(&sim, aksk(AK, SK, token), ClientOptions::default());
        let filter = ListFilter {
            name: Some("pool+x/y".into()),
            in_maintenance_mode: Some(true),
            ..Default::default()
        };
        assert_eq!(c.list_pools(&filter).await.unwrap().len(), 1);
        assert!(c.show_pool(&id("p-busy")).await.unwrap().pool.is_some());
        assert_eq!(c.list_pool_desktops(&id("p-busy"), 100).await.unwrap().0, 3);
    }
    let c = client_with(&sim, aksk(AK, SK, None), ClientOptions::default());
    assert!(Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aksk_with_wrong_keys_is_refused_and_deletes_nothing() {
    let sim = start(aksk_config()).await;
    for (ak, sk, want) in [
        (AK, "wrong-secret", "verify aksk signature fail"),
        ("AKWRONG", SK, "ak not found"),
    ] {
        let c = client_with(&sim, aksk(ak, sk, None), ClientOptions::default());
        let err = Deleter::new(c.clone())
            .delete_pool(&id("p-empty"), soon())
            .await
            .unwrap_err();
        let (status, code, msg, rid) = http_failure(&err);
        assert_eq!((status, code.as_deref()), (401, Some("APIGW.0301")));
        assert!(msg.unwrap().contains(want));
        assert!(rid.is_some());
        assert!(!err.to_string().contains(sk), "secret leaked");
    }
    assert_eq!(sim.pool_ids().len(), 3);
}

/// Sends a request signed for one query with another: the gateway must refuse it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_query_or_an_old_date_is_refused() {
    use poolform::api::signer::{self, SigningInput};
    let sim = start(aksk_config()).await;
    let host = sim.addr().to_string();
    let path = format!("/v2/{PROJECT}/desktop-pools");
    let http = reqwest::Client::new();
    let send = |date: String, signed_query: &'static str, sent_query: &'static str| {
        let headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), host.clone()),
            ("x-project-id".into(), PROJECT.into()),
            ("x-sdk-date".into(), date.clone()),
        ];
        let query = signer::parse_raw_query(signed_query);
        let input = SigningInput {
            method: "GET",
            path: &path,
            query: &query,
            headers: &headers,
            body: b"",
            sdk_date: &date,
        };
        let auth = signer::authorization(AK, SK, &input);
        let url = format!("{}{path}?{sent_query}", sim.url());
        let req = http
            .get(url)
            .header("content-type", "application/json")
            .header("x-project-id", PROJECT)
            .header("x-sdk-date", date.clone())
            .header("authorization", auth);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let now = std::time::SystemTime::now();
    let (status, _) = send(
        signer::sdk_date(now),
        "limit=10&offset=0",
        "limit=10&offset=0",
    )
    .await;
    assert_eq!(status, 200, "the untampered request is accepted");
    let (status, body) = send(
        signer::sdk_date(now),
        "limit=10&offset=0",
        "limit=10&offset=1",
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("verify aksk signature fail"), "{body}");
    let old = now - Duration::from_secs(20 * 60);
    let (status, body) = send(
        signer::sdk_date(old),
        "limit=10&offset=0",
        "limit=10&offset=0",
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("APIGW.0303"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_over_2500_pools() {
    let sim = start(config(generated(2500))).await;
    let live = client(&sim)
        .list_pools(&ListFilter::default())
        .await
        .unwrap();
    assert_eq!(live.len(), 2500);
    assert_eq!(
        sim.snapshot()["requests"]["list"],
        3,
        "one page of 1000, then two more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_changes_between_pages_is_read_again() {
    let mut cfg = config(generated(2500));
    cfg.churn_on_list = 1;
    let sim = start(cfg).await;
    let live = client(&sim)
        .list_pools(&ListFilter::default())
        .await
        .unwrap();
    assert_eq!(
        live.len(),
        2501,
        "the second read sees the new pool and every old one"
    );
    assert_eq!(sim.snapshot()["requests"]["list"], 6, "two full reads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_never_settles_is_a_clear_error() {
    let mut cfg = config(generated(2500));
    cfg.churn_on_list = 100;
    let sim = start(cfg).await;
    let err = client(&sim)
        .list_pools(&ListFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::InconsistentListing { attempts: 4, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("kept changing") && text.contains("tried 4 times"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_answers_say_what_they_prove() {
    for (style, status, code, absence) in [
        (MissingPool::NotFound, 404, "WKS.0404", Absence::Proven),
        (MissingPool::Wks0001, 400, "WKS.0001", Absence::Hinted),
    ] {
        let mut cfg = config(fixture(three_pools()));
        cfg.missing_pool = style;
        let sim = start(cfg).await;
        let c = client(&sim);
        let busy = Deleter::new(c.clone())
            .delete_pool(&id("p-busy"), soon())
            .await
            .unwrap_err();
        let f = busy.http_failure().unwrap();
        assert_eq!(f.status, 409);
        assert!(f.body.error_code.is_some() && f.request_id.is_some());
        assert!(f.body.error_msg.as_deref().unwrap().contains("3 desktops"));
        assert_eq!(f.absence(), Absence::Unknown);
        let gone = Deleter::new(c.clone())
            .delete_pool(&id("p-gone"), soon())
            .await
            .unwrap_err();
        let f = gone.http_failure().unwrap();
        assert_eq!(
            (f.status, f.body.error_code.as_deref()),
            (status, Some(code))
        );
        assert_eq!(f.absence(), absence);
        assert_eq!(c.show_pool(&id("p-gone")).await.unwrap().pool, None);
        assert_eq!(sim.deletes_for("p-busy"), 1);
        assert_eq!(sim.pool_ids().len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_404_is_never_read_as_gone() {
    let mut cfg = config(fixture(three_pools()));
    cfg.hostile.gateway_404 = vec!["p-empty".into()];
    let sim = start(cfg).await;
    let c = client(&sim);
    let err = Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .unwrap_err();
    let f = err.http_failure().unwrap();
    assert_eq!(
        (f.status, f.body.error_code.as_deref()),
        (404, Some("APIGW.0101"))
    );
    assert_eq!(f.absence(), Absence::Unknown);
    assert!(sim.pool_ids().contains(&"p-empty".to_owned()));
    // A read answered by the gateway's own 404 is an error, not "gone".
    let body = r#"{"error_code": "APIGW.0101", "error_msg": "The API does not exist"}"#;
    let url = raw_server(http_response("404 Not Found", "", body)).await;
    let err = raw_client(&url, ClientOptions::default())
        .show_pool(&id("p-empty"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_shifted_between_pages_with_the_same_count_is_read_again() {
    let sim = start(config(generated(2500))).await;
    let before: std::collections::BTreeSet<String> = sim.pool_ids().into_iter().collect();
    sim.shift_next_listings(1);
    let live = client(&sim)
        .list_pools(&ListFilter::default())
        .await
        .unwrap();
    let now: std::collections::BTreeSet<String> = sim.pool_ids().into_iter().collect();
    let read: std::collections::BTreeSet<String> =
        live.pools().iter().map(|p| p.id.to_string()).collect();
    assert_eq!(read, now, "the second read is the world as it is");
    assert_eq!(read.len(), before.len(), "the count never changed");
    assert!(
        sim.snapshot()["requests"]["list"].as_u64().unwrap() > 3,
        "read again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_decision_field_fails_the_listing_naming_pool_and_field() {
    let cases = [
        (
            "name=object",
            "pool \"p-busy\" (#1 of the page): \"name\" is an object, not a string",
        ),
        ("name=missing", "\"name\" is missing"),
        ("tags=object", "\"tags\" is an object, not a list"),
        ("type=number", "\"type\" is a number, not a string"),
        (
            "enterprise_project_id=list",
            "\"enterprise_project_id\" is a list",
        ),
        (
            "desktop_count=text",
            "\"desktop_count\" is a string, not a non-negative integer",
        ),
        ("desktop_count=missing", "\"desktop_count\" is missing"),
        (
            "id=number",
            "pool #1 of the page: \"id\" is a number, not a string",
        ),
    ];
    for (switch, want) in cases {
        let mut cfg = config(fixture(three_pools()));
        cfg.hostile.malformed =
            vec![workspace_sim::Malformed::parse(&format!("p-busy:{switch}")).unwrap()];
        let sim = start(cfg).await;
        let err = client(&sim)
            .list_pools(&ListFilter::default())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApiError::Decode { .. }), "{switch}: {err:?}");
        assert!(text.contains(want), "{switch}: {text}");
        assert!(text.contains("[request id: sim-"), "{text}");
    }
    // absent tags are no tags
    let mut cfg = config(fixture(three_pools()));
    cfg.hostile.malformed = vec![workspace_sim::Malformed::parse("p-busy:tags=missing").unwrap()];
    let sim = start(cfg).await;
    assert_eq!(
        client(&sim)
            .list_pools(&ListFilter::default())
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_id_twice_in_a_page_with_different_content_is_refused_identical_ones_merged() {
    let pool = |name: &str| json!({"id": "p-1", "name": name, "desktop_count": 0});
    let body = |pools: serde_json::Value| {
        let text = json!({"total_count": 2, "desktop_pools": pools}).to_string();
        http_response("200 OK", "Content-Type: application/json\r\n", &text)
    };
    let url = raw_server(body(json!([pool("a"), pool("b")]))).await;
    let err = raw_client(&url, ClientOptions::default())
        .list_pools(&ListFilter::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("pool p-1 is listed twice with different name"),
        "{err}"
    );
    let url = raw_server(body(json!([pool("a"), pool("a")]))).await;
    let err = raw_client(&url, ClientOptions::default())
        .list_pools(&ListFilter::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("total_count was 2 but 1 distinct pools were read"),
        "identical copies are merged, and then the count no longer adds up: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_project_is_refused() {
    let sim = start(config(fixture(three_pools()))).await;
    let connection = poolform::api::Connection {
        endpoint: sim.url().parse().unwrap(),
        project_id: poolform::core::model::ProjectId::parse("someoneelse").unwrap(),
        credentials: Credentials::Token(Secret::new(TOKEN)),
        iam_endpoint: None,
        identity: token_identity(),
    };
    let c = poolform::api::Client::new(connection, ClientOptions::default()).unwrap();
    let err = Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(sim.pool_ids().len(), 3);
}

fn faulty(faults: Faults) -> workspace_sim::SimConfig {
    let mut c = config(fixture(three_pools()));
    c.faults = faults;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_come_back_typed_including_an_html_502() {
    let sim = start(faulty(Faults {
        seed: 3,
        error_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let c = token_client(&sim, TOKEN, single_try());
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..40 {
        let err = c.show_pool(&id(&format!("p-{n}"))).await.unwrap_err();
        let f = err.http_failure().expect("an HTTP failure").clone();
        assert!(f.request_id.is_some());
        if f.status == 502 {
            assert_eq!(f.body.error_code, None);
            assert!(
                f.body.raw.as_deref().unwrap().contains("502 Bad Gateway"),
                "{f:?}"
            );
            assert!(
                err.to_string()
                    .contains("HTTP 502: 502 Bad Gateway [request id: sim-"),
                "the HTML page summarised by its title: {err}"
            );
        }
        seen.insert(f.status);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [500, 502, 503]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_a_transport_error() {
    let sim = start(faulty(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let err = token_client(&sim, TOKEN, single_try())
        .list_pools(&ListFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Connection,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&format!(
            "connection lost before an answer from {}",
            sim.addr()
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_delete_answer_is_applied_and_the_retry_sees_absent() {
    let sim = start(faulty(Faults {
        lost_delete_rate: 1.0,
        ..Faults::default()
    }))
    .await;
    let c = client(&sim);
    let err = Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Transport { .. }), "{err:?}");
    assert!(
        !sim.pool_ids().contains(&"p-empty".to_owned()),
        "the delete was applied"
    );
    let again = Deleter::new(c.clone())
        .delete_pool(&id("p-empty"), soon())
        .await
        .unwrap_err();
    assert_eq!(again.http_failure().unwrap().absence(), Absence::Proven);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_answers_429_apigw_0308() {
    let sim = start(faulty(Faults {
        rate_limit: Some(3),
        ..Faults::default()
    }))
    .await;
    let c = token_client(&sim, TOKEN, single_try());
    let mut results = Vec::new();
    for _ in 0..6 {
        results.push(c.show_pool(&id("p-busy")).await);
    }
    let throttled: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!throttled.is_empty());
    let (status, code, msg, _) = http_failure(throttled[0]);
    assert_eq!((status, code.as_deref()), (429, Some("APIGW.0308")));
    assert!(msg
        .unwrap()
        .contains("policy user over ratelimit,limit:3,time:1 second"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_times_out() {
    let sim = start(faulty(Faults {
        latency: Duration::from_millis(2000),
        ..Faults::default()
    }))
    .await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(100),
        ..single_try()
    };
    let err = token_client(&sim, TOKEN, options)
        .show_pool(&id("p-busy"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_a_refused_connection() {
    let sim = start(config(fixture(three_pools()))).await;
    let c = token_client(&sim, TOKEN, single_try());
    let sim_addr = sim.addr();
    sim.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = c.list_pools(&ListFilter::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Refused | TransportKind::Connection,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("connection refused by {}: ", sim_addr))
            || text.contains(&format!(
                "connection lost before an answer from {}: ",
                sim_addr
            )),
        "the host and port are named, then the cause: {text}"
    );
}

/// A one-shot HTTP server that answers every request with `response`, as raw bytes.
async fn raw_server(response: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(&response).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn raw_client(url: &str, options: ClientOptions) -> poolform::api::Client {
    let connection = poolform::api::Connection {
        endpoint: url.parse().unwrap(),
        project_id: project(),
        credentials: Credentials::Token(Secret::new(TOKEN)),
        iam_endpoint: None,
        identity: token_identity(),
    };
    poolform::api::Client::new(connection, options).unwrap()
}

fn http_response(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nx-request-id: raw-1\r\nconnection: close\r\n\r\n{body}", body.len()).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_list_bodies_are_decode_errors_with_the_request_id() {
    let cases = [
        (
            r#"{"total_count": 1, "desktop_pools": [{"id": "a"#,
            "invalid JSON",
        ),
        (
            r#"{"total_count": 1, "desktop_pools": [{"id": "../../admin"}]}"#,
            "contains '.'",
        ),
        (
            r#"{"total_count": 1, "desktop_pools": [{"id": "a/b?c"}]}"#,
            "contains '/'",
        ),
        ("<html>maintenance</html>", "invalid JSON"),
        (
            r#"{"total_count": "many"}"#,
            "the page at offset 0: \"total_count\" is a string, not a non-negative integer",
        ),
    ];
    for (body, want) in cases {
        let url = raw_server(http_response(
            "200 OK",
            "content-type: application/json\r\n",
            body,
        ))
        .await;
        let err = raw_client(&url, ClientOptions::default())
            .list_pools(&ListFilter::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ApiError::Decode { status: 200, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(want) && text.contains("raw-1"),
            "{body}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_an_error() {
    let url = raw_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{\"total_count\": 1, \"desk".to_vec(),
    )
    .await;
    let err = raw_client(&url, single_try())
        .list_pools(&ListFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                kind: TransportKind::Connection,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_or_without_a_length() {
    let options = ClientOptions {
        max_body_bytes: 1024,
        ..ClientOptions::default()
    };
    let big = "x".repeat(4096);
    let declared = raw_server(http_response("200 OK", "", &big)).await;
    let chunked_body = format!("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-request-id: raw-2\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let chunked = raw_server(chunked_body.into_bytes()).await;
    for url in [declared, chunked] {
        let err = raw_client(&url, options.clone())
            .list_pools(&ListFilter::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ApiError::BodyTooLarge { limit: 1024, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("larger than 1024 bytes"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_in_other_shapes_keep_status_and_request_id() {
    let cases = [
        (
            r#"{"errorCode":"E.1","errorMsg":"camel"}"#,
            "HTTP 500 E.1: camel [request id: raw-1]",
        ),
        (
            r#"{"error":{"code":"E.2","message":"nested"}}"#,
            "HTTP 500 E.2: nested [request id: raw-1]",
        ),
        ("", "HTTP 500 [request id: raw-1]"),
    ];
    for (body, want) in cases {
        let url = raw_server(http_response("500 Internal Server Error", "", body)).await;
        let err = Deleter::new(raw_client(&url, ClientOptions::default()))
            .delete_pool(&id("p"), soon())
            .await
            .unwrap_err();
        assert!(err.to_string().ends_with(want), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let url = raw_server(http_response(
        "302 Found",
        "location: http://127.0.0.1:9/elsewhere\r\n",
        "",
    ))
    .await;
    let err = Deleter::new(raw_client(&url, ClientOptions::default()))
        .delete_pool(&id("p"), soon())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(302));
}
