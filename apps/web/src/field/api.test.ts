import { endpoints, personStatusValues, visitKindLabels, visitNeedLabels } from '@wangge/contracts';
import { describe, expect, it } from 'vitest';
import { routes, uploadRoutes } from './api.ts';
import { personStatuses, visitKinds, visitNeeds } from './labels.ts';

describe('field app api table', () => {
  it('has the method and path of the contract for every route it uses', () => {
    for (const [name, route] of Object.entries(routes)) {
      const e = endpoints[name as keyof typeof endpoints];
      expect(e, `${name} is an endpoint of @wangge/contracts`).toBeDefined();
      expect({ name, method: route.method, path: route.path }).toEqual({
        name,
        method: e.method,
        path: e.path,
      });
    }
  });

  it('keeps the raw image uploads out of the contract table, each under an endpoint of it', () => {
    const paths = Object.values(endpoints).map((e) => e.path);
    for (const [name, route] of Object.entries(uploadRoutes)) {
      expect(endpoints[name as keyof typeof endpoints], name).toBeUndefined();
      expect(paths).not.toContain(route.path);
      expect(
        paths.some((p) => route.path.startsWith(`${p}/`)),
        `${route.path} is under an endpoint`,
      ).toBe(true);
    }
  });

  it('carries the labels of the contracts', () => {
    expect(visitKinds).toEqual(visitKindLabels);
    expect(visitNeeds).toEqual(visitNeedLabels);
    expect(Object.keys(personStatuses).sort()).toEqual([...personStatusValues].sort());
  });
});
