/**
 * docs/emulator.md's control plane table is what a rehearsal is scripted from, and README's
 * "Rehearse on the emulator" turns faults on with curl: each route the table names answers (no
 * `no control route` 404), health with the fields the table gives, and README's command, as curl
 * sends it (`-d` posts the JSON as `application/x-www-form-urlencoded`), sets the fault.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { useEmulator } from '../support/emulator.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** `METHOD /__emulator/…` of each row of the table: `` `POST /__emulator/faults`, `GET` `` is two. */
function documentedRoutes(): string[] {
  const text = read('docs/emulator.md');
  const table = text.slice(text.indexOf('## Control plane'), text.indexOf('### Seed document'));
  const routes: string[] = [];
  for (const row of table.split('\n').filter((line) => line.startsWith('| `'))) {
    const cell = row.split(' | ')[0]!;
    const [first, ...others] = [...cell.matchAll(/`([A-Z]+)(?: (\/__emulator\/[a-z-]+))?/g)];
    const path = first![2]!;
    routes.push(`${first![1]} ${path}`, ...others.map((m) => `${m[1]} ${path}`));
  }
  return routes;
}

describe('docs/emulator.md and README against the control plane', () => {
  const env = useEmulator({ checkSchema: false });

  it('every route the table names answers', async () => {
    const routes = documentedRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(19);
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const response = await fetch(`${env.url}${path}`, {
        method,
        ...(method === 'POST'
          ? { headers: { 'content-type': 'application/json' }, body: '{}' }
          : {}),
      });
      const body = (await response.json()) as { error?: string };
      expect(body.error ?? '', route).not.toMatch(/no control route/);
      expect(response.status, route).not.toBe(404);
    }
  });

  it('health gives {status: "ok", messages, held_requests}', async () => {
    const health = await env.control<Record<string, unknown>>('GET', '/__emulator/health');
    expect(Object.keys(health).sort()).toEqual(['held_requests', 'messages', 'status']);
    expect(health['status']).toBe('ok');
  });

  it("README's curl turns faults on, and off again", async () => {
    const readme = read('README.md');
    const command = /`curl -X POST \$SUBMIGRATE_API_URL(\/__emulator\/faults) -d '([^']+)'`/.exec(
      readme,
    );
    expect(command, "README's fault command").not.toBeNull();
    const [, path, body] = command!;
    // As curl -d sends it: no content type of its own, so the form one.
    const post = (data: string) =>
      fetch(`${env.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: data,
      });
    const on = await post(body!);
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject(JSON.parse(body!) as object);
    const off = await post('{"error_rate":0}');
    expect(await off.json()).toMatchObject({ error_rate: 0 });
  });
});
