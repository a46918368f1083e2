import * as fs from 'fs';
import * as path from 'path';
import { describeReal, realComponents, realKubeApi } from './components';
import { discover, renderTable } from './discovery';

const TABLE = path.join(__dirname, '..', '..', 'src', 'report', 'kube-resources.ts');

describeReal('the built-in resource table canI resolves names with (the real kube-apiserver\'s discovery)', () => {
  test('src/report/kube-resources.ts is what the pinned kube-apiserver\'s discovery says', async () => {
    const fresh = renderTable(await discover(realKubeApi()), realComponents().versions.kubernetes);
    if (process.env.KUBE_RESOURCES_WRITE === '1') fs.writeFileSync(TABLE, fresh);
    expect(fs.readFileSync(TABLE, 'utf8')).toBe(fresh);
  });
});
