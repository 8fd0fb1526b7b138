import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('reopenOnDissatisfied: on by default, off with 0 or false', () => {
    expect(loadConfig({}).reopenOnDissatisfied).toBe(true);
    expect(loadConfig({ WANGGE_REOPEN_ON_DISSATISFIED: '' }).reopenOnDissatisfied).toBe(true);
    expect(loadConfig({ WANGGE_REOPEN_ON_DISSATISFIED: '1' }).reopenOnDissatisfied).toBe(true);
    expect(loadConfig({ WANGGE_REOPEN_ON_DISSATISFIED: 'true' }).reopenOnDissatisfied).toBe(true);
    expect(loadConfig({ WANGGE_REOPEN_ON_DISSATISFIED: '0' }).reopenOnDissatisfied).toBe(false);
    expect(loadConfig({ WANGGE_REOPEN_ON_DISSATISFIED: 'false' }).reopenOnDissatisfied).toBe(false);
    expect(loadConfig({ WANGGE_REOPEN_ON_DISSATISFIED: 'FALSE' }).reopenOnDissatisfied).toBe(false);
  });
});
