//! Signed webhooks against a real HTTP receiver on loopback: events written with the change
//! reach the endpoint signed as the Standard Webhooks specification says (checked with its
//! reference verifier, `standardwebhooks` on npm), through a receiver that answers 500 and one
//! that resets the connection (retried with the same `webhook-id`), with a delivery log; a
//! rotated secret's messages verify with the old and the new secret for a day; another
//! restaurant sees none of it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::browser::{ensure_node_tools, node_dir};
use crate::create_customer;
use crate::harness::{Backend, TestApp};

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Answer {
    Ok,
    Error,
    Reset,
    /// 204 after this many seconds (past the sender's timeout of 10 s: it has given up).
    Slow(u64),
}

/// One request the receiver got, and how it answered.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
    pub answer: Answer,
}

/// An HTTP receiver on loopback answering by `script` (then 204 to everything).
#[derive(Clone)]
pub(crate) struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    pub async fn start(script: &[Answer]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let receiver = Receiver { url, got: Arc::default(), script: Arc::new(Mutex::new(script.iter().copied().collect())) };
        let r = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(r.clone().serve(stream));
            }
        });
        receiver
    }

    /// Serves one connection's requests (keep-alive) until it closes or is reset.
    async fn serve(self, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        loop {
            let Some((headers, body)) = read_request(&mut stream, &mut buffer).await else { return };
            let answer = self.script.lock().unwrap().pop_front().unwrap_or(Answer::Ok);
            self.got.lock().unwrap().push(Received { headers, body, answer });
            let reply: &[u8] = match answer {
                Answer::Ok => b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
                Answer::Error => b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\noops!",
                Answer::Reset => {
                    let _ = stream.set_zero_linger();
                    return;
                }
                Answer::Slow(secs) => {
                    tokio::time::sleep(Duration::from_secs(secs)).await;
                    b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
                }
            };
            if stream.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Reads one HTTP/1.1 request (headers lowercased, body by content-length).
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(HashMap<String, String>, String)> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).to_string();
    let headers: HashMap<String, String> =
        head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buffer.len() < end + length {
        let n = stream.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[end..end + length]).to_string();
    buffer.drain(..end + length);
    Some((headers, body))
}

