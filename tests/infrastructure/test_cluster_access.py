"""A real cluster: the functions that talk to Kubernetes get EKS access entries (read-only, namespaced, except the
ones that patch Deployments, which get the group of deploy/kubernetes-rbac.yaml), their role ARNs are outputs,
and cdk.json's placeholder cluster is refused unless the configuration names the local-emulation profile."""

from __future__ import annotations

import copy
import re
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Annotations, Match

from app import rollback_context
from local.synth import PROJECT_ROOT, Synthesized, base_context, synthesize
from stacks.config import ConfigError, load_config
from stacks.constructs.cluster_access import DEPLOYMENTS_GROUP

VIEW_POLICY = ":eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
READERS = {
    "KubernetesAppPlan", "KubernetesAppCheckRollout", "KubernetesAppCheckPods",
    "DatabasePitrPlan", "DatabasePitrCheckRestart", "DatabaseSnapshotPlan", "DatabaseSnapshotCheckRestart",
}  # fmt: skip
WRITERS = {"KubernetesAppRollBackDeployment", "DatabasePitrRestartApplication", "DatabaseSnapshotRestartApplication"}
REAL_ENDPOINT = "https://0A1B2C3D4E5F60718293A4B5C6D7E8F9.gr7.eu-west-1.eks.amazonaws.com"
REAL_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwK"  # noqa: E501


def function_of_role(template: dict[str, Any]) -> dict[str, str]:
    """Role logical id -> the function's name (``KubernetesAppPlan``)."""
    return {
        r["Properties"]["Role"]["Fn::GetAtt"][0]: re.sub(r"[0-9A-F]{8}$", "", name.removeprefix("Functions"))
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    }


def access_entries(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each access entry's properties, by the function whose role it names."""
    functions = function_of_role(template)
    entries = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::EKS::AccessEntry"]
    by_function = {functions[e["PrincipalArn"]["Fn::GetAtt"][0]]: e for e in entries}
    assert len(by_function) == len(entries), "two access entries for one role"
    return by_function


def policy_arn(policy: dict[str, Any]) -> str:
    arn = policy["PolicyArn"]
    return arn if isinstance(arn, str) else "".join(p if isinstance(p, str) else "" for p in arn["Fn::Join"][1])


def deployment_context(**cluster: Any) -> dict[str, Any]:
    """cdk.json's ``rollback`` context as a deployer would have it: no profile, the cluster's own endpoint and CA."""
    context = copy.deepcopy(base_context()["rollback"])
    context.pop("profile")
    for section in context["types"].values():
        if "cluster" in section:
            section["cluster"].update(endpoint=REAL_ENDPOINT, ca_data=REAL_CA, **cluster)
    return context


def test_each_kubernetes_facing_role_has_one_access_entry_read_only_except_those_that_patch(
    synthesized: Synthesized,
) -> None:
    # Given the stack synthesized from cdk.json
    entries = access_entries(synthesized.template)
    # Then exactly the functions that talk to the cluster have an entry, on the configured cluster
    assert set(entries) == READERS | WRITERS
    assert {e["ClusterName"] for e in entries.values()} == {"skillancer-prod"}
    assert {e["Type"] for e in entries.values()} == {"STANDARD"}
    # And the readers may only view, in the configured namespace
    for name in READERS:
        (policy,) = entries[name]["AccessPolicies"]
        assert policy_arn(policy).endswith(VIEW_POLICY), name
        assert policy["AccessScope"] == {"Type": "namespace", "Namespaces": ["production"]}, name
        assert "KubernetesGroups" not in entries[name], name
    # And the functions that patch Deployments get no EKS policy (edit could change secrets), only the RBAC group
    for name in WRITERS:
        assert entries[name]["KubernetesGroups"] == [DEPLOYMENTS_GROUP], name
        assert "AccessPolicies" not in entries[name], name


def test_the_kubernetes_facing_role_arns_are_outputs(synthesized: Synthesized) -> None:
    # Given the stack synthesized from cdk.json
    outputs = synthesized.template["Outputs"]
    functions = function_of_role(synthesized.template)
    # Then each Kubernetes-facing function's role ARN is an output, named after the function
    role_outputs = {k.removesuffix("RoleArn"): v for k, v in outputs.items() if k.endswith("RoleArn")}
    assert set(role_outputs) == READERS | WRITERS
    for name, output in role_outputs.items():
        assert functions[output["Value"]["Fn::GetAtt"][0]] == name
        assert ("patches Deployments" in output["Description"]) == (name in WRITERS)
    # And where the Role of deploy/kubernetes-rbac.yaml must be applied
    assert outputs["KubernetesRbacNamespaces"]["Value"] == "skillancer-prod/production"


def test_the_rbac_role_allows_reading_the_rollout_and_patching_deployments_only() -> None:
    # Given the RBAC the README gives and deploy/ ships
    text = (PROJECT_ROOT / "deploy" / "kubernetes-rbac.yaml").read_text()
    role, binding = yaml.safe_load_all(text)
    # Then the Role is namespaced and grants exactly what kubectl rollout undo / restart / status need
    assert (role["kind"], "namespace" in role["metadata"]) == ("Role", False)  # applied with -n <namespace>
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): set(r["verbs"]) for r in role["rules"]}
    assert rules == {
        (("apps",), ("deployments",)): {"get", "list", "watch", "patch"},
        (("apps",), ("replicasets",)): {"get", "list", "watch"},
        (("",), ("pods",)): {"get", "list", "watch"},
    }
    # And the binding gives it to the group the writers' access entries name
    assert binding["kind"] == "RoleBinding" and binding["roleRef"]["name"] == role["metadata"]["name"]
    (subject,) = binding["subjects"]
    assert subject == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": DEPLOYMENTS_GROUP}
    # And the README gives it in full
    manifest = text[text.index("apiVersion:") :]
    assert manifest in (PROJECT_ROOT / "README.md").read_text()


