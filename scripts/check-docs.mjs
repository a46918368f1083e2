#!/usr/bin/env node
// Checks the public API's doc comments in the jsii assembly that `jsii` (the compile step)
// writes to .jsii, the same text API.md is generated from. It fails on:
//
//   1. an exported type, property, method, enum member or parameter without a description
//      (jsii's `summary`; parameters: `@param`);
//   2. a doc comment naming a member that does not exist: `` `Type.member` ``,
//      `` `Type.member(...)` ``, `` `member(...)` `` and `{@link Type.member}` must resolve
//      to a type of this assembly and one of its members (for a bare `` `member(...)` ``: a
//      method or property of any of its types). References to other libraries' types
//      (`Template.fromStack()`) are out of scope, as is code that is not a call or a
//      member reference (`kubectl delete -f`); lower-case receivers (`cluster.grantAccess()`)
//      are checked by their member name;
//   3. a summary cut mid-sentence by jsii (it takes the first paragraph, or the first
//      sentence ending in `.`, `!`, `?` or `;`): one that ends in `:.` or `;`, or whose
//      parentheses or backticks do not balance. Fix: a short first sentence, then a blank line.
//
//   node scripts/check-docs.mjs [path/to/.jsii]
//
// Exit code 0 when every doc comment passes, 1 with one line per problem otherwise.
import * as fs from 'node:fs';

// Members of other libraries that our docs name through a lower-case receiver, with why.
const EXTERNAL_MEMBERS = new Map([
  ['addRoleMapping', "aws-eks's cluster.awsAuth.addRoleMapping(), which the library absorbs"],
  ['addUserMapping', "aws-eks's cluster.awsAuth.addUserMapping(), which the library absorbs"],
  ['addAccount', "aws-eks's cluster.awsAuth.addAccount(), which the library refuses"],
  ['grantAccess', "aws-eks's cluster.grantAccess(), which creates its own access entry"],
  ['addNodegroupCapacity', "aws-eks's cluster.addNodegroupCapacity()"],
  ['addFargateProfile', "aws-eks's cluster.addFargateProfile()"],
  ['addManifest', "aws-eks's cluster.addManifest()"],
  ['addValidation', "constructs' node.addValidation()"],
  ['toJSON', "aws-cdk-lib's Template.toJSON()"],
  ['importValue', "aws-cdk-lib's Fn.importValue()"],
]);

/** Every doc-carrying element of the assembly: [where, docs, owner type, kind]. */
function* elements(assembly) {
  for (const type of Object.values(assembly.types ?? {})) {
    yield [type.fqn, type.docs, type, 'type'];
    for (const prop of type.properties ?? []) yield [`${type.fqn}.${prop.name}`, prop.docs, type, 'property'];
    for (const member of type.members ?? []) yield [`${type.fqn}.${member.name}`, member.docs, type, 'enum member'];
    const callables = [...(type.methods ?? [])];
    if (type.initializer) callables.push({ ...type.initializer, name: '<initializer>', initializer: true });
    for (const method of callables) {
      // an initializer is described by its class
      if (!method.initializer) yield [`${type.fqn}.${method.name}()`, method.docs, type, 'method'];
      for (const param of method.parameters ?? []) {
        yield [`${type.fqn}.${method.name}(${param.name})`, param.docs, type, 'parameter'];
      }
    }
  }
}

function membersOf(type) {
  return new Set([
    ...(type.properties ?? []).map((p) => p.name),
    ...(type.methods ?? []).map((m) => m.name),
    ...(type.members ?? []).map((m) => m.name),
  ]);
}

/** The problems of one assembly (an object as in .jsii), one string each. */
export function checkAssembly(assembly) {
  const problems = [];
  const types = new Map(Object.values(assembly.types ?? {}).map((t) => [t.name, t]));
  const allMembers = new Set([...types.values()].flatMap((t) => [...membersOf(t)]));

  const checkReference = (where, typeName, member, text) => {
    if (typeName !== undefined) {
      const type = types.get(typeName);
      if (!type) return; // another library's type (or a variable): out of scope
      if (member !== undefined && !membersOf(type).has(member)) {
        problems.push(`${where}: names ${text}, but ${typeName} has no member ${member}`);
      }
      return;
    }
    if (!allMembers.has(member) && !EXTERNAL_MEMBERS.has(member)) {
      problems.push(`${where}: names ${text}, but no type of this library has a member ${member}`);
    }
  };

  for (const [where, docs, , kind] of elements(assembly)) {
    const summary = docs?.summary?.trim();
    if (!summary) {
      problems.push(`${where}: ${kind} without a description`);
      continue;
    }
    if (/:\.$|;$/.test(summary) || count(summary, '(') !== count(summary, ')') || count(summary, '`') % 2 !== 0) {
      problems.push(`${where}: summary cut mid-sentence (${JSON.stringify(summary)}); start with a short first sentence and a blank line`);
    }
    const text = [docs.summary, docs.remarks, docs.returns, docs.default, docs.deprecated, docs.see].filter(Boolean).join('\n');
    for (const [, code] of text.matchAll(/`([^`\n]+)`/g)) {
      // `Type.member`, `Type.member(...)`, `receiver.member(...)`, `member(...)`
      const call = /^(?:([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.)?([A-Za-z_$][\w$]*)\([^()]*(?:\([^()]*\)[^()]*)*\)$/.exec(code);
      if (call) {
        const receiver = call[1];
        const isType = receiver !== undefined && /^[A-Z]/.test(receiver) && !receiver.includes('.');
        checkReference(where, isType ? receiver : undefined, call[2], `\`${code}\``);
        continue;
      }
      const member = /^([A-Z][\w$]*)\.([A-Za-z_$][\w$]*)$/.exec(code);
      if (member) checkReference(where, member[1], member[2], `\`${code}\``);
    }
    for (const [, target] of text.matchAll(/\{@link\s+([^}\s|]+)[^}]*\}/g)) {
      const [typeName, member] = target.split('.');
      if (!types.has(typeName)) {
        problems.push(`${where}: {@link ${target}} names a type that does not exist in this library`);
      } else if (member !== undefined) {
        checkReference(where, typeName, member.replace(/\(\)$/, ''), `{@link ${target}}`);
      }
    }
  }
  return problems;
}

function count(text, char) {
  return text.split(char).length - 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? '.jsii';
  if (!fs.existsSync(file)) {
    console.error(`${file} not found: compile first (npx projen compile)`);
    process.exit(1);
  }
  const assembly = JSON.parse(fs.readFileSync(file, 'utf8'));
  const problems = checkAssembly(assembly);
  for (const problem of problems) console.error(problem);
  const types = Object.keys(assembly.types ?? {}).length;
  if (problems.length > 0) {
    console.error(`API docs: ${problems.length} problem(s) in ${types} exported types`);
    process.exit(1);
  }
  console.log(`API docs: ${types} exported types, every member described, every named member exists`);
}