/// Verifies each request with `secret` by the specification's reference library.
pub(crate) async fn verify(requests: &[Received], secret: &str) -> Vec<Value> {
    ensure_node_tools().await;
    let file = std::env::temp_dir().join(format!("webhooks-{}-{}.jsonl", std::process::id(), rand_suffix()));
    let lines: Vec<String> = requests.iter().map(|r| json!({ "secret": secret, "headers": r.headers, "body": r.body }).to_string()).collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = tokio::process::Command::new("node").arg(node_dir().join("verify-webhooks.mjs")).arg(&file).output().await.expect("node runs");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str::<Vec<Value>>(stdout.trim()).unwrap_or_else(|_| panic!("no verdicts: {stdout} {}", String::from_utf8_lossy(&out.stderr)))
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// Waits until the receiver took (2xx) `n` distinct messages, making every pending retry due
/// at once (as if its backoff had passed).
pub(crate) async fn until_delivered(app: &TestApp, receiver: &Receiver, n: usize) -> Vec<Received> {
    for _ in 0..300 {
        let got = receiver.received();
        let mut taken: Vec<&str> = got.iter().filter(|r| r.answer == Answer::Ok).map(|r| r.headers["webhook-id"].as_str()).collect();
        taken.sort_unstable();
        taken.dedup();
        if taken.len() >= n {
            return got;
        }
        app.sql(&format!("UPDATE webhook_deliveries SET next_attempt_at = {} WHERE status = 'pending'", app.days_ago_sql(1))).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the receiver took fewer than {n} messages: {:?}", receiver.received());
}

async fn webhooks_are_signed_retried_and_logged(backend: Backend) {
    let receiver = Receiver::start(&[Answer::Error, Answer::Reset]).await;
    let app = TestApp::spawn_with(backend, &[("LOYALTY_WEBHOOK_WORKER", "true"), ("LOYALTY_WEBHOOK_ALLOW_PRIVATE", "true")]).await;
    let created = app
        .data(
            "mutation($url: String!) { createWebhookEndpoint(url: $url, events: [\"customer.created\", \"points.earned\"]) { secret endpoint { id events enabled } } }",
            json!({ "url": receiver.url }),
        )
        .await["createWebhookEndpoint"]
        .clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["endpoint"]["events"], json!(["customer.created", "points.earned"]));
    let endpoint = created["endpoint"]["id"].as_str().unwrap().to_string();
    // It takes events a minute after it was added (every replica knows of it by then): a
    // member who joins in that minute is not reported; then, as if the minute had passed.
    create_customer(&app, "+14155550100", "Early").await;
    let early = app.data("query($e: ID!) { webhookDeliveries(endpointId: $e) { items { eventId } } }", json!({ "e": endpoint })).await;
    assert_eq!(early["webhookDeliveries"]["items"], json!([]), "not active yet");
    app.sql(&format!("UPDATE webhook_endpoints SET active_from = {} WHERE id = {endpoint}", app.days_ago_sql(1))).await;

    let ann = create_customer(&app, "+14155550101", "Ann").await;
    app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 40) { currentPoints } }", json!({ "c": ann })).await;
    app.data("mutation($c: ID!) { redeemPoints(customerId: $c, points: 10) { currentPoints } }", json!({ "c": ann })).await;
    let other = app.create_key("elsewhere", "admin").await;
    let (status, _) = app.gql_as(Some(&other), "mutation { upsertCustomer(input: { phone: \"+14155550109\", name: \"Eve\" }) { created } }", json!({})).await;
    assert_eq!(status, 200);

    let got = until_delivered(&app, &receiver, 2).await;
    let verdicts = verify(&got, &secret).await;
    assert!(verdicts.iter().all(|v| v["ok"] == true), "every request verifies with the reference library: {verdicts:#?}");
    let mut types: Vec<String> = verdicts.iter().map(|v| v["payload"]["type"].as_str().unwrap().to_string()).collect();
    types.sort();
    types.dedup();
    assert_eq!(types, ["customer.created", "points.earned"], "the subscribed events of this restaurant only (not the redemption, not Eve)");
    // The two faults hit the first two requests; each failed message came again with its id and body.
    let answers: Vec<Answer> = got.iter().map(|r| r.answer).collect();
    assert_eq!(&answers[..2], [Answer::Error, Answer::Reset]);
    for failed in &got[..2] {
        let id = &failed.headers["webhook-id"];
        assert!(got.iter().any(|r| r.answer == Answer::Ok && r.headers["webhook-id"] == *id && r.body == failed.body), "{id} delivered after its failure");
    }
    let created_event = verdicts.iter().zip(&got).find(|(v, _)| v["payload"]["type"] == "customer.created").unwrap();
    assert_eq!(created_event.0["payload"]["data"]["customerId"], ann.as_str());
    let first_id = created_event.1.headers["webhook-id"].clone();
    let first_id = &first_id;
    let earned = verdicts.iter().find(|v| v["payload"]["type"] == "points.earned").unwrap();
    assert_eq!((earned["payload"]["data"]["points"].as_i64(), earned["payload"]["data"]["balance"].as_i64()), (Some(40), Some(40)));

    let log = app
        .data(
            "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { eventId eventType status attempts lastStatus lastError lastLatencyMs deliveredAt } } }",
            json!({ "e": endpoint }),
        )
        .await["webhookDeliveries"]["items"]
        .clone();
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 2, "one delivery per subscribed event: {log:#}");
    assert!(rows.iter().all(|d| d["status"] == "DELIVERED" && d["lastStatus"] == 204 && !d["deliveredAt"].is_null() && d["lastLatencyMs"].is_i64()), "{log:#}");
    let attempts: i64 = rows.iter().map(|d| d["attempts"].as_i64().unwrap()).sum();
    assert_eq!(attempts, 4, "two failed attempts, two that went through: {log:#}");

    // Another restaurant sees no endpoint and no log of this one.
    let (_, theirs) = app
        .gql_as(Some(&other), "query($e: ID!) { webhookEndpoints { id } webhookDeliveries(endpointId: $e) { items { eventId } } }", json!({ "e": endpoint }))
        .await;
    assert_eq!(theirs["data"], json!({ "webhookEndpoints": [], "webhookDeliveries": { "items": [] } }), "{theirs}");

    rotate_and_replay(&app, &receiver, &endpoint, &secret, &ann, first_id).await;
}