def test_the_placeholder_cluster_is_refused_without_the_local_profile() -> None:
    # Given cdk.json as shipped (placeholder endpoint, empty CA), without the local-emulation profile
    context = copy.deepcopy(base_context()["rollback"])
    context.pop("profile")
    # When it is loaded, Then the error names both fields and says where the real values come from
    with pytest.raises(ConfigError) as refused:
        load_config(context)
    message = str(refused.value)
    assert "rollback.types.kubernetes_app.cluster.endpoint: " in message
    assert "rollback.types.kubernetes_app.cluster.ca_data: " in message
    assert "placeholder" in message and "aws eks describe-cluster" in message


@pytest.mark.parametrize(
    ("cluster", "field"),
    [
        ({"endpoint": "https://EXAMPLE0123456789.gr7.us-east-1.eks.amazonaws.com"}, "cluster.endpoint"),
        ({"endpoint": "https://api.example.internal"}, "cluster.endpoint"),
        ({"ca_data": ""}, "cluster.ca_data"),
        ({"ca_data": "   "}, "cluster.ca_data"),
    ],
)
def test_one_placeholder_field_is_enough_to_fail_synth_naming_it(cluster: dict[str, str], field: str) -> None:
    # Given a deployment configuration whose database cluster still has one placeholder field
    context = deployment_context()
    context["types"]["database_pitr"]["cluster"].update(cluster)
    # When the app synthesizes, Then it fails naming that field of that type
    app = cdk.App(context={"rollback": context})
    with pytest.raises(ConfigError, match=rf"rollback\.types\.database_pitr\.{re.escape(field)}: "):
        load_config(rollback_context(app))


def test_the_cdk_command_line_can_name_the_local_profile() -> None:
    # Given cdk.json as shipped, and `-c rollback:profile=local-emulation` as the CLI passes it
    context = copy.deepcopy(base_context()["rollback"])
    context.pop("profile")
    app = cdk.App(context={"rollback": context, "rollback:profile": "local-emulation"})
    # Then the placeholder cluster is accepted
    config = load_config(rollback_context(app))
    assert config.profile == "local-emulation"
    assert config.type_config("kubernetes_app").environment()["CLUSTER_NAME"] == "skillancer-prod"


def test_a_real_cluster_synthesizes_with_its_namespaces_and_outside_entries() -> None:
    # Given a deployment configuration (no profile) with a real-looking endpoint and CA, rollbacks allowed in two
    # namespaces, and the database types' entries created by the cluster's administrators
    context = deployment_context()
    context["types"]["kubernetes_app"]["namespaces"] = ["production", "staging"]
    for kind in ("database_pitr", "database_snapshot"):
        context["types"][kind]["cluster"]["access_entries"] = False
    synthesized = synthesize({**context, "profile": "deployment"})
    template = synthesized.template
    # Then the functions run against that cluster
    (plan,) = [
        r["Properties"] for k, r in template["Resources"].items()
        if k.startswith("FunctionsKubernetesAppPlan") and r["Type"] == "AWS::Lambda::Function"
    ]  # fmt: skip
    variables = plan["Environment"]["Variables"]
    assert (variables["CLUSTER_ENDPOINT"], variables["CLUSTER_CA_DATA"]) == (REAL_ENDPOINT.lower(), REAL_CA)
    # And kubernetes_app's entries are scoped to both namespaces; the database types' are not in the stack
    entries = access_entries(template)
    assert set(entries) == {n for n in READERS | WRITERS if n.startswith("KubernetesApp")}
    (policy,) = entries["KubernetesAppCheckPods"]["AccessPolicies"]
    assert policy["AccessScope"]["Namespaces"] == ["production", "staging"]
    # But every Kubernetes-facing role ARN is still an output, for whoever creates the entries
    outputs = template["Outputs"]
    assert {k.removesuffix("RoleArn") for k in outputs if k.endswith("RoleArn")} == READERS | WRITERS
    assert "create its access entry where the cluster is" in outputs["DatabasePitrPlanRoleArn"]["Description"]
    assert outputs["KubernetesRbacNamespaces"]["Value"] == "skillancer-prod/production skillancer-prod/staging"
    # And cdk-nag has nothing to say
    annotations = Annotations.from_stack(synthesized.stack)
    assert [e.entry.data for e in annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))] == []
