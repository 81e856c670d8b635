//! Organisations that scan the whole internet for research or attack-surface services. A port
//! probe from them says that a port is open, not that someone targets this account.

/// Matched case-insensitively against the remote IP's organisation, ASN organisation and ISP.
const SCANNERS: &[(&str, &str)] = &[
    ("shodan", "Shodan"),
    ("censys", "Censys"),
    ("shadowserver", "The Shadowserver Foundation"),
    ("rapid7", "Rapid7 (Project Sonar)"),
    ("binaryedge", "BinaryEdge"),
    ("stretchoid", "Stretchoid"),
    ("onyphe", "ONYPHE"),
    ("leakix", "LeakIX"),
    ("internet census", "Internet Census"),
    ("recyber", "Recyber"),
    ("expanse", "Palo Alto Networks Cortex Xpanse"),
    ("xpanse", "Palo Alto Networks Cortex Xpanse"),
    ("criminal ip", "Criminal IP"),
    ("alphastrike", "Alpha Strike Labs"),
    ("netscout", "NETSCOUT ASERT"),
];

/// The scanner's display name when `org` names a known internet scanner.
pub fn known_scanner<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    names.into_iter().find_map(|name| {
        let lower = name.to_ascii_lowercase();
        SCANNERS
            .iter()
            .find(|(needle, _)| lower.contains(needle))
            .map(|(_, display)| *display)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanners_are_found_in_any_of_the_names() {
        assert_eq!(known_scanner(["Amazon.com", "Shodan.io"]), Some("Shodan"));
        assert_eq!(known_scanner(["CENSYS-ARIN-01"]), Some("Censys"));
        assert_eq!(known_scanner(["Hetzner Online GmbH"]), None);
    }
}
