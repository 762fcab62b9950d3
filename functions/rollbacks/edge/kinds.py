"""The kinds of change an ``edge`` rollback plans: what its ASL part routes on and what its revert reads."""

DNS_KIND = "edge.dns_maintenance"
CLOUDFRONT_KIND = "edge.cloudfront"
DNS_RESTORE_KIND = "edge.dns_restore"
CLOUDFRONT_RESTORE_KIND = "edge.cloudfront_restore"
DNS_KINDS = (DNS_KIND, DNS_RESTORE_KIND)
CLOUDFRONT_KINDS = (CLOUDFRONT_KIND, CLOUDFRONT_RESTORE_KIND)
