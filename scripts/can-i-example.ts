/**
 * The two questions examples/python/app.py and examples/java ask the access report, asked of
 * the TypeScript example stack (examples/app.ts): scripts/language-apps.sh compares the
 * answers. Writes them as JSON to the file given as the first argument.
 */
import * as fs from 'fs';
import { App } from 'aws-cdk-lib';
import { buildExampleStack } from '../examples/app';
import { AccessReport } from '../src';

const SSO_VIEWER = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ViewOnlyAccess_05a38657af2a0a01/alice@example.com';

const report = AccessReport.fromStack(buildExampleStack(new App()));
const answers = ['pods', 'secrets'].map(resource => {
  const answer = report.canI({ principalArn: SSO_VIEWER, verb: 'get', resource, namespaceName: 'team-a' });
  return { resource, allowed: answer.allowed, reason: answer.reason };
});
fs.writeFileSync(process.argv[2], JSON.stringify(answers, null, 2));
