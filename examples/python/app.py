"""The cluster and grants of examples/app.ts, in Python.

Synthesizes offline (environment-agnostic), then asks the access report two questions.
scripts/language-apps.sh installs the wheel the build writes into a fresh venv, runs this
app with the aws-cdk CLI (see cdk.json) and compares its template and answers with the
TypeScript example's.

    cdk synth --app "python app.py"
"""
import json
import os

import aws_cdk as cdk
from aws_cdk import aws_eks as eks
from aws_cdk import aws_iam as iam
from cdk_eks_access import (
    AccessLevel,
    AccessPrincipal,
    AccessReport,
    ClusterAccess,
    EksCluster,
    PolicyRule,
)

ACCOUNT = "111122223333"
SSO_VIEWER = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/alice@example.com"


def build_example_stack(app: cdk.App, stack_id: str = "EksAccessExample") -> cdk.Stack:
    stack = cdk.Stack(app, stack_id)

    # README: quick start
    cluster = EksCluster(
        stack, "Cluster",
        version=eks.KubernetesVersion.V1_35,
        admin_principal=iam.ArnPrincipal(f"arn:aws:iam::{ACCOUNT}:role/PlatformOps"),
        default_capacity=0,
    )

    # README: IAM roles
    deployer = iam.Role(stack, "Deployer", assumed_by=iam.AccountRootPrincipal(), path="/ci/")
    cluster.grant_role(deployer, AccessLevel.namespace_edit("apps"))

    # README: IAM users
    alice = iam.User.from_user_arn(stack, "Alice", f"arn:aws:iam::{ACCOUNT}:user/engineering/alice")
    cluster.grant_user(alice, AccessLevel.cluster_view(), username="alice")

    # README: SSO permission sets
    cluster.grant_sso_permission_set(
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01",
        AccessLevel.namespace_view("team-a"))
    cluster.grant_sso_permission_set(
        f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
        AccessLevel.cluster_admin())

    # README: SSO permission sets by name (looked up at deploy time)
    cluster.grant(AccessPrincipal.from_sso_permission_set_name("PlatformReadOnly"), AccessLevel.cluster_view())

    # README: custom rules
    cluster.grant(AccessPrincipal.from_role_arn(f"arn:aws:iam::{ACCOUNT}:role/ci"), AccessLevel.custom(
        namespace_name="apps",
        rules=[PolicyRule(api_groups=["apps"], resources=["deployments"], verbs=["get", "patch"])],
    ))

    # README: any aws-eks cluster
    access = ClusterAccess.of(cluster.cluster)
    access.grant_role(iam.Role.from_role_arn(stack, "Auditor", f"arn:aws:iam::{ACCOUNT}:role/security/Auditor"), AccessLevel.cluster_view())

    return stack


def ask(stack: cdk.Stack) -> list:
    """Two questions to the access report: one it allows, one it denies."""
    report = AccessReport.from_stack(stack)
    answers = []
    for resource in ["pods", "secrets"]:
        answer = report.can_i(principal_arn=SSO_VIEWER, verb="get", resource=resource, namespace_name="team-a")
        answers.append({"resource": resource, "allowed": answer.allowed, "reason": answer.reason})
    return answers


if __name__ == "__main__":
    app = cdk.App()
    stack = build_example_stack(app)
    answers = ask(stack)
    out = os.environ.get("CAN_I_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(answers, f, indent=2)
    else:
        for a in answers:
            print(f"get {a['resource']} in team-a: {'allowed' if a['allowed'] else 'denied'} ({a['reason']})")
    app.synth()
