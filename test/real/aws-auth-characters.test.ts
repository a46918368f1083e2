import { askAuthenticator, describeReal } from './components';
import { AccessLevel, AccessPrincipal } from '../../src';
import { testCluster, testStack } from '../util';

/**
 * Characters a username or group cannot hold in aws-auth, judged by aws-iam-authenticator's
 * own reader: each one, written raw into aws-auth, makes the real reader refuse the section or
 * read another value; synth refuses each of them, naming the value and the character.
 */
const UNSAFE: Array<[string, string]> = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
  '\x7f', ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)),
  '\u2028', '\u2029', '\ufeff', '\ufffe', '\uffff',
].map(c => [`U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`, c]);
/** Refused at synth as whitespace (JavaScript's \s) before the character check. */
const WHITESPACE = new Set(['\t', '\n', '\x0b', '\x0c', '\r', '\u2028', '\u2029', '\ufeff']);
/** Whitespace that go-yaml keeps as written inside double quotes (outside them, U+2028 and U+2029 are line breaks to it). */
const KEPT_IN_QUOTES = new Set(['\t', '\u2028', '\u2029', '\ufeff']);
const USER = 'arn:aws:iam::111122223333:user/alice';

describeReal('characters aws-auth cannot hold (judged by aws-iam-authenticator v0.7.18)', () => {
  const readRaw = async (c: string) => {
    const answer = await askAuthenticator({ mapUsers: `- userarn: ${USER}\n  username: "alice${c}"\n  groups: ["team-a${c}"]\n` }, [USER]);
    const mapped = answer.callers[0].mappings;
    return mapped.length === 1 && mapped[0].username === `alice${c}` && mapped[0].groups[0] === `team-a${c}`;
  };

  test.each(UNSAFE.filter(([, c]) => !KEPT_IN_QUOTES.has(c)))('%s written raw in a quoted username is refused or misread by the real reader', async (_code, c) => {
    expect(await readRaw(c)).toBe(false);
  });

  test.each(UNSAFE.filter(([, c]) => KEPT_IN_QUOTES.has(c)))('%s written raw inside double quotes is kept by the real reader (synth refuses it as whitespace)', async (_code, c) => {
    expect(await readRaw(c)).toBe(true);
  });

  test.each(UNSAFE)('%s in a username or a group is refused at synth, naming the value and the character', (code, c) => {
    const stack = testStack();
    const cluster = testCluster(stack);
    const principal = AccessPrincipal.fromRoleArn('arn:aws:iam::111122223333:role/Dev');
    const message = WHITESPACE.has(c) ? /contains whitespace/ : new RegExp(`\\[cdk-eks-access:characterAwsAuthCannotHold\\] .* holds the character ${code.replace('+', '\\+')}, which aws-iam-authenticator's YAML reader`);
    expect(() => cluster.grant(principal, AccessLevel.clusterView(), { username: `dev:${c}x` })).toThrow(message);
    expect(() => AccessLevel.existingGroups([`team${c}`])).toThrow(message);
  });

  test.each([['é'], ['日本'], ['\u{1F600}'], ['\u00a0x'.slice(1)], ['#'], ['"'], ["'"], ['\\'], ['{{AccountID}}']])(
    'a username or group holding %j is read by the real reader as written, and synth accepts it', async (c) => {
      const answer = await askAuthenticator({ mapUsers: `- ${JSON.stringify({ userarn: USER, username: `a:${c}`, groups: [`g${c}`] })}\n` }, [USER]);
      expect(answer.callers[0].mappings).toEqual([{ from: 'mapUsers', username: `a:${c}`, groups: [`g${c}`] }]);
      expect(() => AccessLevel.existingGroups([`g${c}`])).not.toThrow();
    });

  test('a lone surrogate is refused at synth', () => {
    expect(() => AccessLevel.existingGroups(['team\ud800'])).toThrow(/holds the character U\+D800/);
  });
});
