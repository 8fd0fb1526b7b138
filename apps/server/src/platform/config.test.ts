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

  it('retention days and grid sizing: defaults, overrides, and refusals', () => {
    const config = loadConfig({});
    expect(config.retentionMovedOutDays).toBe(730);
    expect(config.gridSizing).toEqual({
      householdsMin: 300,
      householdsMax: 500,
      peopleMin: 1000,
      peopleMax: 1500,
    });
    expect(loadConfig({ WANGGE_RETENTION_MOVED_OUT_DAYS: '365' }).retentionMovedOutDays).toBe(365);
    expect(loadConfig({ WANGGE_GRID_PEOPLE_MAX: '2000' }).gridSizing.peopleMax).toBe(2000);
    expect(() => loadConfig({ WANGGE_RETENTION_MOVED_OUT_DAYS: 'soon' })).toThrow(/RETENTION/);
    expect(() => loadConfig({ WANGGE_GRID_HOUSEHOLDS_MIN: '600' })).toThrow(/MIN/);
  });
});
