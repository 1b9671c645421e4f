//! Seeds the demo cluster that `scripts/demo` starts: an `orders` topic with
//! a few poison messages in the last hour, a `payments` topic, a compacted
//! `customers` topic, and two consumer groups with lag. Runs once; a cluster
//! that already has the demo topics is left as it is.
//!
//! Usage: cargo run --example seed_demo -- BOOTSTRAP

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ebb::provider::Provider;
use ebb::provider::kafka::KafkaProvider;
use ebb_testkit::{Record, Seeder};

#[tokio::main]
async fn main() {
    let bootstrap = std::env::args().nth(1).expect("usage: seed_demo BOOTSTRAP");
    let config = ebb::config::KafkaClusterConfig {
        bootstrap_servers: bootstrap.clone(),
        properties: Default::default(),
        timeout: ebb::time::HumanDuration::parse("15s").expect("literal"),
        from_files: Vec::new(),
    };
    let provider = KafkaProvider::connect("demo", &config).expect("client");
    let existing = provider.topics().await.expect("the demo broker answers");
    if existing.iter().any(|t| t.name == "orders") {
        println!("demo data already present on {bootstrap}");
        return;
    }

    let seeder = Seeder::new(&bootstrap);
    seeder.create_topic("orders", 3).await;
    seeder.create_topic("payments", 2).await;
    seeder.create_topic_with("customers", 1, 1, &[("cleanup.policy", "compact")]).await;

    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as i64;
    let two_hours_ago = now - 2 * 3_600_000;
    for partition in 0..3 {
        let records = (0..240).map(|i| {
            let at = two_hours_ago + i * 30_000;
            let order = partition as i64 * 1000 + i;
            let poison = partition == 1 && (i == 180 || i == 200);
            let value = if poison {
                format!(r#"{{"order_id":{order},"amount":"POISON"}}"#)
            } else {
                format!(r#"{{"order_id":{order},"amount":{}}}"#, 10 + order % 90)
            };
            let record = Record::value(value).key(format!("customer-{}", order % 17)).at(at);
            if poison { record.header("source", "legacy-importer") } else { record.header("source", "web") }
        });
        seeder.produce("orders", partition, records).await;
    }
    for partition in 0..2 {
        seeder.produce_sequence("payments", partition, 120, "payment", two_hours_ago, 60_000).await;
    }
    let customers =
        (0..50).map(|i| Record::value(format!("customer {} v{}", i % 17, i / 17)).key(format!("customer-{}", i % 17)));
    seeder.produce("customers", 0, customers).await;

    // An earlier purge raised the log start of orders-0.
    seeder.delete_records("orders", 0, 40).await;
    seeder.commit("billing", &[("orders", 0, 150), ("orders", 1, 170), ("orders", 2, 240)]).await;
    seeder
        .commit(
            "analytics",
            &[("orders", 0, 60), ("orders", 1, 60), ("orders", 2, 60), ("payments", 0, 100), ("payments", 1, 90)],
        )
        .await;
    // Let the coordinator settle so the first look shows every group.
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!("seeded topics orders, payments, customers and groups billing, analytics on {bootstrap}");
}
