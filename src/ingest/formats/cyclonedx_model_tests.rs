//! The conversion helpers of the CycloneDX model: location properties, Trivy's fix
//! recommendations, digests in purls and the scanner named by the tools.

use super::*;

#[test]
fn location_properties_are_recognised_by_shape() {
    assert!(is_location_property("syft:location:0:path"));
    assert!(is_location_property("sbomer:location:12:path"));
    assert!(is_location_property("aquasecurity:trivy:FilePath"));
    assert!(!is_location_property("syft:location:0:layerID"));
    assert!(!is_location_property("syft:location:x:path"));
    assert!(!is_location_property("syft:location:0:filepath"));
    assert!(!is_location_property("path"));
    assert!(!is_location_property("location:0:path"));
    assert!(!is_location_property("syft:package:foundBy"));
}

#[test]
fn trivy_recommendation_yields_fixed_versions() {
    assert_eq!(
        fixed_versions(Some("Upgrade libidn2-0 to version 2.0.5-1+deb10u1")),
        vec!["2.0.5-1+deb10u1".to_string()]
    );
    assert_eq!(
        fixed_versions(Some("Upgrade x to version 1.2, 2.0.1")),
        vec!["1.2".to_string(), "2.0.1".to_string()]
    );
    assert!(fixed_versions(Some("no fix")).is_empty());
}

#[test]
fn percent_encoded_digest_in_a_purl_is_found() {
    let hex = "41d92dafa5ccbf7f76fa81c5a0e7de83c51166f27bea9b98df018f644016bf04";
    assert_eq!(
        digest_of(&format!("pkg:oci/m@sha256%3A{hex}?arch=amd64")),
        Some(format!("sha256:{hex}"))
    );
}

#[test]
fn scanner_prefers_a_known_scanner_and_defaults_to_cyclonedx() {
    let tools = vec![
        ("cdxgen".to_string(), None),
        ("Trivy".to_string(), Some("0.5".to_string())),
    ];
    assert_eq!(
        scanner_of(&tools),
        ("trivy".to_string(), Some("0.5".to_string()))
    );
    assert_eq!(scanner_of(&[]).0, "cyclonedx");
}
