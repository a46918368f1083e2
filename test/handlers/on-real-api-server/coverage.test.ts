import * as fs from 'fs';
import * as path from 'path';

/** Every handler test file that starts a cluster runs on the real kube-apiserver too: a new one without a file here fails. */
test('every handler test file that uses startFakeKube() has its file in test/handlers/on-real-api-server/', () => {
  const handlers = path.join(__dirname, '..');
  const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? (e.name === 'on-real-api-server' ? [] : files(path.join(dir, e.name))) : [path.join(dir, e.name)]);
  const using = files(handlers)
    .filter(f => f.endsWith('.test.ts') && /startFakeKube\(/.test(fs.readFileSync(f, 'utf8')))
    .map(f => path.relative(handlers, f).replace(/\.ts$/, ''));
  const wrapped = fs.readdirSync(__dirname)
    .filter(f => f.endsWith('.test.ts'))
    .flatMap(f => [...fs.readFileSync(path.join(__dirname, f), 'utf8').matchAll(/require\('\.\.\/([^']+)'\)/g)].map(m => m[1]));
  expect(using.length).toBeGreaterThan(5);
  expect(wrapped.sort()).toEqual(using.sort());
});
