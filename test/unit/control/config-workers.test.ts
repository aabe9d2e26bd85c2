// `workers:` in lvsd.yaml: 1 by default (IPVS's exact scheduling state), `auto` for one per core, and anything
// else refused with the field and the value.
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, MAX_WORKERS, parseConfig } from '../../../src/control/config';

const BASE = 'interface: eth0\n';

describe('workers', () => {
  it('defaults to one, takes a number, and auto is one per core', () => {
    expect(parseConfig(BASE).workers).toBe(1);
    expect(parseConfig(`${BASE}workers: 3\n`).workers).toBe(3);
    expect(parseConfig(`${BASE}workers: auto\n`).workers).toBe(Math.min(availableParallelism(), MAX_WORKERS));
  });

  it.each(['0', '-1', '1.5', 'many', `${MAX_WORKERS + 1}`, '"2"'])('refuses workers: %s, naming the field and the value', (v) => {
    expect(() => parseConfig(`${BASE}workers: ${v}\n`, 'lvsd.yaml')).toThrow(ConfigError);
    expect(() => parseConfig(`${BASE}workers: ${v}\n`, 'lvsd.yaml')).toThrow(/lvsd\.yaml:2: workers: must be auto or an integer 1\.\.64, got/);
  });
});
