//! The automations a restaurant switches on, end to end through a real SMTP server on
//! loopback: the membership anniversary, "nearing a reward" (a reward of the catalogue or the
//! next tier), the second welcome email's delay as a setting; every automation job emails only
//! the restaurant it runs for; and two replicas running the automations at once send each
//! email once.

use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::smtp::{Mail, SmtpSink};

/// Every automation job, in the order a day runs them (dormancy first: it keeps `at-risk`).
const AUTOMATION_JOBS: [&str; 8] = ["DORMANCY", "WELCOME", "WELCOME_FOLLOW_UP", "AT_RISK", "OCCASION", "MEMBER_ANNIVERSARY", "NEARING_REWARD", "DELIVERIES"];

/// One restaurant's admin, seen through its own key.
struct Admin<'a> {
    app: &'a TestApp,
    key: String,
}

impl Admin<'_> {
    async fn data(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.app.gql_as(Some(&self.key), query, variables).await;
        assert!(status == 200 && body.get("errors").is_none(), "{query}: {body:#}");
        body["data"].clone()
    }

    async fn member(&self, phone: &str, name: &str, email: &str) -> String {
        let input = json!({ "phone": phone, "name": name, "email": email, "marketing": { "emailOptIn": true, "specialOffers": true } });
        let data = self.data("mutation($input: CustomerInput!) { upsertCustomer(input: $input) { customer { id } } }", json!({ "input": input })).await;
        data["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string()
    }

    async fn points(&self, id: &str, points: i64) {
        self.data(
            "mutation($id: ID!, $p: Int!) { addPoints(customerId: $id, points: $p, reason: \"test\") { currentPoints } }",
            json!({ "id": id, "p": points }),
        )
        .await;
    }

    async fn run(&self, job: &str) -> Value {
        let data = self.data("mutation($job: JobName!) { runJob(job: $job) { run { outcome enqueued sent failed } } }", json!({ "job": job })).await;
        data["runJob"]["run"].clone()
    }

    /// Switches every automation on, and the frequency cap off (these tests count emails).
    async fn switch_on_automations(&self) {
        self.data("mutation { updateRestaurant(input: { frequencyCap: { days: 0 } }) { id } }", json!({})).await;
        let paused = self.data("{ campaigns(state: PAUSED) { items { id kind } } }", json!({})).await;
        for c in paused["campaigns"]["items"].as_array().unwrap() {
            self.data("mutation($id: ID!) { resumeCampaign(id: $id) { state } }", json!({ "id": c["id"] })).await;
        }
    }
}

async fn spawn(backend: Backend, sink: &SmtpSink) -> TestApp {
    TestApp::spawn_with(backend, &[("SMTP_URL", &sink.url()), ("LOYALTY_MAIL_RETRY_SECS", "0"), ("LOYALTY_RESTAURANT_NAME", "Chez Test")]).await
}

/// The same instant `years` years ago (a day earlier for 29 February).
fn years_ago(years: i32) -> chrono::DateTime<Utc> {
    let now = Utc::now();
    now.with_year(now.year() - years).unwrap_or(now - Duration::days(365 * i64::from(years) + 1))
}

/// Members of one restaurant who each qualify for one automation today, their addresses
/// starting with `prefix`; returns how many emails the automation jobs owe them.
async fn candidates(admin: &Admin<'_>, prefix: &str, phones: u32) -> usize {
    let app = admin.app;
    let phone = |n: u32| format!("+1415555{:04}", phones + n);
    let new = admin.member(&phone(1), "Nina New", &format!("{prefix}-new@example.com")).await;
    admin.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": new })).await;
    let lapsed = admin.member(&phone(2), "Lars Lapsed", &format!("{prefix}-lapsed@example.com")).await;
    admin.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": lapsed })).await;
    app.sql(&format!(
        "UPDATE customers SET first_visit_at = {}, last_visit_at = {}, member_since = {} WHERE id = {lapsed}",
        app.days_ago_sql(15),
        app.days_ago_sql(50),
        app.days_ago_sql(60)
    ))
    .await;
    let party = admin.member(&phone(3), "Olga Occasion", &format!("{prefix}-occasion@example.com")).await;
    app.sql(&format!("UPDATE customers SET member_since = {} WHERE id = {party}", app.days_ago_sql(40))).await;
    let today = Utc::now().date_naive().to_string();
    admin
        .data(
            "mutation($id: ID!, $d: Date!) { addSpecialOccasion(customerId: $id, name: \"Graduation\", date: $d) { id } }",
            json!({ "id": party, "d": today }),
        )
        .await;
    let loyal = admin.member(&phone(4), "Mia Member", &format!("{prefix}-member@example.com")).await;
    app.sql(&format!("UPDATE customers SET member_since = {} WHERE id = {loyal}", app.instant_sql(years_ago(3)))).await;
    let close = admin.member(&phone(5), "Ned Near", &format!("{prefix}-near@example.com")).await;
    admin.points(&close, 950).await;
    let up = admin.member(&phone(6), "Tia Tier", &format!("{prefix}-tier@example.com")).await;
    admin.points(&up, 1_200).await;
    app.sql(&format!("UPDATE customers SET member_since = {} WHERE id IN ({close}, {up})", app.days_ago_sql(20))).await;
    // welcome (Nina), follow-up and at-risk (Lars), occasion (Olga), member anniversary (Mia),
    // nearing silver (Ned), tier-up (Tia); the sign-ups of Olga, Ned and Tia are older than
    // the welcome window, Mia's too.
    7
}