/// A rotated secret: the next message verifies with the new secret and, for a day, the old;
/// a replayed event comes again with its id.
async fn rotate_and_replay(app: &TestApp, receiver: &Receiver, endpoint: &str, secret: &str, ann: &str, first_id: &str) {
    let rotated = app.data("mutation($e: ID!) { rotateWebhookSecret(id: $e) { secret } }", json!({ "e": endpoint })).await["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rotated.as_str(), secret);
    app.data("mutation($c: ID!) { addPoints(customerId: $c, points: 5) { currentPoints } }", json!({ "c": ann })).await;
    let got = until_delivered(app, receiver, 3).await;
    let last = got.last().unwrap().clone();
    assert_eq!(last.headers["webhook-signature"].split(' ').count(), 2, "both signatures during the overlap");
    for s in [rotated.as_str(), secret] {
        assert_eq!(verify(std::slice::from_ref(&last), s).await[0]["ok"], true, "verifies with {s}");
    }

    // Replaying the first event sends it again with the same id.
    let replayed = app.data("mutation($id: String!) { replayWebhooks(eventId: $id) }", json!({ "id": first_id })).await["replayWebhooks"].clone();
    assert_eq!(replayed, 1);
    for _ in 0..100 {
        if receiver.received().len() > got.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(receiver.received().last().unwrap().headers["webhook-id"], first_id);
}

crate::on_both!(webhooks_are_signed_retried_and_logged);

crate::both!(bad_endpoints_are_refused_and_nothing_is_written, |app| async move {
    let create = "mutation($url: String!, $events: [String!]!) { createWebhookEndpoint(url: $url, events: $events) { secret } }";
    for (url, events, field) in [
        ("http://127.0.0.1:9/hooks", json!(["*"]), "url"),
        ("http://169.254.169.254/latest", json!(["*"]), "url"),
        ("ftp://hooks.example.com/", json!(["*"]), "url"),
        ("https://hooks.example.com/", json!(["points.stolen"]), "events"),
        ("https://hooks.example.com/", json!([]), "events"),
    ] {
        let (code, message, err) = app.error(create, json!({ "url": url, "events": events })).await;
        assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some(field)), "{url} {events}: {message}");
    }
    let (code, _, _) = app.error("mutation { rotateWebhookSecret(id: \"42\") { secret } }", json!({})).await;
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(app.data("{ webhookEndpoints { id } }", json!({})).await["webhookEndpoints"], json!([]), "nothing was written");
});

