import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as http from 'http';
import * as net from 'net';

/**
 * A real moto IAM server on loopback for the handler tests. moto_server is on the machine
 * image; if it is missing the tests fail (never skip silently).
 */
export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function ping(url: string): Promise<boolean> {
  return new Promise(resolve => {
    const req = http.get(url, res => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

export async function startMoto(): Promise<MotoServer> {
  if (spawnSync('moto_server', ['--help']).status !== 0) {
    throw new Error('moto_server is not installed: the SSO role lookup handler tests need it (pip install "moto[server]"); the CI image ships it');
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (!(await ping(`${endpoint}/moto-api/`))) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error('moto_server did not answer within 30 s');
    }
    await new Promise(r => setTimeout(r, 200));
  }
  return {
    endpoint,
    stop: () => new Promise(resolve => {
      child.once('exit', () => resolve());
      child.kill();
    }),
  };
}