fn addresses(mail: &[Mail]) -> Vec<String> {
    let mut to: Vec<String> = mail.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

async fn the_membership_anniversary_and_nearing_a_reward_fire_once_per_occurrence(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink).await;
    let admin = Admin { app: &app, key: app.admin_key.clone() };
    admin.switch_on_automations().await;

    let ann = admin.member("+14155550101", "Ann Two", "ann@example.com").await;
    let bob = admin.member("+14155550102", "Bob Soon", "bob@example.com").await;
    admin.member("+14155550103", "Cid Today", "cid@example.com").await;
    let dee = admin.member("+14155550104", "Dee Quiet", "dee@example.com").await;
    app.sql(&format!("UPDATE customers SET member_since = {}, email_opt_in = (1 = 0) WHERE id = {dee}", app.instant_sql(years_ago(2)))).await;
    app.sql(&format!("UPDATE customers SET member_since = {} WHERE id = {ann}", app.instant_sql(years_ago(2)))).await;
    app.sql(&format!("UPDATE customers SET member_since = {} WHERE id = {bob}", app.instant_sql(years_ago(1) - Duration::days(3)))).await;
    assert_eq!(admin.run("MEMBER_ANNIVERSARY").await["sent"], 1, "Ann only: Bob's is in three days, Cid joined today, Dee gave no consent");
    assert_eq!(admin.run("MEMBER_ANNIVERSARY").await["sent"], 0, "once a year");
    let mail = sink.wait_for(1).await;
    assert_eq!((mail[0].to[0].as_str(), mail[0].parsed().subject()), ("ann@example.com", Some("Ann, 2 years with Chez Test!")));

    let reward = admin
        .data("mutation { createReward(input: { name: \"Free tiramisu\", pointsCost: 500, kind: FREE_ITEM, itemId: \"tiramisu\" }) { id } }", json!({}))
        .await;
    assert!(reward["createReward"]["id"].is_string());
    let eve = admin.member("+14155550105", "Eve Close", "eve@example.com").await;
    let fay = admin.member("+14155550106", "Fay Silver", "fay@example.com").await;
    let gus = admin.member("+14155550107", "Gus Far", "gus@example.com").await;
    admin.points(&eve, 450).await;
    admin.points(&fay, 950).await;
    admin.points(&gus, 300).await;
    let listed = admin.data("mutation { runJob(job: NEARING_REWARD, dryRun: true) { recipients { email } } }", json!({})).await;
    let mut would: Vec<&str> = listed["runJob"]["recipients"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    would.sort();
    assert_eq!(would, vec!["eve@example.com", "fay@example.com"], "a dry run lists who would get it and sends nothing");
    assert_eq!(admin.run("NEARING_REWARD").await["sent"], 2, "Eve is 50 points from the tiramisu, Fay 50 from silver; Gus is 200 away");
    assert_eq!(admin.run("NEARING_REWARD").await["sent"], 0, "once per occurrence, not once per day");
    let mail = sink.wait_for(3).await;
    let subject_to = |to: &str| mail.iter().find(|m| m.to[0] == to).and_then(|m| m.parsed().subject().map(String::from));
    assert_eq!(subject_to("eve@example.com").as_deref(), Some("Eve, only 50 points to Free tiramisu!"));
    assert_eq!(subject_to("fay@example.com").as_deref(), Some("Fay, only 50 points to Silver!"));

    admin.data("mutation($id: ID!) { redeemPoints(customerId: $id, points: 400) { currentPoints } }", json!({ "id": eve })).await;
    admin.points(&eve, 420).await;
    assert_eq!(admin.run("NEARING_REWARD").await["sent"], 1, "after a redemption, nearing the reward again is a new occurrence");
    let mail = sink.wait_for(4).await;
    assert_eq!(mail[3].parsed().subject(), Some("Eve, only 30 points to Free tiramisu!"));

    let (code, _, err) = app.error("mutation { updateRestaurant(input: { welcomeFollowUpDays: 0 }) { id } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("welcomeFollowUpDays")));
    let (code, _, err) = app.error("mutation { updateRestaurant(input: { nearingRewardPoints: -5 }) { id } }", json!({})).await;
    assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some("nearingRewardPoints")));
    let set = admin.data("mutation { updateRestaurant(input: { welcomeFollowUpDays: 7 }) { welcomeFollowUpDays nearingRewardPoints } }", json!({})).await;
    assert_eq!(set["updateRestaurant"], json!({ "welcomeFollowUpDays": 7, "nearingRewardPoints": 100 }));
    let hal = admin.member("+14155550108", "Hal Once", "hal@example.com").await;
    admin.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": hal })).await;
    app.sql(&format!("UPDATE customers SET first_visit_at = {}, member_since = {} WHERE id = {hal}", app.days_ago_sql(8), app.days_ago_sql(8))).await;
    assert_eq!(admin.run("WELCOME_FOLLOW_UP").await["sent"], 1, "8 days after a first visit, with the delay set to 7");
    assert_eq!(sink.wait_for(5).await[4].to, vec!["hal@example.com"]);
}

