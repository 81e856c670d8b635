//! Large flow-log objects made by repeating and varying the real default-format records of the
//! AWS documentation (`tests/fixtures/vpcflow/default-v2.txt`), for the memory test and the
//! benchmark. Only the client side of each record varies (its address over `remotes` values,
//! its ephemeral port freely), times spread evenly over `buckets` ten-minute buckets, and one
//! record in a thousand is a `NODATA`, one in five thousand a `SKIPDATA`: so the object has
//! `flows() * remotes * buckets` distinct aggregates whatever its number of lines.
//!
//! Std only: the benchmark includes this file with `#[path]`, outside the crate.

use std::io::{self, Read, Write};

const FIXTURE: &str = include_str!("../../../../tests/fixtures/vpcflow/default-v2.txt");

/// A ten-minute bucket boundary, shortly after the fixture's first record.
const BASE_TIME: u64 = 1_418_530_200;

/// Batch of generated text handed out by `read`.
const BATCH: usize = 32 * 1024;

/// The fixture's records, split into values.
pub struct Templates {
    header: &'static str,
    flows: Vec<Template>,
    nodata: Vec<&'static str>,
    skipdata: Vec<&'static str>,
}

struct Template {
    values: Vec<&'static str>,
    /// Column of the client address (3 srcaddr, 4 dstaddr): the side that varies.
    client: usize,
    /// Whether the client has a port to vary (not for ICMP).
    has_port: bool,
}

/// The templates of the default-format fixture: its five `OK` records, one `NODATA`, one
/// `SKIPDATA`.
pub fn default_v2_templates() -> Templates {
    let mut lines = FIXTURE.lines();
    let header = lines.next().unwrap_or_default();
    let mut templates = Templates {
        header,
        flows: Vec::new(),
        nodata: Vec::new(),
        skipdata: Vec::new(),
    };
    for line in lines {
        let values: Vec<&'static str> = line.split(' ').collect();
        match values.get(13).copied() {
            Some("NODATA") => templates.nodata = values,
            Some("SKIPDATA") => templates.skipdata = values,
            _ => {
                let icmp = values[7] == "1";
                let client = if icmp {
                    // The internet side of the ping.
                    if values[3].starts_with("172.") { 4 } else { 3 }
                } else {
                    // The ephemeral (higher) port's side.
                    let port = |i: usize| values[i].parse::<u16>().unwrap_or(0);
                    if port(5) > port(6) { 3 } else { 4 }
                };
                templates.flows.push(Template {
                    values,
                    client,
                    has_port: !icmp,
                });
            }
        }
    }
    templates
}

impl Templates {
    /// Number of flow templates: distinct aggregates per client address and bucket.
    pub fn flows(&self) -> usize {
        self.flows.len()
    }
}

/// A generated object (header included), read like a file.
pub struct Synthetic<'t> {
    templates: &'t Templates,
    total: u64,
    next: u64,
    remotes: u32,
    buckets: u32,
    header_written: bool,
    buffer: Vec<u8>,
    pos: usize,
}

impl<'t> Synthetic<'t> {
    pub fn new(templates: &'t Templates, total: u64, remotes: u32, buckets: u32) -> Self {
        Synthetic {
            templates,
            total,
            next: 0,
            remotes: remotes.max(1),
            buckets: buckets.max(1),
            header_written: false,
            buffer: Vec::with_capacity(BATCH + 512),
            pos: 0,
        }
    }

    fn write_record(&mut self, i: u64) -> io::Result<()> {
        let out = &mut self.buffer;
        let span = u64::from(self.buckets) * 600;
        let start = BASE_TIME + i * span / self.total.max(1);
        let end = start + 60;
        let flows = &self.templates.flows;
        let status = if i % 5000 == 4999 {
            Some(&self.templates.skipdata)
        } else if i % 1000 == 999 {
            Some(&self.templates.nodata)
        } else {
            None
        };
        if let Some(values) = status {
            let [version, account, interface, ..] = values[..] else {
                return Ok(());
            };
            let status = values[13];
            return writeln!(
                out,
                "{version} {account} {interface} - - - - - - - {start} {end} - {status}"
            );
        }
        let template = &flows[(i % flows.len() as u64) as usize];
        let variant = (i / flows.len() as u64) % u64::from(self.remotes);
        for (column, value) in template.values.iter().enumerate() {
            if column > 0 {
                out.push(b' ');
            }
            let client_port = if template.client == 3 { 5 } else { 6 };
            match column {
                c if c == template.client => write_varied_address(out, value, variant)?,
                c if c == client_port && template.has_port => {
                    write!(out, "{}", 32768 + (i * 7919) % 28000)?
                }
                9 => write!(out, "{}", value.parse::<u64>().unwrap_or(0) + i % 97)?,
                10 => write!(out, "{start}")?,
                11 => write!(out, "{end}")?,
                _ => out.extend_from_slice(value.as_bytes()),
            }
        }
        out.push(b'\n');
        Ok(())
    }
}

/// The same kind of address as `template`, numbered `variant`: IPv4 keeps its first two octets
/// (so its scope), IPv6 its first seven groups.
fn write_varied_address(out: &mut Vec<u8>, template: &str, variant: u64) -> io::Result<()> {
    if template.contains(':') {
        let prefix = template.rsplit_once(':').map_or(template, |(p, _)| p);
        write!(out, "{prefix}:{:x}", variant + 1)
    } else {
        let mut octets = template.split('.');
        let (a, b) = (octets.next().unwrap_or("10"), octets.next().unwrap_or("0"));
        write!(
            out,
            "{a}.{b}.{}.{}",
            100 + (variant >> 8) % 100,
            variant & 0xff
        )
    }
}

impl Read for Synthetic<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buffer.len() {
            self.buffer.clear();
            self.pos = 0;
            if !self.header_written {
                self.header_written = true;
                writeln!(self.buffer, "{}", self.templates.header)?;
            }
            while self.buffer.len() < BATCH && self.next < self.total {
                self.write_record(self.next)?;
                self.next += 1;
            }
        }
        let n = out.len().min(self.buffer.len() - self.pos);
        out[..n].copy_from_slice(&self.buffer[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
