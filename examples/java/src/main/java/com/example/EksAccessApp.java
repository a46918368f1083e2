package com.example;

import io.github.cdkeksaccess.AccessLevel;
import io.github.cdkeksaccess.AccessPrincipal;
import io.github.cdkeksaccess.AccessReport;
import io.github.cdkeksaccess.CanIRequest;
import io.github.cdkeksaccess.CanIResult;
import io.github.cdkeksaccess.ClusterAccess;
import io.github.cdkeksaccess.CustomAccessLevelOptions;
import io.github.cdkeksaccess.EksCluster;
import io.github.cdkeksaccess.GrantOptions;
import io.github.cdkeksaccess.PolicyRule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.eks.KubernetesVersion;
import software.amazon.awscdk.services.iam.AccountRootPrincipal;
import software.amazon.awscdk.services.iam.ArnPrincipal;
import software.amazon.awscdk.services.iam.IUser;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.User;

/** The cluster and grants of examples/app.ts, in Java; then two questions to the access report. */
public final class EksAccessApp {
    static final String ACCOUNT = "111122223333";
    static final String SSO_VIEWER = "arn:aws:sts::" + ACCOUNT
        + ":assumed-role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/alice@example.com";

    public static Stack buildExampleStack(final App app) {
        Stack stack = new Stack(app, "EksAccessExample");

        // README: quick start
        EksCluster cluster = EksCluster.Builder.create(stack, "Cluster")
            .version(KubernetesVersion.V1_35)
            .adminPrincipal(new ArnPrincipal("arn:aws:iam::" + ACCOUNT + ":role/PlatformOps"))
            .defaultCapacity(0)
            .build();

        // README: IAM roles
        Role deployer = Role.Builder.create(stack, "Deployer")
            .assumedBy(new AccountRootPrincipal())
            .path("/ci/")
            .build();
        cluster.grantRole(deployer, AccessLevel.namespaceEdit("apps"));

        // README: IAM users
        IUser alice = User.fromUserArn(stack, "Alice", "arn:aws:iam::" + ACCOUNT + ":user/engineering/alice");
        cluster.grantUser(alice, AccessLevel.clusterView(), GrantOptions.builder().username("alice").build());

        // README: SSO permission sets
        cluster.grantSsoPermissionSet(
            "arn:aws:iam::" + ACCOUNT + ":role/aws-reserved/sso.amazonaws.com/us-east-2/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01",
            AccessLevel.namespaceView("team-a"));
        cluster.grantSsoPermissionSet(
            "arn:aws:iam::" + ACCOUNT + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            AccessLevel.clusterAdmin());

        // README: SSO permission sets by name (looked up at deploy time)
        cluster.grant(AccessPrincipal.fromSsoPermissionSetName("PlatformReadOnly"), AccessLevel.clusterView());

        // README: custom rules
        cluster.grant(AccessPrincipal.fromRoleArn("arn:aws:iam::" + ACCOUNT + ":role/ci"), AccessLevel.custom(
            CustomAccessLevelOptions.builder()
                .namespaceName("apps")
                .rules(List.of(PolicyRule.builder()
                    .apiGroups(List.of("apps")).resources(List.of("deployments")).verbs(List.of("get", "patch"))
                    .build()))
                .build()));

        // README: any aws-eks cluster
        ClusterAccess access = ClusterAccess.of(cluster.getCluster());
        access.grantRole(Role.fromRoleArn(stack, "Auditor", "arn:aws:iam::" + ACCOUNT + ":role/security/Auditor"),
            AccessLevel.clusterView());

        return stack;
    }

    /** Two questions to the access report: one it allows, one it denies. */
    static List<String> ask(final Stack stack) {
        AccessReport report = AccessReport.fromStack(stack);
        List<String> answers = new ArrayList<>();
        for (String resource : List.of("pods", "secrets")) {
            CanIResult answer = report.canI(CanIRequest.builder()
                .principalArn(SSO_VIEWER).verb("get").resource(resource).namespaceName("team-a")
                .build());
            answers.add(String.format("{\"resource\": %s, \"allowed\": %s, \"reason\": %s}",
                json(resource), answer.getAllowed(), json(answer.getReason())));
        }
        return answers;
    }

    private static String json(final String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(final String[] args) throws IOException {
        App app = new App();
        Stack stack = buildExampleStack(app);
        List<String> answers = ask(stack);
        String out = System.getenv("CAN_I_OUT");
        if (out != null) {
            Files.writeString(Path.of(out), "[" + String.join(",\n", answers) + "]\n", StandardCharsets.UTF_8);
        } else {
            answers.forEach(System.out::println);
        }
        app.synth();
    }
}
