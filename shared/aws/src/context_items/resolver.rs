//! Route 53 Resolver query logs in the table: one item per chunk of rows of an asker (instance,
//! or source address) and ten-minute bucket, as deflated tab-separated text, and the lookups
//! that read a DNS finding's instance back.

use super::{
    ChunkNumbers, ObjectId, Packer, bucket_items, cell, fields, inflate, parse_time, time,
};
use crate::Item;
use crate::context_lookup::Lookup;
use std::collections::BTreeMap;
use triage_domain::dns::{DnsRow, FirewallAction, asker_subject};
use triage_domain::enrich::{Context, Subjects};
use triage_domain::scope::ScopeWindow;
use triage_logs::resolver;

/// The window's ten-minute buckets (the reader's) of every asker the finding names.
pub(crate) fn lookups(subjects: &Subjects, window: &ScopeWindow) -> Vec<Lookup> {
    (subjects.sources.dns.iter())
        .map(|pk| Lookup::buckets(pk, "", window, resolver::BUCKET_SECS, absorb))
        .collect()
}

fn absorb(context: &mut Context, _: &Subjects, _pk: &str, _sk: &str, blob: &[u8]) {
    context.sources.dns.extend(decode_resolver_rows(blob));
}

/// The Route 53 Resolver query aggregates of one object as items, read in one part: one item
/// per chunk of rows of an asker (instance, or source address) and ten-minute bucket, as
/// deflated tab-separated text. Objects read in parts number their chunks with
/// [`ChunkNumbers::resolver_items`].
pub fn resolver_items(
    aggregates: &[(resolver::QueryKey, resolver::QueryStats)],
    object: &ObjectId,
    expires_at: i64,
) -> Vec<Item> {
    ChunkNumbers::default().resolver_items(aggregates, object, expires_at)
}

/// The items of one part of Resolver aggregates, each (pk, prefix) packed by `packed`.
fn resolver_part_items(
    aggregates: &[(resolver::QueryKey, resolver::QueryStats)],
    object: &ObjectId,
    packed: &mut Packer<'_>,
) -> Vec<Item> {
    let mut groups: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    for (key, stats) in aggregates {
        let addresses: Vec<String> = stats.addresses.iter().map(ToString::to_string).collect();
        groups
            .entry((asker_subject(&key.source), key.bucket_start))
            .or_default()
            .push(format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                cell(&key.name),
                cell(&key.query_type),
                cell(&key.rcode),
                stats.count,
                time(stats.first),
                time(stats.last),
                cell(&addresses.join(",")),
                stats.firewall_action.map_or("", FirewallAction::as_str),
            ));
    }
    bucket_items(groups, object, packed)
}

impl ChunkNumbers {
    /// The items of the next part of a Resolver query-log object.
    pub fn resolver_items(
        &mut self,
        aggregates: &[(resolver::QueryKey, resolver::QueryStats)],
        object: &ObjectId,
        expires_at: i64,
    ) -> Vec<Item> {
        self.part(expires_at, |packed| {
            resolver_part_items(aggregates, object, packed)
        })
    }
}

/// The DNS rows of one item, as written by [`resolver_items`].
pub fn decode_resolver_rows(blob: &[u8]) -> Vec<DnsRow> {
    inflate(blob)
        .lines()
        .filter_map(|line| {
            let [
                name,
                query_type,
                rcode,
                count,
                first,
                last,
                addresses,
                action,
            ] = fields(line)?;
            Some(DnsRow {
                name: name.to_string(),
                query_type: query_type.to_string(),
                rcode: rcode.to_string(),
                count: count.parse().ok()?,
                first: parse_time(first)?,
                last: parse_time(last)?,
                addresses: addresses
                    .split(',')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
                firewall_action: FirewallAction::parse(action),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_items_round_trip_one_item_per_asker_and_bucket() {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/resolver/panther-vpcdns.ndjson"
        ))
        .unwrap();
        let (aggregates, _) = resolver::read_object(&text[..], 1 << 20).unwrap();
        let items = resolver_items(&aggregates, &ObjectId::of("dns"), 7);
        assert_eq!(items.len(), 1, "one instance, one ten-minute bucket");
        let item = &items[0];
        assert_eq!(item["pk"].as_s().unwrap(), "DNS#i-0abc234");
        let sk = item["sk"].as_s().unwrap();
        assert!(sk.starts_with("2022-06-25T00:20:00Z#"), "{sk}");
        let rows = decode_resolver_rows(item["rows"].as_b().unwrap().as_ref());
        assert_eq!(rows.len().to_string(), *item["rows_n"].as_n().unwrap());
        let pool = rows.iter().find(|r| r.name == "moneropool.ru").unwrap();
        assert_eq!(
            (pool.query_type.as_str(), pool.rcode.as_str(), pool.count),
            ("A", "NOERROR", 2)
        );
        assert_eq!(pool.addresses, ["1.2.3.4"]);
        assert_eq!(pool.firewall_action, None);
        assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 8);
    }
}
