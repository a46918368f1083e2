import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * scripts/check-docs.mjs is the API doc check the test command runs over the .jsii
 * assembly. These tests prove it fails on each defect it must catch, on a tiny fake
 * assembly, and passes a clean one without flagging code that is not a member reference.
 */
function check(asm: any): { status: number | null; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-'));
  const file = path.join(dir, '.jsii');
  fs.writeFileSync(file, JSON.stringify(asm));
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'check-docs.mjs'), file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: run.status, out: run.stdout + run.stderr };
}

const docs = (summary: string, remarks?: string) => ({ summary, ...(remarks ? { remarks } : {}) });

/** A clean assembly: a class with a method and a property, an enum, a struct. */
function assembly(edit: (types: Record<string, any>) => void = () => {}) {
  const types: Record<string, any> = {
    'lib.Widget': {
      fqn: 'lib.Widget',
      name: 'Widget',
      kind: 'class',
      docs: docs('A widget.', 'Made by `Widget.make()`, shown with `describe()` and `{@link Widget.size}`; see {@link Shape}. Unlike `kubectl delete -f x.yaml`, `Template.fromStack(stack).toJSON()` or `cluster.grantAccess()`, nothing else here is a member.'),
      initializer: { parameters: [{ name: 'id', docs: docs('the id') }] },
      properties: [{ name: 'size', docs: docs('The size.') }],
      methods: [
        { name: 'make', static: true, docs: docs('Makes one.'), parameters: [{ name: 'size', docs: docs('the size') }] },
        { name: 'describe', docs: docs('Describes it (as text).') },
      ],
    },
    'lib.Shape': {
      fqn: 'lib.Shape',
      name: 'Shape',
      kind: 'enum',
      docs: docs('A shape.'),
      members: [{ name: 'ROUND', docs: docs('Round.') }],
    },
    'lib.WidgetProps': {
      fqn: 'lib.WidgetProps',
      name: 'WidgetProps',
      kind: 'interface',
      datatype: true,
      docs: docs('Props.'),
      properties: [{ name: 'color', optional: true, docs: docs('The color.', 'Any CSS color.') }],
    },
  };
  edit(types);
  return { name: 'lib', types };
}

test('a clean assembly passes', () => {
  const result = check(assembly());
  expect(result.out).toContain('every member described, every named member exists');
  expect(result.status).toBe(0);
});

test.each<[string, (t: Record<string, any>) => void, RegExp]>([
  ['a type without a description', t => { t['lib.Shape'].docs = {}; }, /lib\.Shape: type without a description/],
  ['a property without a description', t => { t['lib.WidgetProps'].properties[0].docs = { remarks: 'only remarks' }; }, /lib\.WidgetProps\.color: property without a description/],
  ['a method without a description', t => { t['lib.Widget'].methods[1].docs = undefined; }, /lib\.Widget\.describe\(\): method without a description/],
  ['a parameter without a description', t => { delete t['lib.Widget'].methods[0].parameters[0].docs; }, /lib\.Widget\.make\(size\): parameter without a description/],
  ['a constructor parameter without a description', t => { t['lib.Widget'].initializer.parameters[0].docs = {}; }, /lib\.Widget\.<initializer>\(id\): parameter without a description/],
  ['an enum member without a description', t => { t['lib.Shape'].members[0].docs = {}; }, /lib\.Shape\.ROUND: enum member without a description/],
  ['a method that does not exist', t => { t['lib.Widget'].docs.remarks = '`stableTemplate()` replaces the hashes.'; }, /lib\.Widget: names `stableTemplate\(\)`, but no type of this library has a member stableTemplate/],
  ['a member of one of our types that does not exist', t => { t['lib.WidgetProps'].docs.remarks = 'See `Widget.weight`.'; }, /names `Widget\.weight`, but Widget has no member weight/],
  ['a static method call that does not exist', t => { t['lib.Shape'].docs.summary = 'Made by `Widget.build(size)`.'; }, /names `Widget\.build\(size\)`, but Widget has no member build/],
  ['a {@link} to a member that does not exist', t => { t['lib.Shape'].docs.remarks = 'See {@link Widget.colour}.'; }, /names \{@link Widget\.colour\}, but Widget has no member colour/],
  ['a {@link} to a type that does not exist', t => { t['lib.Shape'].docs.remarks = 'See {@link Gadget}.'; }, /\{@link Gadget\} names a type that does not exist/],
  ['a summary cut at a colon', t => { t['lib.Shape'].docs.summary = 'Shapes mean:.'; }, /lib\.Shape: summary cut mid-sentence \("Shapes mean:\."\)/],
  ['a summary cut at a semicolon', t => { t['lib.Widget'].properties[0].docs.summary = 'The size (in pixels;'; }, /lib\.Widget\.size: summary cut mid-sentence/],
])('fails on %s', (_, edit, problem) => {
  const result = check(assembly(edit));
  expect(result.status).toBe(1);
  expect(result.out).toMatch(problem);
});