on_both!(the_membership_anniversary_and_nearing_a_reward_fire_once_per_occurrence);

async fn every_automation_job_emails_only_the_restaurant_it_runs_for(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink).await;
    let ours = Admin { app: &app, key: app.admin_key.clone() };
    let theirs = Admin { app: &app, key: app.create_key("other", "admin").await };
    ours.switch_on_automations().await;
    theirs.switch_on_automations().await;
    let owed = candidates(&ours, "ours", 1000).await;
    assert_eq!(candidates(&theirs, "theirs", 2000).await, owed);

    for job in AUTOMATION_JOBS {
        ours.run(job).await;
    }
    let mail = sink.wait_for(owed).await;
    let to = addresses(&mail);
    assert_eq!(to.len(), owed, "every automation fired once for our members: {to:?}");
    assert!(to.iter().all(|a| a.starts_with("ours-")), "no email to another restaurant's members: {to:?}");
    let theirs_pending = theirs.data("{ deliveries(first: 50) { items { email status } } }", json!({})).await;
    assert!(
        theirs_pending["deliveries"]["items"].as_array().unwrap().iter().all(|d| d["status"] == "PENDING"),
        "their only deliveries are the tier-up written when points were added, still waiting: {theirs_pending}"
    );

    for job in AUTOMATION_JOBS {
        theirs.run(job).await;
    }
    let mail = sink.wait_for(2 * owed).await;
    let to = addresses(&mail);
    assert_eq!(to.iter().filter(|a| a.starts_with("theirs-")).count(), owed, "{to:?}");
    assert_eq!(to.iter().filter(|a| a.starts_with("ours-")).count(), owed, "ours got nothing more: {to:?}");
    let listed = ours.data("{ deliveries(first: 50) { items { email } } }", json!({})).await;
    assert!(listed["deliveries"]["items"].as_array().unwrap().iter().all(|d| d["email"].as_str().unwrap().starts_with("ours-")), "{listed}");
}

on_both!(every_automation_job_emails_only_the_restaurant_it_runs_for);

async fn two_replicas_running_the_automations_send_each_email_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink).await;
    let here = Admin { app: &app, key: app.admin_key.clone() };
    here.switch_on_automations().await;
    let owed = candidates(&here, "r", 1000).await;
    // `runJob` on this replica while another process (the CLI, as a second replica would) runs
    // the same job: two `runJob`s of one job at once are refused
    // (`campaigns::a_second_run_job_of_a_running_job_is_refused_until_it_ends`).
    let smtp = sink.url();
    for job in AUTOMATION_JOBS {
        let name = if job == "OCCASION" { "occasions".to_string() } else { job.to_ascii_lowercase().replace('_', "-") };
        let args = ["jobs", "run", name.as_str(), "--restaurant", "default"];
        let env = [("SMTP_URL", smtp.as_str()), ("LOYALTY_MAIL_RETRY_SECS", "0")];
        let (a, (ok, _, err)) = tokio::join!(here.run(job), app.cli_with(&args, &env));
        assert_eq!(a["outcome"].as_str(), Some("SUCCEEDED"), "{job}: {a}");
        assert!(ok, "{job}: {err}");
    }
    let mail = sink.wait_for(owed).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut sent: Vec<(String, String)> = sink.received().iter().map(|m| (m.to[0].clone(), m.parsed().subject().unwrap_or_default().to_string())).collect();
    sent.sort();
    let total = sent.len();
    sent.dedup();
    assert_eq!((total, sent.len(), mail.len()), (owed, owed, owed), "each email once: {sent:?}");
}

