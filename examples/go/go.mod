module example.com/eks-access-example

go 1.25

require (
	github.com/aws/aws-cdk-go/awscdk/v2 v2.263.0
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk-eks-access/cdk-eks-access-go/cdkeksaccess v0.0.0
)

// until the module is published: the one `npx projen package:go` writes
replace github.com/cdk-eks-access/cdk-eks-access-go/cdkeksaccess => ../../dist/go/cdkeksaccess
