// The cluster and grants of examples/app.ts, in Go; then two questions to the access report.
//
// scripts/language-apps.sh runs it with the aws-cdk CLI (cdk.json) against the Go module
// the build writes to dist/go, and compares its template and answers with TypeScript's.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseks"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk-eks-access/cdk-eks-access-go/cdkeksaccess"
)

const account = "111122223333"
const ssoViewer = "arn:aws:sts::" + account + ":assumed-role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/alice@example.com"

func buildExampleStack(app awscdk.App) awscdk.Stack {
	stack := awscdk.NewStack(app, jsii.String("EksAccessExample"), nil)

	// README: quick start
	cluster := cdkeksaccess.NewEksCluster(stack, jsii.String("Cluster"), &cdkeksaccess.EksClusterProps{
		Version:         awseks.KubernetesVersion_V1_35(),
		AdminPrincipal:  awsiam.NewArnPrincipal(jsii.String("arn:aws:iam::" + account + ":role/PlatformOps")),
		DefaultCapacity: jsii.Number(0),
	})

	// README: IAM roles
	deployer := awsiam.NewRole(stack, jsii.String("Deployer"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewAccountRootPrincipal(),
		Path:      jsii.String("/ci/"),
	})
	cluster.GrantRole(deployer, cdkeksaccess.AccessLevel_NamespaceEdit(jsii.String("apps")), nil)

	// README: IAM users
	alice := awsiam.User_FromUserArn(stack, jsii.String("Alice"), jsii.String("arn:aws:iam::"+account+":user/engineering/alice"))
	cluster.GrantUser(alice, cdkeksaccess.AccessLevel_ClusterView(), &cdkeksaccess.GrantOptions{Username: jsii.String("alice")})

	// README: SSO permission sets
	cluster.GrantSsoPermissionSet(
		jsii.String("arn:aws:iam::"+account+":role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01"),
		cdkeksaccess.AccessLevel_NamespaceView(jsii.String("team-a")), nil)
	cluster.GrantSsoPermissionSet(
		jsii.String("arn:aws:iam::"+account+":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef"),
		cdkeksaccess.AccessLevel_ClusterAdmin(), nil)

	// README: SSO permission sets by name (looked up at deploy time)
	cluster.Grant(cdkeksaccess.AccessPrincipal_FromSsoPermissionSetName(jsii.String("PlatformReadOnly"), nil), cdkeksaccess.AccessLevel_ClusterView(), nil)

	// README: custom rules
	cluster.Grant(cdkeksaccess.AccessPrincipal_FromRoleArn(jsii.String("arn:aws:iam::"+account+":role/ci")), cdkeksaccess.AccessLevel_Custom(&cdkeksaccess.CustomAccessLevelOptions{
		NamespaceName: jsii.String("apps"),
		Rules: &[]*cdkeksaccess.PolicyRule{{
			ApiGroups: jsii.Strings("apps"),
			Resources: jsii.Strings("deployments"),
			Verbs:     jsii.Strings("get", "patch"),
		}},
	}), nil)

	// README: any aws-eks cluster
	access := cdkeksaccess.ClusterAccess_Of(cluster.Cluster(), nil)
	access.GrantRole(awsiam.Role_FromRoleArn(stack, jsii.String("Auditor"), jsii.String("arn:aws:iam::"+account+":role/security/Auditor"), nil),
		cdkeksaccess.AccessLevel_ClusterView(), nil)

	return stack
}

type answer struct {
	Resource string `json:"resource"`
	Allowed  bool   `json:"allowed"`
	Reason   string `json:"reason"`
}

// ask puts two questions to the access report: one it allows, one it denies.
func ask(stack awscdk.Stack) []answer {
	report := cdkeksaccess.AccessReport_FromStack(stack)
	var answers []answer
	for _, resource := range []string{"pods", "secrets"} {
		result := report.CanI(&cdkeksaccess.CanIRequest{
			PrincipalArn:  jsii.String(ssoViewer),
			Verb:          jsii.String("get"),
			Resource:      jsii.String(resource),
			NamespaceName: jsii.String("team-a"),
		})
		answers = append(answers, answer{resource, *result.Allowed, *result.Reason})
	}
	return answers
}

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := buildExampleStack(app)
	answers := ask(stack)
	if out := os.Getenv("CAN_I_OUT"); out != "" {
		data, err := json.MarshalIndent(answers, "", "  ")
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(out, data, 0o644); err != nil {
			panic(err)
		}
	} else {
		for _, a := range answers {
			fmt.Printf("get %s in team-a: allowed=%v (%s)\n", a.Resource, a.Allowed, a.Reason)
		}
	}
	app.Synth(nil)
}