on_both!(two_replicas_running_the_automations_send_each_email_once);

/// With `predictedChurn`, the at-risk and win-back emails follow the last fit's probability
/// that a member is still active, whatever the days say: at risk below `atRiskProbability`,
/// lost (win-back) below `winBackProbability`; members without a prediction get neither, and
/// another restaurant's predictions count for nothing here.
async fn predicted_churn_decides_at_risk_and_win_back(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn(backend, &sink).await;
    let admin = Admin { app: &app, key: app.admin_key.clone() };
    admin.switch_on_automations().await;
    let mut ids = Vec::new();
    for (phone, name) in [("+14155550161", "ann"), ("+14155550162", "bob"), ("+14155550163", "cat"), ("+14155550164", "dan")] {
        let id = admin.member(phone, name, &format!("{name}@example.com")).await;
        admin.data("mutation($id: ID!) { recordVisit(customerId: $id, orderAmount: 20) { visitId } }", json!({ "id": id })).await;
        ids.push(id);
    }
    let other = app.create_key("elsewhere", "admin").await;
    let (_, eve) =
        app.gql_as(Some(&other), "mutation { upsertCustomer(input: { phone: \"+14155550169\", name: \"eve\" }) { customer { id } } }", json!({})).await;
    let eve = eve["data"]["upsertCustomer"]["customer"]["id"].as_str().unwrap().to_string();
    for (id, restaurant, p) in [(&ids[0], "default", 0.35), (&ids[1], "default", 0.1), (&ids[2], "default", 0.9), (&eve, "elsewhere", 0.01)] {
        app.sql(&format!(
            "INSERT INTO customer_predictions (customer_id, restaurant_id, fit_id, scored_on, active_probability, expected_visits_90, value_12_months) \
             VALUES ({id}, '{restaurant}', 1, '2026-12-01', {p}, 1.0, NULL)"
        ))
        .await;
    }
    assert_eq!(
        (admin.run("AT_RISK").await["enqueued"].as_i64(), admin.run("WIN_BACK").await["enqueued"].as_i64()),
        (Some(0), Some(0)),
        "by days: all just visited"
    );

    let set = "mutation($on: Boolean, $r: Float, $w: Float) { updateRestaurant(input: { predictedChurn: $on, atRiskProbability: $r, winBackProbability: $w }) { predictedChurn atRiskProbability winBackProbability } }";
    for (r, w, field) in [(0.5, 0.6, "winBackProbability"), (1.0, 0.2, "atRiskProbability"), (0.4, 0.0, "winBackProbability")] {
        let (code, _, err) = app.error(set, json!({ "on": true, "r": r, "w": w })).await;
        assert_eq!((code.as_str(), err["extensions"]["field"].as_str()), ("VALIDATION", Some(field)), "{r} {w}");
    }
    let on = admin.data(set, json!({ "on": true, "r": 0.5, "w": 0.2 })).await;
    assert_eq!(on["updateRestaurant"], json!({ "predictedChurn": true, "atRiskProbability": 0.5, "winBackProbability": 0.2 }));
    assert_eq!(admin.run("AT_RISK").await["enqueued"], 1, "Ann (0.35)");
    assert_eq!(admin.run("WIN_BACK").await["enqueued"], 1, "Bob (0.10)");
    assert_eq!((admin.run("AT_RISK").await["enqueued"].as_i64(), admin.run("WIN_BACK").await["enqueued"].as_i64()), (Some(0), Some(0)), "once");
    admin.run("DELIVERIES").await;
    let mut to = addresses(&sink.wait_for(2).await);
    to.sort();
    assert_eq!(to, ["ann@example.com", "bob@example.com"], "Cat is likely active, Dan unscored, Eve elsewhere");
}
on_both!(predicted_churn_decides_at_risk_and_win_back);
