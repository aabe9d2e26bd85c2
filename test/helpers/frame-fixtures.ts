// The real frames of test/fixtures/frames/frames.json (built with scapy, or captured with tcpdump, by
// scripts/fixtures/make-frames.py), with what scapy says each one holds.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface FrameFixture {
  name: string;
  hex: string;
  expect: Record<string, unknown> & { code: string };
}

export const FIXTURES: FrameFixture[] = JSON.parse(
  readFileSync(resolve(__dirname, '../fixtures/frames/frames.json'), 'utf8'),
) as FrameFixture[];
