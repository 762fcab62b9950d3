"""What the Kubernetes-facing functions may do in their cluster (:meth:`TypeConfig.cluster_access`): an EKS access
entry for each function's role, and the role ARNs as stack outputs.

Readers get the managed view policy, scoped to the configured namespaces. A function that patches Deployments gets
no access policy (the edit policy could also change secrets, services, config maps...): its entry puts it in the
Kubernetes group ``DEPLOYMENTS_GROUP``, which ``deploy/kubernetes-rbac.yaml`` binds, in each namespace, to a Role
that reads Deployments, ReplicaSets and Pods and may patch Deployments, nothing else. Until that Role is applied
the function can do nothing in the cluster."""

from __future__ import annotations

from collections import defaultdict

from aws_cdk import CfnOutput, Stack, aws_eks, aws_lambda
from constructs import Construct

from functions.rollbacks.contract import ClusterAccess

DEPLOYMENTS_GROUP = "rollback-pipeline-deployments"  # the Kubernetes group of deploy/kubernetes-rbac.yaml
RBAC_FILE = "deploy/kubernetes-rbac.yaml"


class ClusterAccessEntries(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._patching: dict[str, set[str]] = defaultdict(set)  # cluster -> namespaces the Role is needed in

    def grant(self, function: aws_lambda.Function, access: ClusterAccess | None) -> None:
        """An access entry for ``function``'s role on ``access.cluster_name``, and its role ARN as an output."""
        if access is None:
            return
        assert function.role is not None
        role_arn = function.role.role_arn
        if access.in_stack:
            aws_eks.CfnAccessEntry(
                self,
                function.node.id,
                cluster_name=access.cluster_name,
                principal_arn=role_arn,
                type="STANDARD",
                kubernetes_groups=[DEPLOYMENTS_GROUP] if access.patches else None,
                access_policies=None
                if access.patches
                else [
                    aws_eks.CfnAccessEntry.AccessPolicyProperty(
                        policy_arn=aws_eks.AccessPolicyArn.AMAZON_EKS_VIEW_POLICY.policy_arn,
                        access_scope=aws_eks.CfnAccessEntry.AccessScopeProperty(
                            type="namespace", namespaces=list(access.namespaces)
                        ),
                    )
                ],
            )
        if access.patches:
            self._patching[access.cluster_name].update(access.namespaces)
        what = (
            f"patches Deployments: Kubernetes group {DEPLOYMENTS_GROUP} ({RBAC_FILE})"
            if access.patches
            else "reads: AmazonEKSViewPolicy"
        )
        CfnOutput(
            Stack.of(self),
            f"{function.node.id}RoleArn",
            value=role_arn,
            description=f"{access.cluster_name} / {', '.join(access.namespaces)}: {what}"
            + ("" if access.in_stack else "; create its access entry where the cluster is"),
        )

    def output_rbac_namespaces(self) -> None:
        """Where ``deploy/kubernetes-rbac.yaml`` must be applied: ``<cluster>/<namespace>`` for each namespace a
        function patches Deployments in."""
        if not self._patching:
            return
        CfnOutput(
            Stack.of(self),
            "KubernetesRbacNamespaces",
            value=" ".join(f"{c}/{n}" for c, namespaces in sorted(self._patching.items()) for n in sorted(namespaces)),
            description=f"Apply {RBAC_FILE} in each of these <cluster>/<namespace> (kubectl apply -n <namespace>)",
        )
