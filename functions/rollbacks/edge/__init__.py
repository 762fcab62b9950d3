"""``edge``: CDN/DNS rollback (runbook procedure 4). The CloudFront distribution is disabled or given its backup
config (its current config and ETag stored first, the update conditional on the ETag approvers saw) and followed
until Deployed; the site's record is UPSERTed to the maintenance alias (the previous record set kept) and followed
until INSYNC; then the site must answer with the maintenance page. Its revert puts the record set and the
distribution config back as they were."""

from functions.rollbacks.contract import RollbackType, SliceFunction
from functions.rollbacks.edge.config import EdgeConfig
from functions.rollbacks.edge.input import EdgeTarget
from functions.rollbacks.edge.revert import revert_target

HANDLERS = "functions.rollbacks.edge.handlers"

ROLLBACK_TYPE = RollbackType(
    name="edge",
    title="CDN/DNS: CloudFront disabled or on its backup config, DNS to the maintenance page",
    target_model=EdgeTarget,
    config_model=EdgeConfig,
    revert=revert_target,
    functions=(
        SliceFunction("Plan", f"{HANDLERS}.run_prechecks", "Pre-checks: reads the record set and the distribution"),
        SliceFunction(
            "ChangeDistribution",
            f"{HANDLERS}.change_distribution",
            "Stores the distribution's config and ETag, then updates it if the ETag is the approved one",
            changes_the_world=True,
        ),
        SliceFunction("CheckDistribution", f"{HANDLERS}.check_distribution", "Is the distribution Deployed?"),
        SliceFunction(
            "ChangeRecord",
            f"{HANDLERS}.change_record",
            "UPSERTs the record to the maintenance alias if it is still the approved record set",
            changes_the_world=True,
        ),
        SliceFunction("CheckRecordChange", f"{HANDLERS}.check_record_change", "Is the Route 53 change INSYNC?"),
        SliceFunction("CheckMaintenancePage", f"{HANDLERS}.check_maintenance_page", "Does the site answer the page?"),
    ),
)