// Tier changes, vouchers and refunds are events too, each in its change's transaction, with
// ids and what changed (never a voucher's code).
crate::both!(tiers_vouchers_and_refunds_are_events, |app| async move {
    let created =
        app.data("mutation { createWebhookEndpoint(url: \"https://hooks.example.com/loyalty\", events: [\"*\"]) { endpoint { id } } }", json!({})).await;
    let endpoint = created["createWebhookEndpoint"]["endpoint"]["id"].as_str().unwrap().to_string();
    let other = app.create_key("elsewhere", "admin").await;
    let (_, theirs) = app
        .gql_as(Some(&other), "mutation { createWebhookEndpoint(url: \"https://hooks.example.com/other\", events: [\"*\"]) { endpoint { id } } }", json!({}))
        .await;
    let their_endpoint = theirs["data"]["createWebhookEndpoint"]["endpoint"]["id"].as_str().unwrap().to_string();
    app.sql(&format!("UPDATE webhook_endpoints SET active_from = {}", app.days_ago_sql(1))).await;
    let ann = create_customer(&app, "+14155550101", "Ann").await;
    let order = "mutation($input: OrderInput!) { recordOrder(input: $input) { tier } }";
    let silver = app.data(order, json!({ "input": { "customerId": ann, "orderId": "A-1", "amount": 1200 } })).await;
    assert_eq!(silver["recordOrder"]["tier"], "SILVER");
    let reward = app
        .data("mutation { createReward(input: { name: \"Free tiramisu\", pointsCost: 100, kind: FREE_ITEM, itemId: \"tiramisu\" }) { id } }", json!({}))
        .await;
    let redeem = "mutation($c: ID!, $r: ID!) { redeemReward(customerId: $c, rewardId: $r) { voucher { code } } }";
    let vars = json!({ "c": ann, "r": reward["createReward"]["id"] });
    let first = app.data(redeem, vars.clone()).await["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    let second = app.data(redeem, vars).await["redeemReward"]["voucher"]["code"].as_str().unwrap().to_string();
    app.data("mutation($c: String!) { useVoucher(code: $c, orderId: \"A-2\") { replayed } }", json!({ "c": first })).await;
    app.data("mutation($c: String!) { voidVoucher(code: $c) { status } }", json!({ "c": second })).await;
    app.data("mutation { refundOrder(input: { orderId: \"A-1\", amount: 1100 }) { refunded } }", json!({})).await;

    let log = app.data("query($e: ID!) { webhookDeliveries(endpointId: $e, first: 50) { items { eventType payload } } }", json!({ "e": endpoint })).await;
    let items = log["webhookDeliveries"]["items"].as_array().unwrap().clone();
    let of = |t: &str| {
        items
            .iter()
            .filter(|d| d["eventType"] == t)
            .map(|d| serde_json::from_str::<Value>(d["payload"].as_str().unwrap()).unwrap()["data"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("tier.changed").first().map(|d| (d["from"].clone(), d["to"].clone())), Some((json!("bronze"), json!("silver"))), "{items:#?}");
    assert_eq!(of("voucher.issued").len(), 2);
    let used = &of("voucher.redeemed")[0];
    assert_eq!((used["status"].as_str(), used["redeemedOrderId"].as_str(), used["customerId"].as_str()), (Some("redeemed"), Some("A-2"), Some(ann.as_str())));
    assert_eq!(of("voucher.voided")[0]["status"], "voided");
    let refund = &of("order.refunded")[0];
    assert_eq!((refund["orderId"].as_str(), refund["refundedCents"].as_i64()), (Some("A-1"), Some(110_000)));
    let (_, their_log) =
        app.gql_as(Some(&other), "query($e: ID!) { webhookDeliveries(endpointId: $e) { items { eventType } } }", json!({ "e": their_endpoint })).await;
    assert_eq!(their_log["data"]["webhookDeliveries"]["items"], json!([]), "another restaurant's endpoint hears none of it: {their_log}");
    let vouchers: Vec<&Value> = items.iter().filter(|d| d["eventType"].as_str().unwrap().starts_with("voucher.")).collect();
    let text = serde_json::to_string(&vouchers).unwrap();
    assert!(!text.contains(&first) && !text.contains(&second), "no voucher event carries the code that redeems it");
});

// A marketer's campaign that finishes its send is one `campaign.sent` event, written with the
// close of the send: a second run of the job writes none.
async fn a_finished_campaign_send_is_one_event(backend: Backend) {
    let sink = crate::smtp::SmtpSink::start().await;
    let env = [("SMTP_URL", sink.url()), ("LOYALTY_MAIL_RETRY_SECS", "0".into()), ("LOYALTY_RESTAURANT_NAME", "Chez Test".into())];
    let app = TestApp::spawn_with(backend, &env.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    let created =
        app.data("mutation { createWebhookEndpoint(url: \"https://hooks.example.com/c\", events: [\"campaign.sent\"]) { endpoint { id } } }", json!({})).await;
    let endpoint = created["createWebhookEndpoint"]["endpoint"]["id"].as_str().unwrap().to_string();
    app.sql(&format!("UPDATE webhook_endpoints SET active_from = {}", app.days_ago_sql(1))).await;
    let upsert = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }";
    for (i, opt_in) in [true, true, false].into_iter().enumerate() {
        let marketing = json!({ "emailOptIn": opt_in });
        app.data(upsert, json!({ "input": { "phone": format!("+1415555030{i}"), "name": format!("Guest{i}"), "email": format!("g{i}@example.com"), "marketing": marketing } }))
            .await;
    }
    let input = json!({ "name": "Spring menu", "audience": { "rule": { "emailOptIn": true } }, "subject": "Spring at {{ restaurant }}", "bodyText": "Hi {{ first_name }}", "bodyHtml": "<p>Hi {{ first_name }}</p>" });
    let campaign = app.data("mutation($input: CampaignInput!) { createCampaign(input: $input) { id } }", json!({ "input": input })).await;
    let id = campaign["createCampaign"]["id"].as_str().unwrap().to_string();
    app.data("mutation($id: ID!) { scheduleCampaign(id: $id, schedule: { sendNow: true }) { state } }", json!({ "id": id })).await;
    let run = "mutation { runJob(job: CAMPAIGNS) { run { sent } } }";
    assert_eq!(app.data(run, json!({})).await["runJob"]["run"]["sent"], 2);
    app.data(run, json!({})).await;
    let log = app.data("query($e: ID!) { webhookDeliveries(endpointId: $e) { items { eventType payload } } }", json!({ "e": endpoint })).await;
    let items = log["webhookDeliveries"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one event for the send: {items:#?}");
    let data = &serde_json::from_str::<Value>(items[0]["payload"].as_str().unwrap()).unwrap()["data"];
    assert_eq!((data["campaignId"].as_str(), data["name"].as_str(), data["audience"].as_i64()), (Some(id.as_str()), Some("Spring menu"), Some(2)), "{data}");
    assert_eq!(data["deliveries"], json!({ "sent": 2 }), "{data}");
    assert_eq!(app.data("query($id: ID!) { campaign(id: $id) { state } }", json!({ "id": id })).await["campaign"]["state"], "SENT");
}
crate::on_both!(a_finished_campaign_send_is_one_event);
